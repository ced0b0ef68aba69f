"""decoflow.root's adapter to uproot: opening trees, and each branch's type
and basket table from uproot's metadata (vectorised NumPy: no loop over
baskets)."""

from __future__ import annotations

import glob
import os
from typing import Any, NamedTuple

import numpy as np

from .._errors import Error, UnsupportedBranchError, UnsupportedFormatError

_RNTUPLE_CLASS = "ROOT::RNTuple"

# NumPy kind + size -> the engine's type name (decoflow/column_chunk.hpp).
_TYPE_NAMES = {
    ("b", 1): "bool",
    ("i", 1): "int8", ("i", 2): "int16", ("i", 4): "int32", ("i", 8): "int64",
    ("u", 1): "uint8", ("u", 2): "uint16", ("u", 4): "uint32", ("u", 8): "uint64",
    ("f", 4): "float32", ("f", 8): "float64",
}


def uproot_module() -> Any:
    try:
        import uproot
    except ImportError as exc:
        raise ImportError("decoflow.root reads ROOT metadata with uproot, which is not "
                          f"installed here ({exc}): pip install uproot awkward") from None
    return uproot


# ------------------------------------------------------------------ opening


def open_trees(source: Any, tree: str | None) -> tuple[list[tuple[str, Any]], list[Any]]:
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
        uproot = uproot_module()
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


def total_entries(trees: list[tuple[str, Any]]) -> int:
    return sum(int(ttree.num_entries) for _, ttree in trees)


def bytes_per_entry(trees: list[tuple[str, Any]], names: list[str], total: int) -> float:
    """Decoded bytes per entry of the branches, from uproot's uncompressed sizes."""
    return sum(int(ttree[n].uncompressed_bytes) for _, ttree in trees
               for n in names) / max(total, 1)


# ------------------------------------------------------------------ branch tables


def unsupported(name: str, what: str) -> UnsupportedBranchError:
    e = UnsupportedBranchError(
        f"branch '{name}': {what}; decoflow.root decodes numeric branches (bool, "
        "int8-int64, uint8-uint64, float32, float64; flat, fixed-size or jagged) and "
        "char* strings only",
        cause=what)
    e.branch = name
    return e


class BranchKind(NamedTuple):
    """How a branch's values are stored and returned."""

    type_name: str  # the engine's element type (uint8 for strings)
    layout: str  # "fixed", "jagged" or "strings" (decoflow/column_chunk.hpp)
    dtype: np.dtype  # native order
    inner: tuple[int, ...]  # fixed-size array dimensions

    @property
    def items(self) -> int:
        return int(np.prod(self.inner)) if self.inner else 1

    def describe(self) -> str:
        return {"strings": "string", "jagged": f"{self.type_name} jagged"}.get(
            self.layout, f"{self.type_name}{list(self.inner) or ''}")


def branch_kind(name: str, branch: Any) -> BranchKind | UnsupportedBranchError:
    """The branch's kind, or an UnsupportedBranchError naming why not."""
    uproot = uproot_module()
    try:
        interp = branch.interpretation
    except Exception as exc:  # uproot could not identify it
        return unsupported(name, f"uproot cannot interpret it ({exc})")
    if len(branch.embedded_baskets) > 0:
        return unsupported(name, f"{len(branch.embedded_baskets)} of its baskets are embedded in "
                                 "the TBranch object (not written out as keys): not supported")
    if type(interp) is uproot.AsStrings:
        if interp.header_bytes != 0 or interp.length_bytes != "1-5":  # std::string, TString
            return unsupported(name, f"interpretation {interp!r} is not supported")
        return BranchKind("uint8", "strings", np.dtype(np.uint8), ())
    full = interp

    def refused() -> UnsupportedBranchError:
        return unsupported(name, f"interpretation {full!r} is not supported")

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
    return BranchKind(type_name, "jagged" if jagged else "fixed", base.newbyteorder("="),
                      tuple(int(d) for d in inner))


class BranchTable(NamedTuple):
    """A branch's kind and its basket table over every tree — uproot's arrays,
    concatenated file after file: per basket its seek, size, file and number
    in that file, and n + 1 entry bounds running on from one file to the
    next. The engine takes it as it is (decoflow._core._RootTree)."""

    name: str
    kind: BranchKind
    seeks: np.ndarray
    sizes: np.ndarray
    bounds: np.ndarray
    files: np.ndarray
    numbers: np.ndarray

    def for_engine(self) -> tuple:
        k = self.kind
        return (self.name, k.type_name, k.layout, k.items, self.seeks, self.sizes, self.bounds,
                self.files, self.numbers)


def branch_table(name: str, trees: list[tuple[str, Any]]) -> BranchTable | Error:
    """The branch's BranchTable over every tree, or an UnsupportedBranchError."""
    kinds = [branch_kind(name, ttree[name]) for _, ttree in trees]
    for kind in kinds:
        if isinstance(kind, Error):
            return kind
    if any(kind != kinds[0] for kind in kinds):
        differ = ", ".join(f"{path}: {kind.describe()}" for (path, _), kind in zip(trees, kinds))
        return unsupported(name, f"its type differs between the files ({differ})")
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
    return BranchTable(name, kinds[0], *(np.ascontiguousarray(np.concatenate(c)) for c in
                                         (seeks, sizes, bounds, files, numbers)))
