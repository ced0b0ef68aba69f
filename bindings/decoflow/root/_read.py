"""A decoflow.root read: the branches' tables go to the engine once
(decoflow._core._RootTree maps every file once), each read or iterate() step
is planned and its graph filled in one call, and collected in one call. No
Python runs per basket or per chunk column."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import Executor, Graph, Stage, _core
from .._errors import Error
from ._results import Jagged, RootRead, Strings
from ._select import NameFilter, Selection, branch_names, entry_range, name_filter, select
from ._uproot import BranchTable, open_trees, total_entries

_default_lock = threading.Lock()
_default_executor: Executor | None = None


def default_executor() -> Executor:
    """One executor for every read that names none: a thread per CPU, kept."""
    global _default_executor
    with _default_lock:
        if _default_executor is None or _default_executor.closed:
            _default_executor = Executor()
        return _default_executor


class TreeReader:
    """The selected branches of one tree (in one or more files read as one),
    handed to the engine once; submit() plans and starts a read of them."""

    def __init__(self, trees: list[tuple[str, Any]], selection: Selection, library: str) -> None:
        if library not in ("np", "ak"):
            raise ValueError(f"library must be 'np' or 'ak', not {library!r}")
        self.paths = [path for path, _ in trees]
        self.tree_name = trees[0][1].name
        self.selection = selection
        self.library = library
        name = f"root:{os.path.basename(self.paths[0])}:{self.tree_name}"
        if len(self.paths) > 1:
            name += f" +{len(self.paths) - 1} files"
        self.graph_name = name
        self.engine = _core._RootTree(self.paths, [t.for_engine() for t in selection.tables], name,
                                      selection.embedded)

    def submit(self, entries: tuple[int, int] | None, executor: Executor | None,
               stages: Sequence[Stage] = (), previous: PendingRead | None = None) -> PendingRead:
        """Plans entries [start, stop) (None: every basket) and starts the
        graph. With `previous` (the step before, not yet collected), a basket
        it decodes too is not decoded again: previous.collect() hands it over."""
        graph = Graph(self.graph_name)
        plan = self.engine.plan(graph, entries, list(stages),
                                previous.plan if previous is not None else None)
        future = None
        if len(graph) > 0:
            future = (executor if executor is not None else default_executor()).submit(graph)
        return PendingRead(self, plan, future)


class PendingRead:
    """A submitted read: its plan and its graph's future."""

    def __init__(self, reader: TreeReader, plan: Any, future: Any) -> None:
        self.reader, self.plan, self.future = reader, plan, future

    def cancel(self) -> None:
        if self.future is not None:
            self.future.cancel()

    def collect(self) -> RootRead:
        """Waits, then returns the arrays, or raises the first failure (with
        ``.arrays``: the branches that did decode, ``.errors``: every failure)."""
        reader = self.reader
        results = np.zeros(0, dtype=np.int64)
        if self.future is not None:
            try:
                results = self.future.result()
            except Error as e:
                self._locate(e)  # a stage after ours failed (glue): name the basket
                raise
        out: dict[str, Any] = {}
        basket_results: dict[str, np.ndarray] = {}
        errors = list(reader.selection.errors)
        for table, row in zip(reader.selection.tables, self.plan.collect()):
            (content, content_begin, content_items, offsets, starts, entry_begin, entries,
             chunk_begin, chunk_end, failure) = row
            if failure is not None:
                error, file, basket = failure
                error.branch, error.basket, error.file = table.name, basket, reader.paths[file]
                errors.append(error)
                continue
            values = np.asarray(content)
            if table.kind.coding == "record":  # rows of packed fields, as bytes
                values = values.view(table.kind.dtype)
            values = values[content_begin:content_begin + content_items]
            out[table.name] = _branch_array(table, values, offsets, starts, entry_begin, entries,
                                            reader.library)
            basket_results[table.name] = (results[chunk_begin:chunk_end] if len(results) else
                                          np.zeros(chunk_end - chunk_begin, dtype=np.int64))
        if errors:
            first = errors[0]
            first.arrays = out
            first.errors = errors
            raise first
        return RootRead(reader.paths, reader.tree_name, out, basket_results,
                        dict(reader.selection.skipped))

    def _locate(self, e: Error) -> None:
        if e.chunk is None:
            return
        at = self.plan.locate(e.chunk)
        if at is not None:
            branch, file, basket, where = at
            e.branch = self.reader.selection.tables[branch].name
            e.basket, e.file = basket, self.reader.paths[file]
            e.args = (f"{e.args[0]} [{where}]",)


def _branch_array(table: BranchTable, values: np.ndarray, offsets: Any, starts: Any,
                  entry_begin: int, entries: int, library: str) -> Any:
    """One branch's result as decoflow.root returns it (views, no copies)."""
    kind = table.kind
    if kind.layout == "fixed":
        if kind.inner:
            values = values.reshape(-1, *kind.inner)
        if library == "ak":
            import awkward as ak

            return ak.from_numpy(values, regulararray=True)
        return values
    offsets = np.asarray(offsets)[entry_begin:entry_begin + entries + 1]
    if kind.layout == "strings":
        arr = Strings(offsets, np.asarray(starts)[entry_begin:entry_begin + entries], values)
    else:
        arr = Jagged(offsets, values)
    return arr.to_awkward() if library == "ak" else arr


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
    keep = name_filter(filter_name)
    trees, owned = open_trees(source, tree)
    try:
        selection = select(trees, *branch_names(trees[0][1], branches, keep))
        entries = entry_range(entry_start, entry_stop, total_entries(trees))
        pending = TreeReader(trees, selection, library).submit(entries, executor, stages)
    finally:
        for f in owned:
            f.close()
    return pending.collect()


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
