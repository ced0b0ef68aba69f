"""decoflow.root's native metadata route: a path's tree read by decoflow's
own C++ reader (graphs/root_file.hpp, root_tree_meta.hpp) in one call per
file — every branch's kind and basket table, as NumPy arrays — so reading
from a path needs no uproot for the branches it types. A branch it does not
type (a base class's member, objects: it says why) is read through uproot, for
that branch only, when uproot is installed; otherwise it is refused by name.
An uproot tree passed in is read through uproot as before (_uproot.py)."""

from __future__ import annotations

import gc
import os
from typing import Any, NamedTuple

import numpy as np

from .. import _core
from .._errors import Error
from . import _uproot
from ._uproot import BranchKind, BranchTable, unsupported


class NativeBranch(NamedTuple):
    """One branch as the native reader gives it (decoflow._core._root_tree_meta)."""

    path: str
    name: str
    class_name: str
    kind: dict | None  # the engine's kind + "inner", "record"; None: not typed natively
    why: str  # why kind is None
    entries: int
    parent: int  # index of its parent branch, -1 at the top
    leaves: list  # [(class, name, title)]
    seeks: np.ndarray
    sizes: np.ndarray
    bounds: np.ndarray  # n + 1 entry bounds
    embedded: list  # the embedded baskets' bytes (as the engine reads them when typed)
    borders: np.ndarray  # value bytes of embedded baskets, -1 for baskets on file
    files: np.ndarray  # zeros
    numbers: np.ndarray  # 0, 1, ...
    inputs: np.ndarray  # the index in `embedded` of an embedded basket, -1 for the others
    tot_bytes: int  # fTotBytes

    @property
    def uncompressed_bytes(self) -> int:
        """uproot's name for fTotBytes (iterate's step sizes use it)."""
        return self.tot_bytes


_KINDS: dict[str, BranchKind] = {}  # a tree has few distinct kinds: made once each


def branch_kind(branch: NativeBranch) -> BranchKind | None:
    """The native kind as decoflow.root's BranchKind (None when untyped)."""
    k = branch.kind
    if k is None:
        return None
    made = _KINDS.get(k["key"])
    if made is None:
        made = _KINDS[k["key"]] = _make_kind(k)
    return made


def _make_kind(k: dict) -> BranchKind:
    if k["coding"] == "record":
        dtype = np.dtype([(name, np.dtype(t), tuple(dims)) if dims else (name, np.dtype(t))
                          for name, t, dims in k["record"]])
    else:
        dtype = np.dtype(k["type"])
    return BranchKind(k["type"], k["layout"], dtype, tuple(k["inner"]), k["header_bytes"],
                      k["coding"], k["nbits"], k["low"], k["high"], tuple(k["fields"]),
                      k["depth"], k["leaf_strings"])


class NativeTree:
    """A TTree of one file, its metadata read natively. Looks up branches by
    name or path as uproot does (tree[name]: the native row); uproot_tree()
    opens the file with uproot on first use, for what only uproot knows."""

    def __init__(self, path: str, tree: str) -> None:
        self.path, self.object_path = path, tree
        # Thousands of small objects at once: the cyclic GC would walk them
        # again and again while they are made (none of them forms a cycle).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.name, self.num_entries, rows = _core._root_tree_meta(path, tree)
            self.rows = [NativeBranch(*row) for row in rows]
        finally:
            if collecting:
                gc.enable()
        self._lookup: dict[str, int] = {}
        for i, b in enumerate(self.rows):  # the first of a name wins, as in uproot
            self._lookup.setdefault(b.path, i)
        for i, b in enumerate(self.rows):
            self._lookup.setdefault(b.name, i)
        self._file: Any = None
        self._uproot_tree: Any = None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._lookup

    def branch(self, name: str) -> NativeBranch:
        try:
            return self.rows[self._lookup[name]]
        except KeyError:
            raise KeyError(f"{name!r} is not a branch of {self.path}:{self.name}") from None

    def readable_names(self) -> list[str]:
        """Every branch's name, depth first: what _select._every_branch lists
        for an uproot tree (test_root_native checks they agree)."""
        return [b.name for b in self.rows]

    def uproot_tree(self) -> Any:
        if self._uproot_tree is None:
            uproot = _uproot.uproot_module()
            self._file = uproot.open(self.path)
            self._uproot_tree = self._file[self.object_path]
        return self._uproot_tree

    def __getitem__(self, name: str) -> NativeBranch:  # as uproot's tree[name] (bytes_per_entry)
        return self.branch(name)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._uproot_tree = None


