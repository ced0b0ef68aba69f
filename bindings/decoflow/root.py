"""decoflow.root: numeric TTree branches of ROOT files, decoded in parallel into NumPy arrays.

uproot reads the file's metadata (which baskets each branch has, where, how
big); decoflow does the rest natively, with no Python per basket: one graph per
file, one chunk per basket, every basket decompressed (``ZS``, ``L4``,
``ZL``, ``XZ`` or stored raw), turned into native byte order and written into
its slice of one array per branch::

    import decoflow.root
    arrays = decoflow.root.arrays("HZZ.root:events", ["MET_px", "Jet_Px"])
    arrays["MET_px"]            # numpy.ndarray, float32
    arrays["Jet_Px"].content    # numpy.ndarray of every jet's Px
    arrays["Jet_Px"].offsets    # int64, len(entries) + 1
    arrays["Jet_Px"].to_awkward()

    for step in decoflow.root.iterate("HZZ.root:events", ["MET_px"], step_size="100 MB"):
        ...                     # {name: array} per range of entries

Supported: flat branches of bool, int8-int64, uint8-uint64, float32, float64
(also fixed-size arrays such as ``x[3]/F``), jagged branches of those types
(``x[n]/F``, what uproot writes for ``var * float32``), and ``char*`` strings
(what uproot writes for ``"string"``: :class:`Strings`, the bytes as stored plus
each entry's start and stop). Other branches (``std::string``,
``std::vector``, objects, ``Float16_t``/``Double32_t``, jagged fixed-size rows)
raise :class:`UnsupportedBranchError` naming the branch and its interpretation; so do
branches whose last basket is embedded in the TBranch object (uproot's
``embedded_baskets``; ROOT writes them for trees that were not closed
properly).

Several files (a list of paths or trees, one tree each) are read as one: one
graph, every basket of every file straight into its slice of one array per
branch.

Errors never give wrong data: a basket that fails (a truncated file, a basket
table pointing outside the file, corrupted bytes) fails its branch only; the
others are decoded whole. The exception raised names the branch and the basket,
and carries the branches that did decode in ``.arrays``.

Per-basket Python: nothing in the hot path. Reading the basket tables costs
one uproot metadata read per branch (vectorised NumPy, no loop over baskets).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import Array, Executor, Graph, Stage, _core
from ._errors import CorruptInputError, Error, UnsupportedFormatError

__all__ = ["arrays", "iterate", "read", "Jagged", "RootRead", "Strings",
           "UnsupportedBranchError"]


class UnsupportedBranchError(UnsupportedFormatError):
    """A branch whose type decoflow.root does not decode (the message names it
    and its uproot interpretation)."""


# NumPy kind + size -> the engine's type name (graphs/root_branches.hpp).
_TYPE_NAMES = {
    ("b", 1): "bool",
    ("i", 1): "int8", ("i", 2): "int16", ("i", 4): "int32", ("i", 8): "int64",
    ("u", 1): "uint8", ("u", 2): "uint16", ("u", 4): "uint32", ("u", 8): "uint64",
    ("f", 4): "float32", ("f", 8): "float64",
}


class Jagged:
    """A jagged branch: ``content`` (every value, entry after entry) and
    ``offsets`` (int64, ``len + 1`` values from 0: entry ``i`` is
    ``content[offsets[i]:offsets[i + 1]]``), awkward's ListOffsetArray layout.
    Both share memory with decoflow's arrays (no copy)."""

    __slots__ = ("content", "offsets")

    def __init__(self, offsets: np.ndarray, content: np.ndarray) -> None:
        self.offsets = offsets
        self.content = content

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int | slice) -> np.ndarray | Jagged:
        """Entry i (a view of ``content``), or the entries of a slice (step 1)
        as a Jagged (content a view, offsets from 0)."""
        if isinstance(i, slice):
            lo, hi = _entry_slice(i, len(self))
            offsets = self.offsets[lo:hi + 1]
            return Jagged(offsets - offsets[0], self.content[offsets[0]:offsets[-1]])
        i = _entry_index(i, len(self))
        return self.content[self.offsets[i]:self.offsets[i + 1]]

    @property
    def counts(self) -> np.ndarray:
        """Values per entry (int64)."""
        return np.diff(self.offsets)

    def split(self) -> list[np.ndarray]:
        """One array per entry (views of ``content``), like ``np.split``."""
        return np.split(self.content, self.offsets[1:-1])

    def tolist(self) -> list[list]:
        """One Python list per entry."""
        return [part.tolist() for part in self.split()]

    def to_numpy(self) -> np.ndarray:
        """A NumPy object array of per-entry arrays (views), as uproot's
        ``library="np"``."""
        out = np.empty(len(self), dtype=object)
        for i, part in enumerate(self.split() if len(self) else []):
            out[i] = part  # one by one: equal-length parts would broadcast
        return out

    def to_awkward(self) -> Any:
        """An ``awkward.Array`` over the same memory (needs awkward)."""
        import awkward as ak

        layout = ak.contents.ListOffsetArray(ak.index.Index64(self.offsets),
                                             ak.contents.NumpyArray(self.content))
        return ak.Array(layout)

    def __repr__(self) -> str:
        return f"<decoflow.root.Jagged: {len(self)} entries, {len(self.content)} {self.content.dtype} values>"


def _entry_index(i: int, n: int) -> int:
    i = int(i)  # a NumPy integer too
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"entry {i} out of range for {n} entries")
    return i


def _entry_slice(s: slice, n: int) -> tuple[int, int]:
    lo, hi, step = s.indices(n)
    if step != 1:
        raise ValueError("decoflow.root: slices of entries take step 1")
    return lo, max(lo, hi)


