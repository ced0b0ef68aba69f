"""Bad input for the TTree layouts written by ROOT (tests/fixtures/root,
scripts/make_root_fixtures.py): each basket is corrupted in its *decoded*
bytes — the uncompressed fixture stores them as they are, so the layout's own
checks, not a codec's, must catch it. Each failure is a located error that
fails its branch only; the other branches read equal to uproot's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import decoflow

uproot = pytest.importorskip("uproot", reason="decoflow.root reads metadata with uproot")
import decoflow.root as droot  # noqa: E402
from decoflow.root import _uproot  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "root" / "coverage-uncompressed.root"


@pytest.fixture(scope="module")
def executor():
    with decoflow.Executor(threads=2) as ex:
        yield ex


def corrupt(tmp_path, tree, branch, basket, edit):
    """A copy of the fixture with basket `basket` of `branch` changed by
    edit(data, payload, border, entries): data the file's bytearray, payload
    where the basket's decoded bytes start, border where its values end."""
    bad = tmp_path / "bad.root"
    shutil.copy(FIXTURE, bad)
    with uproot.open(bad) as f:
        b = f[tree][branch]
        seek = int(b.member("fBasketSeek")[basket])
        key = b.basket(basket)
        keylen, border, entries = key.member("fKeylen"), key.border, key.num_entries
        assert key.member("fObjlen") == key.member("fNbytes") - keylen  # stored as decoded
    data = bytearray(bad.read_bytes())
    edit(data, seek + keylen, border, entries)
    bad.write_bytes(bytes(data))
    return bad


def same_as_uproot(got, tree, name):
    ref = tree[name].array(library="np")
    if isinstance(got, droot.Jagged):  # counts, then the values' bits (NaN equal)
        assert np.array_equal(got.counts, [len(r) for r in ref]), name
        content = np.concatenate([np.asarray(r) for r in ref]) if len(ref) else got.content[:0]
        assert got.content.tobytes() == content.astype(got.content.dtype).tobytes(), name
    else:
        assert np.array_equal(got, ref), name


def check(info, tree_name, branch, basket, path, other, *words):
    e = info.value
    assert e.branch == branch and e.basket == basket and e.file == str(path)
    text = str(e)
    assert f"branch '{branch}' basket {basket} (entries " in text, text
    for word in words:
        assert word in text, text
    assert list(e.arrays) == [other]
    with uproot.open(path) as f:
        same_as_uproot(e.arrays[other], f[tree_name], other)


def be32(data, at):
    return int.from_bytes(data[at:at + 4], "big")


def test_vector_header_that_lies_about_its_size(tmp_path, executor):
    def edit(data, payload, border, entries):
        data[payload + 9] ^= 0x01  # entry 0's element count (its header's bytes 6-9)

    bad = corrupt(tmp_path, "vectors", "vec_float", 1, edit)
    with pytest.raises(decoflow.CorruptInputError) as info:
        droot.arrays(f"{bad}:vectors", ["vec_float", "vec_int32"], executor=executor)
    check(info, "vectors", "vec_float", 1, bad, "vec_int32", "its std::vector header says")


def test_trailer_count_that_disagrees_with_the_basket(tmp_path, executor):
    def edit(data, payload, border, entries):
        at = payload + border
        data[at:at + 4] = (entries + 7).to_bytes(4, "big")

    bad = corrupt(tmp_path, "vectors", "vec_double", 2, edit)
    with pytest.raises(decoflow.CorruptInputError) as info:
        droot.arrays(f"{bad}:vectors", ["vec_double", "vec_int32"], executor=executor)
    check(info, "vectors", "vec_double", 2, bad, "vec_int32",
          f"entry-offsets trailer counts {entries_of(bad, 'vectors', 'vec_double', 2) + 7}")


def entries_of(path, tree, branch, basket):
    with uproot.open(path) as f:
        return f[tree][branch].basket(basket).num_entries


def test_trailer_offset_outside_the_values(tmp_path, executor):
    def edit(data, payload, border, entries):
        at = payload + border + 4 + 4  # entry 1's start
        data[at:at + 4] = (be32(data, at) + 3).to_bytes(4, "big")

    bad = corrupt(tmp_path, "vectors", "vec_int16", 1, edit)
    with pytest.raises(decoflow.CorruptInputError) as info:
        droot.arrays(f"{bad}:vectors", ["vec_int16", "vec_int32"], executor=executor)
    check(info, "vectors", "vec_int16", 1, bad, "vec_int32", "entry ")


