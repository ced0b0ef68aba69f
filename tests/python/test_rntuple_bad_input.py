"""Bad RNTuple input: each damage a located error (field, cluster, page,
elements, byte range) that fails only the field it touches — the other
fields come back whole in ``e.arrays`` — or, in the metadata every field
shares, an error naming the envelope.

The file damaged is ROOT's uncompressed test RNTuple (two std::string
fields, pages stored raw with xxHash3 checksums, envelopes stored raw), so
the damage is made where ROOT would have written it: a page's decoded bytes
changed and its checksum recomputed (the layout checks must catch it), a
page list entry changed and the envelope's checksum recomputed."""

from __future__ import annotations

import pathlib
import struct

import pytest

import decoflow.root as dr
from decoflow import ChecksumError, CorruptInputError, Error

uproot = pytest.importorskip("uproot")
xxhash = pytest.importorskip("xxhash")

SHARED = pathlib.Path(__file__).resolve().parents[3] / "shared" / "testdata" / "root" / "rntuple"
SOURCE = SHARED / "rntviewer-testfile-uncomp-single-rntuple-v1-0-0-0.root"
pytestmark = pytest.mark.skipif(not SOURCE.is_file(), reason=f"{SOURCE} is absent")


class Layout:
    """Where ROOT put things in the file (uproot's metadata)."""

    def __init__(self) -> None:
        nt = uproot.open(SOURCE)["Contributors"]
        self.anchor = nt.members
        self.pages = [[(p.num_elements, p.locator.offset, p.locator.num_bytes) for p in c.pages]
                      for c in nt.page_link_list[0]]  # per column: its pages in cluster 0
        link = nt.footer.cluster_group_records[0].page_list_link.locator
        self.page_list = (link.offset, link.num_bytes)
        self.want = {name: nt[name].array(library="np").tolist() for name in ("firstName", "lastName")}


@pytest.fixture(scope="module")
def layout() -> Layout:
    return Layout()


def damaged(tmp_path: pathlib.Path, change) -> str:
    data = bytearray(SOURCE.read_bytes())
    change(data)
    path = tmp_path / "damaged.root"
    path.write_bytes(bytes(data))
    return str(path)


def rehash(data: bytearray, start: int, size: int) -> None:
    """Recomputes the xxHash3 that ends the `size` bytes at `start` (an envelope)."""
    data[start + size - 8:start + size] = struct.pack("<Q", xxhash.xxh3_64_intdigest(
        bytes(data[start:start + size - 8])))


def rehash_page(data: bytearray, offset: int, size: int) -> None:
    """Recomputes the xxHash3 stored after a page."""
    data[offset + size:offset + size + 8] = struct.pack("<Q", xxhash.xxh3_64_intdigest(
        bytes(data[offset:offset + size])))


def read_failing(path: str, layout: Layout, error_type=Error) -> Error:
    with pytest.raises(error_type) as info:
        dr.arrays(f"{path}:Contributors", library="np")
    e = info.value
    assert e.branch == "firstName"
    assert "field 'firstName' column" in str(e) and "cluster 0 page 0" in str(e)
    assert list(e.arrays) == ["lastName"]  # the other field, whole
    assert e.arrays["lastName"].tolist() == layout.want["lastName"]
    return e


def test_the_undamaged_file_reads(layout):
    got = dr.arrays(f"{SOURCE}:Contributors")
    assert {k: v.tolist() for k, v in got.items()} == layout.want


def test_a_page_checksum_that_does_not_match(tmp_path, layout):
    _, offset, size = layout.pages[1][0]  # firstName's characters
    path = damaged(tmp_path, lambda d: d.__setitem__(offset + 3, d[offset + 3] ^ 0x20))
    e = read_failing(path, layout, ChecksumError)
    assert f"file bytes [{offset}, +{size + 8})" in str(e) and "xxHash3" in str(e)


def _set_end(layout: Layout, index: int, value: int):
    n, offset, size = layout.pages[0][0]  # firstName's offsets: Index64, cluster-relative ends

    def change(d: bytearray) -> None:
        d[offset + 8 * index:offset + 8 * index + 8] = struct.pack("<q", value)
        rehash_page(d, offset, size)
    return change


def test_offsets_that_go_backwards(tmp_path, layout):
    path = damaged(tmp_path, _set_end(layout, 5, 1))
    e = read_failing(path, layout, CorruptInputError)
    assert "go backwards" in str(e) and "index element 5" in str(e)


