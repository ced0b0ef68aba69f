"""decoflow.root's native metadata route: a path's tree read by decoflow's
own C++ reader (graphs/root_file.hpp, root_tree_meta.hpp) in one call per
file and kept there: Python sees each branch's path, name and kind, and the
engine builds the read's basket tables from the metadata itself — so reading
from a path needs no uproot for the branches it types, and no Python object
per basket table. A branch it does not type (a TBranchObject, objects holding containers:
it says why) is read through uproot, for that branch only, when uproot is
installed; otherwise it is refused by name.
An uproot tree passed in is read through uproot as before (_uproot.py)."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np

from .. import _core
from .._errors import Error
from . import _uproot
from ._rntuple import RNTUPLE_CLASS, RNTupleKey
from ._uproot import BranchKind, BranchTable, unsupported


class NativeBranch(NamedTuple):
    """One branch whole, as the native reader gives it (_RootTreeMeta.branch):
    for listings and tests; reads do not build it (the engine takes the
    metadata itself)."""

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


_KINDS: dict[str, BranchKind] = {}  # few distinct kinds in a process: made once each


def branch_kind(branch: NativeBranch) -> BranchKind | None:
    """The native kind as decoflow.root's BranchKind (None when untyped)."""
    return None if branch.kind is None else _kind(branch.kind)


def _kind(k: dict) -> BranchKind:
    made = _KINDS.get(k["key"])
    if made is None:
        made = _KINDS[k["key"]] = _make_kind(k)
    return made


def _make_kind(k: dict) -> BranchKind:
    if k["coding"] == "record" and [r[0] for r in k["record"]] == [""]:
        (_, t, dims), = k["record"]  # x[n][3]: each row the values of one unnamed field
        dtype = np.dtype((np.dtype(t), tuple(dims)))
    elif k["coding"] in ("record", "objects"):
        dtype = np.dtype([(name, np.dtype(t), tuple(dims)) if dims else (name, np.dtype(t))
                          for name, t, dims in k["record"]])
    else:
        dtype = np.dtype(k["type"])
    return BranchKind(k["type"], k["layout"], dtype, tuple(k["inner"]), k["header_bytes"],
                      k["coding"], k["nbits"], k["low"], k["high"], tuple(k["fields"]),
                      k["depth"], k["leaf_strings"], tuple(tuple(c) for c in k["classes"]))


class BranchSize(NamedTuple):
    """What decoflow.root asks of uproot's tree[name] (iterate's step sizes)."""

    uncompressed_bytes: int  # fTotBytes


