"""decoflow.root's RNTuple read, natively: the RNTuple a path names found by
decoflow's key reader (_native.open_trees; an uproot RNTuple object passed in
is taken too), then the anchor, the header, footer and page
list envelopes (decoflow._core._RNTuple.open), then one chunk per page in
the same plan as TTree baskets (decoflow._core._rntuple_tree). Which
columns a field needs is planned natively (_RNTuple.plan_fields: the C++
field reader's rntuple_fields.hpp); this module builds the decoded arrays
into awkward layouts as uproot's RNTuple reader builds them."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .. import Executor, Graph, _core
from .._errors import Error, UnsupportedBranchError

RNTUPLE_CLASS = "ROOT::RNTuple"


class RNTupleKey(NamedTuple):
    """An RNTuple a path names, found by decoflow's own key reader: where its
    anchor is (what the read needs of uproot's RNTuple object, without
    uproot)."""

    path: str
    object_path: str  # its key in the file: "name", "dir/name;cycle"
    classname = RNTUPLE_CLASS

    def close(self) -> None:  # as NativeTree's: no file is kept open
        pass


def is_rntuple(obj: Any) -> bool:
    return getattr(obj, "classname", None) == RNTUPLE_CLASS


def key_name(obj: Any) -> str:
    """The RNTuple's name, from its key (uproot's ``name`` would read and
    check the header in Python first)."""
    path = str(getattr(obj, "object_path", "") or "rntuple")
    return path.strip("/").split(";")[0].rsplit("/", 1)[-1] or "rntuple"


def native(path: str, obj: Any, name: str) -> Any:
    """The RNTuple's metadata read natively: its anchor from its key
    (decoflow's ROOT file reader), then the envelopes it leads to."""
    key = str(getattr(obj, "object_path", "") or name).lstrip("/")
    return _core._RNTuple.open(path, key)


class Field(NamedTuple):
    id: int
    name: str
    type: str
    role: int
    flags: int
    array_size: int
    representations: int
    columns: list[int]
    children: list[int]


# Builds a field's awkward layout from the read's column arrays, for
# `length` entries of the field.
Build = Callable[[dict[tuple[int, int], np.ndarray], int], Any]


class Schema:
    """An RNTuple's fields as a tree, and how each becomes an awkward layout."""

    def __init__(self, ntuple: Any) -> None:
        raw = ntuple.fields()
        self.fields: list[Field] = []
        children: dict[int, list[int]] = {i: [] for i in range(len(raw))}
        self.top: list[int] = []
        for i, (_, _, _, parent, _, _, _, _, _, _) in enumerate(raw):
            if parent == i:
                self.top.append(i)
            else:
                children[parent].append(i)
        for i, (name, type_name, _, _, role, flags, size, _, reps, columns) in enumerate(raw):
            self.fields.append(Field(i, name, type_name, role, flags, size, reps, list(columns),
                                     children[i]))
        self.ntuple = ntuple
        self.by_name = {self.fields[i].name: i for i in self.top}

    def signature(self) -> list[tuple]:
        return [(f.name, f.type, f.role, f.flags, f.array_size, f.children) for f in self.fields]

    def plan(self, names: list[str]) -> list[tuple[Build, set, set] | UnsupportedBranchError]:
        """How each named field is built, the (field, slot) columns it needs
        and which of them are offsets — which columns is planned natively
        (rntuple_fields.hpp), every field in one crossing — or, refused, the
        UnsupportedBranchError naming it."""
        out: list = []
        for name, (node, columns) in zip(names, self.ntuple.plan_fields(names)):
            if node is None:  # columns: why it is refused ("field 'x' (T): what")
                e = UnsupportedBranchError(
                    f"{columns}; decoflow.root reads RNTuple fields of numbers, std::vector/RVec "
                    "and other collections, std::optional, std::unique_ptr, std::variant, "
                    "std::array, std::bitset, records (structs, std::pair, std::tuple, classes "
                    "with bases), std::atomic, enums and std::string",
                    cause=columns.split("): ", 1)[-1])
                e.branch = name
                out.append(e)
                continue
            need: set[tuple[int, int]] = set()
            keys = [(field, slot) for _, field, slot, _, _ in columns]
            index = {(field, slot) for _, field, slot, offsets, _ in columns if offsets}
            out.append((_build(node, keys, need), need, index))
        return out


def _build(node: tuple, keys: list[tuple[int, int]], need: set[tuple[int, int]]) -> Build:
    """How a planned field's node (kind, name, type, size, column, content,
    children) becomes the awkward layout uproot's RNTuple reader builds;
    `keys`: its columns' (field, slot), added to `need` as used."""
    import awkward as ak

    kind, _, type_name, size, column, content, children = node

    def key(i: int) -> tuple[int, int]:
        need.add(keys[i])
        return keys[i]

    def values(i: int) -> Build:
        k = key(i)
        return lambda arrays, length: ak.contents.NumpyArray(arrays[k])

    if kind == "values":
        return values(column)
    if kind == "fixed":  # std::array<T, N>, or std::bitset<N>: a Bit column, N per entry
        n = int(size)
        inner = _build(children[0], keys, need) if children else values(column)
        return lambda arrays, length: ak.contents.RegularArray(
            inner(arrays, length * n if length >= 0 else -1), n, zeros_length=max(length, 0))
    if kind == "collection":
        k = key(column)
        item = _build(children[0], keys, need)
        if type_name.startswith("std::optional<"):
            # Zero or one item per entry: an option type, as uproot gives it
            # (std::unique_ptr stays a list, as uproot gives that).
            def optional(arrays: dict, length: int) -> Any:
                offsets = arrays[k]
                index = np.where(np.diff(offsets) == 1, offsets[:-1], -1)
                return ak.contents.IndexedOptionArray(ak.index.Index64(index),
                                                      item(arrays, int(offsets[-1])))
            return optional

        def collection(arrays: dict, length: int) -> Any:
            offsets = arrays[k]
            return ak.contents.ListOffsetArray(ak.index.Index64(offsets),
                                               item(arrays, int(offsets[-1])))
        return collection
    if kind == "string":
        k, c = key(column), key(content)

        def string(arrays: dict, length: int) -> Any:
            chars = ak.contents.NumpyArray(arrays[c].view(np.uint8),
                                           parameters={"__array__": "char"})
            return ak.contents.ListOffsetArray(ak.index.Index64(arrays[k]), chars,
                                               parameters={"__array__": "string"})
        return string
    if kind == "cardinality":
        # Each entry's collection size, from the collection's offsets (as
        # uproot gives it: int64).
        k = key(column)
        return lambda arrays, length: ak.contents.NumpyArray(np.diff(arrays[k]))
    if kind == "variant":
        return _variant(key(column), [_build(c, keys, need) for c in children])
    # A record.
    if type_name.startswith(("std::pair<", "std::tuple<")) or not children:
        items = [_build(c, keys, need) for c in children]
        return lambda arrays, length: ak.contents.RecordArray(
            [b(arrays, length) for b in items], None, length=_record_length(length, items))
    members = _members(node, keys, need)
    names = [name for name, _ in members]
    builds = [build for _, build in members]
    return lambda arrays, length: ak.contents.RecordArray(
        [b(arrays, length) for b in builds], names, length=_record_length(length, builds))


def _variant(k: tuple[int, int], alternatives: list[Build]) -> Build:
    """std::variant: its switch column (each entry's alternative index << 8
    | tag, decoded natively) as uproot's union — a first content for "no
    alternative" (tag 0), then each alternative, unmasked."""
    import awkward as ak

    def variant(arrays: dict, length: int) -> Any:
        packed = arrays[k]
        tags = (packed & 0xFF).astype(np.int8)
        index = packed >> 8
        contents = [ak.contents.IndexedOptionArray(ak.index.Index64(np.array([-1], np.int64)),
                                                   ak.contents.EmptyArray())]
        # An alternative's own length: from its contents (-1: not known here).
        contents += [ak.contents.UnmaskedArray(b(arrays, -1)) for b in alternatives]
        return ak.contents.UnionArray(ak.index.Index8(tags), ak.index.Index64(index), contents)
    return variant


def _members(node: tuple, keys: list, need: set) -> list[tuple[str, Build]]:
    """A class's members as uproot flattens them: its own, then each base
    class's (the last base first), a name that two bases share prefixed
    with that base's type (``Child::x``)."""
    children = node[6]
    own = [(c[1], _build(c, keys, need)) for c in children if not c[1].startswith(":")]
    bases = [c for c in children if c[1].startswith(":")]
    inherited = [(b[2], _members(b, keys, need)) for b in reversed(bases)]
    counts: dict[str, int] = {}
    for name, _ in own:
        counts[name] = counts.get(name, 0) + 1
    for _, members in inherited:
        for name, _ in members:
            counts[name] = counts.get(name, 0) + 1
    out = list(own)
    for base_type, members in inherited:
        out += [(f"{base_type}::{name}" if counts[name] > 1 else name, build)
                for name, build in members]
    return out


def _record_length(length: int, builds: list) -> int | None:
    """A record's length: the entries asked for, or (-1: a variant's
    alternative, whose length its contents give) None — awkward takes the
    contents' — which a record without members cannot give."""
    if length >= 0:
        return length
    if not builds:
        raise UnsupportedBranchError("an empty record as a variant alternative is not decoded",
                                     cause="an empty record as a variant alternative")
    return None


class FieldPlan(NamedTuple):
    name: str
    build: Build
    columns: set[tuple[int, int]]
    index: set[tuple[int, int]]  # those that are offsets (index columns)


class RNTupleSource(NamedTuple):
    path: str
    native: Any  # _core._RNTuple
    clusters: list[tuple[int, int]]  # (first_entry, entries)
    entries: int


def sources(trees: list[tuple[str, Any]]) -> list[RNTupleSource]:
    out = []
    for path, obj in trees:
        nt = native(path, obj, key_name(obj))
        clusters = [tuple(c) for c in nt.clusters()]
        out.append(RNTupleSource(path, nt, clusters, int(nt.entries)))
    return out


def select_fields(schema: Schema, names: list[str] | None, keep: Callable[[str], bool]
                  ) -> tuple[list[FieldPlan], list[Error], dict[str, str]]:
    """The fields to read: those named (refused: an error) or every top-level
    field the filter keeps (refused: skipped, with the reason)."""
    explicit = names is not None
    chosen = names if explicit else [schema.fields[i].name for i in schema.top]
    chosen = [name for name in chosen if keep(name)]
    for name in chosen:
        if name not in schema.by_name:
            raise KeyError(f"no field named {name!r} in the RNTuple (its fields: "
                           f"{', '.join(schema.fields[i].name for i in schema.top)})")
    plans, errors, skipped = [], [], {}
    for name, planned in zip(chosen, schema.plan(chosen)):
        if isinstance(planned, UnsupportedBranchError):
            if explicit:
                errors.append(planned)
            else:
                skipped[name] = planned.cause
            continue
        plans.append(FieldPlan(name, *planned))
    return plans, errors, skipped


def _clusters_for(src: RNTupleSource, lo: int, hi: int) -> tuple[int, int, int]:
    """The clusters holding entries [lo, hi) of one file (entries of that
    file): (first, end, first entry of the first)."""
    first = end = 0
    for k, (start, n) in enumerate(src.clusters):
        if start + n <= lo:
            first = k + 1
        if start < hi:
            end = k + 1
    end = max(end, first)
    start = src.clusters[first][0] if first < len(src.clusters) else lo
    return first, end, start


class RNTupleReader:
    """Some fields of an RNTuple (in one or more files read as one)."""

    def __init__(self, srcs: list[RNTupleSource], schema: Schema, plans: list[FieldPlan],
                 name: str) -> None:
        self.srcs = srcs
        self.schema = schema
        self.plans = plans
        # Index columns (a collection's or a string's offsets) come with a
        # leading 0: their offsets whole.
        self.index_columns = {c for p in plans for c in p.index}
        self.columns = sorted({c for p in plans for c in p.columns})
        self.name = name
        self.total = sum(s.entries for s in srcs)
        # The last clusters decoded: (first entry, end entry, whole layouts,
        # errors). iterate()'s next steps inside them are slices, not reads.
        self._decoded: tuple[int, int, dict[str, Any], list[Error]] | None = None

    def read(self, window: tuple[int, int] | None, executor: Executor | None
             ) -> tuple[dict[str, Any], list[Error]]:
        """{field: awkward layout} for entries [lo, hi) (None: all), and the
        failures (each failing the fields that need its column). Decodes the
        clusters holding the window, unless the last read's clusters hold it
        (then: views of those; a cluster a window shares with the read before
        is decoded again)."""
        import awkward as ak

        lo, hi = window if window is not None else (0, self.total)
        if self._decoded is None or not (self._decoded[0] <= lo and hi <= self._decoded[1]):
            self._decoded = self._decode(lo, hi, executor)
        start, _, whole, errors = self._decoded
        out = {name: ak.Array(layout)[lo - start:hi - start].layout
               for name, layout in whole.items()}
        return out, list(errors)

    def _decode(self, lo: int, hi: int, executor: Executor | None
                ) -> tuple[int, int, dict[str, Any], list[Error]]:
        """Decodes the clusters holding entries [lo, hi): (their first entry,
        their end, the fields' layouts over them, the failures)."""
        from ._read import default_executor

        ranges, base, first_entry, length = [], 0, None, 0
        for src in self.srcs:
            a, b = max(lo - base, 0), min(hi - base, src.entries)
            if a < b:
                first, end, start = _clusters_for(src, a, b)
                if first_entry is None:
                    first_entry = base + start
                length += sum(n for _, n in src.clusters[first:end])
            else:
                first = end = 0
            ranges.append((first, end))
            base += src.entries
        first_entry = lo if first_entry is None else first_entry
        cols = [(f"field '{self.schema_name(fid)}' column {slot}", fid, slot)
                for fid, slot in self.columns]
        tree = _core._rntuple_tree([s.native for s in self.srcs], cols, ranges, self.name)
        graph = Graph(self.name)
        plan = tree.plan(graph, None, [], None)
        if len(graph) > 0:
            (executor if executor is not None else default_executor()).submit(graph).result()
        arrays: dict[tuple[int, int], np.ndarray] = {}
        failed: dict[tuple[int, int], Error] = {}
        for (fid, slot), row in zip(self.columns, plan.collect()):
            content, begin, items, _, _, _, _, _, _, failure = row[:10]
            if failure is not None:
                error, file, page = failure
                error.branch, error.basket, error.file = self.schema_name(fid), page, self.srcs[file].path
                failed[(fid, slot)] = error
                continue
            values = np.asarray(content)
            arrays[(fid, slot)] = (values if (fid, slot) in self.index_columns
                                   else values[begin:begin + items])
        out: dict[str, Any] = {}
        errors: list[Error] = []
        for p in self.plans:
            bad = next((failed[c] for c in sorted(p.columns) if c in failed), None)
            if bad is not None:
                if bad not in errors:
                    bad.branch = p.name
                    errors.append(bad)
                continue
            out[p.name] = p.build(arrays, length)
        return first_entry, first_entry + length, out, errors

    def bytes_per_entry(self) -> float:
        """Decoded bytes per entry of the fields' columns (iterate's step sizes)."""
        total = sum(s.native.column_bytes(fid, slot) for s in self.srcs for fid, slot in self.columns)
        return total / max(self.total, 1)

    def schema_name(self, fid: int) -> str:
        return self.schema.fields[fid].name


def make_reader(trees: list[tuple[str, Any]], names: Any, keep: Callable[[str], bool]
                ) -> tuple[RNTupleReader, list[Error], dict[str, str]]:
    srcs = sources(trees)
    schema = Schema(srcs[0].native)
    for s in srcs[1:]:
        if Schema(s.native).signature() != schema.signature():
            raise UnsupportedBranchError(
                f"{s.path}: its RNTuple's fields differ from {srcs[0].path}'s: files read as one "
                "must hold the same fields", cause="the files' fields differ")
    listed = None if names is None else ([names] if isinstance(names, str) else list(names))
    plans, errors, skipped = select_fields(schema, listed, keep)
    name = f"root:{os.path.basename(srcs[0].path)}:{key_name(trees[0][1])}"
    if len(srcs) > 1:
        name += f" +{len(srcs) - 1} files"
    return RNTupleReader(srcs, schema, plans, name), errors, skipped


def as_library(layouts: dict[str, Any], library: str, entry_start: int) -> Any:
    """The fields' layouts as `library` gives them: "ak" one record array
    (uproot's ``arrays()``); "np" ``{name: array}`` (numpy.ndarray for
    numbers, Jagged for lists of numbers, Strings for strings, awkward
    arrays for the rest); "pd" as decoflow.root's TTree reads."""
    import awkward as ak

    from ._results import Jagged, Strings, in_library

    if library == "ak":
        contents = list(layouts.values())
        length = len(contents[0]) if contents else 0
        return ak.Array(ak.contents.RecordArray(contents, list(layouts), length=length))
    out: dict[str, Any] = {}
    for name, layout in layouts.items():
        array = ak.Array(layout)
        if isinstance(layout, ak.contents.NumpyArray):
            out[name] = np.asarray(layout.data)
        elif isinstance(layout, ak.contents.ListOffsetArray) and isinstance(
                layout.content, ak.contents.NumpyArray):
            offsets = np.asarray(layout.offsets.data)
            content = np.asarray(layout.content.data)
            if layout.parameter("__array__") == "string":
                base = offsets[0]
                out[name] = Strings(offsets - base, offsets[:-1] - base, content[base:offsets[-1]])
            else:
                out[name] = Jagged(offsets - offsets[0], content[offsets[0]:offsets[-1]])
        else:
            out[name] = array
    return in_library(out, library, entry_start)

