"""A decoflow.root read: the branches' tables go to the engine once
(decoflow._core._RootTree maps every file once), each read or iterate() step
is planned and its graph filled in one call, and collected in one call. No
Python runs per basket or per chunk column."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import Executor, Graph, Stage, _core
from .._errors import Error
from ._results import (Jagged, RootRead, Strings, import_pandas, in_library, library_name,
                       pandas_native)
from ._select import NameFilter, Selection, branch_names, entry_range, name_filter, select
from ._native import open_trees
from ._rntuple import as_library, is_rntuple, make_reader
from ._uproot import BranchTable, total_entries

_default_lock = threading.Lock()
_default_executor: Executor | None = None


def default_executor() -> Executor:
    """One executor for every read that names none: a thread per CPU, kept."""
    global _default_executor
    with _default_lock:
        if _default_executor is None or _default_executor.closed:
            _default_executor = Executor()
        return _default_executor


def _release_default_executor() -> None:
    """Closes the shared executor and lets go of it before Python finalises
    (registered after decoflow's own exit hook, so it runs first)."""
    global _default_executor
    with _default_lock:
        ex, _default_executor = _default_executor, None
    if ex is not None:
        ex.close(cancel=True)


atexit.register(_release_default_executor)


# uproot's arguments of TTree.arrays / uproot.iterate / uproot.concatenate that
# decoflow.root does not take, and what to do instead.
UPROOT_ONLY = {
    "cut": "it evaluates no cuts: read the branches, then mask: with library='ak', "
           "a = decoflow.root.arrays(...); a[a.x > 0]; with 'np', mask = a['x'] > 0; "
           "{n: v[mask] for n, v in a.items()} (Jagged and Strings take masks too)",
    "expressions": "it reads branches by name and evaluates no expressions: pass the names as "
                   "branches=, then compute with NumPy or awkward",
    "aliases": "it has no aliases: read the branches under their own names, then compute or "
               "rename what it returns",
    "language": "it evaluates no expressions: read the branches, then compute with NumPy or "
                "awkward",
    "how": "it returns a dict of arrays (library='np'), one record array ('ak') or a DataFrame "
           "('pd'): make a tuple or list from that, e.g. tuple(a[n] for n in names)",
    "decompression_executor": "decoflow decodes on its own threads: pass "
                              "executor=decoflow.Executor(threads=n), or leave it out",
    "interpretation_executor": "decoflow decodes on its own threads: pass "
                               "executor=decoflow.Executor(threads=n), or leave it out",
    "array_cache": "it keeps no cache: keep the arrays it returns",
    "filter_typename": "it selects by name: use filter_name=, or pick the names yourself, "
                       "e.g. [b.name for b in tree.branches if b.typename == 'float']",
    "filter_branch": "it selects by name: use filter_name=, or pick the names yourself, "
                     "e.g. [b.name for b in tree.branches if ...]",
    "ak_add_doc": "it adds no docs to awkward fields",
    "virtual": "it reads eagerly: use decoflow.root.iterate(step_size=...) to bound memory",
    "access_log": "it keeps no access log",
    "report": "it yields the arrays only; each step is the next step_size entries from "
              "entry_start",
    "allow_missing": "it reads every file it is given: leave out those without the tree",
    "custom_classes": "it reads numeric, jagged and string branches, without uproot's classes",
}


def check_arguments(function: str, executor: Any, library: Any,
                    uproot_only: dict[str, Any]) -> str:
    """The library's short name, after refusing (TypeError) what decoflow
    does not take: uproot's other arguments, saying what to do instead, and
    an executor that is not a decoflow.Executor."""
    for name in uproot_only:
        if name in UPROOT_ONLY:
            raise TypeError(f"{function}() takes no {name}= (uproot's): {UPROOT_ONLY[name]}")
        raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"{function}(): executor must be a decoflow.Executor (or None: a shared "
                        f"one), not {type(executor).__module__}.{type(executor).__qualname__}: "
                        f"decoflow decodes on its own threads, decoflow.Executor(threads=n) "
                        f"sets how many")
    return library_name(library)


class TreeReader:
    """The selected branches of one tree (in one or more files read as one),
    handed to the engine once; submit() plans and starts a read of them."""

    def __init__(self, trees: list[tuple[str, Any]], selection: Selection, library: str) -> None:
        """`library`: "np", "ak" or "pd" (library_name's); for "pd", pandas
        (and awkward-pandas, for a branch that is not flat numbers) must
        import: checked here, before anything is decoded."""
        if library == "pd":
            other = next((t for t in selection.tables if not pandas_native(t.kind)), None)
            import_pandas(None if other is None else
                          f"branch {other.name!r} ({other.kind.describe()}) is not flat")
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
        return PendingRead(self, plan, future, entries[0] if entries is not None else 0)