def test_std_string_length_that_disagrees_with_its_extent(tmp_path, executor):
    def edit(data, payload, border, entries):
        data[payload] ^= 0x02  # entry 0's length byte (top-level std::string: no header)

    bad = corrupt(tmp_path, "vectors", "str", 1, edit)
    with pytest.raises(decoflow.CorruptInputError) as info:
        droot.arrays(f"{bad}:vectors", ["str", "vec_int32"], executor=executor)
    check(info, "vectors", "str", 1, bad, "vec_int32", "string at entry ", "its length bytes say")


def first_nonempty_entry(data, payload):
    """Where the first entry with elements starts in a basket of a nested
    branch (entries: a 10-byte header whose last 4 bytes count its elements)."""
    at = payload
    while be32(data, at + 6) == 0:
        at += 10
    return at


@pytest.mark.parametrize("branch,edit_at,words", [
    # vector<vector<float>>: the first inner vector's count one too many
    ("vecvec_float", 10, ["entry "]),
    # vector<string>: the first string's length byte one too many
    ("vec_string", 10, ["entry "]),
    # the entry header's byte count one too few
    ("vecvec_float", 3, ["its header's byte count says"]),
    ("vec_string", 3, ["its header's byte count says"]),
])
def test_nested_lists_that_lie(tmp_path, executor, branch, edit_at, words):
    """std::vector<std::vector<float>> and std::vector<std::string>: a count,
    a length or a header that disagrees with the entry's extent fails the
    branch, naming the entry; the others read."""
    def edit(data, payload, border, entries):
        at = first_nonempty_entry(data, payload) + edit_at
        data[at] = (data[at] + (1 if edit_at == 10 else -1)) % 256

    bad = corrupt(tmp_path, "vectors", branch, 1, edit)
    with pytest.raises(decoflow.CorruptInputError) as info:
        droot.arrays(f"{bad}:vectors", [branch, "vec_int32"], executor=executor)
    check(info, "vectors", branch, 1, bad, "vec_int32", *words)


def test_nested_lists_stored_member_wise_are_refused_by_name(tmp_path, executor):
    def edit(data, payload, border, entries):
        data[payload + 4] |= 0x40  # the collection's version: kStreamedMemberWise

    bad = corrupt(tmp_path, "vectors", "vecvec_float", 2, edit)
    with pytest.raises(decoflow.UnsupportedFormatError) as info:
        droot.arrays(f"{bad}:vectors", ["vecvec_float", "vec_int32"], executor=executor)
    check(info, "vectors", "vecvec_float", 2, bad, "vec_int32", "stored member-wise")


def test_referenced_tobject_bits_are_refused_by_name_not_called_corrupt(tmp_path, executor):
    """A split TClonesArray's fBits member: a referenced object's bits (bit
    kIsReferenced, 0x10) are followed by 2 more bytes, which decoflow does
    not decode — an UnsupportedFormatError naming the branch, never a
    CorruptInputError (the file is sound)."""
    def edit(data, payload, border, entries):
        data[payload + 3] |= 0x10  # the basket's first object's fBits (its low byte)

    bad = corrupt(tmp_path, "objects", "tca/tca.fBits", 1, edit)
    with pytest.raises(decoflow.UnsupportedFormatError) as info:
        droot.arrays(f"{bad}:objects", ["tca.fBits", "tca.fE"], executor=executor)
    e = info.value
    assert e.branch == "tca.fBits" and e.basket == 1
    assert "referenced objects" in str(e) and "kIsReferenced" in str(e)
    with uproot.open(bad) as f:
        same_as_uproot(e.arrays["tca.fE"], f["objects"], "tca.fE")


def test_objects_that_are_not_whole_rows_are_refused_by_name(tmp_path, executor):
    """A split TLorentzVector (rows of its headers and members): a basket
    whose values are not whole rows may hold referenced objects (2 more
    bytes each) — refused by name, not called corrupt."""
    def edit(data, payload, border, entries):
        last = payload - 19 + 14  # the TBasket header's fLast
        data[last:last + 4] = (be32(data, last) - 2).to_bytes(4, "big")

    bad = corrupt(tmp_path, "objects", "p4", 1, edit)
    with pytest.raises(decoflow.UnsupportedFormatError) as info:
        droot.arrays(f"{bad}:objects", ["p4", "tca.fE"], executor=executor)
    e = info.value
    assert e.branch == "p4" and e.basket == 1 and "not whole rows" in str(e)
    assert not isinstance(e, droot.UnsupportedBranchError)  # found while decoding


@pytest.mark.parametrize("branch", ["d32_mant", "d32_range", "ll"])
def test_fixed_values_that_do_not_fill_their_entries(tmp_path, executor, branch):
    """Double32_t (3- and 4-byte elements) and a leaf list (x/F:y/I:z/D):
    the TBasket says its values end one byte early."""
    def edit(data, payload, border, entries):
        last = payload - 19 + 14  # the TBasket header's fLast, before the flag byte
        data[last:last + 4] = (be32(data, last) - 1).to_bytes(4, "big")

    bad = corrupt(tmp_path, "floats", branch, 1, edit)
    with pytest.raises(decoflow.Error) as info:
        droot.arrays(f"{bad}:floats", [branch, "flat_f"], executor=executor)
    check(info, "floats", branch, 1, bad, "flat_f", "entries × items × width")


