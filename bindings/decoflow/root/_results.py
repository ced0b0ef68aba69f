"""What decoflow.root returns: :class:`Jagged`, :class:`Strings`, :class:`RootRead`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def _entry_index(i: int, n: int) -> int:
    i = int(i)  # a NumPy integer too
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"entry {i} out of range for {n} entries")
    return i


def _is_entry(i: Any) -> bool:
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _entries(i: Any, n: int) -> np.ndarray:
    """The entries an index other than an int or a step-1 slice picks, as
    NumPy would for a 1-D array of n: a slice with a step, a boolean mask of
    length n, or integers (negative from the end); int64, in order."""
    if isinstance(i, slice):
        return np.arange(n, dtype=np.int64)[i]
    if isinstance(i, tuple):
        raise IndexError(f"too many indices: decoflow.root's arrays have one dimension, "
                         f"indexed by one int, slice, boolean mask or integer array, not {i!r}")
    picks = np.asarray(i)
    if picks.ndim != 1:
        raise IndexError(f"an index array must be 1-D, not of shape {picks.shape}")
    if picks.dtype == bool:
        if len(picks) != n:
            raise IndexError(f"boolean index of {len(picks)} values for {n} entries")
        return np.flatnonzero(picks).astype(np.int64, copy=False)
    if len(picks) == 0:
        return np.zeros(0, dtype=np.int64)
    if picks.dtype.kind not in "iu":
        raise IndexError("only integers, slices, boolean masks and integer arrays are valid "
                         f"entry indices, not {picks.dtype} values")
    picks = picks.astype(np.int64)
    picks = np.where(picks < 0, picks + n, picks)
    bad = (picks < 0) | (picks >= n)
    if bad.any():
        raise IndexError(f"entry {int(np.asarray(i)[np.argmax(bad)])} out of range for "
                         f"{n} entries")
    return picks


def _gather(content: np.ndarray, begins: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray,
                                                                                 np.ndarray]:
    """content[begins[k]:ends[k]] for every k, one after another (a copy), and
    the offsets (from 0) of the pieces in it."""
    counts = ends - begins
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    where = np.repeat(begins - offsets[:-1], counts) + np.arange(offsets[-1], dtype=np.int64)
    return offsets, content[where]


class Jagged:
    """A jagged branch: ``content`` (every value, entry after entry) and
    ``offsets`` (int64, ``len + 1`` values from 0: entry ``i`` is
    ``content[offsets[i]:offsets[i + 1]]``), awkward's ListOffsetArray layout.
    Both share memory with decoflow's arrays (no copy). Lists of lists
    (``std::vector<std::vector<T>>``, ``std::vector<std::string>``): ``content``
    is itself a Jagged (or :class:`Strings`) of the level below.

    Indexed like uproot's ``library="np"`` array of arrays (a 1-D NumPy
    object array): ``j[i]`` is entry ``i`` (a view of ``content``; negative
    from the end); ``j[lo:hi]`` a Jagged of views; ``j[::2]``, ``j[mask]`` (a
    boolean array of ``len(j)`` values) and ``j[[3, -1, 0]]`` (integers, any
    order, repeats allowed) a new Jagged whose content is a copy of the
    entries picked. ``for entry in j`` yields each entry's view.
    Not thread-safe to change; reading from several threads is fine."""

    __slots__ = ("content", "offsets")

    def __init__(self, offsets: np.ndarray, content: np.ndarray) -> None:
        self.offsets = offsets
        self.content = content

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: Any) -> np.ndarray | Jagged:
        """Entry i (a view of ``content``); a Jagged for a slice (step 1:
        views, offsets from 0), a slice with a step, a boolean mask or an
        integer array (content copied). Raises IndexError as NumPy would."""
        if _is_entry(i):
            i = _entry_index(i, len(self))
            return self.content[self.offsets[i]:self.offsets[i + 1]]
        if isinstance(i, slice) and i.step in (None, 1):
            lo, hi, _ = i.indices(len(self))
            offsets = self.offsets[lo:max(lo, hi) + 1]
            return Jagged(offsets - offsets[0], self.content[offsets[0]:offsets[-1]])
        picks = _entries(i, len(self))
        offsets, content = _gather(self.content, self.offsets[picks], self.offsets[picks + 1])
        return Jagged(offsets, content)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Each entry, a view of ``content``."""
        bounds = self.offsets.tolist()
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            yield self.content[lo:hi]

    @property
    def counts(self) -> np.ndarray:
        """Values per entry (int64)."""
        return np.diff(self.offsets)

    def split(self) -> list[np.ndarray]:
        """One array per entry (views of ``content``), like ``np.split``."""
        return list(self)

    def tolist(self) -> list[list]:
        """One Python list per entry."""
        return [part.tolist() for part in self]

    def to_numpy(self) -> np.ndarray:
        """A NumPy object array of per-entry arrays (views), as uproot's
        ``library="np"``."""
        out = np.empty(len(self), dtype=object)
        for i, part in enumerate(self):
            out[i] = part  # one by one: equal-length parts would broadcast
        return out

    def to_awkward(self, records: dict[str, str] | None = None) -> Any:
        """An ``awkward.Array`` over the same memory (needs awkward);
        `records`: see :func:`to_awkward`."""
        import awkward as ak

        content = to_awkward(self.content, records).layout
        layout = ak.contents.ListOffsetArray(ak.index.Index64(self.offsets), content)
        return ak.Array(layout)

    def __repr__(self) -> str:
        inner = (f"{self.content.dtype} values" if isinstance(self.content, np.ndarray)
                 else f"lists: {self.content!r}")
        return f"<decoflow.root.Jagged: {len(self)} entries, {len(self.content)} {inner}>"


