"""decoflow.root.dask: a lazy dask-awkward collection (or dask arrays) of a
TTree or an RNTuple over many files, one partition per (file, entry range), like
``uproot.dask``; each partition is decoded by decoflow's engine in whatever
process runs it.

What a task carries is small and plain: the file paths, tree names, branch
names, the awkward form and a thread count. What a process keeps
(:mod:`._worker_state`: its executor, its opened files' metadata) never
travels.
"""

from __future__ import annotations

import glob
import math
import os
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from .._errors import Error
from ._read import UPROOT_ONLY
from ._results import Jagged, Strings, in_library, library_name
from ._select import NameFilter, branch_names, name_filter, select, step_entries
from ._native import _open_native, names_rntuple
from ._uproot import BranchKind, _glob, _open_tree, bytes_per_entry, refuse_mixed_kinds
from ._worker_state import executor_for, reader_for, record_baskets, rntuple_reader_for

# uproot.dask's arguments decoflow.root.dask does not take, beyond read()'s.
_DASK_ONLY = {
    "open_files": "it opens every file once to plan the partitions (open_files=True)",
    "form_mapping": "it returns the branches as they are: remap the collection afterwards "
                    "with dask_awkward.map_partitions",
    "allow_read_errors_with_report": "a partition that fails raises its located error on the "
                                     "client; leave out the files you cannot read",
    "known_base_form": "it opens every file once to plan the partitions",
    "recursive": "it reads branches by name: a parent's sub-branches come by their own names",
    "full_paths": "it reads branches by name: a parent's sub-branches come by their own names",
}


class FileSpec(NamedTuple):
    """One file of the collection: where, which tree, and its explicit
    entry ranges (uproot's ``{"path": {"object_path": ..., "steps": ...}}``)
    or None."""

    path: str
    tree: str | None
    steps: list[tuple[int, int]] | None


def dask(files: Any, *, filter_name: NameFilter = None, step_size: int | str | None = None,
         steps_per_file: int | None = None, library: str = "ak", threads: int | None = None,
         **uproot_only: Any) -> Any:
    """A lazy collection of a tree's branches (an RNTuple's top-level fields)
    over many files, as ``uproot.dask``: one partition per (file, entry
    range), each decoded by decoflow in the process that computes it.

    Args:
        files: as uproot.dask takes them: ``"path.root:tree"`` (wildcards in
            the file part name the matching files, sorted), a path with the
            tree left out (a file of one TTree), a ``pathlib.Path``, a dict
            ``{path: tree}`` or ``{path: {"object_path": tree, "steps":
            [[start, stop], ...] or [0, 1000, 2000, ...]}}`` (explicit
            partitions), or a list of those. Local (POSIX) paths only: every
            worker must see the same paths (a shared filesystem).
        filter_name: which branches (uproot's forms: a name, glob, /regex/,
            callable, or a list of those; a plain list of branch names
            works). Named branches decoflow cannot decode raise
            UnsupportedBranchError now; branches picked by a pattern or by
            default (None: every branch) that it cannot decode are left out.
        step_size: entries per partition (an int), or a size such as
            ``"100 MB"`` (decoded bytes of the branches read), as uproot's:
            each file's step from its own size per entry, then their mean.
        steps_per_file: partitions per file (default 1 when neither is
            given); uproot's rule: ``ceil(total entries / (files *
            steps_per_file))`` entries per partition.
        library: ``"ak"`` (the default): one ``dask_awkward.Array`` of
            records, a field per branch (only the branches a computation uses
            are read: dask-awkward's column projection). ``"np"``: a dict of
            ``dask.array.Array`` per branch, as uproot.dask's
            ``library="np"`` (jagged and string branches as object arrays).
        threads: decoding threads per worker process (default: the Dask
            worker's ``nthreads``; outside a ``distributed`` worker, one per
            CPU). One executor per worker process and thread count is shared
            by every partition that runs there.

    Returns:
        A ``dask_awkward.Array`` (``library="ak"``) or ``{name:
        dask.array.Array}`` (``"np"``).

    Raises:
        decoflow.Error: at compute, a partition whose basket fails, naming
            file, branch and basket (re-raised on the client by Dask).
        UnsupportedBranchError, KeyError, TypeError, ValueError: at once, as
            for :func:`decoflow.root.arrays`; TypeError for both step_size
            and steps_per_file, or either with explicit steps.
        ModuleNotFoundError: dask-awkward (or dask) is not installed
            (``pip install decoflow[dask]``).
    """
    for name in uproot_only:
        why = UPROOT_ONLY.get(name) or _DASK_ONLY.get(name)
        if why is None:
            raise TypeError(f"decoflow.root.dask() got an unexpected keyword argument {name!r}")
        raise TypeError(f"decoflow.root.dask() takes no {name}= (uproot's): {why}")
    library = library_name(library)
    if library == "pd":
        raise NotImplementedError("decoflow.root.dask(library='pd') is not provided (nor by "
                                  "uproot.dask): use 'ak' or 'np'")
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
            raise TypeError(f"decoflow.root.dask: threads must be an int or None, not "
                            f"{type(threads).__name__}")
        if threads < 1:
            raise ValueError(f"decoflow.root.dask: threads must be at least 1, not {threads}")
        threads = int(threads)
    specs = file_specs(files)
    explicit_steps = [s.steps is not None for s in specs]
    if any(explicit_steps) and not all(explicit_steps):
        raise TypeError("decoflow.root.dask: steps were given for some files but not all")
    if step_size is not None and steps_per_file is not None:
        raise TypeError(f"decoflow.root.dask: set step_size or steps_per_file, not both "
                        f"(got {step_size!r} and {steps_per_file!r})")
    if all(explicit_steps) and (step_size is not None or steps_per_file is not None):
        raise TypeError("decoflow.root.dask: files with explicit steps take no step_size or "
                        "steps_per_file")
    keep = name_filter(filter_name)
    plan = _plan(specs, filter_name, keep, step_size, steps_per_file)
    if library == "np":
        return _numpy_arrays(plan, threads)
    return _awkward_array(plan, threads)


