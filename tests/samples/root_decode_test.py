#!/usr/bin/env python3
"""ctest: decoflow-root-decode on a file written here with uproot, through the
basket table of scripts/root_basket_table.py; every branch's .bin output must
equal uproot's arrays. Exit 77 (skipped) without uproot/awkward.

Usage: root_decode_test.py DECOFLOW_ROOT_DECODE PROJECT_ROOT
"""
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import awkward as ak
    import numpy as np
    import uproot
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

tool, project = sys.argv[1], Path(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    path = tmp / "sample.root"
    rng = np.random.default_rng(5)
    counts = rng.integers(0, 6, 5000)
    with uproot.recreate(path, compression=uproot.ZSTD(3)) as f:
        f.mktree("events", {"x": "float64", "n": "int32", "flag": "bool", "jet": "var * float32"})
        for k in range(4):
            f["events"].extend({"x": rng.normal(size=5000), "n": counts.astype(np.int32),
                                "flag": counts > 2,
                                "jet": ak.unflatten(rng.normal(size=counts.sum()).astype(np.float32),
                                                    counts)})
    table = subprocess.run([sys.executable, project / "scripts" / "root_basket_table.py",
                            f"{path}:events"], check=True, capture_output=True, text=True).stdout
    (tmp / "table.tsv").write_text(table)
    out = tmp / "out"
    out.mkdir()
    run = subprocess.run([tool, "--threads", "2", "--output-dir", str(out), str(path),
                          str(tmp / "table.tsv")], capture_output=True, text=True)
    print(run.stdout, run.stderr)
    assert run.returncode == 0, run.returncode
    with uproot.open(path) as f:
        tree = f["events"]
        for name in ("x", "n", "flag"):
            ref = tree[name].array(library="np")
            got = np.fromfile(out / f"{name}.bin", dtype=ref.dtype)
            assert np.array_equal(got, ref), name
        ref = tree["jet"].array(library="ak")
        content = np.fromfile(out / "jet.bin", dtype=np.float32)
        offsets = np.fromfile(out / "jet.offsets.bin", dtype=np.int64)
        assert np.array_equal(content, np.asarray(ak.flatten(ref)))
        assert np.array_equal(np.diff(offsets), np.asarray(ak.num(ref)))
    # A corrupted table: a basket outside the file fails its branch (exit 1),
    # naming it; the other branches are still printed.
    lines = table.splitlines()
    bad = [l if not l.startswith("x\t") else "\t".join(
        l.split("\t")[:5] + ["999999999"] + l.split("\t")[6:]) for l in lines]
    (tmp / "bad.tsv").write_text("\n".join(bad) + "\n")
    run = subprocess.run([tool, str(path), str(tmp / "bad.tsv")], capture_output=True, text=True)
    assert run.returncode == 1 and "branch 'x' basket 0" in run.stderr, run.stderr
    assert "jet\tvar * float32" in run.stdout, run.stdout
print("decoflow-root-decode: every branch equals uproot's")
