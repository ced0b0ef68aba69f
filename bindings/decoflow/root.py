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

Supported: flat branches of bool, int8-int64, uint8-uint64, float32, float64
(also fixed-size arrays such as ``x[3]/F``), and jagged branches of those types
(``x[n]/F``, what uproot writes for ``var * float32``). Other branches (strings,
``std::vector``, objects, ``Float16_t``/``Double32_t``) raise
:class:`UnsupportedBranchError` naming the branch and its interpretation; so do
branches whose last basket is embedded in the TBranch object (uproot's
``embedded_baskets``; ROOT writes them for trees that were not closed
properly).

Errors never give wrong data: a basket that fails (a truncated file, a basket
table pointing outside the file, corrupted bytes) fails its branch only; the
others are decoded whole. The exception raised names the branch and the basket,
and carries the branches that did decode in ``.arrays``.

Per-basket Python: nothing in the hot path. Reading the basket tables costs
one uproot metadata read per branch (vectorised NumPy, no loop over baskets).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import Array, Executor, Graph, Stage, _core
from ._errors import Error, UnsupportedFormatError

__all__ = ["arrays", "read", "Jagged", "RootRead", "UnsupportedBranchError"]


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

    def __getitem__(self, i: int) -> np.ndarray:
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"entry {i} out of range for {len(self)} entries")
        return self.content[self.offsets[i]:self.offsets[i + 1]]

    @property
    def counts(self) -> np.ndarray:
        """Values per entry (int64)."""
        return np.diff(self.offsets)

    def split(self) -> list[np.ndarray]:
        """One array per entry (views of ``content``), like ``np.split``."""
        return np.split(self.content, self.offsets[1:-1])

    def to_awkward(self) -> Any:
        """An ``awkward.Array`` over the same memory (needs awkward)."""
        import awkward as ak

        layout = ak.contents.ListOffsetArray(ak.index.Index64(self.offsets),
                                             ak.contents.NumpyArray(self.content))
        return ak.Array(layout)

    def __repr__(self) -> str:
        return f"<decoflow.root.Jagged: {len(self)} entries, {len(self.content)} {self.content.dtype} values>"


class RootRead:
    """What :func:`read` returns.

    Attributes:
        arrays: ``{name: numpy.ndarray or Jagged}`` of every branch read.
        basket_results: ``{name: int64 array, one value per basket}``: what
            the extra stages (glue) returned for each basket, 0 otherwise.
        path, tree: the file and the tree's name.
    """

    def __init__(self, path: str, tree: str, arrays: dict[str, Any],
                 basket_results: dict[str, np.ndarray]) -> None:
        self.path = path
        self.tree = tree
        self.arrays = arrays
        self.basket_results = basket_results

    def __repr__(self) -> str:
        return f"<decoflow.root.RootRead {self.path}:{self.tree}: {list(self.arrays)}>"


# ------------------------------------------------------------------ uproot metadata


def _open_tree(source: Any, tree: str | None):
    """Returns (path, TTree, file to close or None)."""
    if isinstance(source, (str, os.PathLike)):
        import uproot

        path = os.fspath(source)
        if tree is None and not os.path.exists(path) and ":" in path:
            path, tree = path.rsplit(":", 1)
        f = uproot.open(path)
        try:
            if tree is None:
                trees = [k for k, c in f.classnames().items() if c == "TTree"]
                names = sorted({k.split(";")[0] for k in trees})
                if len(names) != 1:
                    raise ValueError(f"{path} holds {len(names)} trees ({', '.join(names)}): "
                                     "name one ('file.root:tree' or tree=...)")
                tree = names[0]
            return path, f[tree], f
        except BaseException:
            f.close()
            raise
    obj = source
    if not hasattr(obj, "branches") or not hasattr(obj, "file"):
        raise TypeError("decoflow.root reads a path ('file.root:tree') or an uproot TTree, "
                        f"not a {type(obj).__name__}")
    path = obj.file.file_path
    if not os.path.isfile(path):
        raise ValueError(f"decoflow.root reads local files only; {path!r} is not one")
    return path, obj, None


