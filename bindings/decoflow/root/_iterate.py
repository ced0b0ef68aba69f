"""decoflow.root.iterate: a tree in steps of entries, each basket decoded once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import Executor
from ._read import TreeReader, check_arguments, rntuple_result
from ._rntuple import is_rntuple, make_reader
from ._select import NameFilter, branch_names, entry_range, name_filter, select, step_entries
from ._native import open_trees
from ._uproot import bytes_per_entry, total_entries


def iterate(source: Any, branches: str | Iterable[str] | None = None, *,
            tree: str | None = None, filter_name: NameFilter = None,
            step_size: int | str = "100 MB",
            entry_start: int | None = None, entry_stop: int | None = None,
            executor: Executor | None = None, library: str = "np",
            **uproot_only: Any) -> Iterator[Any]:
    """Yields the arrays of consecutive entry ranges of the tree, like
    uproot's ``iterate``: memory bounded by the step, not the file. Each step
    is what :func:`decoflow.root.arrays` returns for its range: with
    ``library="np"`` (the default; uproot's is ``"ak"``) ``{name: array}``,
    with ``"ak"`` one awkward record array, with ``"pd"`` a DataFrame indexed
    by entry number (the step's first entry on, counting across the files,
    as uproot's ``iterate`` does).

    The next step is decoded while the caller works on the current one (two
    steps' arrays are alive at a time). Each basket is decoded once: one that
    straddles a step boundary is decoded by the first step holding it, which
    hands the later entries over to the next steps (straight into the next
    step's arrays, or a private copy, made before the caller sees the step,
    that a step lying inside the basket returns views of). Memory: a step's
    arrays span whole baskets (the entries outside the step untouched, so not
    paged in). The files are mapped once for the whole iteration.

    Args:
        step_size: entries per step (an int), or a size such as ``"100 MB"``
            / ``"64 MiB"``: that many bytes of decoded values per step,
            estimated from the branches' uncompressed sizes.
        source, branches, tree, filter_name, entry_start, entry_stop, executor,
            library, uproot_only: as for :func:`decoflow.root.arrays`.

    Raises:
        The errors of :func:`decoflow.root.arrays`, from the step that meets
        them (steps before it were yielded whole); the arguments' TypeError
        and ValueError at once, before the first step is asked for.
    """
    library = check_arguments("decoflow.root.iterate", executor, library, uproot_only)
    keep = name_filter(filter_name)
    return _steps(source, branches, tree, keep, step_size, entry_start, entry_stop, executor,
                  library)


def _steps(source: Any, branches: str | Iterable[str] | None, tree: str | None,
           keep: Callable[[str], bool], step_size: int | str, entry_start: int | None,
           entry_stop: int | None, executor: Executor | None, library: str) -> Iterator[Any]:
    """iterate()'s steps, its arguments checked."""
    trees, owned = open_trees(source, tree)
    pending = None
    try:
        if is_rntuple(trees[0][1]):
            yield from _rntuple_steps(trees, branches, keep, step_size, entry_start, entry_stop,
                                      executor, library)
            return
        names, explicit = branch_names(trees[0][1], branches, keep)
        selection = select(trees, names, explicit)  # once: each step plans from it
        total = total_entries(trees)
        start, stop = entry_range(entry_start, entry_stop, total) or (0, total)
        step = step_entries(step_size, lambda: bytes_per_entry(
            trees, [t.name for t in selection.tables], total), total)
        reader = TreeReader(trees, selection, library)
        for lo in range(start, stop, step):
            upcoming = reader.submit((lo, min(lo + step, stop)), executor, previous=pending)
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


def _rntuple_steps(trees: list, branches: Any, keep: Callable[[str], bool], step_size: int | str,
                   entry_start: int | None, entry_stop: int | None, executor: Executor | None,
                   library: str) -> Iterator[Any]:
    """iterate() of RNTuples: a step decodes the clusters holding its
    entries unless the last decode holds them (then its views)."""
    reader, errors, skipped = make_reader(trees, branches, keep)
    start, stop = entry_range(entry_start, entry_stop, reader.total) or (0, reader.total)
    step = step_entries(step_size, lambda: reader.bytes_per_entry(), reader.total)
    for lo in range(start, stop, step):
        layouts, failures = reader.read((lo, min(lo + step, stop)), executor)
        yield rntuple_result(reader, layouts, errors + failures, skipped, library, lo).arrays