class PendingRead:
    """A submitted read: its plan, its graph's future and its first entry."""

    def __init__(self, reader: TreeReader, plan: Any, future: Any, entry_start: int) -> None:
        self.reader, self.plan, self.future = reader, plan, future
        self.entry_start = entry_start

    def cancel(self) -> None:
        if self.future is not None:
            self.future.cancel()

    def collect(self) -> RootRead:
        """Waits, then returns the arrays (in the reader's library), or raises
        the first failure (with ``.arrays``: the branches that did decode, in
        the reader's library too; ``.errors``: every failure)."""
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
        records = {t.name: dict(t.kind.records) for t in reader.selection.tables if t.kind.records}
        errors = list(reader.selection.errors)
        for table, row in zip(reader.selection.tables, self.plan.collect()):
            (content, content_begin, content_items, offsets, starts, entry_begin, entries,
             chunk_begin, chunk_end, failure, levels) = row
            if failure is not None:
                error, file, basket = failure
                error.branch, error.basket, error.file = table.name, basket, reader.paths[file]
                errors.append(error)
                continue
            values = np.asarray(content)
            if table.kind.coding in ("record", "objects"):  # rows of packed fields, as bytes
                dtype = table.kind.dtype
                values = (values.view(dtype.subdtype[0]).reshape(-1, *dtype.subdtype[1])
                          if dtype.subdtype else values.view(dtype))
                if table.kind.coding == "objects":  # the members, not the headers (a view)
                    values = values[[n for n in dtype.names if not _is_header(n)]]
            values = values[content_begin:content_begin + content_items]
            out[table.name] = _branch_array(table, values, offsets, starts, entry_begin, entries,
                                            levels)
            basket_results[table.name] = (results[chunk_begin:chunk_end] if len(results) else
                                          np.zeros(chunk_end - chunk_begin, dtype=np.int64))
        if errors:
            first = errors[0]
            first.arrays = in_library(out, reader.library, self.entry_start, records)
            first.errors = errors
            try:
                raise first
            finally:  # no cycle through this frame keeps the arrays alive
                del first, errors, out
        return RootRead(reader.paths, reader.tree_name,
                        in_library(out, reader.library, self.entry_start, records),
                        basket_results,
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


def _is_header(field: str) -> bool:
    """An object's header field in uproot's AsStridedObjects dtype (its
    version, byte count, TObject's members: ``@fBits``, ``fP/@fUniqueID``)."""
    return field.rpartition("/")[2].startswith("@")


def _branch_array(table: BranchTable, values: np.ndarray, offsets: Any, starts: Any,
                  entry_begin: int, entries: int, levels: list) -> Any:
    """One branch's result as library="np" gives it (views, no copies)."""
    kind = table.kind
    if kind.layout == "fixed":
        if kind.inner:
            values = values.reshape(-1, *kind.inner)
        return values
    offsets = np.asarray(offsets)[entry_begin:entry_begin + entries + 1]
    if kind.layout == "strings":
        return Strings(offsets, np.asarray(starts)[entry_begin:entry_begin + entries], values)
    inner: Any = values
    for depth, (level, begin, count) in reversed(list(enumerate(levels))):
        bounds = np.asarray(level)[begin:begin + count + 1]
        if kind.leaf_strings and depth == len(levels) - 1:
            inner = Strings(bounds, bounds[:-1], inner)
        else:
            inner = Jagged(bounds, inner)
    return Jagged(offsets, inner)


def read(source: Any, branches: str | Iterable[str] | None = None, *, tree: str | None = None,
         filter_name: NameFilter = None,
         entry_start: int | None = None, entry_stop: int | None = None,
         executor: Executor | None = None, stages: Sequence[Stage] = (),
         library: str = "np", **uproot_only: Any) -> RootRead:
    """Decodes branches of one TTree (or fields of one RNTuple) with decoflow's engine.

    Args:
        source: a path (``"file.root"``, ``"file.root:tree"``) or an uproot
            TTree or RNTuple of a local file (an RNTuple's top-level fields are
            its "branches"; see the module's docs); or a list of them, one tree
            each, all TTrees or all RNTuples, read as
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
            thread per CPU); anything else (a ``concurrent.futures`` pool,
            uproot's executors) is refused with a TypeError.
        stages: extra stages after the native ``baskets`` stage, for example
            :func:`decoflow.glue`: they run for every basket, seeing the
            basket's compressed bytes (TKey included) as ``src`` and its decoded
            values (native order; a jagged branch's content) as ``dst``; the
            ``tag`` is the basket's id. What they return is in
            ``basket_results`` (one value per basket decoded).
        library: what :attr:`RootRead.arrays` is, as uproot's
            ``tree.arrays(names, library=...)`` gives it (but the default
            stays ``"np"``, where uproot's is ``"ak"``):

            - ``"np"``: ``{name: array}``, in the order of ``branches`` (or
              the tree's, without): ``numpy.ndarray`` for flat and fixed-size
              branches, :class:`Jagged` for jagged ones, :class:`Strings`
              for strings; views, no copies.
            - ``"ak"``: one ``awkward.Array`` of records, a field per branch
              in that order (``a.Jet_Px``, ``a["Jet_Px"]``), over the same
              memory (no copy), ``ak.array_equal`` to uproot's; no branches:
              uproot's empty ``0 * {}``.
            - ``"pd"``: a ``pandas.DataFrame``, a column per branch, indexed
              by entry number (``entry_start`` on, as uproot does). Flat
              branches are NumPy columns (no copy); jagged, string and
              fixed-size branches need ``awkward-pandas`` (as in uproot):
              without it, ModuleNotFoundError naming the branch, before
              anything is decoded.

            ``"numpy"``, ``"awkward"``, ``"pandas"`` (any case) work too.
        uproot_only: uproot's other arguments (``cut``, ``expressions``,
            ``aliases``, ``language``, ``how``, ``decompression_executor``,
            ``interpretation_executor``, ``array_cache``, ``filter_typename``,
            ``filter_branch``, ...): refused with a TypeError that says what
            to do instead (``cut``: read, then mask).

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
        TypeError: an uproot argument decoflow does not take, an executor
            that is not a decoflow.Executor, or a name in ``branches`` that
            is no branch and looks like an expression (``"x * 2"``).
        ValueError: an unknown ``library``.
        ModuleNotFoundError: ``library="pd"`` without pandas, or without
            awkward-pandas for a branch that is not flat numbers.

    Thread-safe (one graph per call).
    """
    library = check_arguments("decoflow.root.read", executor, library, uproot_only)
    keep = name_filter(filter_name)
    trees, owned = open_trees(source, tree)
    try:
        if is_rntuple(trees[0][1]):
            return _read_rntuple(trees, branches, keep, entry_start, entry_stop, executor, stages,
                                 library)
        selection = select(trees, *branch_names(trees[0][1], branches, keep))
        entries = entry_range(entry_start, entry_stop, total_entries(trees))
        pending = TreeReader(trees, selection, library).submit(entries, executor, stages)
    finally:
        for f in owned:
            f.close()
    return pending.collect()


def _read_rntuple(trees: list[tuple[str, Any]], branches: Any, keep: Any,
                  entry_start: int | None, entry_stop: int | None, executor: Executor | None,
                  stages: Sequence[Stage], library: str) -> RootRead:
    """read() of RNTuples: the fields' columns in one plan, one chunk per page."""
    if stages:
        raise TypeError("decoflow.root.read(): stages= run per TTree basket; RNTuple reads "
                        "take none")
    reader, errors, skipped = make_reader(trees, branches, keep)
    window = entry_range(entry_start, entry_stop, reader.total)
    layouts, failures = reader.read(window, executor)
    return rntuple_result(reader, layouts, errors + failures, skipped, library,
                          window[0] if window else 0)


def rntuple_result(reader: Any, layouts: dict[str, Any], errors: list[Error],
                   skipped: dict[str, str], library: str, entry_start: int) -> RootRead:
    """An RNTuple read's RootRead, or its first error raised with the fields
    that did decode in ``.arrays``."""
    out = as_library(layouts, library, entry_start)
    if errors:
        first = errors[0]
        first.arrays = out
        first.errors = errors
        try:
            raise first
        finally:
            del first, errors, out
    paths = [s.path for s in reader.srcs]
    return RootRead(paths, reader.name.rsplit(":", 1)[-1].split(" +")[0], out, {}, skipped)


def arrays(source: Any, branches: str | Iterable[str] | None = None, *, tree: str | None = None,
           filter_name: NameFilter = None,
           entry_start: int | None = None, entry_stop: int | None = None,
           executor: Executor | None = None, library: str = "np",
           **uproot_only: Any) -> Any:
    """The branches' arrays: :func:`read` (same arguments and errors) without
    extra stages, its :attr:`RootRead.arrays`.

    ``library="np"`` (the default; uproot's is ``"ak"``): ``{name: array}``.
    Flat branches are ``numpy.ndarray`` (shape ``(entries,)``, or
    ``(entries, *inner)`` for fixed-size arrays), in native byte order, equal to
    uproot's ``tree.arrays(library="np")``; jagged branches are :class:`Jagged`
    (offsets + content), strings :class:`Strings`. ``library="ak"``: one
    awkward record array, as uproot's ``tree.arrays(names)``;
    ``library="pd"``: a pandas DataFrame, as uproot's
    ``tree.arrays(names, library="pd")``.
    """
    check_arguments("decoflow.root.arrays", executor, library, uproot_only)
    return read(source, branches, tree=tree, filter_name=filter_name, entry_start=entry_start,
                entry_stop=entry_stop, executor=executor, library=library).arrays