def file_specs(files: Any) -> list[FileSpec]:
    """uproot.dask's ``files`` as a list of FileSpec, wildcards expanded."""
    if isinstance(files, dict):
        items = list(files.items())
    elif isinstance(files, (str, os.PathLike)):
        items = [(files, None)]
    elif isinstance(files, Iterable):
        items = []
        for f in files:
            items += list(f.items()) if isinstance(f, dict) else [(f, None)]
    else:
        raise TypeError(f"decoflow.root.dask: files must be a path, a dict or a list of "
                        f"those, not {type(files).__name__}")
    if not items:
        raise ValueError("decoflow.root.dask: no ROOT files given")
    specs = []
    for source, target in items:
        tree, steps = target, None
        if isinstance(target, dict):
            tree, steps = target.get("object_path"), _steps(target.get("steps"), source)
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"decoflow.root.dask reads files by path, not "
                            f"{type(source).__name__} (pass the file's path)")
        text = os.fspath(source)
        if isinstance(source, os.PathLike):  # uproot: a Path is a path only, never "path:tree"
            paths = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
            specs += [FileSpec(p, tree, steps) for p in paths]
            continue
        for expanded in _glob(text):
            path = os.fspath(expanded)
            if tree is None and not os.path.exists(path) and ":" in path:
                path, name = path.rsplit(":", 1)
                specs.append(FileSpec(path, name, steps))
            else:
                specs.append(FileSpec(path, tree, steps))
    return specs


def _steps(steps: Any, source: Any) -> list[tuple[int, int]] | None:
    """uproot's explicit steps: [[start, stop], ...] or offsets [0, a, b, ...]."""
    if steps is None:
        return None
    steps = list(steps)
    if steps and all(isinstance(s, (list, tuple)) and len(s) == 2 for s in steps):
        return [(int(a), int(b)) for a, b in steps]
    if all(isinstance(s, (int, np.integer)) for s in steps):
        return [(int(a), int(b)) for a, b in zip(steps[:-1], steps[1:])]
    raise TypeError(f"decoflow.root.dask: steps of {source!r} must be [[start, stop], ...] or "
                    f"entry offsets [0, n1, n2, ...], not {steps!r}")


class DaskPlan(NamedTuple):
    """What a collection reads: its files, branches (an RNTuple's fields),
    the awkward form of a partition, each branch's NumPy column (its dtype
    and inner shape; None: an object array), the partitions as (file index,
    entry start, entry stop), and whether the files hold RNTuples."""

    files: list[tuple[str, str]]
    names: list[str]
    form: Any
    columns: list[tuple[np.dtype, tuple[int, ...]] | None]
    partitions: list[tuple[int, int, int]]
    rntuple: bool


def _numpy_column(kind: BranchKind) -> tuple[np.dtype, tuple[int, ...]] | None:
    return (kind.dtype, kind.inner) if kind.layout == "fixed" else None


