"""The native ROOT metadata reader (graphs/root_file.hpp, root_tree_meta.hpp)
against uproot: every TTree of every file under ../shared/testdata/root/ (the
HZZ files and tree/; skipped visibly where absent) and tests/fixtures/root/ —
its keys, branch list, entry counts, basket tables, embedded baskets and the
kind of every branch the native reader types, equal to uproot's and to
decoflow.root's uproot adapter (`_uproot.branch_kind`); a branch it does not
type is counted, never guessed. Then damaged files, each made from a real one:
a clear error naming the file and what was being read.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from conftest import FIXTURE_ROOT_FILES as FIXTURES
from conftest import root_test_files

from decoflow import CorruptInputError, _core

uproot = pytest.importorskip("uproot", reason="the reference is uproot's reading")
from decoflow.root import _native, _select, _uproot  # noqa: E402



def _files() -> list:
    return root_test_files()


def _tree_names(f) -> list[str]:
    return sorted({k.split(";")[0] for k, c in f.classnames().items() if c == "TTree"})


def _native_rows(path, name: str, tree_name: str, entries: int, readable: list[str]) -> list:
    """Every branch's row as the native reader gives it, after checking that
    what reads select by (paths, names, kinds, sizes) is those rows'. (The
    native objects live in this frame only: uproot keeps tracebacks of the
    caller's, which would keep them alive past the interpreter's end.)"""
    meta = _core._root_tree_meta(str(path), name)
    assert meta.name == tree_name and meta.entries == entries
    rows = [meta.branch(i) for i in range(len(meta))]
    ntree = _native.NativeTree(str(path), name)
    assert ntree.paths == [b[0] for b in rows] and ntree.names == [b[1] for b in rows]
    for i, b in enumerate(rows):
        assert ntree.kind(i) == _native.branch_kind(_native.NativeBranch(*b))
        assert ntree.why(i) == b[4] and ntree[b[0]].uncompressed_bytes == b[16]
    assert ntree.readable_names() == readable, name
    return rows


@pytest.mark.parametrize("path", _files())
def test_every_tree_equals_uproot(path):
    f = uproot.open(path)
    # The keys, recursively, as uproot lists them (path;cycle -> class).
    native_keys = {f"{p};{cycle}": cls for p, cycle, cls, _ in _core._root_keys(str(path))}
    assert native_keys == f.classnames()
    typed = unknown = 0
    for name in _tree_names(f):
        tree = f[name]
        # branches=None reads the same names from either route.
        branches = _native_rows(path, name, tree.name, tree.num_entries,
                                list(_select._every_branch(tree)))
        assert [b[0] for b in branches] == list(tree.keys()), name
        for native, ub in zip(branches, tree.values()):
            (bpath, bname, cls, kind, why, bentries, _parent, leaves, seeks, sizes, bounds,
             embedded, borders, files, numbers, inputs, tot_bytes) = native
            where = f"{path.name}:{name}:{bpath}"
            assert (bname, cls, bentries) == (ub.name, ub.classname, ub.num_entries), where
            assert tot_bytes == ub.uncompressed_bytes, where
            assert [leaf[1] for leaf in leaves] == [x.member("fName") for x in
                                                    ub.member("fLeaves")], where
            # The basket table: the baskets on file, then the embedded ones.
            kept = ub.embedded_baskets
            normal = ub.num_baskets - len(kept)
            assert len(seeks) == ub.num_baskets, where
            np.testing.assert_array_equal(seeks[:normal], ub.member("fBasketSeek")[:normal])
            np.testing.assert_array_equal(sizes[:normal], ub.member("fBasketBytes")[:normal])
            np.testing.assert_array_equal(bounds, ub.entry_offsets)
            np.testing.assert_array_equal(borders[:normal], -1)
            np.testing.assert_array_equal(borders[normal:], [int(b.border) for b in kept])
            np.testing.assert_array_equal(files, 0)
            np.testing.assert_array_equal(numbers, np.arange(len(seeks)))
            np.testing.assert_array_equal(inputs, np.r_[np.full(normal, -1), np.arange(len(kept))])
            theirs = _uproot.branch_kind(bpath, ub)
            if kind is None:
                assert why, where
                unknown += 1
                if kept:  # the values as stored, whatever their type
                    assert list(embedded) == [np.asarray(b.data).tobytes() for b in kept], where
                continue
            typed += 1
            assert not isinstance(theirs, Exception), f"{where}: natively {kind}; {theirs}"
            mine = dict(kind)
            inner, record = mine.pop("inner"), mine.pop("record")
            assert tuple(tuple(c) for c in mine.pop("classes")) == theirs.records, where
            mine.pop("key")
            assert mine == theirs.for_engine(), where
            assert inner == theirs.inner, where
            if record:
                assert [r[0] for r in record] == list(theirs.dtype.names or [""]), where
            # The whole BranchKind as the read uses it (dtype, shape): the same
            # kind, table and embedded bytes make the same engine input, so the
            # values are those the uproot route reads (test_root_coverage).
            assert _native.branch_kind(_native.NativeBranch(*native)) == theirs, where
            assert list(embedded) == [_uproot._embedded_bytes(b, theirs) for b in kept], where
    print(f"{path.name}: {typed} branches typed natively, {unknown} left to uproot")


# ------------------------------------------------------------------ bad input

FIXTURE = FIXTURES / "coverage-uncompressed.root"  # uncompressed: records can be edited


def _top_keys(data: bytes) -> tuple[int, list[dict]]:
    """(the top directory's keys list offset, its keys with where each header
    lies in the file), parsed here independently of the reader under test."""
    version, begin = struct.unpack_from(">iI", data, 4)
    large = version >= 1000000
    nbytes_name = struct.unpack_from(">I", data, 4 + 4 + 4 + (8 + 8 if large else 4 + 4) + 8)[0]
    record = begin + nbytes_name
    dir_version = struct.unpack_from(">h", data, record)[0]
    at = record + 2 + 4 + 4 + 4 + 4
    seek_keys = (struct.unpack_from(">q", data, at + 16)[0] if dir_version > 1000
                 else struct.unpack_from(">I", data, at + 8)[0])
    keylen = struct.unpack_from(">h", data, seek_keys + 14)[0]
    n = struct.unpack_from(">i", data, seek_keys + keylen)[0]
    pos, keys = seek_keys + keylen + 4, []
    for _ in range(n):
        key_version = struct.unpack_from(">h", data, pos + 4)[0]
        wide = key_version > 1000
        seek_at = pos + 18
        seek = struct.unpack_from(">q" if wide else ">I", data, seek_at)[0]
        cur = seek_at + (16 if wide else 8)
        strings = []
        for _ in range(3):
            length = data[cur]
            strings.append(data[cur + 1:cur + 1 + length].decode())
            cur += 1 + length
        keys.append({"class": strings[0], "name": strings[1], "seek": seek, "seek_at": seek_at,
                     "wide": wide})
        pos = cur
    return seek_keys, keys


def _damaged(tmp_path, edit) -> str:
    target = tmp_path / "damaged.root"
    data = bytearray(FIXTURE.read_bytes())
    edit(data)
    target.write_bytes(bytes(data))
    return str(target)


def test_a_truncated_file_is_named(tmp_path):
    target = tmp_path / "cut.root"
    target.write_bytes(FIXTURE.read_bytes()[:200_000])
    with pytest.raises(CorruptInputError, match=r"cut\.root: the file is cut short"):
        _core._root_tree_meta(str(target), "floats")
    target.write_bytes(b"not a ROOT file at all")
    with pytest.raises(CorruptInputError, match=r"cut\.root: not a ROOT file"):
        _core._root_keys(str(target))


def test_a_key_pointing_outside_the_file_is_named(tmp_path):
    data = FIXTURE.read_bytes()
    _, keys = _top_keys(data)
    key = next(k for k in keys if k["name"] == "floats")

    def edit(d):
        struct.pack_into(">q" if key["wide"] else ">I", d, key["seek_at"], len(d) + 4096)

    path = _damaged(tmp_path, edit)
    with pytest.raises(CorruptInputError, match=r"damaged\.root: key 'floats;1' \(TTree, file "
                                                r"bytes \[\d+, \+\d+\)\): lies outside"):
        _core._root_tree_meta(path, "floats")


def test_a_directory_loop_is_named(tmp_path):
    data = FIXTURE.read_bytes()
    seek_keys, keys = _top_keys(data)
    sub = next(k for k in keys if k["class"] in ("TDirectory", "TDirectoryFile"))
    keylen = struct.unpack_from(">h", data, sub["seek"] + 14)[0]
    record = sub["seek"] + keylen
    big = struct.unpack_from(">h", data, record)[0] > 1000

    def edit(d):  # the subdirectory's keys list is the top directory's
        at = record + 2 + 4 + 4 + 4 + 4 + (16 if big else 8)
        struct.pack_into(">q" if big else ">I", d, at, seek_keys)

    path = _damaged(tmp_path, edit)
    with pytest.raises(CorruptInputError, match=r"damaged\.root: key 'sub;1' .*loops back"):
        _core._root_keys(path)
    with pytest.raises(CorruptInputError, match=r"loops back"):
        _core._root_tree_meta(path, "sub/sub/embedded_only")


def test_a_record_lying_about_its_size_is_named(tmp_path):
    data = FIXTURE.read_bytes()
    _, keys = _top_keys(data)
    key = next(k for k in keys if k["name"] == "floats")
    keylen = struct.unpack_from(">h", data, key["seek"] + 14)[0]
    payload = key["seek"] + keylen
    # The first TBranch in the tree: its class tag, then its own byte count.
    tag = data.index(b"\xff\xff\xff\xffTBranch\x00", payload)
    count_at = tag + 4 + len(b"TBranch\x00")
    count = struct.unpack_from(">I", data, count_at)[0]

    def shorter(d):  # its members run past the size it claims
        struct.pack_into(">I", d, count_at, count - 40)

    with pytest.raises(CorruptInputError, match=r"damaged\.root: key 'floats;1' \(TTree.*"
                                                r"run \d+ bytes past its byte count"):
        _core._root_tree_meta(_damaged(tmp_path, shorter), "floats")

    def longer(d):  # it claims more bytes than the record has
        struct.pack_into(">I", d, count_at, 0x40000000 | 0x3FFFFF00)

    with pytest.raises(CorruptInputError, match=r"key 'floats;1' \(TTree.*byte count \d+ runs "
                                                r"past the end"):
        _core._root_tree_meta(_damaged(tmp_path, longer), "floats")


def test_the_fixture_tree_names_exist():
    # The bad-input tests edit these trees: if the fixtures change, say so here.
    names = {p for p, *_ in _core._root_keys(str(FIXTURE))}
    assert {"floats", "sub", "sub/embedded_only"} <= names


# ------------------------------------------------------------------ the public face


def test_keys_and_branches_list_what_uproot_lists():
    import decoflow.root as droot

    path = FIXTURES / "coverage-zstd.root"
    with uproot.open(path) as f:
        assert droot.keys(path) == f.keys()
        tree = f["vectors"]
        listed = droot.branches(f"{path}:vectors")
        assert list(listed) == list(tree.keys())
        for name, described in listed.items():
            kind = _uproot.branch_kind(name, tree[name])
            if not described.startswith("uproot: "):
                assert described in (kind.describe(), "record"), name


def test_paths_read_without_uproot(tmp_path):
    """uproot is optional for the branches the native reader types: a Python
    where `import uproot` fails reads them (the values checked here against
    uproot's), and refuses an untyped one by name."""
    import subprocess
    import sys

    path = FIXTURES / "coverage-zstd.root"
    out = tmp_path / "values.npz"
    script = f"""
import sys
sys.modules["uproot"] = None  # import uproot raises ImportError
import numpy as np
import decoflow.root as droot
a = droot.arrays({str(path)!r} + ":vectors", ["vec_float", "str"])
np.savez({str(out)!r}, content=a["vec_float"].content, offsets=a["vec_float"].offsets,
         strings=np.array(list(a["str"]), dtype=object))
try:
    droot.arrays({str(path)!r} + ":objects", ["hits", "p4_unsplit"])
except droot.UnsupportedBranchError as e:
    print("refused:", e)
steps = list(droot.iterate({str(path)!r} + ":vectors", ["vec_float"], step_size="1 kB"))
print("steps:", len(steps), sum(len(s["vec_float"]) for s in steps))
try:
    droot.arrays({str(path)!r}, ["n"])
except ValueError as e:
    print("unnamed:", e)
"""
    env = dict(__import__("os").environ)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    # hits (a std::vector<float> member) is typed natively; p4_unsplit (a
    # TBranchObject) is not.
    assert "refused: branch 'p4_unsplit'" in done.stdout and "uproot" in done.stdout
    assert "TTrees and RNTuples (embedded_tail, floats, objects, sub/embedded_only, vectors): name one" in done.stdout
    with uproot.open(path) as f:  # iterate's default size steps, from fTotBytes natively
        steps = list(uproot.iterate(f"{path}:vectors", ["vec_float"], step_size="1 kB"))
        assert f"steps: {len(steps)} {f['vectors'].num_entries}" in done.stdout, done.stdout
    got = np.load(out, allow_pickle=True)
    with uproot.open(path) as f:
        want = f["vectors"]["vec_float"].array(library="ak")
        import awkward as ak
        np.testing.assert_array_equal(got["content"], ak.flatten(want).to_numpy())
        np.testing.assert_array_equal(got["offsets"], np.asarray(want.layout.offsets))
        assert list(got["strings"]) == [s for s in f["vectors"]["str"].array(library="np")]


def test_an_embedded_basket_offset_outside_its_values_is_named(tmp_path):
    """fuzz_root_meta found it: an entry offset far outside the basket (it
    overflowed when made relative to the values)."""
    data = FIXTURE.read_bytes()
    at = data.index(b"TBasket\x00") + len(b"TBasket\x00")  # embedded_tail's first basket
    keylen = struct.unpack_from(">h", data, at + 14)[0]
    flag_at = at + keylen - 1
    entries = struct.unpack_from(">i", data, flag_at - 8)[0]

    def edit(d):  # entry offsets follow (flag 11), the first at -2^31
        d[flag_at] = 11
        struct.pack_into(">iI", d, flag_at + 1, entries, 0x80000000)

    with pytest.raises(CorruptInputError, match=r"key 'embedded_tail;1' \(TTree.*embedded "
                                                r"TBasket entry offsets .*an entry starts at "
                                                r"-2147483648, outside the values"):
        _core._root_tree_meta(_damaged(tmp_path, edit), "embedded_tail")


# ------------------------------------------------------------------ large files


def _key_at(data, pos: int) -> tuple[dict, int]:
    """The TKey header at `pos` (small or large form) and where it ends."""
    nbytes, version, objlen, datime, keylen, cycle = struct.unpack_from(">ihiIhh", data, pos)
    wide = version > 1000
    seek, pdir = struct.unpack_from(">qq" if wide else ">II", data, pos + 18)
    cur, strings = pos + 18 + (16 if wide else 8), []
    for _ in range(3):
        strings.append(bytes(data[cur + 1:cur + 1 + data[cur]]))
        cur += 1 + data[cur]
    return dict(nbytes=nbytes, version=version % 1000, objlen=objlen, datime=datime,
                keylen=keylen, cycle=cycle, seek=seek, pdir=pdir, strings=strings), cur


def _large_key(k: dict, seek: int, strings: list[bytes]) -> bytes:
    out = struct.pack(">ihiIhhqq", k["nbytes"], k["version"] + 1000, k["objlen"], k["datime"],
                      k["keylen"], k["cycle"], seek, k["pdir"])
    return out + b"".join(bytes([len(s)]) + s for s in strings)


def test_a_large_file_with_64_bit_seeks(tmp_path):
    """The large-file forms (header fVersion ≥ 1000000, directory and key
    versions > 1000: 64-bit seeks), on a sparse copy of a fixture: the tree
    'floats' moved past 5 GiB, the top directory's keys list after it. Read
    natively, it is the same tree as in the small file, and decodes alike."""
    data = bytearray(FIXTURE.read_bytes())
    version, begin = struct.unpack_from(">iI", data, 4)
    assert version < 1000000  # a small file to start from
    seek_free, nbytes_free, nfree, nbytes_name = struct.unpack_from(">IiiI", data, 16)
    units, compress, seek_info, nbytes_info = struct.unpack_from(">BiIi", data, 32)
    record = begin + nbytes_name
    dir_version, datime_c, datime_m = struct.unpack_from(">hII", data, record)
    seek_keys, _ = _top_keys(bytes(data))
    head, at = _key_at(data, seek_keys)
    (count,) = struct.unpack_from(">i", data, seek_keys + head["keylen"])
    at = seek_keys + head["keylen"] + 4
    keys = []
    for _ in range(count):
        k, at = _key_at(data, at)
        keys.append(k)
    moved = 5 << 30
    tree = next(k for k in keys if k["strings"][1] == b"floats")
    title = tree["strings"][2][:-8]  # the large header is 8 bytes longer: fKeylen stays
    payload = bytes(data[tree["seek"] + tree["keylen"]:tree["seek"] + tree["nbytes"]])
    moved_key = _large_key(tree, moved, [tree["strings"][0], b"floats", title])
    assert len(moved_key) == tree["keylen"]
    entries = b"".join(_large_key(k, moved, [k["strings"][0], b"floats", title])
                       if k is tree else _large_key(k, k["seek"], k["strings"]) for k in keys)
    list_at = moved + len(moved_key) + len(payload)
    list_strings = [b"TFile", b"big.root", b""]
    list_keylen = 18 + 16 + sum(1 + len(s) for s in list_strings)
    list_body = struct.pack(">i", len(keys)) + entries
    list_head = _large_key(dict(nbytes=list_keylen + len(list_body), version=4,
                                objlen=len(list_body), datime=head["datime"], keylen=list_keylen,
                                cycle=1, pdir=begin), list_at, list_strings)
    end = list_at + len(list_head) + len(list_body)
    struct.pack_into(">iiqqiiiBiqi", data, 4, version + 1000000, begin, end, seek_free,
                     nbytes_free, nfree, nbytes_name, units, compress, seek_info, nbytes_info)
    struct.pack_into(">hIIiiqqq", data, record, dir_version + 1000, datime_c, datime_m,
                     len(list_head) + len(list_body), struct.unpack_from(">i", data, record + 14)[0],
                     begin, 0, list_at)
    big = tmp_path / "big.root"
    with open(big, "wb") as f:  # sparse: the gap is never written
        f.write(data)
        f.seek(moved)
        f.write(moved_key + payload + list_head + list_body)
    assert big.stat().st_size == end > 1 << 32

    assert [p for p, *_ in _core._root_keys(str(big))] == [p for p, *_ in
                                                         _core._root_keys(str(FIXTURE))]
    small_meta, big_meta = (_core._root_tree_meta(str(p), "floats") for p in (FIXTURE, big))
    assert (small_meta.name, small_meta.entries) == (big_meta.name, big_meta.entries)
    small_rows, big_rows = ([m.branch(i) for i in range(len(m))] for m in (small_meta, big_meta))
    for a, b in zip(small_rows, big_rows, strict=True):
        assert a[:8] == b[:8]
        for x, y in zip(a[8:11] + a[12:], b[8:11] + b[12:]):
            np.testing.assert_array_equal(x, y)
        assert a[11] == b[11]
    import decoflow.root as droot

    names = [b[0] for b in small_rows if b[3] is not None and b[3]["layout"] == "fixed"]
    got, want = (droot.arrays(f"{p}:floats", names) for p in (big, FIXTURE))
    for name in names:
        np.testing.assert_array_equal(got[name], want[name])


def test_split_class_members_typed_from_streamer_infos_read_as_uproot():
    """std::vector, std::string and T* members of a split class, typed from
    the file's streamer infos: read by path, equal to uproot's arrays."""
    import awkward as ak

    import decoflow.root as droot

    path = FIXTURES / "coverage-zstd.root"
    listed = droot.branches(f"{path}:objects")
    members = ["track/hits", "track/ids", "track/label", "track/w", "track/eta", "track/phi"]
    assert all(not listed[m].startswith("uproot:") for m in members), listed
    got = droot.arrays(f"{path}:objects", [m.split("/")[1] for m in members], library="ak")
    with uproot.open(path) as f:
        tree = f["objects"]
        for m in members:
            name = m.split("/")[1]
            assert ak.array_equal(got[name], tree[m].array(library="ak"), equal_nan=True), m


# Branches the native reader types from the streamer infos and leaf titles
# that once went through uproot: (file, tree, [branches], kind it is typed as).
_NEWLY_TYPED = [
    ("fixtures", "coverage-zstd.root", "objects", ["tracks/tracks.pos[3]"], "x[n][3]"),
    ("fixtures", "coverage-zstd.root", "objects", ["p4", "tca/tca.fP"], "objects"),
    ("shared", "uproot-issue399.root", "Model", ["Model./Model.staPos", "Model./Model.endPos"],
     "vector<TVector3> member"),
    ("shared", "uproot-issue327.root", "DstTree",
     ["Event/AliReducedBaseEvent/fTracks/fTracks.fP[3]",
      "Event/AliReducedBaseEvent/fTracks/fTracks.fITSnSig[4]"], "x[n][3]"),
    ("shared", "uproot-issue-85.root", "Hyp3O2",
     ["SHyperTriton/RHyperTriton3O2/RHyperTriton/momDstar",
      "SHyperTriton/RHyperTriton3O2/RHyperTriton/cosThetaStar"], "a base class's Double32_t"),
    ("shared", "uproot-issue399.root", "Event",
     ["Trajectory./Trajectory.preProcessTypes", "Trajectory./Trajectory.isIon"],
     "vector<vector<T>> member"),
    ("shared", "uproot-issue399.root", "Model", ["Model./Model.componentName"],
     "vector<string> member"),
    ("shared", "uproot-issue-798.root", "MetaData",
     ["TriggerMenuAux./TriggerMenuAux.chainSignatureOutputTEs",
      "TriggerMenuAux./TriggerMenuAux.itemPrescales"], "vector<vector<vector<vector<string>>>> member"),
    ("shared", "uproot-stl_containers.root", "tree", ["vector_tstring", "vector_vector_tstring"],
     "vector<TString>"),
]


def _newly_typed_cases() -> list:
    from conftest import SHARED_ROOT_FILES

    cases = []
    for where, name, tree, branches, what in _NEWLY_TYPED:
        path = (FIXTURES if where == "fixtures" else SHARED_ROOT_FILES / "tree") / name
        marks = () if path.exists() else pytest.mark.skip(reason=f"{path} is absent")
        cases.append(pytest.param(path, tree, branches, id=f"{name}:{what}", marks=marks))
    return cases


@pytest.mark.parametrize("path,tree,branches", _newly_typed_cases())
def test_newly_typed_kinds_read_without_uproot(tmp_path, path, tree, branches):
    """Kinds the native reader now types from streamer infos and leaf titles
    (x[n][3] rows, a base class's Double32_t members with a streamer range,
    nested std::vector and std::vector<std::string> members, vector<TString>,
    objects laid out from the streamer infos: TLorentzVector, a TClonesArray's
    TVector3 member, std::vector<TVector3>):
    typed natively as `_uproot.branch_kind` types them, and read by path where
    `import uproot` fails, equal to uproot's arrays."""
    import pickle
    import subprocess
    import sys

    import awkward as ak

    ntree = _native.NativeTree(str(path), tree)
    with uproot.open(path) as f:
        for name in branches:
            assert ntree.kind(ntree.index(name)) == _uproot.branch_kind(name, f[tree][name]), name
    out = tmp_path / "arrays.pkl"
    script = f"""
import pickle, sys
sys.modules["uproot"] = None  # import uproot raises ImportError
import decoflow.root as droot
got = droot.arrays({str(path)!r} + ":" + {tree!r}, {branches!r}, library="ak")
with open({str(out)!r}, "wb") as f:
    pickle.dump({{name: got[name] for name in {branches!r}}}, f)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    with open(out, "rb") as f:
        got = pickle.load(f)
    with uproot.open(path) as f:
        for name in branches:
            want = f[tree][name].array(library="ak")
            assert len(got[name]) == len(want) > 0, name
            assert ak.array_equal(got[name], want, equal_nan=True), name
