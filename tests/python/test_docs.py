"""The Python examples in README.md and docs/python.md run, each in a fresh
interpreter, so they cannot rot; the API reference equals what the docstrings
generate."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT, python_env

DOCS = [ROOT / "README.md", ROOT / "docs" / "python.md"]


def python_blocks(path):
    text = path.read_text()
    return [m.group(1) for m in re.finditer(r"```python\n(.*?)```", text, re.S)]


CASES = [(doc, i, block) for doc in DOCS for i, block in enumerate(python_blocks(doc))]


def test_docs_have_examples():
    assert len(python_blocks(DOCS[0])) >= 1
    assert len(python_blocks(DOCS[1])) >= 5


@pytest.mark.parametrize("doc,index,block", CASES,
                         ids=[f"{d.name}-{i}" for d, i, _ in CASES])
def test_example_runs(doc, index, block, tmp_path):
    pytest.importorskip("zstandard")
    proc = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=python_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{doc.name} example {index}:\n{proc.stdout}\n{proc.stderr}"


def test_api_reference_is_current():
    text = (ROOT / "docs" / "python.md").read_text()
    m = re.search(r"<!-- api-reference -->\n(.*?)<!-- /api-reference -->", text, re.S)
    assert m, "docs/python.md has no api-reference markers"
    generated = subprocess.run([sys.executable, "-m", "decoflow", "--api-reference"],
                               env=python_env(), capture_output=True, text=True,
                               check=True).stdout
    assert m.group(1) == generated, (
        "docs/python.md's API reference is stale: regenerate it with "
        "scripts/update_api_docs.py")


def test_help_names_decoflow_root_and_the_tools():
    # help(decoflow), python -m decoflow --help and the API reference all point
    # to decoflow.root and the command-line tools.
    import pydoc

    import decoflow
    text = pydoc.render_doc(decoflow, renderer=pydoc.plaintext)
    for want in ("decoflow.root", "decoflow.root.arrays(", "decoflow-decode",
                 "decoflow-root-decode", "python -m decoflow"):
        assert want in text, want
    usage = subprocess.run([sys.executable, "-m", "decoflow", "--help"], env=python_env(),
                           capture_output=True, text=True, check=True).stdout
    for want in ("decoflow.root", "decoflow-decode", "decoflow-root-decode",
                 "decoflow-glue-pipeline", "cmake --install"):
        assert want in usage, want
    reference = (ROOT / "docs" / "python.md").read_text()
    for want in ("- `decoflow.root.arrays(", "- `decoflow.root.iterate(", "Command-line tools:",
                 "- `decoflow-decode`:"):
        assert want in reference, want