def _plan(specs: list[FileSpec], filter_name: NameFilter, keep: Callable[[str], bool],
          step_size: Any, steps_per_file: Any) -> DaskPlan:
    """Opens every file once (uproot's metadata), selects the branches,
    checks that every file has them with the same types, and cuts the
    partitions as uproot.dask does."""
    if names_rntuple(specs[0].path, specs[0].tree):
        return _plan_rntuple(specs, filter_name, keep, step_size, steps_per_file)
    trees, owned = [], []
    try:
        for spec in specs:
            path, ttree, f = _open_tree(spec.path, spec.tree)
            trees.append((path, ttree))
            if f is not None:
                owned.append(f)
        refuse_mixed_kinds(trees)
        names, _ = branch_names(trees[0][1], None, keep)
        selection = select(trees, names, _names_only(filter_name))
        if selection.errors:
            raise selection.errors[0]
        names = [t.name for t in selection.tables]
        if not names:
            raise ValueError(f"decoflow.root.dask: filter_name={filter_name!r} selects no "
                             f"branch decoflow can decode in {trees[0][0]}"
                             + (f" (left out: {selection.skipped})" if selection.skipped else ""))
        kinds = [t.kind for t in selection.tables]
        counts = [int(ttree.num_entries) for _, ttree in trees]
        files = [(path, ttree.object_path.lstrip("/").split(";")[0]) for path, ttree in trees]
        partitions = _partitions(specs, counts, step_size, steps_per_file,
                                 [lambda t=t, n=n: bytes_per_entry([t], names, n)
                                  for (_, t), n in zip(trees, counts)])
    finally:
        for f in owned:
            f.close()
    return DaskPlan(files, names, branch_form(names, kinds), [_numpy_column(k) for k in kinds],
                    partitions, False)


def _plan_rntuple(specs: list[FileSpec], filter_name: NameFilter, keep: Callable[[str], bool],
                  step_size: Any, steps_per_file: Any) -> DaskPlan:
    """_plan of RNTuples: every file's metadata read natively once, the
    fields selected as read() selects them (refused ones named by
    filter_name raise now), the form that of an empty read."""
    from ._rntuple import as_library, make_reader

    trees = [_open_native(spec.path, spec.tree) for spec in specs]
    refuse_mixed_kinds(trees)
    named = None
    if _names_only(filter_name):
        named = [filter_name] if isinstance(filter_name, str) else list(filter_name)
    reader, errors, skipped = make_reader(trees, named, keep)
    if errors:
        raise errors[0]
    names = [p.name for p in reader.plans]
    if not names:
        raise ValueError(f"decoflow.root.dask: filter_name={filter_name!r} selects no "
                         f"field decoflow can decode in {trees[0][0]}"
                         + (f" (left out: {skipped})" if skipped else ""))
    layouts, failures = reader.read((0, 0), None)
    if failures:
        raise failures[0]
    counts = [s.entries for s in reader.srcs]
    per_entry = reader.bytes_per_entry()
    partitions = _partitions(specs, counts, step_size, steps_per_file,
                             [lambda: per_entry] * len(counts))
    files = [(path, key.object_path) for path, key in trees]
    empty = as_library(layouts, "np", 0)
    columns = [(a.dtype, a.shape[1:]) if isinstance(a, np.ndarray) else None
               for a in (empty[n] for n in names)]
    return DaskPlan(files, names, labelled_form(as_library(layouts, "ak", 0)), columns,
                    partitions, True)


def _partitions(specs: list[FileSpec], counts: list[int], step_size: Any, steps_per_file: Any,
                bytes_per_entry: list[Callable[[], float]]) -> list[tuple[int, int, int]]:
    """The partitions as uproot.dask cuts them: the files' explicit steps,
    or steps of step_size (each file's step from its own bytes per entry,
    then their mean) or of steps_per_file."""
    if specs[0].steps is not None:
        partitions = _explicit_partitions(specs, counts)
    else:
        if step_size is None:
            spf = 1 if steps_per_file is None else steps_per_file
            if isinstance(spf, bool) or not isinstance(spf, (int, np.integer)) or spf < 1:
                raise ValueError(f"decoflow.root.dask: steps_per_file must be an int >= 1, "
                                 f"not {spf!r}")
            step = max(1, math.ceil(sum(counts) / (len(counts) * int(spf))))
        else:
            per_file = [step_entries(step_size, size, n)
                        for size, n in zip(bytes_per_entry, counts)]
            step = max(1, round(sum(per_file) / len(per_file)))
        partitions = [(i, lo, min(lo + step, n)) for i, n in enumerate(counts)
                      for lo in range(0, n, step)]
    return partitions or [(0, 0, 0)]


