#!/usr/bin/env python3
"""ctest: decoflow-root-decode --tree on RNTuples. Every RNTuple of every file
given (the committed fixtures, or the shared test files), every field the
tool reads: each column it writes equals uproot's values; every field it
skips is one it refuses by name (stored with the ROOT streamer). With
--extra: several files read as one, entry ranges across them, --fields, and
bad input (a missing field, a page that does not decode, a TTree mixed in).

Usage: rntuple_decode_test.py DECOFLOW_ROOT_DECODE FOLDER [--extra]
Exit 77 (skipped, said on stdout) when FOLDER holds no .root file or
uproot/awkward are absent.
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

tool, folder = sys.argv[1], Path(sys.argv[2])
extra = "--extra" in sys.argv[3:]
files = sorted(folder.glob("*.root"))
if not files:
    print(f"skipped: no .root files in {folder}")
    sys.exit(77)

DTYPES = {"bool": "?", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
          "uint32": "u4", "int64": "i8", "uint64": "u8", "float16": "f2", "float32": "f4",
          "float64": "f8"}


def parse_type(text: str, at: int = 0):
    """The tool's type line ("var * {x: float32, s: string}") as a tree:
    ("values", dtype), ("var", item), ("fixed", n, item), ("string",),
    ("record", [(name, item), ...]), ("union", [item, ...]); returns (tree,
    next position)."""
    if text.startswith("var * ", at):
        item, at = parse_type(text, at + 6)
        return ("var", item), at
    if text[at].isdigit():
        star = text.index(" * ", at)
        item, end = parse_type(text, star + 3)
        return ("fixed", int(text[at:star]), item), end
    if text.startswith("union[", at):
        alternatives, at = [], at + 6
        while text[at] != "]":
            item, end = parse_type(text, at)
            alternatives.append(item)
            at = end + 2 if text.startswith(", ", end) else end
        return ("union", alternatives), at + 1
    if text.startswith("string", at):
        return ("string",), at + 6
    if text[at] == "{":
        members, at = [], at + 1
        while text[at] != "}":
            colon = text.index(": ", at)  # after the name (":_0" holds a colon, not ": ")
            item, end = parse_type(text, colon + 2)
            members.append((text[at:colon], item))
            at = end + 2 if text.startswith(", ", end) else end
        return ("record", members), at + 1
    end = at
    while end < len(text) and text[end].isalnum():
        end += 1
    return ("values", DTYPES[text[at:end]]), end


class Types:
    """The RNTuple's field types by path (uproot's field records): uproot
    names a member two base classes share after the outer base's type."""

    def __init__(self, ntuple) -> None:
        self.records = ntuple.field_records
        self.children = {}
        for i, r in enumerate(self.records):
            if r.parent_field_id != i:
                self.children.setdefault(r.parent_field_id, []).append(i)
        self.top = {r.field_name: i for i, r in enumerate(self.records) if r.parent_field_id == i}

    def type_of(self, path: list[str]) -> str:
        at = self.top[path[0]]
        for name in path[1:]:
            kids = self.children.get(at, [])
            while not any(self.records[k].field_name == name for k in kids) and len(kids) == 1:
                at, kids = kids[0], self.children.get(kids[0], [])  # a collection's item
            at = next(k for k in kids if self.records[k].field_name == name)
        return self.records[at].type_name