def test_an_end_beyond_the_clusters_characters(tmp_path, layout):
    n, _, _ = layout.pages[0][0]
    path = damaged(tmp_path, _set_end(layout, n - 1, 10_000))
    e = read_failing(path, layout, CorruptInputError)
    assert "beyond the cluster's" in str(e)


def _page_list_entry(layout: Layout, change_entry):
    """Changes firstName's offsets page entry in the page list (its element
    count and locator: int32, int32, uint64), then the envelope's checksum."""
    n, offset, size = layout.pages[0][0]
    entry = struct.pack("<iiQ", -n, size, offset)  # a negative count: a checksum follows

    def change(d: bytearray) -> None:
        start, length = layout.page_list
        at = bytes(d[start:start + length]).find(entry)
        assert at > 0, "the page list entry is where ROOT wrote it"
        d[start + at:start + at + 16] = change_entry(n, size, offset, len(d))
        rehash(d, start, length)
    return change


def test_a_page_locator_outside_the_file(tmp_path, layout):
    path = damaged(tmp_path, _page_list_entry(
        layout, lambda n, size, offset, end: struct.pack("<iiQ", -n, size, end + 1000)))
    e = read_failing(path, layout, CorruptInputError)
    assert "outside the file" in str(e)


def test_a_truncated_page(tmp_path, layout):
    path = damaged(tmp_path, _page_list_entry(
        layout, lambda n, size, offset, end: struct.pack("<iiQ", -n, size - 50, offset)))
    read_failing(path, layout)  # fewer bytes than its elements: not a page ROOT can write


def test_an_element_count_that_disagrees_with_the_page(tmp_path, layout):
    path = damaged(tmp_path, _page_list_entry(
        layout, lambda n, size, offset, end: struct.pack("<iiQ", -(n + 3), size, offset)))
    read_failing(path, layout)


def test_an_envelope_that_lies_about_its_length(tmp_path, layout):
    start, length = int(layout.anchor["fSeekHeader"]), int(layout.anchor["fNBytesHeader"])

    def change(d: bytearray) -> None:
        preamble = struct.unpack_from("<Q", d, start)[0]
        struct.pack_into("<Q", d, start, preamble + (8 << 16))  # 8 bytes longer than it is
        rehash(d, start, length)
    path = damaged(tmp_path, change)
    with pytest.raises(CorruptInputError, match=r"header envelope \(file bytes \[.*it says it is"):
        dr.arrays(f"{path}:Contributors")


def test_an_envelope_checksum_that_does_not_match(tmp_path, layout):
    start, length = layout.page_list
    path = damaged(tmp_path, lambda d: d.__setitem__(start + 20, d[start + 20] ^ 1))
    with pytest.raises(ChecksumError, match="page list envelope.*xxHash3"):
        dr.arrays(f"{path}:Contributors")


FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "rntuple" / "rntuple-zstd.root"


@pytest.mark.skipif(not FIXTURE.is_file(), reason=f"{FIXTURE} is absent")
@pytest.mark.parametrize("source", [FIXTURE, SOURCE], ids=["zstd-fixture", "uncompressed"])
def test_random_byte_changes_fail_clearly_or_change_nothing_read(tmp_path, source):
    """One random bit changed between the header and the footer's end
    (envelopes, page lists, pages), 150 times: a decoflow.Error, or every field read — never a crash
    nor another exception. A field read from a page whose checksum was
    verified equals uproot's reading of the undamaged file."""
    import random

    import awkward as ak

    rng = random.Random(12)
    original = source.read_bytes()
    with uproot.open(source) as f:
        name = next(k.split(";")[0] for k, c in f.classnames().items() if c == "ROOT::RNTuple")
        anchor = f[name].members
        start = int(anchor["fSeekHeader"])
        end = int(anchor["fSeekFooter"]) + int(anchor["fNBytesFooter"])
        want = f[name].arrays()
    errors = 0
    for trial in range(150):
        data = bytearray(original)
        # From the header to the footer's end: the pages and envelopes (the
        # file's keys and directory are uproot's to read, until issue 15).
        at = rng.randrange(start, end)
        data[at] ^= 1 << rng.randrange(8)
        path = tmp_path / f"damaged-{trial}.root"
        path.write_bytes(bytes(data))
        try:
            got = dr.arrays(f"{path}:{name}", library="ak")
        except Error:
            errors += 1
            continue
        finally:
            path.unlink()
        # Every page here carries a checksum (ROOT's default): what was read is right.
        for field in got.fields:
            assert ak.array_equal(got[field], want[field], equal_nan=True), (trial, at, field)
    assert errors > 0