def _names_only(filter_name: NameFilter) -> bool:
    """Whether filter_name names branches (a name or a list of names, no
    pattern): then a branch decoflow cannot decode is an error, not skipped."""
    if isinstance(filter_name, str):
        return not (glob.has_magic(filter_name) or filter_name.startswith("/"))
    if isinstance(filter_name, (list, tuple)):
        return all(isinstance(f, str) and _names_only(f) for f in filter_name)
    return False


def _explicit_partitions(specs: list[FileSpec], counts: list[int]) -> list[tuple[int, int, int]]:
    partitions = []
    for i, (spec, n) in enumerate(zip(specs, counts)):
        for start, stop in spec.steps:
            if not (0 <= start <= n and 0 <= stop <= n):
                raise ValueError(f"decoflow.root.dask: entry start {start} or stop {stop} of "
                                 f"{spec.path} is outside its {n} entries")
            if stop > start:
                partitions.append((i, start, stop))
    return partitions


# ------------------------------------------------------------------ reading a partition


def read_partition(files: list[tuple[str, str]], names: tuple[str, ...], part: tuple[int, int, int],
                   threads: int | None, library: str, rntuple: bool = False) -> Any:
    """One partition's branches (an RNTuple's fields), decoded by this
    process's executor: those of file `part[0]`, entries [part[1], part[2]).
    A failure raises decoflow's located error without the arrays that did
    decode (they would travel to the client with it)."""
    index, start, stop = part
    path, tree = files[index]
    try:
        if rntuple:
            from ._rntuple import as_library

            layouts, failures = rntuple_reader_for(path, tree, names).read(
                (start, stop), executor_for(threads))
            if failures:
                raise failures[0]
            return as_library(layouts, library, start)
        reader = reader_for(path, tree, names, library)
        result = reader.submit((start, stop), executor_for(threads)).collect()
    except Error as e:
        e.arrays = None
        e.errors = None
        raise
    record_baskets(result.basket_results)
    return result.arrays


def _empty_branch(kind: BranchKind) -> Any:
    """A branch of no entries, as decoflow returns it (for the form)."""
    if kind.layout == "jagged":
        return Jagged(np.zeros(1, np.int64), np.zeros(0, kind.dtype))
    if kind.layout == "strings":
        return Strings(np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8))
    return np.zeros((0, *kind.inner), kind.dtype)


def branch_form(names: list[str], kinds: list[BranchKind]) -> Any:
    """The awkward form of a partition (decoflow's own layouts: that of an
    empty read), each node's form_key naming its branch's index: ``b3n0``,
    ``b3n1``, ... for the nodes of branch 3."""
    return labelled_form(in_library({n: _empty_branch(k) for n, k in zip(names, kinds)}, "ak", 0))


def labelled_form(empty: Any) -> Any:
    """The form of an empty record array of branches, each node's form_key
    naming its branch's index (see branch_form)."""
    import awkward as ak

    tree = empty.layout.form.to_dict()
    for i, content in enumerate(tree["contents"]):
        counter = [0]

        def label(node: Any, i: int = i, counter: list[int] = counter) -> None:
            if isinstance(node, dict):
                if "class" in node:
                    node["form_key"] = f"b{i}n{counter[0]}"
                    counter[0] += 1
                for key in ("content", "contents"):
                    inner = node.get(key)
                    for child in inner if isinstance(inner, list) else [inner]:
                        label(child)

        label(content)
    return ak.forms.from_dict(tree)


def branches_of_keys(keys: Iterable[str]) -> set[int]:
    """The branch indexes of form keys (``b3n1`` -> 3)."""
    return {int(k[1:].split("n", 1)[0]) for k in keys if k and k.startswith("b")}


