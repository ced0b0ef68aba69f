"""decoflow.root: numeric TTree branches decoded by decoflow equal uproot's arrays.

Two sources: the real uproot-HZZ files written by ROOT (../shared/testdata/root,
skipped visibly where absent), and files these tests write with uproot itself,
covering every primitive type, each codec, empty and one-entry baskets and a
basket larger than 16 MiB (several ROOT blocks). Bad inputs (a truncated file,
a basket table outside the file, corrupted baskets, an unsupported type) fail
only their branch, with an error naming the branch and the basket.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import decoflow

uproot = pytest.importorskip("uproot", reason="decoflow.root reads metadata with uproot")
import decoflow.root as droot  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HZZ_DIR = ROOT.parent / "shared" / "testdata" / "root"
HZZ_CODECS = ["zstd", "lz4", "zlib", "lzma", "uncompressed"]

TYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
         "float32", "float64"]
COMPRESSIONS = {
    "zstd": lambda: uproot.ZSTD(3),
    "lz4": lambda: uproot.LZ4(1),
    "zlib": lambda: uproot.ZLIB(1),
    "lzma": lambda: uproot.LZMA(1),
    "none": lambda: None,
}


@pytest.fixture(scope="module")
def executor():
    with decoflow.Executor(threads=2) as ex:
        yield ex


def reference(tree, name, entry_start=None, entry_stop=None):
    """uproot's array of a branch: an ndarray, (offsets, content) when jagged,
    a list of str for strings."""
    arr = tree[name].array(library="np", entry_start=entry_start, entry_stop=entry_stop)
    if isinstance(tree[name].interpretation, uproot.AsStrings):
        return list(arr)
    if arr.dtype == object:
        counts = np.array([len(a) for a in arr], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        inner = tree[name].interpretation.content.to_dtype
        content = np.concatenate(list(arr)).astype(inner, copy=False) if len(arr) else np.zeros(0, inner)
        return offsets, content
    return arr


def assert_same(got, ref, name):
    if isinstance(ref, list):
        assert isinstance(got, (droot.Strings, list)), name  # list: joined iterate() steps
        assert (got.tolist() if isinstance(got, droot.Strings) else got) == ref, name
    elif isinstance(ref, tuple):
        assert isinstance(got, droot.Jagged), name
        offsets, content = ref
        assert got.offsets.dtype == np.int64
        assert np.array_equal(got.offsets, offsets), name
        assert got.content.dtype == content.dtype, name
        assert got.content.tobytes() == content.tobytes(), name
    else:
        assert isinstance(got, np.ndarray), name
        assert got.dtype == ref.dtype and got.shape == ref.shape, (name, got.dtype, ref.dtype)
        assert got.tobytes() == ref.tobytes(), name


# ------------------------------------------------------------------ real files


@pytest.mark.parametrize("codec", HZZ_CODECS)
def test_hzz_every_branch_equals_uproot(codec, executor):
    path = HZZ_DIR / f"uproot-HZZ-{codec}.root"
    if not path.is_file():
        pytest.skip(f"HZZ test data not found: {path}")
    with uproot.open(path) as f:
        tree = f["events"]
        names = list(tree.keys())
        got = droot.arrays(tree, names, executor=executor)
        assert set(got) == set(names)
        jagged = 0
        for name in names:
            ref = reference(tree, name)
            jagged += isinstance(ref, tuple)
            assert_same(got[name], ref, name)
        assert jagged > 0  # Jet_Px, Muon_E, ...
    # A path with the tree's name works too, with the default executor.
    again = droot.arrays(f"{path}:events", ["Jet_Px", "NJet"])
    assert np.array_equal(again["Jet_Px"].content, got["Jet_Px"].content)
    assert np.array_equal(again["Jet_Px"].counts, again["NJet"])


@pytest.mark.parametrize("codec", HZZ_CODECS)
def test_hzz_random_corruption_fails_clearly_or_changes_nothing(codec, executor, tmp_path):
    # One random byte of one random basket (key, block headers, payload)
    # changed in a copy of the file; uproot reads the metadata, which stays
    # intact. Each read must either fail with a decoflow.Error naming that
    # basket's branch, every other branch equal to uproot's, or return every
    # array with its right shape and valid offsets, the other branches equal to
    # uproot's — and the changed branch too where its basket is compressed by
    # a codec that checks its data (lz4's XXH64, zlib's Adler-32, xz's CRC-32;
    # zstd as ROOT writes it has no checksum, and raw-stored baskets none at
    # all). Never a crash.
    path = HZZ_DIR / f"uproot-HZZ-{codec}.root"
    if not path.is_file():
        pytest.skip(f"HZZ test data not found: {path}")
    original = path.read_bytes()
    with uproot.open(path) as f:
        tree = f["events"]
        names = list(tree.keys())
        refs = {n: reference(tree, n) for n in names}
        baskets = []  # (branch, seek, size, checked)
        for n in names:
            b = tree[n]
            for seek, size in zip(b.member("fBasketSeek")[:b.num_baskets],
                                  b.member("fBasketBytes")[:b.num_baskets]):
                seek, size = int(seek), int(size)
                objlen = int.from_bytes(original[seek + 6:seek + 10], "big")
                keylen = int.from_bytes(original[seek + 14:seek + 16], "big")
                compressed = size - keylen != objlen
                baskets.append((n, seek, size, compressed and codec in ("lz4", "zlib", "lzma")))
    rng = np.random.default_rng(20261126)
    failures = 0
    for trial in range(60):
        branch, seek, size, checked = baskets[int(rng.integers(len(baskets)))]
        data = bytearray(original)
        at = seek + int(rng.integers(size))
        data[at] ^= int(rng.integers(1, 256))
        bad = tmp_path / f"bad-{trial}.root"
        bad.write_bytes(bytes(data))
        where = (trial, branch, at - seek)
        try:
            got = droot.arrays(f"{bad}:events", names, executor=executor)
        except decoflow.Error as e:
            failures += 1
            assert e.branch == branch and f"branch '{branch}' basket" in str(e), (where, str(e))
            got = e.arrays
            assert set(got) == set(names) - {branch}, where
        for name, arr in got.items():
            ref = refs[name]
            if name != branch or checked:
                assert_same(arr, ref, (where, name))
            elif isinstance(ref, tuple):
                assert len(arr.offsets) == len(ref[0]) and arr.offsets[0] == 0, where
                assert np.all(np.diff(arr.offsets) >= 0), where
                assert arr.offsets[-1] == len(arr.content), where
            else:
                assert arr.shape == ref.shape and arr.dtype == ref.dtype, where
        bad.unlink()
    assert failures > 0  # changes to checked fields and data are caught


def test_hzz_several_files_read_as_one(executor, tmp_path):
    paths = [HZZ_DIR / f"uproot-HZZ-{c}.root" for c in ("zstd", "lz4", "zlib", "uncompressed")]
    if not all(p.is_file() for p in paths):
        pytest.skip(f"HZZ test data not found in {HZZ_DIR}")
    names = ["Jet_Px", "MET_px", "NJet", "Muon_E", "EventWeight"]
    refs = []
    for p in paths:
        with uproot.open(p) as f:
            refs.append({n: reference(f["events"], n) for n in names})
    sizes = [len(r["MET_px"]) for r in refs]

    def joined(name, lo=0, hi=None):
        parts = [r[name] for r in refs]
        if isinstance(parts[0], tuple):
            steps = [{name: droot.Jagged(*part)} for part in parts]
            whole = concat_steps(steps, name)
            hi = len(whole) if hi is None else hi
            offs = whole.offsets[lo:hi + 1]
            return offs - offs[0], whole.content[offs[0]:offs[-1]]
        return np.concatenate(parts)[lo:hi]

    got = droot.arrays([f"{p}:events" for p in paths], names, executor=executor)
    for name in names:
        assert_same(got[name], joined(name), name)
    # A range across the files' borders, in steps too.
    lo, hi = sizes[0] - 7, sizes[0] + sizes[1] + 5
    got = droot.read([f"{p}:events" for p in paths], names, entry_start=lo, entry_stop=hi,
                     executor=executor)
    assert got.paths == [str(p) for p in paths] and got.path == str(paths[0])
    for name in names:
        assert_same(got.arrays[name], joined(name, lo, hi), name)
    steps = list(droot.iterate([f"{p}:events" for p in paths], names, step_size=1000,
                               executor=executor))
    assert len(steps) == -(-sum(sizes) // 1000)
    for name in names:
        assert_same(concat_steps(steps, name), joined(name), name)

    # A bad basket in the third file: named by its file and its number there.
    bad = tmp_path / "bad-zlib.root"

    def break_codec_tag(data, seek, size, keylen):
        data[seek + keylen] = ord("Q")

    shutil.copy(paths[2], bad)
    with uproot.open(bad) as f:
        seek = int(f["events"]["Muon_E"].member("fBasketSeek")[1])
        keylen = f["events"]["Muon_E"].basket(1).member("fKeylen")
    data = bytearray(bad.read_bytes())
    break_codec_tag(data, seek, 0, keylen)
    bad.write_bytes(bytes(data))
    with pytest.raises(decoflow.UnsupportedFormatError) as info:
        droot.arrays([paths[0], bad], names, tree="events", executor=executor)
    assert info.value.branch == "Muon_E" and info.value.basket == 1
    assert info.value.file == str(bad)
    assert f"branch 'Muon_E' basket 1 of file 1 ({bad})" in str(info.value)
    assert_same(info.value.arrays["NJet"], np.concatenate([refs[0]["NJet"], refs[2]["NJet"]]),
                "NJet")


def test_written_files_as_one_in_small_steps(tmp_path, executor):
    """Two written files (strings and jagged included) read as one in steps
    smaller than their baskets: each basket decoded once, across the border."""
    paths = [tmp_path / "a.root", tmp_path / "b.root"]
    write_file(paths[0], uproot.ZSTD(1), [700, 0, 450])
    write_file(paths[1], uproot.LZ4(1), [1, 900])
    names = ["f_uint16", "fixed3", "j_int16", "label"]
    refs = {}
    for p in paths:
        with uproot.open(p) as f:
            for n in names:
                refs.setdefault(n, []).append(reference(f["t"], n))
    steps = list(droot.iterate([f"{p}:t" for p in paths], names, step_size=250,
                               executor=executor))
    assert [len(s["f_uint16"]) for s in steps] == [250] * 8 + [51]
    for n in names:
        parts = refs[n]
        if isinstance(parts[0], list):
            whole = parts[0] + parts[1]
        elif isinstance(parts[0], tuple):
            whole = concat_steps([{n: droot.Jagged(*part)} for part in parts], n)
            whole = (whole.offsets, whole.content)
        else:
            whole = np.concatenate(parts)
        assert_same(concat_steps(steps, n), whole, n)


def test_wildcards_name_several_files(tmp_path, executor):
    """"dir/run_*.root:t" reads the matching files in sorted order, as uproot's
    iterate and concatenate take them."""
    for k, batches in enumerate([[5, 3], [4], [0, 2]]):
        write_file(tmp_path / f"run_{k}.root", uproot.ZSTD(1), batches)
    write_file(tmp_path / "other.root", uproot.ZSTD(1), [9])
    paths = [f"{tmp_path}/run_{k}.root:t" for k in range(3)]
    names = ["f_int32", "j_uint8", "label"]
    got = droot.arrays(f"{tmp_path}/run_*.root:t", names, executor=executor)
    want = droot.read(paths, names, executor=executor)
    assert len(got["f_int32"]) == 14 and want.paths == [p[:-2] for p in paths]
    for n in names:
        assert_same(got[n], reference_of(want.arrays[n]), n)
    steps = list(droot.iterate(f"{tmp_path}/run_?.root", names, tree="t", step_size=4,
                               executor=executor))
    assert sum(len(s["f_int32"]) for s in steps) == 14
    with pytest.raises(FileNotFoundError, match="no file matches"):
        droot.arrays(f"{tmp_path}/nothing_*.root:t", names, executor=executor)


def reference_of(arr):
    """A decoflow array in the form reference() gives uproot's."""
    if isinstance(arr, droot.Strings):
        return arr.tolist()
    if isinstance(arr, droot.Jagged):
        return arr.offsets, arr.content
    return arr


