"""The package as users meet it: `python -m decoflow`, type information, and
(slow, opt-in with -m slow) `pip install .` into a fresh virtual environment."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import decoflow
from decoflow import _core
from conftest import ROOT, python_env


def run_module(*args):
    return subprocess.run([sys.executable, "-m", "decoflow", *args], env=python_env(),
                          capture_output=True, text=True, timeout=60)


def test_python_m_decoflow_help_version_self_test():
    help_ = run_module("--help")
    assert help_.returncode == 0 and "usage: python -m decoflow" in help_.stdout
    version = run_module("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"decoflow {decoflow.__version__}"
    assert run_module("--self-test").stdout.strip() == "self-test: ok"
    info = run_module()
    assert "zstd" in info.stdout and info.returncode == 0


def test_typed_package_ships_stubs_covering_the_extension():
    pkg = Path(decoflow.__file__).parent
    assert (pkg / "py.typed").exists()
    stub = ast.parse((pkg / "_core.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    public = {n for n in dir(_core) if not n.startswith("__")}
    assert public <= stubbed, f"_core.pyi misses {public - stubbed}: regenerate it (docs/python.md)"


def test_every_public_name_is_documented():
    for name in decoflow.__all__:
        if name.startswith("__"):
            continue
        assert getattr(decoflow, name).__doc__, name


def test_pyproject_refuses_old_pythons():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.12"' in text


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv(tmp_path):
    """Builds the wheel through scikit-build-core and installs it (minutes)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    build = subprocess.run([str(py), "-m", "pip", "install", "-q", str(ROOT)], env=env,
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout + build.stderr
    check = subprocess.run([str(py), "-m", "decoflow", "--self-test"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert check.stdout.strip() == "self-test: ok", check.stderr
    where = subprocess.run([str(py), "-c", "import decoflow; print(decoflow.__file__)"], env=env,
                           cwd=tmp_path, capture_output=True, text=True)
    assert str(venv) in where.stdout
    shutil.rmtree(venv)