class Strings:
    """A string branch (``char*``, what uproot writes for ``"string"``):
    ``content`` holds the baskets' bytes as stored — each entry's length (one
    byte, or 255 and four more) then its UTF-8 bytes — and entry ``i`` is
    ``content[starts[i]:stops[i]]`` (awkward's ListArray layout; ``offsets``:
    the ``len + 1`` entry boundaries, length bytes included). ``content``
    shares memory with decoflow's arrays (no copy)."""

    __slots__ = ("content", "offsets", "starts", "stops")

    def __init__(self, offsets: np.ndarray, starts: np.ndarray, content: np.ndarray) -> None:
        self.content = content
        self.offsets = offsets
        self.starts = starts
        self.stops = offsets[1:]

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int | slice) -> str | Strings:
        """Entry i as ``str``, or the entries of a slice (step 1) as Strings
        (views)."""
        if isinstance(i, slice):
            lo, hi = _entry_slice(i, len(self))
            return Strings(self.offsets[lo:hi + 1], self.starts[lo:hi], self.content)
        i = _entry_index(i, len(self))
        return self.content[self.starts[i]:self.stops[i]].tobytes().decode(errors="surrogateescape")

    def tolist(self) -> list[str]:
        base = int(self.offsets[0])  # a slice's entries need only their own bytes
        data = self.content[base:int(self.offsets[-1])].tobytes()
        return [data[a - base:b - base].decode(errors="surrogateescape")
                for a, b in zip(self.starts.tolist(), self.stops.tolist())]

    def to_numpy(self) -> np.ndarray:
        """A NumPy object array of ``str``, as uproot's ``library="np"``."""
        out = np.empty(len(self), dtype=object)
        out[:] = self.tolist()
        return out

    def to_awkward(self) -> Any:
        """An ``awkward.Array`` of strings over the same bytes (needs awkward)."""
        import awkward as ak

        chars = ak.contents.NumpyArray(self.content, parameters={"__array__": "char"})
        layout = ak.contents.ListArray(ak.index.Index64(self.starts), ak.index.Index64(self.stops),
                                       chars, parameters={"__array__": "string"})
        return ak.Array(layout)

    def __repr__(self) -> str:
        return f"<decoflow.root.Strings: {len(self)} entries, {len(self.content)} bytes>"


def _strings(offsets: np.ndarray, content: np.ndarray) -> Strings:
    """Strings over decoded string baskets, once every entry's length bytes
    agree with its extent; CorruptInputError (with ``.entry``) otherwise."""
    heads, ends = offsets[:-1], offsets[1:]
    empty = np.flatnonzero(ends <= heads)  # every entry holds at least its length byte
    if len(empty):
        raise _bad_string(int(empty[0]), "no length byte")
    lengths = content[heads].astype(np.int64)
    long = np.flatnonzero(lengths == 255)  # 255, then the length as 4 big-endian bytes
    if len(long):
        short = np.flatnonzero(heads[long] + 5 > ends[long])
        if len(short):
            raise _bad_string(int(long[short[0]]), "a long string's length cut short")
        four = content[heads[long, None] + np.arange(1, 5)].astype(np.int64)
        lengths[long] = (four[:, 0] << 24) | (four[:, 1] << 16) | (four[:, 2] << 8) | four[:, 3]
    starts = heads + 1
    starts[long] += 4
    wrong = np.flatnonzero(starts + lengths != ends)
    if len(wrong):
        j = int(wrong[0])
        raise _bad_string(j, f"its length bytes say {int(lengths[j])} bytes, its extent is "
                             f"{int(ends[j] - starts[j])}")
    return Strings(offsets, starts, content)


def _bad_string(entry: int, what: str) -> CorruptInputError:
    e = CorruptInputError(f"string entry {entry}: {what}", cause=what)
    e.entry = entry
    return e


class RootRead:
    """What :func:`read` returns.

    Attributes:
        arrays: ``{name: numpy.ndarray or Jagged}`` of every branch read.
        basket_results: ``{name: int64 array, one value per basket}``: what
            the extra stages (glue) returned for each basket, 0 otherwise.
        paths: the files read, in entry order; path: the first.
        tree: the (first file's) tree's name.
        skipped: ``{name: why}`` of the branches selected without being named
            (``branches=None`` or ``filter_name``) that decoflow cannot decode.
    """

    def __init__(self, paths: list[str], tree: str, arrays: dict[str, Any],
                 basket_results: dict[str, np.ndarray],
                 skipped: dict[str, str] | None = None) -> None:
        self.paths = paths
        self.path = paths[0]
        self.tree = tree
        self.arrays = arrays
        self.basket_results = basket_results
        self.skipped = skipped if skipped is not None else {}

    def __repr__(self) -> str:
        return f"<decoflow.root.RootRead {self.path}:{self.tree}: {list(self.arrays)}>"


# ------------------------------------------------------------------ uproot metadata


def _open_trees(source: Any, tree: str | None) -> tuple[list[tuple[str, Any]], list[Any]]:
    """([(path, TTree)] of one source or of each of a list, [files to close])."""
    sources = list(source) if isinstance(source, (list, tuple)) else [source]
    if not sources:
        raise ValueError("decoflow.root: no ROOT files given")
    sources = [expanded for item in sources for expanded in _glob(item)]
    trees, owned = [], []
    try:
        for item in sources:
            path, ttree, f = _open_tree(item, tree)
            trees.append((path, ttree))
            if f is not None:
                owned.append(f)
    except BaseException:
        for f in owned:
            f.close()
        raise
    return trees, owned