class PartitionReader:
    """dask-awkward's IO function: reads one partition (called with
    (file index, start, stop)), and implements the projection protocol so
    that only the branches a computation uses are read. Pickles as its
    plain fields (paths, names, form, thread count)."""

    def __init__(self, files: list[tuple[str, str]], names: list[str], form: Any,
                 threads: int | None, rntuple: bool = False) -> None:
        self.files = files
        self.names = names
        self.form = form
        self.threads = threads
        self.rntuple = rntuple

    def __call__(self, part: tuple[int, int, int]) -> Any:
        return read_partition(self.files, tuple(self.names), part, self.threads, "ak",
                              self.rntuple)

    def mock(self) -> Any:
        import awkward as ak

        return ak.typetracer.typetracer_from_form(self.form, highlevel=True)

    def mock_empty(self, backend: str = "cpu") -> Any:
        import awkward as ak

        return ak.to_backend(self.form.length_zero_array(), backend, highlevel=True)

    def prepare_for_projection(self) -> tuple[Any, Any, None]:
        import awkward as ak

        meta, report = ak.typetracer.typetracer_with_report(self.form, highlevel=True)
        return meta, report, None

    def necessary_columns(self, report: Any, state: Any = None) -> frozenset[str]:
        """The branches whose buffers the computation touched (data, or
        shape: a length needs the offsets); at least one, for the number of
        entries."""
        used = branches_of_keys(set(report.data_touched) | set(report.shape_touched))
        names = [self.names[i] for i in sorted(used) if i < len(self.names)]
        return frozenset(names or self.names[:1])

    def project(self, report: Any, state: Any = None) -> PartitionReader:
        return self.project_columns(self.necessary_columns(report, state))

    def project_columns(self, columns: Iterable[str]) -> PartitionReader:
        wanted = set(columns)
        keep = [i for i, n in enumerate(self.names) if n in wanted]
        form = self.form.select_columns([self.names[i] for i in keep]) if keep else self.form
        return PartitionReader(self.files, [self.names[i] for i in keep] or self.names, form,
                               self.threads, self.rntuple)

    project_manually = project_columns


def _awkward_array(plan: DaskPlan, threads: int | None) -> Any:
    try:
        import dask_awkward
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError("decoflow.root.dask needs dask-awkward: pip install "
                                  "'decoflow[dask]'") from e
    from dask.base import tokenize

    reader = PartitionReader(plan.files, plan.names, plan.form, threads, plan.rntuple)
    divisions = [0]
    for _, start, stop in plan.partitions:
        divisions.append(divisions[-1] + stop - start)
    token = tokenize(plan.files, plan.names, plan.partitions, threads, _file_identities(plan))
    return dask_awkward.from_map(reader, plan.partitions, label="decoflow-root", token=token,
                                 divisions=tuple(divisions))


def _file_identities(plan: DaskPlan) -> list[tuple[int, int]]:
    """Each file's size and modification time: a rewritten file makes a new
    collection name (Dask caches by name)."""
    out = []
    for path, _ in plan.files:
        st = os.stat(path)
        out.append((st.st_size, st.st_mtime_ns))
    return out


# ------------------------------------------------------------------ library="np"


class BranchReader:
    """A dask.array task's function: one branch of one partition, as
    uproot.dask's library="np" gives it (object arrays for jagged and
    string branches)."""

    def __init__(self, files: list[tuple[str, str]], name: str, threads: int | None,
                 rntuple: bool = False) -> None:
        self.files = files
        self.name = name
        self.threads = threads
        self.rntuple = rntuple

    def __call__(self, part: tuple[int, int, int]) -> np.ndarray:
        array = read_partition(self.files, (self.name,), part, self.threads, "np",
                               self.rntuple)[self.name]
        if isinstance(array, np.ndarray):
            return array
        if isinstance(array, (Jagged, Strings)):
            return array.to_numpy()
        out = np.empty(len(array), dtype=object)  # an RNTuple field of records, options, ...
        out[:] = list(array)
        return out


def _numpy_arrays(plan: DaskPlan, threads: int | None) -> dict[str, Any]:
    try:
        import dask.array as da
        from dask.base import tokenize
        from dask.highlevelgraph import HighLevelGraph
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError("decoflow.root.dask needs dask: pip install "
                                  "'decoflow[dask]'") from e
    lengths = tuple(stop - start for _, start, stop in plan.partitions)
    identities = _file_identities(plan)
    out = {}
    for name, column in zip(plan.names, plan.columns):
        dtype, inner = column if column is not None else (np.dtype(object), ())
        reader = BranchReader(plan.files, name, threads, plan.rntuple)
        key = f"{name}-decoflow-root-" + tokenize(plan.files, name, plan.partitions, identities)
        zeros = (0,) * len(inner)
        graph = {(key, i, *zeros): (reader, part) for i, part in enumerate(plan.partitions)}
        chunks = (lengths, *((d,) for d in inner))
        out[name] = da.Array(HighLevelGraph.from_collections(key, graph, dependencies=()), key,
                             chunks, dtype=dtype)
    return out