def _unsupported(name: str, what: str) -> UnsupportedBranchError:
    e = UnsupportedBranchError(
        f"branch '{name}': {what}; decoflow.root decodes numeric branches only (bool, "
        "int8-int64, uint8-uint64, float32, float64; flat, fixed-size or jagged)",
        cause=what)
    e.branch, e.basket = name, None
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


def _branch_spec(name: str, branch: Any, entries: tuple[int, int] | None):
    """A _Branch, or an UnsupportedBranchError."""
    import uproot

    try:
        interp = branch.interpretation
    except Exception as exc:  # uproot could not identify it
        return _unsupported(name, f"uproot cannot interpret it ({exc})")
    jagged = False
    if type(interp) is uproot.AsJagged:
        if type(interp.content) is not uproot.AsDtype or interp.header_bytes != 0:
            return _unsupported(name, f"interpretation {interp!r} is not supported")
        jagged, interp = True, interp.content
    if type(interp) is not uproot.AsDtype:
        return _unsupported(name, f"interpretation {interp!r} is not supported")
    from_dtype = np.dtype(interp.from_dtype)
    base, inner = from_dtype.subdtype if from_dtype.subdtype else (from_dtype, ())
    type_name = _TYPE_NAMES.get((base.kind, base.itemsize))
    to_dtype = np.dtype(interp.to_dtype)
    to_base = to_dtype.subdtype[0] if to_dtype.subdtype else to_dtype
    if type_name is None or to_base != base.newbyteorder("=") or (jagged and inner):
        return _unsupported(name, f"interpretation {interp!r} is not supported")
    if len(branch.embedded_baskets) > 0:
        return _unsupported(name, f"{len(branch.embedded_baskets)} of its baskets are embedded in "
                                  "the TBranch object (not written out as keys): not supported")
    n = branch.num_baskets
    seeks = np.ascontiguousarray(branch.member("fBasketSeek")[:n], dtype=np.int64)
    sizes = np.ascontiguousarray(branch.member("fBasketBytes")[:n], dtype=np.int64)
    bounds = np.ascontiguousarray(branch.entry_offsets, dtype=np.int64)  # n + 1
    first, last, window = 0, n, None
    if entries is not None:
        start, stop = entries
        if start < stop:
            # The baskets holding an entry of [start, stop).
            first = int(np.searchsorted(bounds[1:], start, side="right"))
            last = int(np.searchsorted(bounds[:-1], stop, side="left"))
        else:
            first = last = 0
        window = (start - int(bounds[first]), stop - start) if first < last else (0, 0)
    spec = None
    if first < last or entries is None:
        items = int(np.prod(inner)) if inner else 1
        spec = (name, type_name, jagged, items, seeks[first:last], sizes[first:last],
                bounds[first:last + 1], first)
    return _Branch(name, spec, base.newbyteorder("="), tuple(int(d) for d in inner), jagged, window)


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
         entry_start: int | None = None, entry_stop: int | None = None,
         executor: Executor | None = None, stages: Sequence[Stage] = (),
         library: str = "np") -> RootRead:
    """Decodes branches of one TTree with decoflow's engine.

    Args:
        source: a path (``"file.root"``, ``"file.root:tree"``) or an uproot
            TTree of a local file.
        branches: a name or names (``None``: every branch decoflow can decode).
        tree: the tree's name, when ``source`` is a path without one and the
            file holds several trees.
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
            the basket; ``e.branch``, ``e.basket`` say it too, ``e.arrays``
            holds every branch that did decode, ``e.errors`` every failure.
        KeyError: no such branch.

    Thread-safe (one graph per call).
    """
    if library not in ("np", "ak"):
        raise ValueError(f"library must be 'np' or 'ak', not {library!r}")
    path, ttree, owned = _open_tree(source, tree)
    try:
        if branches is None:
            names = [b.name for b in ttree.branches]
            explicit = False
        else:
            names = [branches] if isinstance(branches, str) else list(branches)
            explicit = True
        entries = _entry_range(entry_start, entry_stop, int(ttree.num_entries))
        errors: list[Error] = []
        planned: list[_Branch] = []
        for name in names:
            got = _branch_spec(name, ttree[name], entries)
            if isinstance(got, Error):
                if explicit:
                    errors.append(got)
                continue
            planned.append(got)
        specs = [b.spec for b in planned if b.spec is not None]
        # Each branch's index in the plan (None: nothing to decode).
        indices, n = [], 0
        for b in planned:
            indices.append(None if b.spec is None else n)
            n += b.spec is not None
        tree_name = ttree.name
    finally:
        if owned is not None:
            owned.close()

    name = f"root:{os.path.basename(path)}:{tree_name}"
    plan = _core._root_plan(path, specs, name)
    graph = Graph(name)
    source_id = graph.add_file(path)
    graph.add_stage(plan.stage())
    for stage in stages:
        graph.add_stage(stage)
    contents: list[Array | None] = []
    chunk_ranges: list[range | None] = []
    for b, i in zip(planned, indices):
        if i is None:  # no basket in the entry range
            contents.append(None)
            chunk_ranges.append(None)
            continue
        shape = [plan.content_items(i)] if b.jagged or not b.inner else [plan.entries(i), *b.inner]
        content = plan.content(i, _format(b.dtype), b.dtype.itemsize, shape)
        contents.append(content)
        if content is None:
            chunk_ranges.append(None)
            continue
        offs, sizes, doffs, dsizes, tags = plan.chunks(i)
        chunk_ranges.append(graph.add_chunks(source_id, offs, sizes, content, dsizes,
                                             dest_offsets=doffs, codec="root", tags=tags))

    results = np.zeros(0, dtype=np.int64)
    if len(graph) > 0:
        ex = executor if executor is not None else _executor()
        try:
            results = ex.submit(graph).result()
        except Error as e:
            # A stage after ours failed (glue): name the branch and basket too.
            _locate(e, planned, chunk_ranges)
            raise

    failed = {}
    for index, basket, err in plan.failures():
        bname = specs[index][0]
        err.branch, err.basket = bname, basket
        failed[bname] = err
    out: dict[str, Any] = {}
    basket_results: dict[str, np.ndarray] = {}
    for b, i, content, rng in zip(planned, indices, contents, chunk_ranges):
        if b.name in failed:
            continue
        if i is None:
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
        bname = b.name
        if b.jagged:
            arr = Jagged(offsets, values)
            out[bname] = arr.to_awkward() if library == "ak" else arr
        else:
            if library == "ak":
                import awkward as ak

                values = ak.from_numpy(values, regulararray=True)
            out[bname] = values
        basket_results[bname] = results[rng.start:rng.stop] if len(results) else np.zeros(
            len(rng), dtype=np.int64)
    errors.extend(failed[b.name] for b in planned if b.name in failed)
    if errors:
        first = errors[0]
        first.arrays = out
        first.errors = errors
        raise first
    return RootRead(path, tree_name, out, basket_results)