def _uproot() -> Any:
    try:
        import uproot
    except ImportError as exc:
        raise ImportError("decoflow.root reads ROOT metadata with uproot, which is not "
                          f"installed here ({exc}): pip install uproot awkward") from None
    return uproot


def _glob(source: Any) -> list[Any]:
    """A path with wildcards in its file part (``"data/*.root:events"``), as
    uproot takes them: the matching files in sorted order, each with the
    tree's name; anything else as it is."""
    if not isinstance(source, (str, os.PathLike)):
        return [source]
    text = os.fspath(source)
    if os.path.exists(text):
        return [source]
    pattern, sep, tree = text.rpartition(":") if ":" in text else (text, "", "")
    if not pattern or not glob.has_magic(pattern):
        pattern, sep, tree = text, "", ""
        if not glob.has_magic(pattern):
            return [source]
    matches = sorted(glob.glob(pattern))
    if not matches:
        raise FileNotFoundError(f"decoflow.root: no file matches {pattern!r}")
    return [f"{path}{sep}{tree}" for path in matches]


def _open_tree(source: Any, tree: str | None):
    """Returns (path, TTree, file to close or None)."""
    if isinstance(source, (str, os.PathLike)):
        uproot = _uproot()
        path = os.fspath(source)
        if tree is None and not os.path.exists(path) and ":" in path:
            path, tree = path.rsplit(":", 1)
        f = uproot.open(path)
        try:
            if tree is None:
                classes = f.classnames()
                names = sorted({k.split(";")[0] for k, c in classes.items() if c == "TTree"})
                if len(names) != 1:
                    others = sorted({k.split(";")[0] for k, c in classes.items()
                                     if c == _RNTUPLE_CLASS})
                    raise ValueError(
                        f"{path} holds {len(names)} TTrees ({', '.join(names)}): name one "
                        "('file.root:tree' or tree=...)"
                        + (f"; its RNTuples ({', '.join(others)}) are not read by decoflow.root"
                           if others else ""))
                tree = names[0]
            return path, _as_ttree(f[tree], f"{path}:{tree}"), f
        except BaseException:
            f.close()
            raise
    obj = _as_ttree(source, None)
    path = obj.file.file_path
    if not os.path.isfile(path):
        raise ValueError(f"decoflow.root reads local files only; {path!r} is not one")
    return path, obj, None


_RNTUPLE_CLASS = "ROOT::RNTuple"


def _as_ttree(obj: Any, where: str | None) -> Any:
    """obj if it is an uproot TTree; a clear error otherwise (an RNTuple, ROOT's
    newer format that uproot >= 5.7 writes by default for ``f[name] = {...}``,
    or anything else)."""
    if getattr(obj, "classname", None) == _RNTUPLE_CLASS:
        name = where or getattr(obj, "object_path", None) or getattr(obj, "name", "?")
        raise UnsupportedFormatError(
            f"{name} is an RNTuple, not a TTree: decoflow.root reads TTree branches only "
            "(uproot reads RNTuples; uproot writes a TTree with f.mktree(name, types))",
            cause="RNTuple, not a TTree")
    if not hasattr(obj, "branches") or not hasattr(obj, "file"):
        raise TypeError("decoflow.root reads a path ('file.root:tree') or an uproot TTree, "
                        f"not a {type(obj).__name__}")
    return obj


def _unsupported(name: str, what: str) -> UnsupportedBranchError:
    e = UnsupportedBranchError(
        f"branch '{name}': {what}; decoflow.root decodes numeric branches (bool, "
        "int8-int64, uint8-uint64, float32, float64; flat, fixed-size or jagged) and "
        "char* strings only",
        cause=what)
    e.branch, e.basket, e.file = name, None, None
    return e


def _entry_range(start: int | None, stop: int | None, num_entries: int) -> tuple[int, int] | None:
    """uproot's rules: None is the tree's start / end, negative counts from
    the end, then clipped to [0, num_entries]; an empty range reads nothing.
    None means the whole tree (every basket, empty ones included)."""
    if start is None and stop is None:
        return None
    for value, what in ((start, "entry_start"), (stop, "entry_stop")):
        if value is not None and not isinstance(value, (int, np.integer)):
            raise TypeError(f"{what} must be an int or None, not {type(value).__name__}")
    start = 0 if start is None else int(start)
    stop = num_entries if stop is None else int(stop)
    if start < 0:
        start += num_entries
    if stop < 0:
        stop += num_entries
    start = min(max(start, 0), num_entries)
    stop = min(max(stop, start), num_entries)
    return start, stop


class _Branch(NamedTuple):
    """A branch to read, as planned from uproot's metadata."""

    name: str
    spec: tuple | None  # for _core._root_plan; None when no basket holds an entry of the range
    dtype: np.dtype  # native order
    inner: tuple[int, ...]  # fixed-size array dimensions
    jagged: bool
    window: tuple[int, int] | None  # (first, count) entries of the decoded ones; None: all
    baskets: range  # the baskets planned: indices into the branch's _Table
    strings: bool