@pytest.mark.skipif(not FIXTURE.is_file(), reason=f"{FIXTURE} is absent")
def test_an_anchor_claiming_a_huge_envelope_allocates_nothing():
    """fuzz_rntuple's first finding: a compressed envelope's length is checked
    against its blocks' headers before memory is taken for it."""
    from decoflow import _core

    with uproot.open(FIXTURE) as f:
        m = f["ntuple"].members
    anchor = [int(m[k]) for k in ("fSeekHeader", "fNBytesHeader", "fLenHeader", "fSeekFooter",
                                  "fNBytesFooter", "fLenFooter", "fMaxKeySize")]
    anchor[2] = 1 << 44  # 16 TiB
    with pytest.raises(CorruptInputError, match=r"header envelope .*compression blocks hold \d+ bytes"):
        _core._RNTuple(str(FIXTURE), tuple(anchor), "ntuple")


@pytest.mark.parametrize("path", sorted(SHARED.glob("*.root")) if SHARED.is_dir() else [],
                         ids=lambda p: p.name)
def test_the_native_anchor_is_uproots(path):
    """The anchor decoflow reads from the RNTuple's key (its checksum
    verified) is the one uproot reads."""
    from decoflow import _core

    with uproot.open(path) as f:
        for key, cls in f.classnames().items():
            if cls != "ROOT::RNTuple":
                continue
            m = f[key].members
            want = tuple(int(m[k]) for k in ("fSeekHeader", "fNBytesHeader", "fLenHeader",
                                             "fSeekFooter", "fNBytesFooter", "fLenFooter",
                                             "fMaxKeySize"))
            assert _core._RNTuple.open(str(path), key).anchor() == want


def test_an_anchor_with_a_wrong_checksum(tmp_path, layout):
    from decoflow import _core

    data = bytearray(SOURCE.read_bytes())
    anchor = struct.pack(">QQQ", int(layout.anchor["fSeekHeader"]), int(layout.anchor["fNBytesHeader"]),
                         int(layout.anchor["fLenHeader"]))
    at = bytes(data).find(anchor)
    assert at > 0
    data[at + 7] ^= 1  # the header's seek, one bit
    path = tmp_path / "anchor.root"
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="anchor's xxHash3"):
        _core._RNTuple.open(str(path), "Contributors")
    with pytest.raises(Error, match="not an RNTuple|no key"):
        _core._RNTuple.open(str(SOURCE), "nope")


def test_a_streamer_field_is_refused_by_name_not_called_corrupt(tmp_path, layout):
    """A sound file whose field decoflow does not decode: firstName marked as
    stored with the ROOT streamer (structural role 4), the header's xxHash3
    and its copies (footer, page list) made to agree again. Named, it is
    refused by name (the refusal planned natively, as the C++ field reader
    plans it); read with the rest, it is skipped and lastName is read."""
    a = layout.anchor
    header, length = a["fSeekHeader"], a["fLenHeader"]
    assert a["fNBytesHeader"] == length  # stored raw

    def change(d: bytearray) -> None:
        record = struct.pack("<I", len("firstName")) + b"firstName"
        at = bytes(d[header:header + length]).find(record)
        assert at > 0
        d[header + at - 4:header + at - 2] = struct.pack("<H", 4)  # role, then flags, then the name
        old = bytes(d[header + length - 8:header + length])
        rehash(d, header, length)
        new = bytes(d[header + length - 8:header + length])
        for start, size, checksum_at in [(a["fSeekFooter"], a["fLenFooter"], 16),
                                         (*layout.page_list, 8)]:
            assert d[start + checksum_at:start + checksum_at + 8] == old
            d[start + checksum_at:start + checksum_at + 8] = new
            rehash(d, start, size)
    path = damaged(tmp_path, change)
    with pytest.raises(dr.UnsupportedBranchError) as info:
        dr.arrays(f"{path}:Contributors", ["firstName"])
    assert info.value.branch == "firstName"
    assert "field 'firstName' (std::string): fields stored with the ROOT streamer" in str(info.value)
    everything = dr.read(f"{path}:Contributors")
    assert list(everything.skipped) == ["firstName"]
    assert everything.arrays["lastName"].tolist() == layout.want["lastName"]
