"""decoflow.root's adapter to uproot: opening trees, and each branch's type
and basket table from uproot's metadata (vectorised NumPy: no loop over
baskets)."""

from __future__ import annotations

import glob
import os
import re
from typing import Any, NamedTuple

import numpy as np

from .._errors import CorruptInputError, Error, UnsupportedBranchError, UnsupportedFormatError

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
        refuse_mixed_kinds(trees)
    except BaseException:
        for f in owned:
            f.close()
        raise
    return trees, owned


def refuse_mixed_kinds(trees: list[tuple[str, Any]]) -> None:
    """UnsupportedFormatError for a list mixing TTrees and RNTuples."""
    kinds = ["RNTuple" if getattr(t, "classname", None) == _RNTUPLE_CLASS else "TTree"
             for _, t in trees]
    if len(set(kinds)) > 1:
        listed = ", ".join(f"{path}: {kind}" for (path, _), kind in zip(trees, kinds))
        raise UnsupportedFormatError(
            f"decoflow.root reads several files as one when they hold the same kind of "
            f"tree: this list mixes TTrees and RNTuples ({listed}); read each kind apart",
            cause="a list mixing TTrees and RNTuples")


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
        if "://" in path:
            raise ValueError(f"decoflow.root reads local files only, not {path!r} (copy it "
                             "locally, or mount the storage as a POSIX filesystem)")
        if tree is None and not os.path.exists(path) and ":" in path:
            path, tree = path.rsplit(":", 1)
        _check_root_file(path)
        try:
            f = uproot.open(path)
        except Exception as exc:  # noqa: BLE001  uproot's words for a file cut short
            raise CorruptInputError(
                f"{path}: its ROOT metadata cannot be read (the file has "
                f"{os.path.getsize(path)} bytes): a truncated or damaged ROOT file",
                cause="truncated or damaged ROOT file") from exc
        try:
            if tree is None:
                classes = f.classnames()
                names = sorted({k.split(";")[0] for k, c in classes.items()
                                if c in ("TTree", _RNTUPLE_CLASS)})
                if len(names) != 1:
                    raise ValueError(
                        f"{path} holds {len(names)} TTrees and RNTuples ({', '.join(names)}): "
                        "name one ('file.root:name' or tree=...)")
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


def _check_root_file(path: str) -> None:
    """A clear error for a path that is not a ROOT file (ROOT's files start
    with "root")."""
    with open(path, "rb") as f:  # FileNotFoundError / IsADirectoryError as they are
        magic = f.read(4)
    if magic != b"root":
        raise UnsupportedFormatError(
            f"{path} is not a ROOT file (it starts with {magic!r}, a ROOT file with b'root')",
            cause="not a ROOT file")


def _as_ttree(obj: Any, where: str | None) -> Any:
    """obj if it is an uproot TTree or RNTuple (decoflow.root._rntuple reads
    those); a clear error otherwise."""
    if getattr(obj, "classname", None) == _RNTUPLE_CLASS:
        return obj
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


# What decoflow.root refuses, by uproot interpretation (the explicit list;
# docs/python.md repeats it). Anything else that is not decoded is refused as
# "another layout", naming the interpretation.
REFUSALS = {
    "AsObjects": "objects and STL containers other than std::vector and std::set of "
                 "numbers or strings, nested up to 4 levels (maps, class objects, "
                 "std::vector of those) are not decoded yet",
    "AsStridedObjects": "split-class records (AsStridedObjects) whose members are not "
                        "packed numbers are not decoded yet",
    "AsGrouped": "a parent of sub-branches (AsGrouped): read its sub-branches by name",
    "AsJagged": "jagged objects or records are not decoded yet",
    "AsDtype": "a leaf list that is not packed numbers, or a type conversion other than "
               "float32 to float64",
    "AsStrings": "strings whose lengths are not 1 byte (or 255 and 4)",
}


def refusal(interp: Any) -> str:
    """Why decoflow.root refuses a branch of this interpretation (REFUSALS)."""
    return REFUSALS.get(type(interp).__name__, "another layout")