def _branch_kind(name: str, branch: Any):
    """(engine type name, jagged, native dtype, inner shape, strings) of a
    branch, or an UnsupportedBranchError. Strings decode as jagged bytes."""
    uproot = _uproot()

    try:
        interp = branch.interpretation
    except Exception as exc:  # uproot could not identify it
        return _unsupported(name, f"uproot cannot interpret it ({exc})")
    if len(branch.embedded_baskets) > 0:
        return _unsupported(name, f"{len(branch.embedded_baskets)} of its baskets are embedded in "
                                  "the TBranch object (not written out as keys): not supported")
    if type(interp) is uproot.AsStrings:
        if interp.header_bytes != 0 or interp.length_bytes != "1-5":  # std::string, TString
            return _unsupported(name, f"interpretation {interp!r} is not supported")
        return "uint8", True, np.dtype(np.uint8), (), True
    full = interp

    def refused() -> UnsupportedBranchError:
        return _unsupported(name, f"interpretation {full!r} is not supported")

    jagged = False
    if type(interp) is uproot.AsJagged:
        if type(interp.content) is not uproot.AsDtype or interp.header_bytes != 0:
            return refused()
        jagged, interp = True, interp.content
    if type(interp) is not uproot.AsDtype:
        return refused()
    from_dtype = np.dtype(interp.from_dtype)
    base, inner = from_dtype.subdtype if from_dtype.subdtype else (from_dtype, ())
    type_name = _TYPE_NAMES.get((base.kind, base.itemsize))
    to_dtype = np.dtype(interp.to_dtype)
    to_base = to_dtype.subdtype[0] if to_dtype.subdtype else to_dtype
    if type_name is None or to_base != base.newbyteorder("=") or (jagged and inner):
        return refused()
    return type_name, jagged, base.newbyteorder("="), tuple(int(d) for d in inner), False


class _Table(NamedTuple):
    """A branch's basket table over every tree, read once from uproot's
    metadata: per basket its seek, size, file and number in that file, and
    n + 1 entry bounds running on from one file to the next."""

    name: str
    type_name: str
    jagged: bool
    dtype: np.dtype
    inner: tuple[int, ...]
    strings: bool  # a string branch: jagged bytes, each entry length-prefixed
    seeks: np.ndarray
    sizes: np.ndarray
    files: np.ndarray
    numbers: np.ndarray
    bounds: np.ndarray


def _branch_table(name: str, trees: list[tuple[str, Any]]):
    """A _Table of the branch over every tree, or an UnsupportedBranchError."""
    kinds = [_branch_kind(name, ttree[name]) for _, ttree in trees]
    for kind in kinds:
        if isinstance(kind, Error):
            return kind
    if any(kind != kinds[0] for kind in kinds):
        differ = ", ".join(
            f"{path}: " + ("string" if kind[4] else
                           f"{kind[0]}{' jagged' if kind[1] else ''}{list(kind[3]) or ''}")
            for (path, _), kind in zip(trees, kinds))
        return _unsupported(name, f"its type differs between the files ({differ})")
    seeks, sizes, files, numbers, bounds = [], [], [], [], []
    base = 0
    for f, (_, ttree) in enumerate(trees):
        branch = ttree[name]
        n = branch.num_baskets
        seeks.append(np.asarray(branch.member("fBasketSeek")[:n], dtype=np.int64))
        sizes.append(np.asarray(branch.member("fBasketBytes")[:n], dtype=np.int64))
        files.append(np.full(n, f, dtype=np.int64))
        numbers.append(np.arange(n, dtype=np.int64))
        local = np.asarray(branch.entry_offsets, dtype=np.int64)  # n + 1
        bounds.append(local[:-1] + base)
        base += int(local[-1])
    bounds.append(np.array([base], dtype=np.int64))
    return _Table(name, *kinds[0], *(np.concatenate(c) for c in
                                     (seeks, sizes, files, numbers, bounds)))


class _Selection(NamedTuple):
    """The branches a read decodes, and what became of the others selected."""

    tables: list[_Table]
    errors: list[Error]  # named by the caller, not decodable: the read raises
    skipped: dict[str, str]  # selected by a filter or by default: left out


def _tables(trees: list[tuple[str, Any]], names: list[str], explicit: bool) -> _Selection:
    """The tables of the branches decoflow can read; those it cannot are
    errors when the caller named them, otherwise skipped (with the reason)."""
    selection = _Selection([], [], {})
    for name in names:
        got = _branch_table(name, trees)
        if not isinstance(got, Error):
            selection.tables.append(got)
        elif explicit:
            selection.errors.append(got)
        else:
            selection.skipped[name] = got.cause
    return selection


def _select(table: _Table, entries: tuple[int, int] | None) -> _Branch:
    """The baskets of `table` that hold an entry of [start, stop) (every
    basket when `entries` is None), as a _Branch."""
    first, last, window = 0, len(table.seeks), None
    if entries is not None:
        start, stop = entries
        if start < stop:
            first = int(np.searchsorted(table.bounds[1:], start, side="right"))
            last = int(np.searchsorted(table.bounds[:-1], stop, side="left"))
        else:
            first = last = 0
        window = (start - int(table.bounds[first]), stop - start) if first < last else (0, 0)
    spec = None
    if first < last or entries is None:
        items = int(np.prod(table.inner)) if table.inner else 1
        spec = (table.name, table.type_name, table.jagged, items, table.seeks[first:last],
                table.sizes[first:last], table.bounds[first:last + 1], table.files[first:last],
                table.numbers[first:last])
    return _Branch(table.name, spec, table.dtype, table.inner, table.jagged, window,
                   range(first, last), table.strings)


# ------------------------------------------------------------------ reading

_default_lock = threading.Lock()
_default_executor: Executor | None = None


def _executor() -> Executor:
    global _default_executor
    with _default_lock:
        if _default_executor is None or _default_executor.closed:
            _default_executor = Executor()  # one thread per CPU, kept for later reads
        return _default_executor


def _format(dtype: np.dtype) -> str:
    return memoryview(np.empty(0, dtype)).format