def open_trees(source: Any, tree: str | None) -> tuple[list[tuple[str, Any]], list[Any]]:
    """_uproot.open_trees' result, with each path's tree read natively; any
    source the native reader does not take (an uproot tree, a file it refuses,
    a tree name it cannot resolve) goes through _uproot.open_trees, whose
    errors are decoflow.root's (without uproot: the native reader's own)."""
    sources = list(source) if isinstance(source, (list, tuple)) else [source]
    if not sources:
        return _uproot.open_trees(source, tree)
    try:
        expanded = [item for s in sources for item in _uproot._glob(s)]
    except FileNotFoundError:
        return _uproot.open_trees(source, tree)
    trees: list[tuple[str, Any]] = []
    try:
        for item in expanded:
            if not isinstance(item, (str, os.PathLike)):
                raise LookupError
            trees.append(_open_native(os.fspath(item), tree))
    except (LookupError, Error, OSError) as exc:
        for _, t in trees:
            t.close()
        if not _have_uproot():  # the native reader's words, as _uproot's would be
            if isinstance(exc, Error):
                raise
            if exc.args and isinstance(exc, _NamesNoTree):
                raise ValueError(exc.args[0]) from None
        return _uproot.open_trees(source, tree)
    return trees, [t for _, t in trees]


class _NamesNoTree(LookupError):
    """A path that names no tree in a file that holds several, or none."""


def _have_uproot() -> bool:
    try:
        _uproot.uproot_module()
    except ImportError:
        return False
    return True


def _open_native(path: str, tree: str | None) -> tuple[str, NativeTree]:
    """(path, NativeTree); LookupError where _uproot.open_trees should speak
    (a remote URL, several trees or none, a key that is no TTree)."""
    if tree is None and not os.path.exists(path) and ":" in path:
        path, tree = path.rsplit(":", 1)
    if "://" in path or not os.path.isfile(path):
        raise LookupError(path)
    if tree is None:
        names = sorted({p for p, _, cls, _ in _core._root_keys(path) if cls == "TTree"})
        if len(names) != 1:
            raise _NamesNoTree(f"{path} holds {len(names)} TTrees ({', '.join(names)}): name "
                               "one ('file.root:tree' or tree=...)")
        tree = names[0]
    return path, NativeTree(path, tree)


def branch_table(name: str, trees: list[tuple[str, Any]],
                 embedded: list[bytes]) -> BranchTable | Error:
    """_uproot.branch_table's result from the native metadata: the branch's
    kind and basket table over every tree (vectorised, no loop over
    baskets); through uproot when the native reader does not type it."""
    rows = [ttree.branch(name) for _, ttree in trees]
    kinds = [branch_kind(r) for r in rows]
    if any(k is None for k in kinds):
        why = next(r.why for r in rows if r.kind is None)
        if not _have_uproot():
            return unsupported(name, f"decoflow's native reader does not type it ({why}) and "
                                     "uproot, which would, is not installed")
        return _uproot.branch_table(name, [(p, t.uproot_tree()) for p, t in trees], embedded)
    if any(k != kinds[0] for k in kinds):
        differ = ", ".join(f"{path}: {k.describe()}" for (path, _), k in zip(trees, kinds))
        return unsupported(name, f"its type differs between the files ({differ})")
    if len(rows) == 1:  # one file: the native arrays as they are
        row = rows[0]
        inputs = row.inputs
        if row.embedded:  # engine inputs: after the file and the embedded baskets so far
            inputs = np.where(inputs >= 0, inputs + 1 + len(embedded), -1)
            embedded.extend(row.embedded)
        return BranchTable(name, kinds[0], row.seeks, row.sizes, row.bounds, row.files,
                           row.numbers, inputs, row.borders)
    columns: dict[str, list[np.ndarray]] = {c: [] for c in ("seeks", "sizes", "files", "numbers",
                                                            "inputs", "borders", "bounds")}
    base = 0
    for f, row in enumerate(rows):
        first = len(trees) + len(embedded)
        embedded.extend(row.embedded)
        columns["seeks"].append(row.seeks)
        columns["sizes"].append(row.sizes)
        columns["files"].append(row.files + f)
        columns["numbers"].append(row.numbers)
        columns["inputs"].append(np.where(row.inputs >= 0, row.inputs + first, -1))
        columns["borders"].append(row.borders)
        columns["bounds"].append(row.bounds[:-1] + base)
        base += int(row.bounds[-1])
    columns["bounds"].append(np.array([base], dtype=np.int64))
    c = {k: np.ascontiguousarray(np.concatenate(v)) for k, v in columns.items()}
    return BranchTable(name, kinds[0], c["seeks"], c["sizes"], c["bounds"], c["files"],
                       c["numbers"], c["inputs"], c["borders"])