def test_several_files_must_agree_on_types(tmp_path, executor):
    paths = []
    for k, dtype in enumerate(("float32", "float64")):
        paths.append(tmp_path / f"t{k}.root")
        with uproot.recreate(paths[-1]) as f:
            f.mktree("t", {"x": dtype, "n": "int32"})
            f["t"].extend({"x": np.arange(5, dtype=dtype), "n": np.arange(5, dtype=np.int32)})
    with pytest.raises(droot.UnsupportedBranchError, match="branch 'x'.*differs between the files"):
        droot.arrays(paths, ["x", "n"], executor=executor)
    assert np.array_equal(droot.arrays(paths, "n", executor=executor)["n"],
                          np.concatenate([np.arange(5), np.arange(5)]))
    with pytest.raises(ValueError, match="no ROOT files"):
        droot.arrays([], executor=executor)


def test_hzz_awkward(executor):
    ak = pytest.importorskip("awkward")
    path = HZZ_DIR / "uproot-HZZ-zstd.root"
    if not path.is_file():
        pytest.skip(f"HZZ test data not found: {path}")
    with uproot.open(path) as f:
        tree = f["events"]
        ref = tree.arrays(["Jet_Px", "MET_px"], library="ak")
        got = droot.arrays(tree, ["Jet_Px", "MET_px"], executor=executor, library="ak")
    assert ak.to_list(got["Jet_Px"]) == ak.to_list(ref["Jet_Px"])
    assert ak.to_list(got["MET_px"]) == ak.to_list(ref["MET_px"])


# ------------------------------------------------------------------ files written here


def make_values(dtype, n, seed):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    if dt.kind == "f":
        return rng.normal(size=n).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)


def write_file(path, compression, batches):
    """A tree 't' with a flat branch per type, a fixed-size float32[3] branch,
    jagged int16/float64/uint8 branches and a string branch (lengths 0 to 300:
    one and five length bytes), extended once per batch size (one basket per
    branch per extend: 0 makes empty baskets, 1 one-entry ones)."""
    ak = pytest.importorskip("awkward")
    branch_types = {f"f_{t}": t for t in TYPES}
    branch_types["fixed3"] = np.dtype(("float32", (3,)))
    for t in ("int16", "float64", "uint8"):
        branch_types[f"j_{t}"] = f"var * {t}"
    branch_types["label"] = "string"
    with uproot.recreate(path, compression=compression) as f:
        f.mktree("t", branch_types)
        for k, n in enumerate(batches):
            data = {f"f_{t}": make_values(t, n, k) for t in TYPES}
            data["fixed3"] = make_values("float32", 3 * n, k + 100).reshape(n, 3)
            counts = np.random.default_rng(k).integers(0, 5, n)
            for t in ("int16", "float64", "uint8"):
                content = make_values(t, int(counts.sum()), k + 7)
                data[f"j_{t}"] = ak.unflatten(content, counts)
            lengths = np.random.default_rng(k + 11).choice([0, 1, 7, 254, 255, 300], n)
            texts = [("é" if i % 3 == 0 else "") + "x" * int(m) for i, m in enumerate(lengths)]
            data["label"] = ak.Array(texts + [""])[:n]  # typed as strings when n == 0 too
            f["t"].extend(data)