class NativeTree:
    """A TTree of one file, its metadata read natively and kept in C++
    (``meta``, a _core._RootTreeMeta); here only what branches are selected
    by: their paths, names and kinds. Looks up branches by name or path as
    uproot does (the first of a name wins); uproot_tree() opens the file
    with uproot on first use, for what only uproot knows."""

    def __init__(self, path: str, tree: str) -> None:
        self.path, self.object_path = path, tree
        self.meta = _core._root_tree_meta(path, tree)
        self.name, self.num_entries = self.meta.name, self.meta.entries
        self.paths, self.names, kinds, kind_index, self._tot_bytes = self.meta.table()
        distinct = [_kind(k) for k in kinds]
        self._kinds = [None if k < 0 else distinct[k] for k in kind_index.tolist()]
        self._lookup: dict[str, int] = {}
        for names in (self.paths, self.names):
            for i, n in enumerate(names):
                self._lookup.setdefault(n, i)
        self._file: Any = None
        self._uproot_tree: Any = None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._lookup

    def index(self, name: str) -> int:
        try:
            return self._lookup[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a branch of {self.path}:{self.name}") from None

    def kind(self, i: int) -> BranchKind | None:
        """Branch i's kind, or None when the native reader does not type it."""
        return self._kinds[i]

    def why(self, i: int) -> str:
        """Why branch i is not typed natively."""
        return self.meta.why(i)

    def readable_names(self) -> list[str]:
        """Every branch's name, depth first: what _select._every_branch lists
        for an uproot tree (test_root_native checks they agree)."""
        # A parent of sub-branches (uproot's AsGrouped) gives its sub-branches
        # instead of itself; a TClonesArray's counts are a branch of their own.
        hidden = {i for i, k in enumerate(self._kinds)
                  if k is None and self.meta.why(i).startswith("a parent of sub-branches")}
        return [n for i, n in enumerate(self.names) if i not in hidden]

    def uproot_tree(self) -> Any:
        if self._uproot_tree is None:
            uproot = _uproot.uproot_module()
            self._file = uproot.open(self.path)
            self._uproot_tree = self._file[self.object_path]
        return self._uproot_tree

    def __getitem__(self, name: str) -> BranchSize:  # as uproot's tree[name] (bytes_per_entry)
        return BranchSize(int(self._tot_bytes[self.index(name)]))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._uproot_tree = None


class NativeTable(NamedTuple):
    """A branch typed natively over every tree: the engine builds its basket
    table from the trees' metadata (_core._RootTree), so none is made here.
    Stands where _uproot's BranchTable does (name, kind, for_engine)."""

    name: str
    kind: BranchKind
    metas: list  # each tree's _core._RootTreeMeta
    indices: list[int]  # the branch's index in each

    def for_engine(self) -> tuple:
        return (self.name, self.metas, self.indices)


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
        _uproot.refuse_mixed_kinds(trees)
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


def _open_native(path: str, tree: str | None) -> tuple[str, NativeTree | RNTupleKey]:
    """(path, NativeTree or RNTupleKey); LookupError where _uproot.open_trees
    should speak (a remote URL, several trees or none, a key that is neither
    a TTree nor an RNTuple)."""
    if tree is None and not os.path.exists(path) and ":" in path:
        path, tree = path.rsplit(":", 1)
    if "://" in path or not os.path.isfile(path):
        raise LookupError(path)
    tree, rntuple = _named_tree(path, tree)
    return path, RNTupleKey(path, tree) if rntuple else NativeTree(path, tree)


def names_rntuple(path: str, tree: str | None) -> bool:
    """Whether a local path (and tree name, or the file's one tree) names an
    RNTuple, read from the file's keys; False where it cannot tell (the
    TTree route's errors then speak)."""
    try:
        return _named_tree(path, tree)[1]
    except (LookupError, Error, OSError):
        return False


def _named_tree(path: str, tree: str | None) -> tuple[str, bool]:
    """(the key `tree` names, or the file's one TTree or RNTuple; whether it
    is an RNTuple), from the file's keys; _NamesNoTree when `tree` is None
    and the file holds several or none."""
    keys = _core._root_keys(path)
    if tree is None:
        names = sorted({p for p, _, cls, _ in keys if cls in ("TTree", RNTUPLE_CLASS)})
        if len(names) != 1:
            raise _NamesNoTree(f"{path} holds {len(names)} TTrees and RNTuples "
                               f"({', '.join(names)}): name one ('file.root:name' or tree=...)")
        tree = names[0]
    return tree, _key_class(keys, tree) == RNTUPLE_CLASS


def _key_class(keys: list[tuple[str, int, str, str]], name: str) -> str | None:
    """The class of the key `name` ("dir/name" or "dir/name;cycle": without
    a cycle, the highest, as uproot takes it); None when there is none."""
    where, _, cycle = name.strip("/").partition(";")
    found = [(c, cls) for p, c, cls, _ in keys if p == where and (not cycle or str(c) == cycle)]
    return max(found)[1] if found else None


def branch_tables(names: list[str], trees: list[tuple[str, Any]],
                  embedded: list[bytes]) -> list[BranchTable | NativeTable | Error]:
    """Each branch's kind and table over every tree (KeyError for a name that
    is no branch): natively when the native reader types it alike in every
    file (its table is the engine's to build), through uproot
    (_uproot.branch_table) when it does not, or refused."""
    metas = [ttree.meta for _, ttree in trees]
    indices = [[ttree.index(name) for name in names] for _, ttree in trees]
    kinds = [[ttree.kind(i) for i in rows] for (_, ttree), rows in zip(trees, indices)]
    out: list[BranchTable | NativeTable | Error] = []
    for j, name in enumerate(names):
        first = kinds[0][j]
        # one object per distinct kind (_KINDS): the same kind is the same object
        if first is not None and all(k[j] is first for k in kinds[1:]):
            out.append(NativeTable(name, first, metas, [rows[j] for rows in indices]))
        else:
            out.append(_other_table(name, trees, embedded, [rows[j] for rows in indices],
                                    [k[j] for k in kinds]))
    return out


def _other_table(name: str, trees: list[tuple[str, Any]], embedded: list[bytes],
                 indices: list[int], kinds: list[BranchKind | None]) -> BranchTable | Error:
    """A branch not typed natively in some file (through uproot, or refused
    without it), or typed differently in two files (refused)."""
    if any(k is None for k in kinds):
        why = next(t.why(i) for (_, t), i, k in zip(trees, indices, kinds) if k is None)
        if not _have_uproot():
            return unsupported(name, f"decoflow's native reader does not type it ({why}) and "
                                     "uproot, which would, is not installed")
        return _uproot.branch_table(name, [(p, t.uproot_tree()) for p, t in trees], embedded)
    differ = ", ".join(f"{path}: {k.describe()}" for (path, _), k in zip(trees, kinds))
    return unsupported(name, f"its type differs between the files ({differ})")