class Strings:
    """A string branch (``char*``, what uproot writes for ``"string"``):
    ``content`` holds the baskets' bytes as stored — each entry's length (one
    byte, or 255 and four more) then its UTF-8 bytes — and entry ``i`` is
    ``content[starts[i]:stops[i]]`` (awkward's ListArray layout; ``offsets``:
    the ``len + 1`` entry boundaries, length bytes included). ``content``
    shares memory with decoflow's arrays (no copy). The length bytes were
    checked against the boundaries while decoding.

    Indexed like uproot's ``library="np"`` array of ``str``: ``s[i]`` is a
    ``str``; ``s[lo:hi]`` Strings over the same bytes; ``s[::2]``, ``s[mask]``
    and ``s[[3, -1, 0]]`` new Strings whose content is a copy of the entries
    picked (length bytes included). ``for text in s`` yields each ``str``."""

    __slots__ = ("content", "offsets", "starts", "stops")

    def __init__(self, offsets: np.ndarray, starts: np.ndarray, content: np.ndarray) -> None:
        self.content = content
        self.offsets = offsets
        self.starts = starts
        self.stops = offsets[1:]

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: Any) -> str | Strings:
        """Entry i as ``str``; Strings for a slice (step 1: views), a slice
        with a step, a boolean mask or an integer array (bytes copied).
        Raises IndexError as NumPy would."""
        if _is_entry(i):
            i = _entry_index(i, len(self))
            return self.content[self.starts[i]:self.stops[i]].tobytes().decode(
                errors="surrogateescape")
        if isinstance(i, slice) and i.step in (None, 1):
            lo, hi, _ = i.indices(len(self))
            hi = max(lo, hi)
            return Strings(self.offsets[lo:hi + 1], self.starts[lo:hi], self.content)
        picks = _entries(i, len(self))
        begins = self.offsets[picks]  # each entry whole: its length bytes, then its text
        offsets, content = _gather(self.content, begins, self.offsets[picks + 1])
        return Strings(offsets, offsets[:-1] + (self.starts[picks] - begins), content)

    def __iter__(self) -> Iterator[str]:
        """Each entry as ``str``."""
        base = int(self.offsets[0])  # a slice's entries need only their own bytes
        data = self.content[base:int(self.offsets[-1])].tobytes()
        for a, b in zip(self.starts.tolist(), self.stops.tolist()):
            yield data[a - base:b - base].decode(errors="surrogateescape")

    def tolist(self) -> list[str]:
        """One ``str`` per entry."""
        return list(self)

    def to_numpy(self) -> np.ndarray:
        """A NumPy object array of ``str``, as uproot's ``library="np"``."""
        out = np.empty(len(self), dtype=object)
        out[:] = self.tolist()
        return out

    def to_awkward(self) -> Any:
        """An ``awkward.Array`` of strings over the same bytes (needs awkward)."""
        import awkward as ak

        chars = ak.contents.NumpyArray(self.content, parameters={"__array__": "char"})
        layout = ak.contents.ListArray(ak.index.Index64(self.starts), ak.index.Index64(self.stops),
                                       chars, parameters={"__array__": "string"})
        return ak.Array(layout)

    def __repr__(self) -> str:
        return f"<decoflow.root.Strings: {len(self)} entries, {len(self.content)} bytes>"


LIBRARIES = {"np": "np", "numpy": "np", "ak": "ak", "awkward": "ak", "pd": "pd", "pandas": "pd"}


def library_name(library: Any) -> str:
    """"np", "ak" or "pd" for uproot's spellings of them; ValueError otherwise."""
    name = LIBRARIES.get(library.lower()) if isinstance(library, str) else None
    if name is None:
        raise ValueError(f"library must be 'np' (NumPy), 'ak' (awkward) or 'pd' (pandas), "
                         f"not {library!r}")
    return name


def pandas_native(kind: Any) -> bool:
    """Whether a branch of this kind is a plain pandas column (flat numbers);
    the others (jagged, strings, fixed-size arrays, leaf lists) need
    awkward-pandas, as in uproot."""
    return kind.layout == "fixed" and not kind.inner and kind.dtype.names is None