def unsupported(name: str, what: str) -> UnsupportedBranchError:
    e = UnsupportedBranchError(
        f"branch '{name}': {what}; decoflow.root decodes numbers (flat, fixed-size, "
        "jagged, std::vector, Double32_t/Float16_t, leaf lists), strings (char*, "
        "std::string, TString) and embedded baskets of those",
        cause=what)
    e.branch = name
    return e


class BranchKind(NamedTuple):
    """How a branch's values are stored and returned."""

    type_name: str  # the engine's element type (uint8 for strings)
    layout: str  # "fixed", "jagged" or "strings" (decoflow/column_chunk.hpp)
    dtype: np.dtype  # native order
    inner: tuple[int, ...]  # fixed-size array dimensions
    header_bytes: int = 0  # before each entry's values (std::vector: 10)
    coding: str = "plain"  # how each stored element becomes a value (column_chunk.hpp)
    nbits: int = 0  # Double32_t / Float16_t
    low: float = 0.0
    high: float = 0.0
    fields: tuple[int, ...] = ()  # a leaf list's element widths, row after row
    depth: int = 0  # nested: list levels inside each entry's list
    leaf_strings: bool = False  # nested: the last level holds strings
    records: tuple[tuple[str, str], ...] = ()  # objects: (field prefix, class name)

    def for_engine(self) -> dict:
        return {"type": self.type_name, "layout": self.layout, "items": self.items,
                "header_bytes": self.header_bytes, "coding": self.coding, "nbits": self.nbits,
                "low": float(self.low), "high": float(self.high), "fields": list(self.fields),
                "depth": self.depth, "leaf_strings": self.leaf_strings}

    @property
    def items(self) -> int:
        return int(np.prod(self.inner)) if self.inner else 1

    def describe(self) -> str:
        if self.layout == "nested":
            return "var * " * (self.depth + 1) + ("string" if self.leaf_strings else
                                                 self.type_name)
        return {"strings": "string", "jagged": f"{self.type_name} jagged"}.get(
            self.layout, f"{self.type_name}{list(self.inner) or ''}")