def read(source: Any, branches: str | Iterable[str] | None = None, *, tree: str | None = None,
         filter_name: NameFilter = None,
         entry_start: int | None = None, entry_stop: int | None = None,
         executor: Executor | None = None, stages: Sequence[Stage] = (),
         library: str = "np") -> RootRead:
    """Decodes branches of one TTree with decoflow's engine.

    Args:
        source: a path (``"file.root"``, ``"file.root:tree"``) or an uproot
            TTree of a local file; or a list of them, one tree each, read as
            one (their entries one after another, each basket straight into
            its slice of the one array per branch, like
            ``uproot.concatenate``). Wildcards in a path's file part
            (``"data/run_*.root:events"``) name the matching files, sorted.
        branches: a name or names (``None``: every branch decoflow can decode).
        tree: the tree's name, when ``source`` is a path without one and the
            file holds several trees.
        filter_name: keeps only the branches (of ``branches``, or of the tree)
            whose name matches, with uproot's rules: a glob (``"Jet_*"``), a
            regular expression between slashes (``"/^Jet_P[xy]$/i"``), a plain
            name, a list of those (any may match), or a callable(name) -> bool.
            Branches it selects that decoflow cannot decode are skipped (see
            :attr:`RootRead.skipped`) unless ``branches`` names them.
        entry_start, entry_stop: read entries ``[entry_start, entry_stop)``
            only, as uproot does (``None``: the tree's start / end; negative:
            from the end; clipped to the tree). Only the baskets holding those
            entries are decoded; the arrays returned are views into them
            (memory: the range plus at most the rest of its first and last
            basket).
        executor: a :class:`decoflow.Executor` (default: a shared one with a
            thread per CPU).
        stages: extra stages after the native ``baskets`` stage, for example
            :func:`decoflow.glue`: they run for every basket, seeing the
            basket's compressed bytes (TKey included) as ``src`` and its decoded
            values (native order; a jagged branch's content) as ``dst``; the
            ``tag`` is the basket's id. What they return is in
            ``basket_results`` (one value per basket decoded).
        library: ``"np"`` (NumPy arrays and :class:`Jagged`) or ``"ak"``
            (awkward arrays).

    Returns:
        A :class:`RootRead`.

    Raises:
        UnsupportedBranchError: a requested branch of another type.
        decoflow.Error: a branch failed (truncated file, basket table outside
            the file, corrupted basket: :class:`CorruptInputError`,
            :class:`SizeMismatchError`, ...). The message names the branch and
            the basket; ``e.branch``, ``e.basket`` (its number in its file's
            branch) and ``e.file`` say it too, ``e.arrays`` holds every branch
            that did decode, ``e.errors`` every failure.
        KeyError: no such branch.

    Thread-safe (one graph per call).
    """
    if library not in ("np", "ak"):
        raise ValueError(f"library must be 'np' or 'ak', not {library!r}")
    keep = _name_filter(filter_name)
    trees, owned = _open_trees(source, tree)
    try:
        selection = _tables(trees, *_branch_names(trees[0][1], branches, keep))
        entries = _entry_range(entry_start, entry_stop, _total_entries(trees))
        pending = _submit(trees, selection, entries, executor, stages, library)
    finally:
        for f in owned:
            f.close()
    return pending.collect()


def _total_entries(trees: list[tuple[str, Any]]) -> int:
    return sum(int(ttree.num_entries) for _, ttree in trees)


NameFilter = str | Iterable[str] | Callable[[str], bool] | None

