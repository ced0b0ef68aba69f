"""A program that walks every branch of real-world ROOT files with
decoflow.root.arrays, one branch per call, catching the refusals, exits with a
clean stderr: no reference to an engine Array (or anything else of
decoflow._core) outlives the interpreter, which nanobind would report as
"nanobind: leaked N instances of type ...".
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, python_env

pytest.importorskip("uproot", reason="decoflow.root reads metadata with uproot")
TREE_DIR = ROOT.parent / "shared" / "testdata" / "root" / "tree"

WALK = textwrap.dedent('''
    import glob, sys, decoflow, decoflow.root, uproot
    by_path = sys.argv[1] == "paths"
    calls = refused = 0
    for path in sorted(glob.glob(sys.argv[2] + "/*.root")):
        if by_path and any(big in path for big in sys.argv[3:]):
            continue  # by path, each call opens the file again: the small files only
        with uproot.open(path) as f:
            for key, cls in f.classnames().items():
                if cls != "TTree":
                    continue
                tree = f[key]
                source = f"{path}:{key.split(';')[0]}" if by_path else tree
                for name in tree.keys():
                    calls += 1
                    try:
                        decoflow.root.arrays(source, [name])
                    except Exception:  # refusals: unsupported types, uproot's own errors
                        refused += 1
    print(calls, refused)
''')


@pytest.mark.skipif(not TREE_DIR.is_dir(), reason=f"no test data in {TREE_DIR}")
@pytest.mark.parametrize("how", ["trees", "paths"])
def test_walking_every_branch_exits_clean(how):
    big = ["issue-798", "issue121", "issue399", "issue-85", "issue60", "issue187", "issue-589",
           "issue-816", "issue327"]
    proc = subprocess.run([sys.executable, "-c", WALK, how, str(TREE_DIR), *big],
                          env=python_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    calls, refused = map(int, proc.stdout.split())
    assert calls > (1000 if how == "trees" else 100) and 0 < refused < calls, proc.stdout
    assert proc.stderr == "", proc.stderr
