"""What a ROOT file holds, natively (no uproot): its keys, and a tree's
branches with the type decoflow.root reads each as."""

from __future__ import annotations

import os
from typing import Any

from .. import _core
from ._native import NativeTree, open_trees
from ._rntuple import RNTupleKey, Schema, native


def keys(path: str | os.PathLike) -> list[str]:
    """Every key of the ROOT file at ``path``, subdirectories' too, as uproot's
    ``uproot.open(path).keys()`` lists them (``"events;1"``, ``"dir;1"``,
    ``"dir/tree;1"``), read natively.

    Raises:
        CorruptInputError: not a ROOT file, a file cut short, or damaged
            metadata (a key outside the file, a directory loop), naming the
            file and what was being read.
        OSError: the file cannot be opened.
    """
    return [f"{p};{cycle}" for p, cycle, _, _ in _core._root_keys(os.fspath(path))]


def branches(source: Any, *, tree: str | None = None) -> dict[str, str]:
    """A tree's branches (``"file.root:tree"``, or ``tree=``), depth first by
    their full paths as uproot's ``tree.keys()`` gives them, each with what
    decoflow.root reads it as: ``"float32"``, ``"float64[3]"``,
    ``"int32 jagged"``, ``"string"``, ``"record"`` — or ``"uproot: <why>"``
    for a branch the native reader does not type (read through uproot when
    it is installed, which may still refuse it). An RNTuple's top-level
    fields, in order, each with its type as the RNTuple names it
    (``"std::vector<float>"``), or ``"refused: <why>"`` for a field
    decoflow.root does not read. What users call ``tree.keys()`` /
    ``tree.show()`` for, without uproot.

    Raises:
        ValueError: the file holds several trees and none is named.
        CorruptInputError: damaged metadata (see :func:`keys`).
    """
    trees, owned = open_trees(source, tree)
    try:
        ttree = trees[0][1]
        if isinstance(ttree, RNTupleKey):
            return _fields(ttree)
        if not isinstance(ttree, NativeTree):
            raise ValueError(f"decoflow.root.branches reads a local ROOT file's tree by path, "
                             f"not {source!r}")
        out = {}
        for i, path in enumerate(ttree.paths):
            kind = ttree.kind(i)
            out[path] = ("record" if kind is not None and kind.coding == "record" else
                         kind.describe() if kind is not None else f"uproot: {ttree.why(i)}")
        return out
    finally:
        for f in owned:
            f.close()


def _fields(key: RNTupleKey) -> dict[str, str]:
    """branches() of an RNTuple: each top-level field's type, or why it is refused."""
    schema = Schema(native(key.path, key, key.object_path))
    names = [schema.fields[i].name for i in schema.top]
    return {name: (f"refused: {planned.cause}" if isinstance(planned, Exception)
                   else schema.fields[schema.by_name[name]].type)
            for name, planned in zip(names, schema.plan(names))}