def branch_kind(name: str, branch: Any) -> BranchKind | UnsupportedBranchError:
    """The branch's kind, or an UnsupportedBranchError naming why not."""
    uproot = uproot_module()
    try:
        interp = branch.interpretation
    except Exception as exc:  # uproot could not identify it
        return _float_leaf_kind(name, branch) or unsupported(
            name, f"uproot cannot interpret it ({exc})")
    if type(interp) is uproot.AsStrings:
        # char*, std::string, TString: a length (1 byte, or 255 and 4), after
        # header_bytes (a std::string member's byte count and version).
        if interp.length_bytes != "1-5" or not 0 <= interp.header_bytes <= 255:
            return unsupported(name, f"{refusal(interp)}: interpretation {interp!r}")
        return BranchKind("uint8", "strings", np.dtype(np.uint8), (), int(interp.header_bytes))
    full = interp

    def refused() -> UnsupportedBranchError:
        return unsupported(name, f"{refusal(full)}: interpretation {full!r}")

    if type(interp) is uproot.AsObjects:
        return _nested_kind(interp.model) or refused()
    if type(interp) is uproot.AsStridedObjects:
        return _objects_kind(interp, False, 0) or refused()
    if (type(interp) is uproot.AsJagged and type(interp.content) is uproot.AsStridedObjects
            and 0 <= interp.header_bytes <= 255):
        return _objects_kind(interp.content, True, int(interp.header_bytes)) or refused()

    jagged, header_bytes = False, 0
    if type(interp) is uproot.AsJagged:
        # x[n]/F (no header), std::vector<T> (10 bytes per entry), T* x //[n] (1)
        if not 0 <= interp.header_bytes <= 255:
            return refused()
        jagged, interp, header_bytes = True, interp.content, int(interp.header_bytes)
    layout = "jagged" if jagged else "fixed"
    leaf_coding = _leaf_title_coding(branch)
    if isinstance(leaf_coding, str):
        return unsupported(name, leaf_coding)
    if leaf_coding is not None and type(interp) in (uproot.AsDtype, uproot.AsDouble32,
                                                    uproot.AsFloat16):
        # A Double32_t / Float16_t leaf: its title's range, read after its type
        # code (uproot reads the first brackets, an array's dimensions).
        double, coding, nbits, low, high = leaf_coding
        if type(interp) is uproot.AsDtype:
            from_dtype = np.dtype(interp.from_dtype)
            inner = tuple(int(d) for d in from_dtype.shape)
        else:
            inner = tuple(int(d) for d in interp.to_dims)
        if jagged and inner:
            return refused()
        dtype = np.dtype(np.float64 if double else np.float32)
        return BranchKind(dtype.name, layout, dtype, inner, header_bytes, coding, nbits, low, high)
    if type(interp) in (uproot.AsDouble32, uproot.AsFloat16):
        # Double32_t / Float16_t with a range (scaled) or bits only (truncated).
        double = type(interp) is uproot.AsDouble32
        truncated = interp.low == interp.high == 0
        inner = tuple(int(d) for d in interp.to_dims)
        if jagged and inner:
            return refused()
        dtype = np.dtype(np.float64 if double else np.float32)
        return BranchKind("float64" if double else "float32", layout, dtype, inner, header_bytes,
                          "truncated" if truncated else "scaled", int(interp.num_bits),
                          float(interp.low), float(interp.high))
    if type(interp) is not uproot.AsDtype:
        return refused()
    from_dtype = np.dtype(interp.from_dtype)
    to_dtype = np.dtype(interp.to_dtype)
    if from_dtype.names is not None:
        return _record_kind(from_dtype, to_dtype, jagged) or refused()
    base, inner = from_dtype.subdtype if from_dtype.subdtype else (from_dtype, ())
    type_name = _TYPE_NAMES.get((base.kind, base.itemsize))
    to_base = to_dtype.subdtype[0] if to_dtype.subdtype else to_dtype
    inner = tuple(int(d) for d in inner)
    if type_name is not None and jagged and inner and to_base == base.newbyteorder("="):
        # float x[n][3]: a variable number of fixed-size rows, each row a
        # record of its values (byteswapped one by one); NumPy (rows, 3).
        row = np.dtype((to_base, inner))
        return BranchKind("uint8", "jagged", row, (), header_bytes, "record",
                          fields=(base.itemsize,) * int(np.prod(inner)))
    if type_name is None or (jagged and inner):
        return refused()
    if to_base == base.newbyteorder("="):
        if type_name == "uint32" and not inner and header_bytes == 0 and _tobject_bits(branch):
            return BranchKind(type_name, layout, to_base, inner, 0, "tobject_bits")
        return BranchKind(type_name, layout, to_base, inner, header_bytes)
    if base == np.dtype(">f4") and to_base == np.dtype(np.float64):  # Double32_t, no range or bits
        return BranchKind("float64", layout, to_base, inner, header_bytes, "float32_to_float64")
    return refused()


_KBITS = 15  # TStreamerElement's type of a TObject's fBits


def _tobject_bits(branch: Any) -> bool:
    """Whether the branch is a TObject's fBits member (streamer type kBits):
    4 bytes an object, 6 for a referenced one (column_chunk.hpp's tobject_bits)."""
    try:
        return int(branch.member("fStreamerType")) == _KBITS
    except Exception:  # noqa: BLE001  a TBranch without one
        return False


_FLOAT_LEAVES = {"TLeafD32": True, "TLeafF16": False}