def compare(tree, stem: str, level: int, want, out: Path, path: list[str], types: Types,
            prefix: str | None = None) -> int:
    """Checks the files for `stem` against uproot's `want`; returns the files checked."""
    kind = tree[0]
    offsets_file = out / f"{stem}.offsets{level or ''}.bin"
    if kind == "values":
        got = np.fromfile(out / f"{stem}.bin", dtype=tree[1])
        ref = np.asarray(ak.to_numpy(want)).astype(tree[1], copy=False)
        assert got.tobytes() == ref.tobytes(), (stem, got[:8], ref[:8])
        return 1
    if kind == "string":
        offsets = np.fromfile(offsets_file, dtype=np.int64)
        chars = np.fromfile(out / f"{stem}.bin", dtype=np.uint8).tobytes()
        assert offsets[0] == 0 and len(offsets) == len(want) + 1, stem
        got = [chars[offsets[i]:offsets[i + 1]].decode("utf-8", "surrogateescape")
               for i in range(len(want))]
        assert got == want.tolist(), stem
        return 2
    if kind == "union":  # (index << 8 | tag) per value; alternative k's items at STEM._k
        packed = np.fromfile(out / f"{stem}.bin", dtype=np.int64)
        layout = want.layout
        if not isinstance(layout, ak.contents.UnionArray):
            layout = ak.to_packed(want).layout
        tags, index = np.asarray(layout.tags), np.asarray(layout.index)
        assert np.array_equal(packed & 0xFF, tags), stem
        checked = 1
        for k, alternative in enumerate(tree[1]):
            mask = tags == k + 1
            assert np.array_equal(packed[mask] >> 8, np.arange(mask.sum())), (stem, k)
            content = layout.contents[k + 1]
            if isinstance(content, ak.contents.UnmaskedArray):
                content = content.content
            items = ak.Array(content)[index[mask]]
            checked += compare(alternative, f"{stem}._{k}", 0, items, out, path + [f"_{k}"], types,
                               prefix)
        return checked
    if kind == "var":
        offsets = np.fromfile(offsets_file, dtype=np.int64)
        if isinstance(want.type.content, ak.types.OptionType):  # std::optional: 0 or 1 item
            present = ~ak.to_numpy(ak.is_none(want, axis=0))
            counts, items = present.astype(np.int64), want[present]
        else:
            counts, items = ak.to_numpy(ak.num(want, axis=1)), ak.flatten(want, axis=1)
        assert offsets[0] == 0 and np.array_equal(np.diff(offsets), counts), stem
        return 1 + compare(tree[1], stem, level + 1, items, out, path + ["_0"], types, prefix)
    if kind == "fixed":
        assert ak.all(ak.num(want, axis=1) == tree[1]), stem
        return compare(tree[2], stem, level, ak.flatten(want, axis=1), out, path + ["_0"], types, prefix)
    fields = want.fields
    tuple_like = bool(fields) and all(f.isdigit() for f in fields)
    checked = 0
    for name, item in tree[1]:
        if name.startswith(":"):  # a base class: its members are uproot's record's too
            base = prefix or types.type_of(path + [name])
            checked += compare(item, f"{stem}.{name}", 0, want, out, path + [name], types, base)
            continue
        key = name.lstrip("_") if tuple_like else name
        if key not in fields:
            key = f"{prefix}::{name}"
        checked += compare(item, f"{stem}.{name}", 0, want[key], out, path + [name], types)
    return checked


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([tool, "--threads", "2"] + args, capture_output=True, text=True)


def summary(stdout: str) -> dict[str, tuple[str, int]]:
    out = {}
    for line in stdout.splitlines():
        name, type_text, entries = line.split("\t")[:3]
        out[name] = (type_text, int(entries.split()[0]))
    return out


