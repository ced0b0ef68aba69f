#!/usr/bin/env python3
"""ctest: decoflow-root-decode on files written here with uproot, through the
basket tables of scripts/root_basket_table.py; every branch's .bin output must
equal uproot's arrays — one file whole, two files read as one, entry ranges
across them. Exit 77 (skipped) without uproot/awkward.

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
    # An entry range decodes only its baskets: a broken basket 0 is not read.
    first_bad = [l if not l.startswith("x\t") or l.split("\t")[4] != "0" else "\t".join(
        l.split("\t")[:5] + ["999999999"] + l.split("\t")[6:]) for l in lines]
    (tmp / "bad0.tsv").write_text("\n".join(first_bad) + "\n")
    run = subprocess.run([tool, "--entry-start", "15000", "--output-dir", str(out), str(path),
                          str(tmp / "bad0.tsv")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    with uproot.open(path) as f:
        ref = f["events"]["x"].array(library="np", entry_start=15000)
    assert np.array_equal(np.fromfile(out / "x.bin", dtype=ref.dtype), ref)

    # Two files read as one, an entry range across the boundary between them:
    # only the range, equal to uproot's arrays of both files one after another.
    second = tmp / "second.root"
    with uproot.recreate(second, compression=uproot.LZ4(1)) as f:
        f.mktree("events", {"x": "float64", "n": "int32", "flag": "bool", "jet": "var * float32"})
        for k in range(3):
            c = rng.integers(0, 6, 3000)
            f["events"].extend({"x": rng.normal(size=3000), "n": c.astype(np.int32),
                                "flag": c > 2,
                                "jet": ak.unflatten(rng.normal(size=c.sum()).astype(np.float32), c)})
    table2 = subprocess.run([sys.executable, project / "scripts" / "root_basket_table.py",
                             f"{second}:events"], check=True, capture_output=True, text=True).stdout
    (tmp / "table2.tsv").write_text(table2)
    refs = {}
    for p in (path, second):
        with uproot.open(p) as f:
            for name in ("x", "n", "flag", "jet"):
                refs.setdefault(name, []).append(f["events"][name].array(library="ak"))
    refs = {name: ak.concatenate(parts) for name, parts in refs.items()}
    total = len(refs["x"])  # 20000 + 9000
    for lo, hi in [(19_000, 21_500), (-5, None), (0, None), (25_000, 25_000), (None, 3)]:
        args = [tool, "--threads", "2", "--output-dir", str(out)]
        args += ["--entry-start", str(lo)] if lo is not None else []
        args += ["--entry-stop", str(hi)] if hi is not None else []
        run = subprocess.run(args + [str(path), str(tmp / "table.tsv"), str(second),
                                     str(tmp / "table2.tsv")], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        window = slice(lo, hi)
        for name in ("x", "n", "flag"):
            ref = np.asarray(refs[name][window])
            got = np.fromfile(out / f"{name}.bin", dtype=ref.dtype)
            assert np.array_equal(got, ref), (name, lo, hi)
        ref = refs["jet"][window]
        content = np.fromfile(out / "jet.bin", dtype=np.float32)
        offsets = np.fromfile(out / "jet.offsets.bin", dtype=np.int64)
        assert offsets[0] == 0 and np.array_equal(np.diff(offsets), np.asarray(ak.num(ref)))
        assert np.array_equal(content, np.asarray(ak.flatten(ref))), (lo, hi)
        assert f"jet\tvar * float32\t{len(ref)} entries" in run.stdout, run.stdout
    assert total == 29_000
    # By name, without a table (--tree: the metadata read natively): the same
    # arrays across both files, an entry range too; a missing branch: exit 2.
    native = tmp / "native"
    native.mkdir()
    run = subprocess.run([tool, "--threads", "2", "--output-dir", str(native), "--tree", "events",
                          "--branches", "x,jet", "--entry-start", "19000", "--entry-stop", "21500",
                          str(path), str(second)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    ref = np.asarray(refs["x"][19_000:21_500])
    assert np.array_equal(np.fromfile(native / "x.bin", dtype=ref.dtype), ref)
    ref = refs["jet"][19_000:21_500]
    assert np.array_equal(np.fromfile(native / "jet.bin", dtype=np.float32),
                          np.asarray(ak.flatten(ref)))
    offsets = np.fromfile(native / "jet.offsets.bin", dtype=np.int64)
    assert offsets[0] == 0 and np.array_equal(np.diff(offsets), np.asarray(ak.num(ref)))
    run = subprocess.run([tool, "--tree", "events", "--branches", "x,nope", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "no branch 'nope'" in run.stderr, run.stderr
    # Tables that disagree, and a bad range value: exit 2, saying why.
    (tmp / "other.tsv").write_text("".join(l + "\n" for l in table2.splitlines()
                                           if not l.startswith("flag\t")))
    run = subprocess.run([tool, str(path), str(tmp / "table.tsv"), str(second),
                          str(tmp / "other.tsv")], capture_output=True, text=True)
    assert run.returncode == 2 and "other.tsv: lists 4 branches, the first table 5" in run.stderr, run.stderr
    run = subprocess.run([tool, "--entry-start", "ten", str(path), str(tmp / "table.tsv")],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "wants an integer" in run.stderr, run.stderr

    # char* strings: decoded and their length bytes checked, like Python does.
    labels = tmp / "labels.root"
    words = ["ab", "", "c" * 300, "d", "\u00e9t\u00e9"]
    with uproot.recreate(labels, compression=None) as f:
        f.mktree("t", {"s": "string", "x": "int32"})
        for k in range(3):
            f["t"].extend({"s": ak.Array(words), "x": np.arange(5, dtype=np.int32) + 5 * k})
    table3 = subprocess.run([sys.executable, project / "scripts" / "root_basket_table.py",
                             f"{labels}:t"], check=True, capture_output=True, text=True).stdout
    assert "s\tuint8\tstrings\t" in table3, table3
    (tmp / "labels.tsv").write_text(table3)
    run = subprocess.run([tool, "--output-dir", str(out), str(labels), str(tmp / "labels.tsv")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    data = np.fromfile(out / "s.bin", dtype=np.uint8).tobytes()
    starts = np.fromfile(out / "s.starts.bin", dtype=np.int64)
    stops = np.fromfile(out / "s.offsets.bin", dtype=np.int64)[1:]
    assert [data[a:b].decode() for a, b in zip(starts, stops)] == words * 3
    # Entry 7 (basket 1's third entry) loses one from its 255 marker's length.
    with uproot.open(labels) as f:
        seek = int(f["t"]["s"].member("fBasketSeek")[1])
    raw = bytearray(labels.read_bytes())
    keylen = int.from_bytes(raw[seek + 14:seek + 16], "big")
    raw[seek + keylen + 4] ^= 0x01  # 1 + 2 and 1 + 0 bytes in: entry 7's length byte
    (tmp / "bad_labels.root").write_bytes(bytes(raw))
    run = subprocess.run([tool, str(tmp / "bad_labels.root"), str(tmp / "labels.tsv")],
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    assert "branch 's' basket 1 (entries 5-10" in run.stderr, run.stderr
    assert "string at entry 7" in run.stderr and "x\tint32\t15 entries" in run.stdout, run
    # FILE and TABLE the wrong way round: exit 2, saying which is which.
    run = subprocess.run([tool, str(tmp / "labels.tsv"), str(labels)], capture_output=True,
                         text=True)
    assert run.returncode == 2 and "give each FILE.root first" in run.stderr, run.stderr

    # Lists of lists written by ROOT (std::vector<std::vector<float>>,
    # std::vector<std::string>) by name: a level's offsets file per level.
    fixture = project / "tests" / "fixtures" / "root" / "coverage-zstd.root"
    nested = tmp / "nested"
    nested.mkdir()
    run = subprocess.run([tool, "--output-dir", str(nested), "--tree", "vectors", "--branches",
                          "vecvec_float,vec_string", str(fixture)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "vecvec_float\tvar * var * float32\t300 entries" in run.stdout, run.stdout
    with uproot.open(fixture) as f:
        vecvec = f["vectors"]["vecvec_float"].array(library="ak")
        words = f["vectors"]["vec_string"].array(library="ak").tolist()
    outer = np.fromfile(nested / "vecvec_float.offsets.bin", dtype=np.int64)
    inner = np.fromfile(nested / "vecvec_float.offsets1.bin", dtype=np.int64)
    values = np.fromfile(nested / "vecvec_float.bin", dtype=np.float32)
    assert np.array_equal(np.diff(outer), np.asarray(ak.num(vecvec, axis=1)))
    assert np.array_equal(np.diff(inner), np.asarray(ak.flatten(ak.num(vecvec, axis=2))))
    assert values.tobytes() == np.asarray(ak.flatten(vecvec, axis=None)).tobytes()
    outer = np.fromfile(nested / "vec_string.offsets.bin", dtype=np.int64)
    ends = np.fromfile(nested / "vec_string.offsets1.bin", dtype=np.int64)
    chars = np.fromfile(nested / "vec_string.bin", dtype=np.uint8).tobytes()
    got = [[chars[ends[k]:ends[k + 1]].decode() for k in range(outer[e], outer[e + 1])]
           for e in range(len(outer) - 1)]
    assert got == words
print("decoflow-root-decode: every branch equals uproot's, whole, over two files, in ranges; "
      "strings checked; nested lists by name")