def _leaf_title_coding(branch: Any) -> tuple | str | None:
    """For a branch of one Double32_t / Float16_t leaf (TLeafD32, TLeafF16):
    (is Double32, coding, nbits, low, high) from its title ``x[3]/d[0,100,12]``
    with ROOT's defaults — no range: Double32 stored as float32, Float16 in 12
    bits; a range without bits: 32 — or a reason it cannot be read; None for
    other branches."""
    try:
        leaves = branch.member("fLeaves")
    except Exception:
        return None
    if len(leaves) != 1 or getattr(leaves[0], "classname", None) not in _FLOAT_LEAVES:
        return None
    double = _FLOAT_LEAVES[leaves[0].classname]
    title = str(leaves[0].member("fTitle"))
    # The range follows the type code: "x[3]/d[0,100,12]", or a title of just
    # "d[0,100,12]"; an array's dimensions ("x[3]") are not a range.
    found = re.search(r"(?:^|/)[dfDF]?\[([^\]]*)\]\s*$", title)
    if found is None:
        return (True, "float32_to_float64", 0, 0.0, 0.0) if double else (False, "truncated", 12,
                                                                            0.0, 0.0)
    numbers = _range_numbers(found.group(1))
    if numbers is None or len(numbers) not in (2, 3):
        return f"its {leaves[0].classname} title {title!r} has a range decoflow cannot read"
    low, high = float(numbers[0]), float(numbers[1])
    nbits = int(numbers[2]) if len(numbers) == 3 and float(numbers[2]).is_integer() else 32
    if not 2 <= nbits <= 32:
        nbits = 32
    if low == high == 0:
        if nbits > 23:
            return f"its {leaves[0].classname} title {title!r} keeps {nbits} mantissa bits"
        return double, "truncated", nbits, low, high
    if high <= low:
        return f"its {leaves[0].classname} title {title!r} has an empty range"
    return double, "scaled", nbits, low, high


def _float_leaf_kind(name: str, branch: Any) -> BranchKind | UnsupportedBranchError | None:
    """A Double32_t / Float16_t leaf that uproot cannot interpret (it fails
    on some ranges of arrays): its kind from the leaf alone — flat, one
    dimension (fLen) or jagged (a count leaf) — or None."""
    coding = _leaf_title_coding(branch)
    if coding is None:
        return None
    if isinstance(coding, str):
        return unsupported(name, coding)
    leaf = branch.member("fLeaves")[0]
    title = str(leaf.member("fTitle"))
    dims = re.findall(r"\[([^\]]*)\]", title.split("/")[0])
    jagged = leaf.member("fLeafCount") is not None
    length = int(leaf.member("fLen"))
    if len(dims) > 1 or (jagged and length != 1):
        return None
    double, kind, nbits, low, high = coding
    dtype = np.dtype(np.float64 if double else np.float32)
    inner = (length,) if length > 1 else ()
    return BranchKind(dtype.name, "jagged" if jagged else "fixed", dtype, inner, 0, kind, nbits,
                      low, high)


def _range_numbers(text: str) -> list[float] | None:
    """The comma-separated numbers of a Double32_t range (``0, 2*pi, 12``):
    numbers, pi, + - * / and parentheses; None for anything else."""
    import ast
    import math

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id.lower() == "pi":
            return math.pi
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = value(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult,
                                                                 ast.Div)):
            a, b = value(node.left), value(node.right)
            op = node.op
            return (a + b if isinstance(op, ast.Add) else a - b if isinstance(op, ast.Sub)
                    else a * b if isinstance(op, ast.Mult) else a / b)
        raise ValueError(ast.dump(node))

    try:
        tree = ast.parse(f"({text},)", mode="eval").body
        return [value(e) for e in tree.elts] if isinstance(tree, ast.Tuple) else None
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None


MAX_NESTED_DEPTH = 3  # decoflow/column_chunk.hpp's max_nested_depth


def _list_items(model: Any) -> Any:
    """What a std::vector's or std::set's model holds (ROOT streams a set as
    a vector: a count, then the items; uproot gives both as lists); None for
    another model."""
    from uproot.containers import AsSet, AsVector

    if type(model) is AsVector:
        return model.values
    if type(model) is AsSet:
        return model.keys
    return None