fields_checked = files_checked = skipped = 0
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for path in files:
        with uproot.open(path) as f:
            names = [k.split(";")[0] for k, c in f.classnames().items() if c == "ROOT::RNTuple"]
            for name in names:
                out = tmp / f"{path.stem}-{name}"
                out.mkdir()
                r = run(["--output-dir", str(out), "--tree", name, str(path)])
                assert r.returncode == 0, (path, name, r.stderr)
                for line in r.stderr.splitlines():
                    if "skipped" in line:  # refused by name, for a reason the tool may give
                        assert "streamer" in line, line
                        skipped += 1
                ntuple = f[name]
                types = Types(ntuple)
                starts = [int(c.num_first_entry) for c in ntuple.cluster_summaries]
                for field, (type_text, entries) in summary(r.stdout).items():
                    want = ntuple[field].array(library="ak")
                    assert entries == len(want), (path, field)
                    tree, end = parse_type(type_text)
                    assert end == len(type_text), type_text
                    if "union[" in type_text and len(starts) > 1:
                        # uproot 5.7 reads a variant right in its first
                        # cluster only (test_root_rntuple.py's
                        # test_variants_across_clusters): compare cluster by
                        # cluster, each read as an entry range.
                        for lo, hi in zip(starts, starts[1:] + [ntuple.num_entries]):
                            part = out / f"{field}-{lo}"
                            part.mkdir()
                            r = run(["--output-dir", str(part), "--tree", name, "--fields", field,
                                     "--entry-start", str(lo), "--entry-stop", str(hi), str(path)])
                            assert r.returncode == 0, r.stderr
                            want = ntuple.arrays([field], entry_start=lo, entry_stop=hi)[field]
                            files_checked += compare(tree, field, 0, want, part, [field], types)
                    else:
                        files_checked += compare(tree, field, 0, want, out, [field], types)
                    fields_checked += 1
    print(f"{fields_checked} fields, {files_checked} column files equal to uproot's "
          f"in {len(files)} files; {skipped} fields refused by name")

    if extra:
        # Two files read as one, entry ranges across the boundary, --fields.
        a, b = folder / "rntuple-zstd.root", folder / "rntuple-lz4.root"
        picked = ["i32", "vf", "vvi", "str", "arr", "half"]
        refs = {}
        for p in (a, b):
            with uproot.open(p) as f:
                for field in picked:
                    refs.setdefault(field, []).append(f["ntuple"][field].array(library="ak"))
        refs = {k: ak.concatenate(v) for k, v in refs.items()}
        for lo, hi in [(1400, 1700), (-10, None), (None, 3), (2000, 2000), (0, None)]:
            out = tmp / f"range-{lo}-{hi}"
            out.mkdir()
            args = ["--output-dir", str(out), "--tree", "ntuple", "--fields", ",".join(picked)]
            args += ["--entry-start", str(lo)] if lo is not None else []
            args += ["--entry-stop", str(hi)] if hi is not None else []
            r = run(args + [str(a), str(b)])
            assert r.returncode == 0, r.stderr
            got = summary(r.stdout)
            assert list(got) == picked, got
            with uproot.open(a) as f:
                types = Types(f["ntuple"])
            for field in picked:
                want = refs[field][lo:hi]
                tree, _ = parse_type(got[field][0])
                assert got[field][1] == len(want)
                compare(tree, field, 0, want, out, [field], types)
        # A field that is not there: exit 2 naming it and the fields there are.
        r = run(["--tree", "ntuple", "--fields", "i32,nope", str(a)])
        assert r.returncode == 2 and "no field 'nope'" in r.stderr and "i32" in r.stderr, r.stderr
        # An RNTuple and a file without it: exit 2, naming the file.
        r = run(["--tree", "ntuple", str(a), str(folder.parent / "root" / "coverage-zstd.root")])
        assert r.returncode == 2 and "coverage-zstd.root" in r.stderr, r.stderr
        # A page whose compression block is broken: exit 1 naming the field,
        # its column, cluster and page; the other fields still printed.
        with uproot.open(a) as f:
            nt = f["ntuple"]
            column = next(i for i, c in enumerate(nt.column_records) if c.field_id ==
                          next(j for j, r in enumerate(nt.field_records) if r.field_name == "f64"))
            page = nt.page_link_list[0][column].pages[1].locator
        data = bytearray(a.read_bytes())
        data[page.offset:page.offset + 2] = b"QQ"  # not a compression algorithm
        bad = tmp / "bad.root"
        bad.write_bytes(bytes(data))
        r = run(["--tree", "ntuple", "--fields", "i32,f64,vf", str(bad)])
        assert r.returncode == 1, r.stderr
        assert "field 'f64' column 'f64' cluster 0 page 1" in r.stderr, r.stderr
        assert "i32\tint32\t1500 entries" in r.stdout and "vf\tvar * float32" in r.stdout, r.stdout
        assert "f64\t" not in r.stdout
        # --help says what --tree does with an RNTuple.
        r = run(["--help"])
        assert "RNTuple" in r.stdout and "--fields" in r.stdout, r.stdout
        print("two files as one, entry ranges, --fields, bad input: as expected")