def _window(values: np.ndarray, offsets: np.ndarray | None, first: int,
            count: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Entries [first, first + count) of decoded baskets: views, except a
    jagged branch's offsets, rebased to start at 0."""
    if offsets is None:
        return values[first:first + count], None
    offsets = offsets[first:first + count + 1]
    values = values[offsets[0]:offsets[-1]]
    return values, offsets - offsets[0] if offsets[0] else offsets


def _locate(e: Error, planned: list[_Branch], chunk_ranges: list) -> None:
    if e.chunk is None:
        return
    for b, rng in zip(planned, chunk_ranges):
        if rng is not None and e.chunk in rng:
            basket = b.spec[7] + e.chunk - rng.start  # numbered among all the branch's baskets
            e.branch, e.basket = b.name, basket
            e.args = (f"{e.args[0]} [branch '{b.name}' basket {basket}]",)
            return


def arrays(source: Any, branches: str | Iterable[str] | None = None, *, tree: str | None = None,
           entry_start: int | None = None, entry_stop: int | None = None,
           executor: Executor | None = None, library: str = "np") -> dict[str, Any]:
    """``{name: array}`` of the branches: :func:`read` (same arguments and
    errors) without extra stages.

    Flat branches are ``numpy.ndarray`` (shape ``(entries,)``, or
    ``(entries, *inner)`` for fixed-size arrays), in native byte order, equal to
    uproot's ``tree.arrays(library="np")``; jagged branches are :class:`Jagged`
    (offsets + content), or awkward arrays with ``library="ak"``.
    """
    return read(source, branches, tree=tree, entry_start=entry_start, entry_stop=entry_stop,
                executor=executor, library=library).arrays