def _nested_kind(model: Any) -> BranchKind | None:
    """``std::vector`` (or ``std::set``) of ``std::vector``s (up to
    MAX_NESTED_DEPTH levels inside) of numbers or of ``std::string``, and
    ``std::vector<std::string>``
    — a header (byte count, version) per entry, a count per list, the values
    or strings at the last level — as a nested kind; None for other objects."""
    from uproot.containers import AsString

    if _list_items(model) is None or not model.header:
        return None
    depth, inner = 0, _list_items(model)
    while _list_items(inner) is not None:
        if inner.header:
            return None
        depth, inner = depth + 1, _list_items(inner)
    if depth > MAX_NESTED_DEPTH:
        return None
    if type(inner) is AsString:
        if inner.header or inner.length_bytes != "1-5":
            return None
        return BranchKind("uint8", "nested", np.dtype(np.uint8), (), 10, depth=depth,
                          leaf_strings=True)
    if not isinstance(inner, np.dtype) or inner.names is not None or inner.subdtype is not None:
        return None
    type_name = _TYPE_NAMES.get((inner.kind, inner.itemsize))
    if type_name is None:
        return None
    dtype = inner.newbyteorder("=")
    if depth == 0:  # std::vector<T> itself, as AsJagged gives it
        return BranchKind(type_name, "jagged", dtype, (), 10)
    return BranchKind(type_name, "nested", dtype, (), 10, depth=depth)


def _packed_widths(from_dtype: np.dtype) -> list[int] | None:
    """The element widths of a structured dtype's row, field after field
    (arrays as their elements), when every field is a number and they are
    packed; None otherwise."""
    widths: list[int] = []
    for name in from_dtype.names:
        field = from_dtype.fields[name][0]
        base, shape = field.subdtype if field.subdtype else (field, ())
        if base.names is not None or (base.kind, base.itemsize) not in _TYPE_NAMES:
            return None
        widths += [base.itemsize] * int(np.prod(shape, dtype=np.int64))
    return widths if sum(widths) == from_dtype.itemsize else None


def _objects_kind(interp: Any, jagged: bool, header_bytes: int) -> BranchKind | None:
    """A split class's objects stored whole, one fixed-size row each
    (AsStridedObjects: TLorentzVector, TVector3), flat or in a std::vector:
    rows of the headers' and members' values (``"@..."`` fields: headers,
    left out of the results), or None."""
    from_dtype = np.dtype(interp.from_dtype)
    widths = _packed_widths(from_dtype) if from_dtype.names else None
    if widths is None:
        return None
    return BranchKind("uint8", "jagged" if jagged else "fixed", np.dtype(interp.to_dtype), (),
                      header_bytes, "objects", fields=tuple(widths),
                      records=tuple(_record_names(interp, "")))


def _record_names(interp: Any, prefix: str) -> list[tuple[str, str]]:
    """(field prefix, class name) of an AsStridedObjects and of its members
    that are objects too: awkward's ``__record__`` names, as uproot gives them."""
    uproot = uproot_module()
    names = [(prefix, uproot.model.classname_decode(interp.model.__name__)[0])]
    for member, inner in interp.members:
        if type(inner) is uproot.AsStridedObjects:
            names += _record_names(inner, f"{prefix}{member}/")
    return names


def _record_kind(from_dtype: np.dtype, to_dtype: np.dtype, jagged: bool) -> BranchKind | None:
    """A leaf list (``x/F:y/I``, one row of packed fields per entry) as a
    record, or None when decoflow does not decode it."""
    if jagged or to_dtype != from_dtype.newbyteorder("="):
        return None
    widths = _packed_widths(from_dtype)
    if widths is None:
        return None
    return BranchKind("uint8", "fixed", to_dtype, (), 0, "record", fields=tuple(widths))


class BranchTable(NamedTuple):
    """A branch's kind and its basket table over every tree — uproot's arrays,
    concatenated file after file: per basket its seek, size, file and number
    in that file, and n + 1 entry bounds running on from one file to the
    next; for a basket kept inside its TBranch record (the last ones, if any:
    uproot's ``embedded_baskets``), the engine input holding its bytes and
    their value bytes (-1 for the others). The engine takes it as it is
    (decoflow._core._RootTree)."""

    name: str
    kind: BranchKind
    seeks: np.ndarray
    sizes: np.ndarray
    bounds: np.ndarray
    files: np.ndarray
    numbers: np.ndarray
    inputs: np.ndarray
    borders: np.ndarray

    def for_engine(self) -> tuple:
        return (self.name, self.kind.for_engine(), self.seeks, self.sizes, self.bounds,
                self.files, self.numbers, self.inputs, self.borders)


