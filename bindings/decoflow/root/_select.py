"""Which branches and entries a decoflow.root read takes: ``filter_name``
with uproot's rules, the branches decoflow can decode (the others refused or
skipped), entry ranges and ``iterate``'s step sizes."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .._errors import Error
from . import _native
from ._uproot import BranchTable, branch_table

NameFilter = str | Iterable[str] | Callable[[str], bool] | None

_REGEX_FILTER = re.compile(r"^/(.*)/([imsx]*)$", re.DOTALL)
_REGEX_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def name_filter(filter_name: NameFilter) -> Callable[[str], bool]:
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
        each = [name_filter(f) for f in patterns]
        return lambda name: any(keep(name) for keep in each)
    raise TypeError("filter_name must be None, a glob, a /regex/, a name, a list of those or "
                    f"a callable, not {type(filter_name).__name__}")


# What no branch name holds but uproot's expressions do: operators, calls, spaces.
_EXPRESSION = re.compile(r"[\s()+\-*%<>=!&|~^,]")


def branch_names(ttree: Any, branches: str | Iterable[str] | None,
                 keep: Callable[[str], bool]) -> tuple[list[str], bool]:
    """The names to read (those kept by the filter), and whether the caller
    named them (then unsupported ones are errors; otherwise they are
    skipped). TypeError for a name that is no branch and looks like one of
    uproot's expressions (``"x * 2"``, ``"sqrt(x)"``)."""
    if branches is None:
        every = (ttree.readable_names() if isinstance(ttree, _native.NativeTree)
                 else _every_branch(ttree))
        return [name for name in every if keep(name)], False
    names = [branches] if isinstance(branches, str) else list(branches)
    for name in names:
        if isinstance(name, str) and _EXPRESSION.search(name) and name not in ttree:
            raise TypeError(
                f"{name!r} is not a branch of the tree: decoflow.root reads branches by name and "
                "evaluates no expressions (uproot's formulas); read the branches it uses, then "
                "compute with NumPy or awkward, e.g. a = decoflow.root.arrays(tree, ['x', 'y']); "
                "a['x'] * a['y']")
    return [name for name in names if keep(name)], True


def _every_branch(parent: Any) -> Iterator[str]:
    """Every branch's name, as uproot's tree.arrays() takes them: a parent of
    sub-branches (uproot's AsGrouped, a split class) gives its sub-branches,
    by their own names, instead of itself."""
    for branch in parent.branches:
        try:
            grouped = type(branch.interpretation).__name__ == "AsGrouped"
        except Exception:  # noqa: BLE001  uproot cannot interpret it: listed, then refused
            grouped = False
        if not grouped:
            yield branch.name
        yield from _every_branch(branch)


class Selection(NamedTuple):
    """The branches a read decodes, and what became of the others selected."""

    tables: list[BranchTable]
    errors: list[Error]  # named by the caller, not decodable: the read raises
    skipped: dict[str, str]  # selected by a filter or by default: left out
    embedded: list[bytes]  # the bytes of baskets kept in TBranch records


def select(trees: list[tuple[str, Any]], names: list[str], explicit: bool) -> Selection:
    """The tables of the branches decoflow can read; those it cannot are
    errors when the caller named them, otherwise skipped (with the reason)."""
    selection = Selection([], [], {}, [])
    if isinstance(trees[0][1], _native.NativeTree):
        made = _native.branch_tables(names, trees, selection.embedded)
    else:
        made = [branch_table(name, trees, selection.embedded) for name in names]
    for name, got in zip(names, made):
        if not isinstance(got, Error):
            selection.tables.append(got)
        elif explicit:
            selection.errors.append(got)
        else:
            selection.skipped[name] = got.cause
    return selection


def entry_range(start: int | None, stop: int | None, num_entries: int) -> tuple[int, int] | None:
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


_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9,
               "kib": 2**10, "mib": 2**20, "gib": 2**30}


def step_entries(step_size: int | str, per_entry: Callable[[], float], total: int) -> int:
    """Entries per iterate() step: `step_size` entries, or a size such as
    "100 MB" divided by the decoded bytes per entry (``per_entry()``)."""
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
    bytes_per_entry = per_entry()
    # Rounded as uproot does: the same steps as its iterate() for a whole tree.
    return max(1, round(size / bytes_per_entry)) if bytes_per_entry > 0 else max(total, 1)