@pytest.mark.parametrize("compression", list(COMPRESSIONS))
def test_written_every_type_each_codec(tmp_path, compression, executor):
    path = tmp_path / f"types-{compression}.root"
    write_file(path, COMPRESSIONS[compression](), [1000, 0, 1, 3000, 0, 1, 7])
    with uproot.open(path) as f:
        tree = f["t"]
        names = list(tree.keys())
        # Empty and one-entry baskets are really there.
        entries = np.diff(tree["f_int32"].entry_offsets)
        assert 0 in entries and 1 in entries and tree["f_int32"].num_baskets == 7
        got = droot.arrays(tree, names, executor=executor)
        for name in names:
            assert_same(got[name], reference(tree, name), name)
    assert got["fixed3"].shape == (4009, 3)


@pytest.mark.parametrize("compression", ["zstd", "lz4", "zlib", "lzma"])
def test_written_basket_over_16_mib(tmp_path, compression, executor):
    # 17 MiB of float64 in one basket: ROOT blocks hold at most 16 MiB - 1, so
    # uproot writes several back to back; a jagged branch beside it goes
    # through scratch with a basket of the same kind.
    ak = pytest.importorskip("awkward")
    n = 17 * 2**20 // 8
    values = np.arange(n, dtype=np.float64) * 0.5
    counts = np.full(n // 4, 4)
    path = tmp_path / f"big-{compression}.root"
    with uproot.recreate(path, compression=COMPRESSIONS[compression]()) as f:
        f.mktree("t", {"big": "float64", "jag": "var * float64"})
        f["t"].extend({"big": values[: n // 4], "jag": ak.unflatten(values, counts)})
    with uproot.open(path) as f:
        tree = f["t"]
        basket = tree["jag"].basket(0)
        assert basket.member("fObjlen") > 2**24 and len(basket.block_compression_info) >= 2
        got = droot.arrays(tree, ["big", "jag"], executor=executor)
    assert np.array_equal(got["big"], values[: n // 4])
    assert np.array_equal(got["jag"].content, values)
    assert np.array_equal(got["jag"].offsets, np.arange(0, n + 1, 4))


def test_entry_ranges_equal_uproot(tmp_path, executor):
    # Baskets of 1000, 0, 1, 3000, 0, 1, 7 entries: ranges inside one basket,
    # across baskets and empty ones, on basket edges, negative, clipped, empty.
    path = tmp_path / "ranges.root"
    write_file(path, uproot.ZSTD(3), [1000, 0, 1, 3000, 0, 1, 7])
    ranges = [(None, None), (10, 20), (0, 1000), (999, 1002), (1000, 1001), (500, 4005),
              (1001, None), (None, 3), (-5, None), (-3000, -2), (4008, None), (4009, None),
              (5000, 6000), (7, 7), (20, 10), (-100000, 100000), (4001, 4002)]
    with uproot.open(path) as f:
        tree = f["t"]
        names = list(tree.keys())
        for start, stop in ranges:
            got = droot.arrays(tree, names, entry_start=start, entry_stop=stop, executor=executor)
            for name in names:
                assert_same(got[name], reference(tree, name, start, stop), (name, start, stop))
            # Jagged offsets start at 0 whatever the range.
            assert got["j_int16"].offsets[0] == 0
        ak = pytest.importorskip("awkward")
        got = droot.arrays(tree, ["j_float64"], entry_start=999, entry_stop=1005,
                           executor=executor, library="ak")["j_float64"]
        assert ak.to_list(got) == ak.to_list(tree["j_float64"].array(entry_start=999,
                                                                     entry_stop=1005))
        with pytest.raises(TypeError, match="entry_start"):
            droot.arrays(tree, names, entry_start=1.5, executor=executor)


def test_entry_range_decodes_only_its_baskets(two_branches, executor, tmp_path):
    # Basket 2 of 'a' (entries 2000-3000) is corrupted: ranges that leave it
    # out read fine; one that needs it fails, naming basket 2 of all three.
    path, refs = two_branches

    def break_codec_tag(data, seek, size, keylen):
        data[seek + keylen] = ord("Q")

    bad = corrupted_copy(path, tmp_path / "bad.root", "a", 2, break_codec_tag)
    got = droot.read(bad, ["a", "b"], entry_start=500, entry_stop=2000, executor=executor)
    assert np.array_equal(got.arrays["a"], refs["a"][500:2000])
    offsets, content = refs["b"]
    assert np.array_equal(got.arrays["b"].offsets, offsets[500:2001] - offsets[500])
    assert np.array_equal(got.arrays["b"].content, content[offsets[500]:offsets[2000]])
    assert {k: len(v) for k, v in got.basket_results.items()} == {"a": 2, "b": 2}
    with pytest.raises(decoflow.Error) as info:
        droot.arrays(bad, ["a", "b"], entry_start=1500, entry_stop=2500, executor=executor)
    assert info.value.branch == "a" and info.value.basket == 2
    assert "branch 'a' basket 2 (entries 2000-3000" in str(info.value)
    assert np.array_equal(info.value.arrays["b"].offsets, offsets[1500:2501] - offsets[1500])


def concat_steps(steps, name):
    """One branch's arrays from iterate() steps, joined (jagged: offsets rebased)."""
    parts = [step[name] for step in steps]
    if isinstance(parts[0], droot.Strings):
        return [text for p in parts for text in p.tolist()]
    if not isinstance(parts[0], droot.Jagged):
        return np.concatenate(parts)
    offsets, base = [np.zeros(1, np.int64)], 0
    for p in parts:
        offsets.append(p.offsets[1:] + base)
        base += len(p.content)
    return droot.Jagged(np.concatenate(offsets), np.concatenate([p.content for p in parts]))


def test_iterate_in_steps_equals_uproot(tmp_path, executor):
    path = tmp_path / "steps.root"
    write_file(path, uproot.LZ4(1), [1000, 0, 1, 3000, 0, 1, 7])
    with uproot.open(path) as f:
        tree = f["t"]
        names = list(tree.keys())
        steps = list(droot.iterate(tree, names, step_size=700, executor=executor))
        assert [len(s["f_int32"]) for s in steps] == [700] * 5 + [509]
        for name in names:
            assert_same(concat_steps(steps, name), reference(tree, name), name)
        # A range, in steps of about 10 KB of values.
        steps = list(droot.iterate(tree, ["f_float64", "j_uint8"], step_size="10 KB",
                                   entry_start=990, entry_stop=-3, executor=executor))
        assert len(steps) > 3
        for name in ("f_float64", "j_uint8"):
            assert_same(concat_steps(steps, name), reference(tree, name, 990, -3), name)
        # Stopping early is fine; the executor goes on.
        for step in droot.iterate(tree, names, step_size=100, executor=executor):
            break
        assert_same(droot.arrays(tree, ["f_int8"], executor=executor)["f_int8"],
                    reference(tree, "f_int8"), "f_int8")
        for bad, error in ((0, ValueError), ("10 parsecs", ValueError), (1.5, TypeError)):
            with pytest.raises(error, match="step_size"):
                next(droot.iterate(tree, names, step_size=bad, executor=executor))


@pytest.mark.parametrize("step", [7, 300, 2999])
def test_iterate_decodes_each_basket_once(tmp_path, executor, monkeypatch, step):
    """Steps smaller than baskets, and steps straddling them: every basket is
    decoded by one step only (the next steps get its values from it), the
    arrays equal uproot's, and changing the arrays of a step in place does not
    change the next ones."""
    path = tmp_path / "big_baskets.root"
    batches = [2500, 0, 1, 4000, 3]
    write_file(path, uproot.ZSTD(1), batches)
    decoded = []  # the file offset of every basket in a graph submitted
    real_submit = decoflow.Executor.submit

    def counting_submit(ex, graph, **kwargs):
        decoded.extend(graph._chunk(i)[1] for i in range(len(graph)))
        return real_submit(ex, graph, **kwargs)

    monkeypatch.setattr(decoflow.Executor, "submit", counting_submit)
    with uproot.open(path) as f:
        tree = f["t"]
        names = ["f_int64", "f_bool", "fixed3", "j_float64", "j_uint8", "label"]
        steps = []
        for arrays in droot.iterate(tree, names, step_size=step, executor=executor):
            steps.append({n: (droot.Jagged(a.offsets.copy(), a.content.copy())
                              if isinstance(a, droot.Jagged) else
                              droot.Strings(a.offsets.copy(), a.starts.copy(), a.content.copy())
                              if isinstance(a, droot.Strings) else a.copy())
                          for n, a in arrays.items()})
            for a in arrays.values():  # the caller scribbles over its step
                getattr(a, "content", a)[...] = 0
        assert sum(len(s["f_int64"]) for s in steps) == sum(batches)
        for name in names:
            assert_same(concat_steps(steps, name), reference(tree, name), name)
        with_entries = {int(seek) for name in names
                        for seek, n in zip(tree[name].member("fBasketSeek"), batches) if n > 0}
    assert len(decoded) == len(set(decoded)), "a basket was decoded twice"
    assert with_entries <= set(decoded)


def test_iterate_yields_whole_steps_until_a_bad_basket(two_branches, executor, tmp_path):
    path, refs = two_branches

    def break_codec_tag(data, seek, size, keylen):
        data[seek + keylen] = ord("Q")

    bad = corrupted_copy(path, tmp_path / "bad.root", "a", 2, break_codec_tag)
    seen = []
    with pytest.raises(decoflow.UnsupportedFormatError) as info:
        for step in droot.iterate(bad, ["a", "b"], tree="t", step_size=1000, executor=executor):
            seen.append(step)
    assert len(seen) == 2
    assert np.array_equal(np.concatenate([s["a"] for s in seen]), refs["a"][:2000])
    assert info.value.branch == "a" and info.value.basket == 2


def test_empty_tree_and_all_branches_default(tmp_path, executor):
    path = tmp_path / "empty.root"
    with uproot.recreate(path) as f:
        f.mktree("t", {"x": "float32", "j": "var * int32"})
    got = droot.arrays(str(path), executor=executor)  # one tree: found by itself
    assert got["x"].shape == (0,) and got["x"].dtype == np.float32
    assert len(got["j"]) == 0 and np.array_equal(got["j"].offsets, [0])


# ------------------------------------------------------------------ bad inputs


@pytest.fixture
def two_branches(tmp_path):
    """A zstd file with branches 'a' (float64) and 'b' (jagged int32), three
    baskets each, and uproot's arrays of both."""
    ak = pytest.importorskip("awkward")
    path = tmp_path / "two.root"
    with uproot.recreate(path, compression=uproot.ZSTD(3)) as f:
        f.mktree("t", {"a": "float64", "b": "var * int32"})
        for k in range(3):
            counts = np.arange(1000) % 4
            f["t"].extend({"a": np.arange(1000, dtype=np.float64) + 1000 * k,
                           "b": ak.unflatten(np.arange(counts.sum(), dtype=np.int32), counts)})
    with uproot.open(path) as f:
        refs = {n: reference(f["t"], n) for n in ("a", "b")}
    return path, refs


def basket_table(path, name, i):
    with uproot.open(path) as f:
        b = f["t"][name]
        return int(b.member("fBasketSeek")[i]), int(b.member("fBasketBytes")[i])


def corrupted_copy(path, bad, name, i, edit):
    """Copies `path` to `bad` with basket i of branch `name` changed by
    edit(data, seek, size, keylen), data being the whole file's bytearray."""
    shutil.copy(path, bad)
    seek, size = basket_table(bad, name, i)
    with uproot.open(bad) as f:
        keylen = f["t"][name].basket(i).member("fKeylen")
    data = bytearray(bad.read_bytes())
    edit(data, seek, size, keylen)
    bad.write_bytes(bytes(data))
    return bad


def check_failure(err, branch, basket, refs, other):
    assert err.branch == branch and err.basket == basket
    assert f"branch '{branch}' basket {basket}" in str(err)
    assert list(err.arrays) == [other]
    assert_same(err.arrays[other], refs[other], other)


def test_truncated_file(two_branches, executor):
    path, refs = two_branches
    with uproot.open(path) as f:
        tree = f["t"]  # the metadata is read; now the file loses its last basket of 'b'
        seek, size = basket_table(path, "b", 2)
        assert seek > basket_table(path, "a", 2)[0]
        os.truncate(path, seek + size // 2)
        with pytest.raises(decoflow.CorruptInputError) as info:
            droot.arrays(tree, ["a", "b"], executor=executor)
    check_failure(info.value, "b", 2, refs, "a")
    assert "outside the file" in str(info.value)


def test_basket_table_outside_the_file(two_branches, executor):
    path, refs = two_branches
    with uproot.open(path) as f:
        tree = f["t"]
        seeks = tree["a"].member("fBasketSeek").copy()
        seeks[1] = os.path.getsize(path) + 10
        tree["a"]._members["fBasketSeek"] = seeks  # uproot's cached table, pointing outside
        with pytest.raises(decoflow.CorruptInputError, match="outside the file") as info:
            droot.arrays(tree, ["a", "b"], executor=executor)
    check_failure(info.value, "a", 1, refs, "b")


@pytest.mark.parametrize("where", ["block header", "payload", "key"])
def test_corrupted_basket(two_branches, executor, tmp_path, where):
    path, refs = two_branches

    def edit(data, seek, size, keylen):
        if where == "block header":
            data[seek + keylen: seek + keylen + 2] = b"QQ"      # no such algorithm
        elif where == "payload":
            data[seek + keylen + 9 + 4: seek + size] = bytes(size - keylen - 13)  # zeros: not zstd
        else:
            data[seek: seek + 4] = (size + 1).to_bytes(4, "big")  # fNbytes disagrees with the table

    bad = corrupted_copy(path, tmp_path / "bad.root", "a", 1, edit)
    with pytest.raises(decoflow.Error) as info:
        droot.arrays(str(bad) + ":t", ["a", "b"], executor=executor)
    check_failure(info.value, "a", 1, refs, "b")
    assert info.value.node == "baskets" and info.value.chunk is not None
    expected = {"block header": decoflow.UnsupportedFormatError,
                "payload": decoflow.CorruptInputError,
                "key": decoflow.CorruptInputError}[where]
    assert isinstance(info.value, expected)


def test_strings_helpers(tmp_path, executor):
    ak = pytest.importorskip("awkward")
    path = tmp_path / "labels.root"
    write_file(path, uproot.LZ4(1), [40, 25])
    with uproot.open(path) as f:
        ref = list(f["t"]["label"].array(library="np"))
    got = droot.arrays(f"{path}:t", ["label"], executor=executor)["label"]
    assert len(got) == 65 and got.tolist() == ref and got[-1] == ref[-1]
    assert list(got.to_numpy()) == ref and got.to_numpy().dtype == object
    part = got[30:50]  # across the two baskets: views, not copies
    assert isinstance(part, droot.Strings) and part.tolist() == ref[30:50]
    assert np.shares_memory(part.content, got.content)
    assert ak.to_list(part.to_awkward()) == ref[30:50] and part[0] == ref[30]
    assert got[64:100].tolist() == ref[64:] and got[10:10].tolist() == []
    with pytest.raises(IndexError):
        got[65]


@pytest.mark.parametrize("entry", [0, 2])
def test_string_lengths_that_disagree_with_the_offsets(tmp_path, executor, entry):
    """A string's length byte changed in an uncompressed basket: the branch
    fails naming the basket and the entry, the other branch is whole."""
    ak = pytest.importorskip("awkward")
    path = tmp_path / "labels.root"
    with uproot.recreate(path, compression=None) as f:
        f.mktree("t", {"s": "string", "x": "int32"})
        for k in range(3):
            f["t"].extend({"s": ak.Array(["ab", "", "c" * 300, "d"]),
                           "x": np.arange(4, dtype=np.int32) + 4 * k})
    heads = {0: 0, 2: 4}  # entry 2 starts after 1 + 2 and 1 + 0 bytes: its 255 marker

    def change_length(data, seek, size, keylen):
        data[seek + keylen + heads[entry]] ^= 0x01

    bad = corrupted_copy(path, tmp_path / "bad.root", "s", 1, change_length)
    with pytest.raises(decoflow.CorruptInputError) as info:
        droot.arrays(str(bad), ["s", "x"], executor=executor)
    assert info.value.branch == "s" and info.value.basket == 1
    assert f"branch 's' basket 1 (entries 4-8, file bytes [" in str(info.value)
    assert f"): string at entry {4 + entry}: " in str(info.value)
    # Located like the engine's errors: the graph, the stage that checks the
    # strings while decoding, basket 1's chunk.
    assert info.value.graph == "root:bad.root:t"
    assert info.value.node == "baskets" and info.value.chunk == 1
    assert str(info.value).startswith(f"graph '{info.value.graph}', node 'baskets', chunk 1: ")
    assert np.array_equal(info.value.arrays["x"], np.arange(12, dtype=np.int32))
    # The entries of the other baskets still read (a range without basket 1).
    assert droot.arrays(str(bad), ["s"], entry_stop=4, executor=executor)["s"].tolist() == \
        ["ab", "", "c" * 300, "d"]


def test_corrupted_lz4_checksum(tmp_path, executor):
    path = tmp_path / "lz4.root"
    with uproot.recreate(path, compression=uproot.LZ4(1)) as f:
        f.mktree("t", {"a": "float64", "b": "int32"})
        f["t"].extend({"a": np.arange(10000.0), "b": np.arange(10000, dtype=np.int32)})
    seek, size = basket_table(path, "a", 0)
    data = bytearray(path.read_bytes())
    data[seek + size - 5] ^= 0xFF  # inside the lz4 block: the XXH64 no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(decoflow.ChecksumError) as info:
        droot.arrays(str(path), ["a", "b"], executor=executor)
    assert info.value.branch == "a" and "branch 'a' basket 0" in str(info.value)
    assert np.array_equal(info.value.arrays["b"], np.arange(10000, dtype=np.int32))


def test_unsupported_branch_type(executor):
    """A branch of a type decoflow does not decode (a std::vector<float>
    member of a std::vector of a split class: uproot's AsObjects(AsArray),
    in the ROOT-written fixture): a clear error when named, skipped (and
    said so) otherwise."""
    path = LEAF_LISTS
    with pytest.raises(droot.UnsupportedBranchError,
                       match=r"branch 'tracks.hits'.*AsObjects") as info:
        droot.arrays(f"{path}:objects", ["tracks.hits", "tca.fE"], executor=executor)
    assert isinstance(info.value, decoflow.UnsupportedFormatError)
    assert info.value.branch == "tracks.hits"
    with uproot.open(path) as f:
        expected = f["objects"]["tca.fE"].array(library="np")
    assert [list(e) for e in info.value.arrays["tca.fE"]] == [list(e) for e in expected]
    # Without names, every branch decoflow can decode.
    read = droot.read(f"{path}:objects", executor=executor)
    assert "tracks.hits" in read.skipped and "AsObjects" in read.skipped["tracks.hits"]
    assert "tca.fE" in read.arrays and "tracks.hits" not in read.arrays


@pytest.mark.parametrize("filter_name", ["Jet_*", "/^jet_p[xy]$/i", "nJet", ["Muon_*", "nJet"],
                                         lambda name: name.endswith("_Px"), "*"])
def test_filter_name_selects_like_uproot(tmp_path, executor, filter_name):
    ak = pytest.importorskip("awkward")
    path = tmp_path / "filtered.root"
    counts = np.array([2, 0, 3, 1])
    jet = ak.unflatten(np.arange(counts.sum(), dtype=np.float32), counts)
    data = {"Jet": ak.zip({"Px": jet, "Py": -jet}), "Muon_E": np.arange(4.0),
            "Jet_label": ak.Array(["a", "bb", "", "c"])}
    # branches nJet, Jet_Px, Jet_Py, Muon_E, Jet_label
    with uproot.recreate(path) as f:
        f.mktree("t", {k: v.type if isinstance(v, ak.Array) else v.dtype for k, v in data.items()})
        f["t"].extend(data)
    with uproot.open(path) as f:
        tree = f["t"]
        wanted = tree.keys(filter_name=filter_name)
        read = droot.read(tree, filter_name=filter_name, executor=executor)
        assert list(read.arrays) == wanted
        assert read.skipped == {}
        for name, got in read.arrays.items():
            assert_same(got, reference(tree, name), name)
        # Named branches are filtered too (order kept); iterate filters alike.
        named = droot.arrays(tree, ["Muon_E", "Jet_Py", "nJet"], filter_name=filter_name,
                             executor=executor)
        assert list(named) == [k for k in ["Muon_E", "Jet_Py", "nJet"] if k in wanted]
        steps = list(droot.iterate(tree, filter_name=filter_name, step_size=3, executor=executor))
        assert [list(step) for step in steps] == [list(read.arrays)] * 2


def test_filter_name_refuses_what_it_cannot_match(two_branches, executor):
    path, _ = two_branches
    with pytest.raises(TypeError, match="filter_name must be"):
        droot.arrays(path, filter_name=3, executor=executor)
    with pytest.raises(TypeError, match="a list must hold strings"):
        droot.arrays(path, filter_name=["a*", 3], executor=executor)
    with pytest.raises(ValueError, match="filter_name '/\\[/'"):
        droot.arrays(path, filter_name="/[/", executor=executor)
    assert droot.arrays(path, filter_name="no such branch", executor=executor) == {}


def test_without_uproot_the_error_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "uproot", None)  # import uproot now fails
    with pytest.raises(ImportError, match="pip install uproot"):
        droot.arrays(str(tmp_path / "any.root:t"))


def test_an_uproot_written_rntuple_is_read(tmp_path, executor):
    """uproot >= 5.7 writes an RNTuple for f[name] = {...}: decoflow.root reads
    it like a TTree — by path, as an uproot object, or as the file's only
    tree-like object (test_root_rntuple.py walks every RNTuple field)."""
    path = tmp_path / "rntuple.root"
    with uproot.recreate(path) as f:
        f["ntuple"] = {"x": np.arange(5.0), "n": np.arange(5, dtype=np.int32)}
    if uproot.open(path).classnames().get("ntuple;1") != "ROOT::RNTuple":
        pytest.skip("this uproot does not write RNTuples")
    assert droot.arrays(f"{path}:ntuple", executor=executor)["x"].tolist() == [0, 1, 2, 3, 4]
    with uproot.open(path) as f:
        got = droot.arrays(f["ntuple"], ["n"], executor=executor)["n"]
        assert got.dtype == np.int32 and got.tolist() == [0, 1, 2, 3, 4]
    with uproot.open(path) as f:
        assert droot.arrays(path, library="ak", executor=executor).fields == f["ntuple"].keys()


def test_jagged_helpers(two_branches):
    path, refs = two_branches
    got = droot.arrays(path, "b")["b"]
    offsets, content = refs["b"]
    assert len(got) == 3000
    assert np.array_equal(got[5], content[offsets[5]:offsets[6]])
    assert np.array_equal(got[-1], content[offsets[-2]:])
    assert [len(x) for x in got.split()[:8]] == list(np.diff(offsets)[:8])
    with pytest.raises(IndexError):
        got[3000]
    assert "3000 entries" in repr(got)
    with uproot.open(path) as f:
        theirs = f["t"]["b"].array(library="np")  # an object array of arrays
    ours = got.to_numpy()
    assert ours.dtype == object and ours.shape == theirs.shape
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(ours, theirs))
    assert got.tolist()[:8] == [list(a) for a in theirs[:8]]
    part = got[10:20]  # a slice: a Jagged of views, offsets from 0
    assert isinstance(part, droot.Jagged) and len(part) == 10 and part.offsets[0] == 0
    assert all(np.array_equal(part[j], got[10 + j]) for j in range(10))
    assert len(got[2990:5000]) == 10 and len(got[7:3]) == 0
    assert np.array_equal(got[np.int64(4)], got[4])
    same_length = droot.Jagged(np.array([0, 2, 4]), np.arange(4))  # would broadcast
    assert [list(a) for a in same_length.to_numpy()] == [[0, 1], [2, 3]]
    assert droot.Jagged(np.zeros(1, np.int64), np.zeros(0)).to_numpy().shape == (0,)


# ------------------------------------------------------------------ results as uproot gives them


def same_entries(got, theirs):
    """A Jagged or Strings and uproot's library="np" object array hold the same entries."""
    assert len(got) == len(theirs)
    for a, b in zip(got, theirs):
        if isinstance(b, str):
            assert a == b
        else:
            assert a.dtype == b.dtype and np.array_equal(a, b)


INDICES = {
    "step 2": slice(None, None, 2),
    "reversed": slice(None, None, -1),
    "step -3 from 10": slice(10, None, -3),
    "step 7 range": slice(5, 200, 7),
    "step past the end": slice(0, 10**6, 997),
    "empty step": slice(50, 10, 3),
    "ints": [3, -1, 0, 3, 7, -2],
    "numpy ints": np.array([9, 2, 2, 40], dtype=np.uint16),
    "no ints": [],
    "numpy no ints": np.array([], dtype=np.int64),
}


def pick(theirs, index):
    """uproot's object array indexed as NumPy does (an empty list: no entries)."""
    if isinstance(index, slice):
        return theirs[index]
    index = np.asarray(index)
    return theirs[index if index.size else index.astype(np.int64)]


def masks(n):
    rng = np.random.default_rng(n)
    return {"random mask": rng.integers(0, 2, n).astype(bool), "no entry": np.zeros(n, bool),
            "every entry": np.ones(n, bool), "list of bools": [i % 3 == 0 for i in range(n)]}


def test_jagged_indexes_like_uproots_arrays_of_arrays(two_branches):
    """Jagged takes what uproot's library="np" object array takes where users
    touch it: masks, integer arrays (negative from the end, repeats), slices
    with steps; each gives a Jagged whose entries are the object array's,
    content copied; a step-1 slice stays a view. Iteration yields views."""
    path, refs = two_branches
    got = droot.arrays(path, "b")["b"]
    with uproot.open(path) as f:
        theirs = f["t"]["b"].array(library="np")
    n = len(theirs)
    same_entries(got, theirs)  # iteration: each entry a view of content
    assert all(np.shares_memory(e, got.content) for e in list(got)[:50] if len(e))
    cases = {**INDICES, **masks(n), "mask of the counts": got.counts > 2}
    for what, index in cases.items():
        part = got[index]
        assert isinstance(part, droot.Jagged), what
        assert part.offsets.dtype == np.int64 and part.offsets[0] == 0, what
        assert part.content.dtype == got.content.dtype, what
        same_entries(part, pick(theirs, index))
        assert len(part.content) == 0 or not np.shares_memory(part.content, got.content), what
    assert len(got[got.counts > 2]) == int((np.diff(refs["b"][0]) > 2).sum())
    view = got[100:200:1]  # step 1: still views
    assert np.shares_memory(view.content, got.content)
    same_entries(view, theirs[100:200])
    picked = got[[5, 5]]  # repeats are copies of their own
    picked.content[:] = -1
    assert np.array_equal(got[5], theirs[5])
    for bad, match in ((np.ones(n - 1, bool), "boolean index of 2999 values for 3000 entries"),
                       ([0, n], "entry 3000 out of range"), ([-n - 1], "entry -3001 out of range"),
                       (np.array([0.5]), "integer arrays"), ((1, 2), "too many indices"),
                       (np.zeros((2, 2), np.int64), "1-D")):
        with pytest.raises(IndexError, match=match):
            got[bad]


def test_strings_index_like_uproots_arrays_of_str(tmp_path, executor):
    path = tmp_path / "labels.root"
    write_file(path, uproot.LZ4(1), [40, 0, 25, 1])  # lengths 0 to 300: 1 and 5 length bytes
    with uproot.open(path) as f:
        theirs = f["t"]["label"].array(library="np")
    got = droot.arrays(f"{path}:t", ["label"], executor=executor)["label"]
    n = len(theirs)
    same_entries(got, theirs)
    assert all(isinstance(text, str) for text in got)
    ak = pytest.importorskip("awkward")
    for what, index in {**INDICES, **masks(n)}.items():
        part = got[index]
        assert isinstance(part, droot.Strings), what
        want = list(pick(theirs, index))
        assert part.tolist() == want and list(part) == want, what
        assert list(part.to_numpy()) == want, what
        assert ak.to_list(part.to_awkward()) == want, what
        # Slices of the result read from its own compacted bytes too.
        assert part[1:].tolist() == want[1:] and part[::-1].tolist() == want[::-1], what
    with pytest.raises(IndexError, match="boolean index of 3 values for 66 entries"):
        got[np.ones(3, bool)]
    with pytest.raises(IndexError, match="entry 66 out of range"):
        got[[66]]


# Every kind write_file makes, in an order other than the tree's.
RECORD_NAMES = ["label", "f_float32", "j_int16", "fixed3", "f_bool", "j_float64", "f_uint64",
                "f_int8"]


def assert_same_records(got, ref):
    ak = pytest.importorskip("awkward")
    assert isinstance(got, ak.Array) and got.fields == ref.fields
    assert len(got) == len(ref) and str(got.type) == str(ref.type)
    assert ak.array_equal(got, ref)


def test_library_ak_is_one_record_array_as_uproot_gives(tmp_path, executor):
    """library="ak": one awkward record array from arrays, read and each
    iterate step, ak.array_equal to uproot's tree.arrays(names) (its
    default library), the fields in the order named; no copies."""
    ak = pytest.importorskip("awkward")
    path = tmp_path / "records.root"
    write_file(path, uproot.ZSTD(1), [700, 0, 1, 300, 2])
    with uproot.open(path) as f:
        tree = f["t"]
        names = RECORD_NAMES
        ref = tree.arrays(names)
        got = droot.arrays(tree, names, executor=executor, library="ak")
        assert_same_records(got, ref)
        assert got.fields == names
        assert ak.array_equal(got.j_int16, ref["j_int16"]) and got["label"][3] == ref.label[3]
        assert got[got.f_bool].f_int8.tolist() == ref[ref.f_bool].f_int8.tolist()
        assert_same_records(droot.read(tree, names, entry_start=650, entry_stop=-1,
                                       executor=executor, library="awkward").arrays,
                            tree.arrays(names, entry_start=650, entry_stop=-1))
        steps = list(droot.iterate(tree, names, step_size=300, executor=executor, library="ak"))
        theirs = list(tree.iterate(names, step_size=300))
        assert len(steps) == len(theirs) == 4
        for mine, their in zip(steps, theirs):
            assert_same_records(mine, their)
        # filter_name: the tree's order, as uproot's.
        assert_same_records(droot.arrays(tree, filter_name="j_*", executor=executor,
                                         library="ak"), tree.arrays(filter_name="j_*"))
        # Nothing selected, an empty range: as uproot.
        assert_same_records(droot.arrays(tree, [], executor=executor, library="ak"),
                            tree.arrays([]))
        assert_same_records(droot.arrays(tree, names, entry_start=5, entry_stop=5,
                                         executor=executor, library="ak"),
                            tree.arrays(names, entry_start=5, entry_stop=5))
    # The record's fields are the arrays library="np" gives, not copies.
    np_arrays = droot.read(str(path), RECORD_NAMES, executor=executor)
    from decoflow.root._results import in_library
    records = in_library(np_arrays.arrays, "ak", 0)
    assert np.shares_memory(records.layout.content("f_float32").data,
                            np_arrays.arrays["f_float32"])
    assert np.shares_memory(records.layout.content("j_int16").content.data,
                            np_arrays.arrays["j_int16"].content)
    assert np.shares_memory(records.layout.content("label").content.data,
                            np_arrays.arrays["label"].content)


def test_hzz_library_ak_equals_uproot(executor):
    ak = pytest.importorskip("awkward")
    path = HZZ_DIR / "uproot-HZZ-lz4.root"
    if not path.is_file():
        pytest.skip(f"HZZ test data not found: {path}")
    with uproot.open(path) as f:
        tree = f["events"]
        names = ["Muon_Px", "MET_px", "NJet", "Jet_btag", "triggerIsoMu24", "Jet_Px"]
        ref = tree.arrays(names)
        got = droot.arrays(f"{path}:events", names, executor=executor, library="ak")
        assert_same_records(got, ref)
        assert ak.all(ak.num(got.Jet_Px) == got.NJet)
        assert_same_records(droot.arrays(tree, executor=executor, library="ak"), tree.arrays())


FLAT = ["f_float64", "f_bool", "f_uint8", "f_int64", "f_uint64", "f_int16", "f_float32"]


def test_library_pd_is_uproots_dataframe(tmp_path, executor):
    """library="pd": the DataFrame uproot's tree.arrays(names, library="pd")
    gives — flat branches as NumPy columns (no copy), indexed by entry number
    from entry_start, and each iterate step from its first entry on."""
    pandas = pytest.importorskip("pandas")
    path = tmp_path / "flat.root"
    write_file(path, uproot.ZLIB(1), [500, 0, 1, 300])
    with uproot.open(path) as f:
        tree = f["t"]
        got = droot.arrays(tree, FLAT, executor=executor, library="pd")
        assert isinstance(got, pandas.DataFrame) and list(got.columns) == FLAT
        pandas.testing.assert_frame_equal(got, tree.arrays(FLAT, library="pd"))
        ranged = droot.read(tree, FLAT, entry_start=-300, entry_stop=790, executor=executor,
                            library="pandas").arrays
        assert ranged.index[0] == 501
        pandas.testing.assert_frame_equal(
            ranged, tree.arrays(FLAT, entry_start=-300, entry_stop=790, library="pd"))
        steps = list(droot.iterate(tree, FLAT, step_size=220, entry_start=10, executor=executor,
                                   library="pd"))
        theirs = list(tree.iterate(FLAT, step_size=220, entry_start=10, library="pd"))
        assert len(steps) == len(theirs) == 4
        for mine, their in zip(steps, theirs):
            pandas.testing.assert_frame_equal(mine, their)
        pandas.testing.assert_frame_equal(droot.arrays(tree, [], executor=executor, library="pd"),
                                          tree.arrays([], library="pd"))
    plain = droot.read(str(path), ["f_float64"], executor=executor)
    from decoflow.root._results import in_library
    frame = in_library(plain.arrays, "pd", 0)
    assert np.shares_memory(frame["f_float64"].to_numpy(), plain.arrays["f_float64"])


def test_hzz_library_pd_several_files_as_uproot_concatenates(executor):
    pandas = pytest.importorskip("pandas")
    paths = [HZZ_DIR / f"uproot-HZZ-{c}.root" for c in ("zstd", "lzma")]
    if not all(p.is_file() for p in paths):
        pytest.skip(f"HZZ test data not found in {HZZ_DIR}")
    names = ["MET_px", "NJet", "EventWeight", "triggerIsoMu24"]
    files = [f"{p}:events" for p in paths]
    pandas.testing.assert_frame_equal(droot.arrays(files, names, executor=executor, library="pd"),
                                      uproot.concatenate(files, names, library="pd"))
    steps = list(droot.iterate(files, names, step_size=1000, executor=executor, library="pd"))
    assert [s.index[0] for s in steps] == [0, 1000, 2000, 3000, 4000]  # across the files
    pandas.testing.assert_frame_equal(pandas.concat(steps),
                                      uproot.concatenate(files, names, library="pd"))


def test_library_pd_jagged_needs_awkward_pandas(tmp_path, executor, monkeypatch):
    """A jagged, string or fixed-size branch in a DataFrame is an awkward-pandas
    column, as uproot makes it; without awkward-pandas, an error naming the
    branch and what to do, before anything is decoded."""
    pandas = pytest.importorskip("pandas")
    path = tmp_path / "jagged.root"
    write_file(path, uproot.LZ4(1), [200, 1, 0, 90])
    names = ["f_int32", "j_float64", "label", "fixed3"]
    try:
        import awkward_pandas  # noqa: F401
    except ModuleNotFoundError:
        print("awkward-pandas is not installed: its DataFrames are not compared with uproot's")
    else:
        with uproot.open(path) as f:
            tree = f["t"]
            got = droot.arrays(tree, names, executor=executor, library="pd")
            ref = tree.arrays(names, library="pd")
            assert list(got.columns) == names and list(got.dtypes.astype(str)) == \
                ["int32", "awkward", "awkward", "awkward"]
            pandas.testing.assert_frame_equal(got, ref)
            ak = pytest.importorskip("awkward")
            for name in names[1:]:
                assert ak.array_equal(got[name].ak.array, ref[name].ak.array), name
            step = next(droot.iterate(tree, names, step_size=150, entry_start=100,
                                      executor=executor, library="pd"))
            pandas.testing.assert_frame_equal(
                step, next(tree.iterate(names, step_size=150, entry_start=100, library="pd")))
    monkeypatch.setitem(sys.modules, "awkward_pandas", None)  # import awkward_pandas now fails
    submitted = []
    monkeypatch.setattr(decoflow.Executor, "submit", lambda ex, graph, **kw: submitted.append(1))
    with pytest.raises(ModuleNotFoundError,
                       match=r"branch 'j_float64' \(float64 jagged\) is not flat.*"
                             r"pip install awkward-pandas, or use library='ak' or 'np'"):
        droot.arrays(str(path), names, executor=executor, library="pd")
    with pytest.raises(ModuleNotFoundError, match=r"branch 'label' \(string\)"):
        next(droot.iterate(str(path), ["label"], executor=executor, library="pd"))
    with pytest.raises(ModuleNotFoundError, match=r"branch 'fixed3' \(float32\[3\]\)"):
        droot.read(str(path), ["f_int32", "fixed3"], executor=executor, library="pd")
    assert submitted == []
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ModuleNotFoundError, match="needs pandas: pip install pandas"):
        droot.arrays(str(path), ["f_int32"], executor=executor, library="pd")


LEAF_LISTS = ROOT / "tests" / "fixtures" / "root" / "coverage-uncompressed.root"


def test_leaf_lists_as_uproot_gives_them(executor):
    """Leaf lists (x/F:y/I:z/D, packed rows) with library="ak": records within
    the record array, as uproot's; with "pd": awkward-pandas columns, as
    uproot's (ll_arr, with an array field, uproot 5.7.7 cannot put in a
    DataFrame: decoflow's column equals uproot's awkward array)."""
    ak = pytest.importorskip("awkward")
    pytest.importorskip("pandas")
    if not LEAF_LISTS.is_file():
        pytest.skip(f"fixture not found: {LEAF_LISTS}")
    names = ["ll", "ll_mixed", "ll_arr"]
    with uproot.open(LEAF_LISTS) as f:
        tree = f["floats"]
        assert_same_records(droot.arrays(tree, names, executor=executor, library="ak"),
                            tree.arrays(names))
        try:
            import awkward_pandas  # noqa: F401
        except ModuleNotFoundError:
            print("awkward-pandas is not installed: leaf lists' DataFrames are not compared")
            return
        got = droot.arrays(tree, names, executor=executor, library="pd", entry_start=7)
        ref = tree.arrays(names[:2], library="pd", entry_start=7)
        assert list(got.columns) == names and got.index.equals(ref.index)
        for name in names[:2]:
            assert ak.array_equal(got[name].ak.array, ref[name].ak.array), name
        assert ak.array_equal(got["ll_arr"].ak.array, tree["ll_arr"].array(entry_start=7))


ENTRY_POINTS = {
    "arrays": lambda source, **kw: droot.arrays(source, ["a"], **kw),
    "read": lambda source, **kw: droot.read(source, ["a"], **kw),
    "iterate": lambda source, **kw: droot.iterate(source, ["a"], **kw),  # raises at the call
}
UPROOT_ARGUMENTS = {  # uproot's TTree.arrays / uproot.iterate arguments, and what the error says
    "cut": ("a > 0", r"evaluates no cuts: read the branches, then mask: .*a\[a\.x > 0\]"),
    "expressions": (["a * 2"], "evaluates no expressions: pass the names as branches="),
    "aliases": ({"b": "a * 2"}, "has no aliases: read the branches under their own names"),
    "language": (object(), "evaluates no expressions"),
    "how": (tuple, r"make a tuple or list from that"),
    "decompression_executor": (object(), r"executor=decoflow\.Executor\(threads=n\)"),
    "interpretation_executor": (object(), r"executor=decoflow\.Executor\(threads=n\)"),
    "array_cache": ("100 MB", "keeps no cache"),
    "filter_typename": ("float", "selects by name: use filter_name="),
    "filter_branch": (lambda b: True, "selects by name: use filter_name="),
    "ak_add_doc": (True, "no docs"),
    "virtual": (True, r"iterate\(step_size=\.\.\.\)"),
    "report": (True, "yields the arrays only"),
    "allow_missing": (True, "leave out those without the tree"),
}


@pytest.mark.parametrize("function", list(ENTRY_POINTS))
@pytest.mark.parametrize("argument", list(UPROOT_ARGUMENTS))
def test_uproot_arguments_are_refused_saying_what_to_do(two_branches, function, argument):
    path, _ = two_branches
    value, says = UPROOT_ARGUMENTS[argument]
    with pytest.raises(TypeError, match=rf"decoflow\.root\.{function}\(\) takes no {argument}= "
                                        rf"\(uproot's\): .*{says}"):
        ENTRY_POINTS[function](path, **{argument: value})
    # Refused before the file is opened.
    with pytest.raises(TypeError, match=f"takes no {argument}="):
        ENTRY_POINTS[function](str(path) + ".missing", **{argument: value})


@pytest.mark.parametrize("function", list(ENTRY_POINTS))
def test_other_arguments_are_refused(two_branches, function):
    from concurrent.futures import ThreadPoolExecutor

    path, refs = two_branches
    call = ENTRY_POINTS[function]
    with ThreadPoolExecutor(2) as pool:
        with pytest.raises(TypeError, match=r"executor must be a decoflow\.Executor .*not "
                                            r"concurrent\.futures\.thread\.ThreadPoolExecutor"):
            call(path, executor=pool)
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'bogus'"):
        call(path, bogus=1)
    with pytest.raises(ValueError, match=r"library must be 'np' \(NumPy\), 'ak' \(awkward\) or "
                                         r"'pd' \(pandas\), not 'polars'"):
        call(path, library="polars")
    with pytest.raises(TypeError, match=r"'a \* 2' is not a branch of the tree: .*evaluates no "
                                        r"expressions"):
        result = getattr(droot, function)(path, ["a", "a * 2"])
        next(result) if function == "iterate" else None
    with pytest.raises(KeyError, match="'c'"):  # no such branch: as before
        result = getattr(droot, function)(path, ["a", "c"])
        next(result) if function == "iterate" else None
    # Spellings of uproot's libraries work.
    got = droot.arrays(path, ["a"], library="NumPy")
    assert np.array_equal(got["a"], refs["a"])


# ------------------------------------------------------------------ glue on real baskets

GLUE = '''
import array

def count_negative(src, dst, index, tag):
    # A per-basket statistic in a subinterpreter (no NumPy there): dst holds
    # the basket's float32 values, already in native byte order.
    values = array.array("f")
    values.frombytes(bytes(dst))
    return sum(1 for v in values if v < 0)
'''


def test_glue_statistic_per_basket(executor):
    path = HZZ_DIR / "uproot-HZZ-zlib.root"
    if not path.is_file():
        pytest.skip(f"HZZ test data not found: {path}")
    stage = decoflow.glue(source=GLUE, function="count_negative")
    out = droot.read(f"{path}:events", ["Jet_Px", "MET_px"], executor=executor, stages=[stage])
    with uproot.open(path) as f:
        tree = f["events"]
        for name in ("Jet_Px", "MET_px"):
            b = tree[name]
            per_basket = out.basket_results[name]
            assert len(per_basket) == b.num_baskets
            ref = reference(tree, name)
            edges = np.asarray(b.entry_offsets)
            if isinstance(ref, tuple):
                starts = ref[0][edges]  # the baskets' first values
                values = ref[1]
            else:
                starts, values = edges, ref
            expected = [int((values[starts[i]:starts[i + 1]] < 0).sum())
                        for i in range(b.num_baskets)]
            assert list(per_basket) == expected, name
    assert per_basket.sum() == (out.arrays["MET_px"] < 0).sum()


def test_files_that_are_not_local_root_files_are_named(tmp_path, executor):
    """Not a ROOT file, a ROOT file cut short before its metadata, a remote
    URL: decoflow's words, naming the path (not uproot's or fsspec's)."""
    text = tmp_path / "notes.root"
    text.write_bytes(b"hello, not a ROOT file")
    with pytest.raises(decoflow.UnsupportedFormatError, match="is not a ROOT file") as info:
        droot.arrays(f"{text}:t", ["x"], executor=executor)
    assert str(text) in str(info.value)
    path = tmp_path / "whole.root"
    write_file(path, uproot.ZSTD(1), [100])
    cut = tmp_path / "cut.root"
    cut.write_bytes(path.read_bytes()[:300])
    with pytest.raises(decoflow.CorruptInputError, match="truncated or damaged ROOT file") as info:
        droot.arrays(f"{cut}:t", ["f_int32"], executor=executor)
    assert str(cut) in str(info.value) and "300 bytes" in str(info.value)
    assert "Chunk" not in str(info.value)
    with pytest.raises(ValueError, match="reads local files only, not 'root://"):
        droot.arrays("root://eos.example.org//data/x.root:t", ["x"], executor=executor)