_REGEX_FILTER = re.compile(r"^/(.*)/([imsx]*)$", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def _name_filter(filter_name: NameFilter) -> Callable[[str], bool]:
    """filter_name (uproot's forms) as a predicate on branch names."""
    if filter_name is None:
        return lambda name: True
    if callable(filter_name):
        return filter_name
    if isinstance(filter_name, str):
        regex = _REGEX_FILTER.match(filter_name)
        if regex is not None:
            flags = 0
            for letter in regex.group(2):
                flags |= _REGEX_FLAGS[letter]
            try:
                pattern = re.compile(regex.group(1), flags)
            except re.error as exc:
                raise ValueError(f"filter_name {filter_name!r}: {exc}") from None
            return lambda name: pattern.match(name) is not None
        if any(c in filter_name for c in "*?["):
            return lambda name: fnmatch.fnmatchcase(name, filter_name)
        return lambda name: name == filter_name
    if isinstance(filter_name, Iterable) and not isinstance(filter_name, (bytes, bytearray)):
        patterns = list(filter_name)
        if any(not isinstance(f, str) for f in patterns):
            raise TypeError("filter_name: a list must hold strings (globs, /regex/ or names)")
        each = [_name_filter(f) for f in patterns]
        return lambda name: any(keep(name) for keep in each)
    raise TypeError("filter_name must be None, a glob, a /regex/, a name, a list of those or "
                    f"a callable, not {type(filter_name).__name__}")


def _branch_names(ttree: Any, branches: str | Iterable[str] | None,
                  keep: Callable[[str], bool]) -> tuple[list[str], bool]:
    """The names to read (those kept by the filter), and whether the caller
    named them (then unsupported ones are errors; otherwise they are
    skipped)."""
    if branches is None:
        return [b.name for b in ttree.branches if keep(b.name)], False
    names = [branches] if isinstance(branches, str) else list(branches)
    return [name for name in names if keep(name)], True


class _PendingRead:
    """A submitted read: the plan, the graph's future, and what turns their
    outcome into arrays (collect())."""

    def __init__(self, paths: list[str], tree_name: str, planned: list[_Branch],
                 selection: _Selection, library: str,
                 entries: tuple[int, int] | None = None,
                 carried: list[bool] | None = None) -> None:
        self.paths, self.tree_name, self.planned = paths, tree_name, planned
        self.entries = entries
        self.errors, self.skipped, self.library = selection.errors, selection.skipped, library
        # Steps of iterate(): per branch, whether its first basket is the
        # previous step's last (not decoded again: that step hands over the
        # values, a _BasketRest); and the next step, to hand ours to. A branch
        # whose range lies inside that basket is not planned at all: its
        # arrays are views of the rest handed over.
        self.carried = carried if carried is not None else [False] * len(planned)
        self.inherited: list[_BasketRest | None] = [None] * len(planned)
        self.successor: _PendingRead | None = None
        self.from_rest = [c and len(b.baskets) == 1 for b, c in zip(planned, self.carried)]
        # Each branch's index in the plan (None: nothing to decode).
        self.indices: list[int | None] = []
        self.specs = []
        for b, from_rest in zip(planned, self.from_rest):
            self.indices.append(None if b.spec is None or from_rest else len(self.specs))
            if self.indices[-1] is not None:
                self.specs.append(b.spec)
        self.plan: Any = None
        self.graph_name = ""
        self.contents: list[Array | None] = []
        self.chunk_ranges: list[range | None] = []
        self.future: Any = None

    def cancel(self) -> None:
        if self.future is not None:
            self.future.cancel()

    def collect(self) -> RootRead:
        results = np.zeros(0, dtype=np.int64)
        if self.future is not None:
            try:
                results = self.future.result()
            except Error as e:
                # A stage after ours failed (glue): name the branch and basket too.
                _locate(e, self)
                raise
        plan = self.plan
        failed = {}
        for index, file, basket, err in plan.failures():
            bname = self.specs[index][0]
            err.branch, err.basket, err.file = bname, basket, self.paths[file]
            failed[bname] = err
        self._take_inherited(failed)  # first: what we hand over may include it
        if self.successor is not None:
            self._hand_over(failed)
        out: dict[str, Any] = {}
        basket_results: dict[str, np.ndarray] = {}
        bad: list[Error] = []  # string branches whose bytes disagree with their offsets
        columns = zip(self.planned, self.indices, self.contents, self.chunk_ranges)
        for k, (b, i, content, rng) in enumerate(columns):
            if b.name in failed:
                continue
            if self.from_rest[k]:
                if self.inherited[k] is None:  # the step before raised: never yielded
                    raise RuntimeError(f"decoflow.root: branch '{b.name}': the step before "
                                       "did not hand over its last basket")
                values, offsets = self.inherited[k].window(*self.entries)
                rng = range(0)
            elif i is None:
                values = np.empty((0, *b.inner), b.dtype)
                offsets = np.zeros(1, np.int64) if b.jagged else None
                rng = range(0)
            elif content is None:
                continue
            else:
                values = np.asarray(content)
                offsets = np.asarray(plan.offsets(i)) if b.jagged else None
                if b.window is not None:
                    values, offsets = _window(values, offsets, *b.window)
            if b.strings:
                try:
                    arr = _strings(offsets, values)
                except CorruptInputError as e:
                    bad.append(self._locate_entry(e, b, k))
                    continue
                out[b.name] = arr.to_awkward() if self.library == "ak" else arr
            elif b.jagged:
                arr = Jagged(offsets, values)
                out[b.name] = arr.to_awkward() if self.library == "ak" else arr
            else:
                if self.library == "ak":
                    import awkward as ak

                    values = ak.from_numpy(values, regulararray=True)
                out[b.name] = values
            basket_results[b.name] = results[rng.start:rng.stop] if len(results) else np.zeros(
                len(rng), dtype=np.int64)
        errors = self.errors + [failed[b.name] for b in self.planned if b.name in failed] + bad
        if errors:
            first = errors[0]
            first.arrays = out
            first.errors = errors
            raise first
        return RootRead(self.paths, self.tree_name, out, basket_results, dict(self.skipped))


    def _hand_over(self, failed: dict[str, Error]) -> None:
        """Gives the next step, for each branch that starts with our last
        basket, that basket's values from the next step's first entry on — a
        private copy made now, before the caller sees (and may change) our
        arrays; one we inherited whole is passed on as it is."""
        after = self.successor
        start = after.entries[0]
        for k, b in enumerate(self.planned):
            if not after.carried[k] or b.name in failed:
                continue
            if self.from_rest[k]:
                after.inherited[k] = self.inherited[k]  # still the basket we were given
                continue
            if self.contents[k] is None:
                continue
            bounds = b.spec[6]  # entry bounds of our baskets; the shared one is the last
            first, basket_begin = int(bounds[0]), int(bounds[-2])
            lo, hi = start - first, int(bounds[-1]) - first  # in our arrays
            values = np.asarray(self.contents[k])
            if not b.jagged:
                after.inherited[k] = _BasketRest(basket_begin, start, values[lo:hi].copy())
                continue
            offsets = np.asarray(self.plan.offsets(self.indices[k]))
            after.inherited[k] = _BasketRest(
                basket_begin, start, values[offsets[lo]:offsets[hi]].copy(),
                offsets[lo:hi + 1] - offsets[lo], int(offsets[lo] - offsets[basket_begin - first]))

    def _locate_entry(self, e: CorruptInputError, b: _Branch, k: int) -> CorruptInputError:
        """Names the graph, the check, the chunk (the basket's, when this
        step's graph decoded it), the branch, basket and file of e.entry (an
        entry of the arrays returned) in e."""
        bounds = b.spec[6]
        entry = int(bounds[0]) + (b.window[0] if b.window is not None else 0) + e.entry
        at = int(np.searchsorted(bounds, entry, side="right")) - 1
        file, basket = int(b.spec[7][at]), int(b.spec[8][at])
        rng = self.chunk_ranges[k]
        chunk = rng.start + at - self.carried[k] if rng and at >= self.carried[k] else None
        e.graph, e.node, e.chunk = self.graph_name, "strings", chunk
        e.branch, e.basket, e.file = b.name, basket, self.paths[file]
        where = f" of {self.paths[file]}" if len(self.paths) > 1 else ""
        located = f"graph '{self.graph_name}', node 'strings'" + (
            f", chunk {chunk}" if chunk is not None else "")
        e.args = (f"{located}: corrupt_input: branch '{b.name}' basket {basket}{where}: "
                  f"string at entry {entry}: {e.cause}",)
        return e

    def _take_inherited(self, failed: dict[str, Error]) -> None:
        """Writes the entries of our range that the step before handed over
        into our first basket's slice (our graph wrote the other baskets);
        the basket's entries before our range stay unwritten, outside every
        view we return."""
        start, stop = self.entries if self.entries is not None else (0, 0)
        for k, rest in enumerate(self.inherited):
            if (rest is None or self.from_rest[k] or self.planned[k].name in failed
                    or self.contents[k] is None):
                continue
            i0, i1 = start - rest.entry, min(stop, rest.entry + rest.entries) - rest.entry
            at = start - rest.basket_begin  # our arrays begin with this basket
            content = np.asarray(self.contents[k])
            if rest.offsets is None:
                content[at:at + i1 - i0] = rest.values[i0:i1]
                continue
            c0, c1 = int(rest.offsets[i0]), int(rest.offsets[i1])
            content[rest.base + c0:rest.base + c1] = rest.values[c0:c1]
            offsets = np.asarray(self.plan.offsets(self.indices[k]))
            np.add(rest.offsets[i0:i1 + 1], rest.base, out=offsets[at:at + i1 - i0 + 1])


class _BasketRest(NamedTuple):
    """A basket's values from entry `entry` to its end, copied from one step
    of iterate() for the next ones (jagged: content and offsets from 0)."""

    basket_begin: int  # the basket's first entry
    entry: int  # the first entry held
    values: np.ndarray  # flat: one row per entry; jagged: the content
    offsets: np.ndarray | None = None  # jagged: entries + 1, into values
    base: int = 0  # jagged: where values[0] sits in the basket's content

    @property
    def entries(self) -> int:
        return len(self.values) if self.offsets is None else len(self.offsets) - 1

    def window(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Entries [start, stop) (inside this rest): views, jagged offsets from 0."""
        lo, hi = start - self.entry, stop - self.entry
        if self.offsets is None:
            return self.values[lo:hi], None
        offsets = self.offsets[lo:hi + 1]
        return self.values[offsets[0]:offsets[-1]], offsets - offsets[0]


def _carried_over(b: _Branch, before: _Branch) -> bool:
    """Whether b's first basket is the previous step's (before's) last one."""
    return (b.spec is not None and before.spec is not None and len(b.baskets) > 0
            and len(before.baskets) > 0 and before.baskets[-1] == b.baskets[0])


def _submit(trees: list[tuple[str, Any]], selection: _Selection,
            entries: tuple[int, int] | None, executor: Executor | None,
            stages: Sequence[Stage], library: str,
            previous: _PendingRead | None = None) -> _PendingRead:
    """Plans the entry range of the branches, builds one graph over every file
    and submits it; collect() on the result waits and returns the arrays.
    With `previous` (the step before, still pending), a basket it decodes too
    is not decoded again: previous.collect() copies it over."""
    planned = [_select(table, entries) for table in selection.tables]
    paths = [path for path, _ in trees]
    tree_name = trees[0][1].name
    carried = None
    if previous is not None and entries is not None and not stages:
        carried = [_carried_over(b, p) for b, p in zip(planned, previous.planned)]
    pending = _PendingRead(paths, tree_name, planned, selection, library, entries, carried)
    if carried is not None and any(carried):
        previous.successor = pending

    name = f"root:{os.path.basename(paths[0])}:{tree_name}"
    if len(paths) > 1:
        name += f" +{len(paths) - 1} files"
    pending.graph_name = name
    plan = pending.plan = _core._root_plan(paths, pending.specs, name)
    graph = Graph(name)
    inputs = [graph.add_file(path) for path in paths]
    graph.add_stage(plan.stage())
    for stage in stages:
        graph.add_stage(stage)
    for b, i, carried in zip(planned, pending.indices, pending.carried):
        content = None
        if i is not None:  # None: no basket in the entry range
            shape = ([plan.content_items(i)] if b.jagged or not b.inner
                     else [plan.entries(i), *b.inner])
            content = plan.content(i, _format(b.dtype), b.dtype.itemsize, shape)
        pending.contents.append(content)
        if content is None:
            pending.chunk_ranges.append(None)
            continue
        columns = plan.chunks(i)
        if carried:  # its first basket's values come from `previous`
            columns = tuple(c[1:] for c in columns)
        offs, sizes, doffs, dsizes, tags, files = columns
        # One add_chunks per run of baskets from one file (they come file by
        # file): the branch's chunks stay consecutive in the graph.
        first = len(graph)
        cuts = [0, *(np.flatnonzero(np.diff(files)) + 1).tolist(), len(files)]
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            if lo < hi:
                graph.add_chunks(inputs[int(files[lo])], offs[lo:hi], sizes[lo:hi], content,
                                 dsizes[lo:hi], dest_offsets=doffs[lo:hi], codec="root",
                                 tags=tags[lo:hi])
        pending.chunk_ranges.append(range(first, len(graph)))
    if len(graph) > 0:
        pending.future = (executor if executor is not None else _executor()).submit(graph)
    return pending


def _window(values: np.ndarray, offsets: np.ndarray | None, first: int,
            count: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Entries [first, first + count) of decoded baskets: views, except a
    jagged branch's offsets, rebased to start at 0."""
    if offsets is None:
        return values[first:first + count], None
    offsets = offsets[first:first + count + 1]
    values = values[offsets[0]:offsets[-1]]
    return values, offsets - offsets[0] if offsets[0] else offsets


def _locate(e: Error, pending: _PendingRead) -> None:
    if e.chunk is None:
        return
    paths = pending.paths
    for b, rng, carried in zip(pending.planned, pending.chunk_ranges, pending.carried):
        if rng is not None and e.chunk in rng:
            at = e.chunk - rng.start + carried  # the branch's chunks follow its table
            file, basket = int(b.spec[7][at]), int(b.spec[8][at])  # its file, number there
            e.branch, e.basket, e.file = b.name, basket, paths[file]
            where = f" of {paths[file]}" if len(paths) > 1 else ""
            e.args = (f"{e.args[0]} [branch '{b.name}' basket {basket}{where}]",)
            return


def iterate(source: Any, branches: str | Iterable[str] | None = None, *,
            tree: str | None = None, filter_name: NameFilter = None,
            step_size: int | str = "100 MB",
            entry_start: int | None = None, entry_stop: int | None = None,
            executor: Executor | None = None, library: str = "np") -> Iterator[dict[str, Any]]:
    """Yields ``{name: array}`` for consecutive entry ranges of the tree, like
    uproot's ``iterate``: memory bounded by the step, not the file.

    The next step is decoded while the caller works on the current one (two
    steps' arrays are alive at a time). Each basket is decoded once: one that
    straddles a step boundary is decoded by the first step holding it, which
    hands the later entries (a private copy, made before the caller sees the
    step) to the next steps; a step that lies inside such a basket returns
    views of that copy. Memory: a step's arrays span whole baskets (the
    entries outside the step untouched, so not paged in).

    Args:
        step_size: entries per step (an int), or a size such as ``"100 MB"``
            / ``"64 MiB"``: that many bytes of decoded values per step,
            estimated from the branches' uncompressed sizes.
        source, branches, tree, filter_name, entry_start, entry_stop, executor,
            library: as for :func:`arrays`.

    Raises:
        The errors of :func:`arrays`, from the step that meets them (steps
        before it were yielded whole).
    """
    if library not in ("np", "ak"):
        raise ValueError(f"library must be 'np' or 'ak', not {library!r}")
    keep = _name_filter(filter_name)
    trees, owned = _open_trees(source, tree)
    pending = None
    try:
        names, explicit = _branch_names(trees[0][1], branches, keep)
        selection = _tables(trees, names, explicit)  # once: each step selects from them
        total = _total_entries(trees)
        start, stop = _entry_range(entry_start, entry_stop, total) or (0, total)
        step = _step_entries(step_size, trees, [t.name for t in selection.tables], total)
        for lo in range(start, stop, step):
            upcoming = _submit(trees, selection, (lo, min(lo + step, stop)),
                               executor, (), library, previous=pending)
            if pending is not None:
                done, pending = pending, upcoming
                yield done.collect().arrays
            else:
                pending = upcoming
        if pending is not None:
            done, pending = pending, None
            yield done.collect().arrays
    finally:
        if pending is not None:  # the caller stopped early: do not decode for nobody
            pending.cancel()
        for f in owned:
            f.close()


_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9,
               "kib": 2**10, "mib": 2**20, "gib": 2**30}


def _step_entries(step_size: int | str, trees: list[tuple[str, Any]], names: list[str],
                  total: int) -> int:
    if isinstance(step_size, (int, np.integer)) and not isinstance(step_size, bool):
        if step_size < 1:
            raise ValueError(f"step_size must be at least 1 entry, not {step_size}")
        return int(step_size)
    if not isinstance(step_size, str):
        raise TypeError(f"step_size must be an int (entries) or a size such as '100 MB', "
                        f"not {type(step_size).__name__}")
    number, _, unit = step_size.strip().partition(" ")
    try:
        size = float(number) * _SIZE_UNITS[unit.strip().lower() or "b"]
    except (ValueError, KeyError):
        raise ValueError(f"step_size {step_size!r} is not a size such as '100 MB' or '64 MiB' "
                         f"(units: {', '.join(_SIZE_UNITS)})") from None
    per_entry = sum(int(ttree[n].uncompressed_bytes) for _, ttree in trees
                    for n in names) / max(total, 1)
    # Rounded as uproot does: the same steps as its iterate() for a whole tree.
    return max(1, round(size / per_entry)) if per_entry > 0 else max(total, 1)


def arrays(source: Any, branches: str | Iterable[str] | None = None, *, tree: str | None = None,
           filter_name: NameFilter = None,
           entry_start: int | None = None, entry_stop: int | None = None,
           executor: Executor | None = None, library: str = "np") -> dict[str, Any]:
    """``{name: array}`` of the branches: :func:`read` (same arguments and
    errors) without extra stages.

    Flat branches are ``numpy.ndarray`` (shape ``(entries,)``, or
    ``(entries, *inner)`` for fixed-size arrays), in native byte order, equal to
    uproot's ``tree.arrays(library="np")``; jagged branches are :class:`Jagged`
    (offsets + content), or awkward arrays with ``library="ak"``.
    """
    return read(source, branches, tree=tree, filter_name=filter_name, entry_start=entry_start,
                entry_stop=entry_stop, executor=executor, library=library).arrays