def test_embedded_basket_that_disagrees_with_its_record(tmp_path, executor, monkeypatch):
    real = _uproot._embedded_bytes
    monkeypatch.setattr(_uproot, "_embedded_bytes", lambda basket, kind: (
        real(basket, kind)[:-1] if kind.header_bytes == 10 else real(basket, kind)))
    with pytest.raises(decoflow.CorruptInputError) as info, uproot.open(FIXTURE) as f:
        # Through uproot's tree: the embedded bytes edited above are the adapter's.
        droot.arrays(f["embedded_tail"], ["vec_float", "n"], executor=executor)
    e = info.value
    assert e.branch == "vec_float" and "(embedded in its TBranch)" in str(e)
    assert "the embedded basket holds" in str(e)
    monkeypatch.undo()
    with uproot.open(FIXTURE) as f:
        same_as_uproot(e.arrays["n"], f["embedded_tail"], "n")


def _values(a):
    """A branch's result (ndarray, Jagged or Strings) as plain Python values."""
    return a.tolist()


SPLIT_MEMBERS = ["track/pt", "track/eta", "track/phi", "track/mass", "track/pos[3]",
                 "track/hits", "track/label", "track/w", "tracks/tracks.eta", "tracks/tracks.phi"]


@pytest.mark.parametrize("tree,step", [("vectors", 7), ("floats", 33), ("embedded_tail", 41),
                                       ("objects", 5)])
def test_steps_of_every_layout_equal_the_whole_read(executor, tree, step):
    """iterate() hands a basket shared between steps over for every layout
    (std::vector, strings, Double32_t, leaf lists, embedded baskets, members
    of split classes): the steps, joined, equal one whole read."""
    branches = SPLIT_MEMBERS if tree == "objects" else None
    whole = droot.read(f"{FIXTURE}:{tree}", branches, executor=executor)
    names = list(whole.arrays)
    assert len(names) >= 5
    joined = {name: [] for name in names}
    for arrays in droot.iterate(f"{FIXTURE}:{tree}", names, step_size=step, executor=executor):
        for name in names:
            joined[name] += _values(arrays[name])
    for name in names:
        expected = _values(whole.arrays[name])
        got = joined[name]
        assert len(got) == len(expected), name
        assert repr(got) == repr(expected), name  # NaN == NaN, -0.0 kept


def test_every_branch_by_default_as_uproot_lists_them(executor):
    """branches=None: parents of sub-branches (split classes) give their
    sub-branches, by their own names, as uproot's tree.arrays() does."""
    got = droot.read(f"{FIXTURE}:objects", executor=executor)
    with uproot.open(FIXTURE) as f:
        tree = f["objects"]
        listed = [k for k in uproot_arrays_names(tree)]
        assert set(got.arrays) | set(got.skipped) == set(listed)
        assert {"pt", "eta", "hits", "label", "tracks.eta"} <= set(got.arrays)
        for name in ("pt", "eta", "hits", "tracks.eta"):
            same_as_uproot(got.arrays[name], tree, name)


def uproot_arrays_names(tree):
    """The names uproot's tree.arrays() gives for every branch (where it can
    read them all; else its keys without the grouped parents)."""
    names = []
    for key in tree.keys(recursive=True):
        branch = tree[key]
        if type(branch.interpretation).__name__ != "AsGrouped":
            names.append(branch.name)
    return names


BIG = FIXTURE.parent / "big-baskets-zstd.root"  # scripts/make_big_basket_fixture.py


@pytest.mark.parametrize("branch", ["vec_float", "vecvec_float", "vec_string"])
def test_baskets_over_16_mib_in_several_blocks(executor, branch):
    """One basket per branch decoding to 17-22 MiB, which ROOT compressed in
    two blocks (at most 16 MiB - 1 each): values, offsets at every level and
    strings equal uproot's (through awkward: fast for nested lists)."""
    ak = pytest.importorskip("awkward")
    with uproot.open(BIG) as f:
        b = f["big"][branch]
        basket = b.basket(0)
        assert basket.member("fObjlen") > 2**24 and len(basket.block_compression_info) >= 2
        ref = b.array(library="ak")
    got = droot.arrays(f"{BIG}:big", [branch], library="ak", executor=executor)[branch]
    assert got.type == ref.type
    assert ak.array_equal(got, ref)