def _embedded_bytes(basket: Any, kind: BranchKind) -> bytes:
    """An embedded basket as the engine reads it (ChunkFraming::embedded): its
    values as stored, then (jagged, strings) the entry-offsets trailer with
    fKeylen 0: count, each entry's start, a last word, big-endian int32."""
    data = np.asarray(basket.data, dtype=np.uint8)
    if kind.layout == "fixed":
        return data.tobytes()
    n = int(basket.num_entries)
    offsets = basket.byte_offsets
    if offsets is None:  # equal-size entries: ROOT leaves the offsets implied
        offsets = np.arange(n + 1, dtype=np.int64) * (len(data) // n if n else 0)
    trailer = np.concatenate([[n], np.asarray(offsets[:-1], dtype=np.int64), [0]]).astype(">i4")
    return data.tobytes() + trailer.tobytes()


def branch_table(name: str, trees: list[tuple[str, Any]],
                 embedded: list[bytes]) -> BranchTable | Error:
    """The branch's BranchTable over every tree, or an UnsupportedBranchError.
    Its embedded baskets' bytes are appended to `embedded` (engine input
    len(trees) + their position there)."""
    kinds = [branch_kind(name, ttree[name]) for _, ttree in trees]
    for kind in kinds:
        if isinstance(kind, Error):
            return kind
    if any(kind != kinds[0] for kind in kinds):
        differ = ", ".join(f"{path}: {kind.describe()}" for (path, _), kind in zip(trees, kinds))
        return unsupported(name, f"its type differs between the files ({differ})")
    kind = kinds[0]
    columns: dict[str, list[np.ndarray]] = {c: [] for c in
                                            ("seeks", "sizes", "files", "numbers", "inputs",
                                             "borders", "bounds")}
    mine: list[bytes] = []
    base = 0
    for f, (_, ttree) in enumerate(trees):
        branch = ttree[name]
        try:
            kept = list(branch.embedded_baskets)
            n = branch.num_baskets
        except Exception as exc:  # uproot cannot parse the TBranch's basket array
            return unsupported(name, f"uproot cannot read its embedded baskets ({exc})")
        normal = n - len(kept)
        first_input = len(trees) + len(embedded) + len(mine)
        for basket in kept:
            mine.append(_embedded_bytes(basket, kind))
        columns["seeks"].append(np.concatenate([
            np.asarray(branch.member("fBasketSeek")[:normal], dtype=np.int64),
            np.zeros(len(kept), dtype=np.int64)]))
        columns["sizes"].append(np.concatenate([
            np.asarray(branch.member("fBasketBytes")[:normal], dtype=np.int64),
            np.array([len(b) for b in mine[len(mine) - len(kept):]], dtype=np.int64)]))
        columns["files"].append(np.full(n, f, dtype=np.int64))
        columns["numbers"].append(np.arange(n, dtype=np.int64))
        columns["inputs"].append(np.concatenate([
            np.full(normal, -1, dtype=np.int64),
            np.arange(first_input, first_input + len(kept), dtype=np.int64)]))
        columns["borders"].append(np.concatenate([
            np.full(normal, -1, dtype=np.int64),
            np.array([int(b.border) for b in kept], dtype=np.int64)]))
        local = np.asarray(branch.entry_offsets, dtype=np.int64)  # n + 1
        columns["bounds"].append(local[:-1] + base)
        base += int(local[-1])
    columns["bounds"].append(np.array([base], dtype=np.int64))
    embedded.extend(mine)
    c = {k: np.ascontiguousarray(np.concatenate(v)) for k, v in columns.items()}
    return BranchTable(name, kind, c["seeks"], c["sizes"], c["bounds"], c["files"], c["numbers"],
                       c["inputs"], c["borders"])