def import_pandas(needs_awkward: str | None) -> tuple[Any, Any]:
    """pandas, and awkward_pandas when `needs_awkward` (a sentence naming the
    first branch that needs it) is given; ModuleNotFoundError saying what to
    install otherwise."""
    try:
        import pandas
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError("library='pd' needs pandas: pip install pandas "
                                  "(or use library='np' or 'ak')") from e
    if needs_awkward is None:
        return pandas, None
    try:
        import awkward_pandas
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(
            f"library='pd': {needs_awkward}, which pandas holds as an awkward-pandas column "
            "(as uproot does): pip install awkward-pandas, or use library='ak' or 'np'") from e
    return pandas, awkward_pandas


def to_awkward(array: Any, records: dict[str, str] | None = None) -> Any:
    """One branch's array (NumPy, Jagged or Strings) as an ``awkward.Array``
    over the same memory. Structured arrays become records; fields named
    ``"fP/fX"`` (a split class's members) nest as uproot gives them
    (``fP: {fX: ...}``), `records` naming the class of each (``{"":
    "TLorentzVector", "fP/": "TVector3"}``: awkward's ``__record__``). An
    awkward array (an RNTuple field that is neither) as it is."""
    import awkward as ak

    if isinstance(array, np.ndarray):
        if array.dtype.names is not None and (records or any("/" in n for n in array.dtype.names)):
            return ak.Array(_nested_records(array, list(array.dtype.names), "", records or {}))
        return ak.from_numpy(array, regulararray=True)
    if isinstance(array, ak.Array):
        return array
    return array.to_awkward(records) if isinstance(array, Jagged) else array.to_awkward()


def _nested_records(array: np.ndarray, names: list[str], prefix: str,
                    records: dict[str, str]) -> Any:
    """A RecordArray of `array`'s fields under `prefix`, grouped by their
    next path component (views: no copy)."""
    import awkward as ak

    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name[len(prefix):].split("/", 1)[0], []).append(name)
    contents = []
    for key, members in groups.items():
        if members == [prefix + key]:
            contents.append(ak.from_numpy(array[prefix + key], regulararray=True).layout)
        else:
            contents.append(_nested_records(array, members, prefix + key + "/", records))
    parameters = {"__record__": records[prefix]} if prefix in records else None
    return ak.contents.RecordArray(contents, list(groups), length=len(array),
                                   parameters=parameters)


def in_library(arrays: dict[str, Any], library: str, entry_start: int,
               records: dict[str, dict[str, str]] | None = None) -> Any:
    """The branches' arrays (NumPy, Jagged, Strings, in the order read) as
    `library` gives them, as uproot's ``tree.arrays(names, library=...)``
    does: "np" the dict itself; "ak" one record array (a field per branch,
    no copy); "pd" a DataFrame indexed by entry number from `entry_start`
    (flat branches as NumPy columns, no copy; the others as awkward-pandas
    columns)."""
    if library == "np":
        return arrays
    if library == "ak":
        import awkward as ak

        records = records or {}
        contents = [to_awkward(a, records.get(name)).layout for name, a in arrays.items()]
        length = len(contents[0]) if contents else 0  # no branches: uproot's 0 * {}
        return ak.Array(ak.contents.RecordArray(contents, list(arrays), length=length))
    flat = {name: isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.names is None
            for name, a in arrays.items()}
    other = next((name for name, is_flat in flat.items() if not is_flat), None)
    pandas, awkward_pandas = import_pandas(None if other is None else
                                           f"branch {other!r} is not flat")
    if not arrays:
        return pandas.DataFrame()
    length = len(next(iter(arrays.values())))
    records = records or {}
    columns = {name: a if flat[name] else
               awkward_pandas.AwkwardExtensionArray(to_awkward(a, records.get(name)))
               for name, a in arrays.items()}
    return pandas.DataFrame(columns, index=pandas.RangeIndex(entry_start, entry_start + length),
                            copy=False)


class RootRead:
    """What :func:`decoflow.root.read` returns.

    Attributes:
        arrays: every branch read, in the ``library`` asked for: ``"np"``
            ``{name: numpy.ndarray, Jagged or Strings}``; ``"ak"`` one
            awkward record array (a field per branch); ``"pd"`` a
            ``pandas.DataFrame`` indexed by entry number (see
            :func:`decoflow.root.read`).
        basket_results: ``{name: int64 array, one value per basket}``: what
            the extra stages (glue) returned for each basket, 0 otherwise.
        paths: the files read, in entry order; path: the first.
        tree: the (first file's) tree's name.
        skipped: ``{name: why}`` of the branches selected without being named
            (``branches=None`` or ``filter_name``) that decoflow cannot decode.
    """

    def __init__(self, paths: list[str], tree: str, arrays: dict[str, Any],
                 basket_results: dict[str, np.ndarray],
                 skipped: dict[str, str] | None = None) -> None:
        self.paths = paths
        self.path = paths[0]
        self.tree = tree
        self.arrays = arrays
        self.basket_results = basket_results
        self.skipped = skipped if skipped is not None else {}

    def __repr__(self) -> str:
        return f"<decoflow.root.RootRead {self.path}:{self.tree}: {list(self.arrays)}>"
