"""What decoflow.root returns: :class:`Jagged`, :class:`Strings`, :class:`RootRead`."""

from __future__ import annotations

from typing import Any

import numpy as np


def _entry_index(i: int, n: int) -> int:
    i = int(i)  # a NumPy integer too
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"entry {i} out of range for {n} entries")
    return i


def _entry_slice(s: slice, n: int) -> tuple[int, int]:
    lo, hi, step = s.indices(n)
    if step != 1:
        raise ValueError("decoflow.root: slices of entries take step 1")
    return lo, max(lo, hi)


class Jagged:
    """A jagged branch: ``content`` (every value, entry after entry) and
    ``offsets`` (int64, ``len + 1`` values from 0: entry ``i`` is
    ``content[offsets[i]:offsets[i + 1]]``), awkward's ListOffsetArray layout.
    Both share memory with decoflow's arrays (no copy)."""

    __slots__ = ("content", "offsets")

    def __init__(self, offsets: np.ndarray, content: np.ndarray) -> None:
        self.offsets = offsets
        self.content = content

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int | slice) -> np.ndarray | Jagged:
        """Entry i (a view of ``content``), or the entries of a slice (step 1)
        as a Jagged (content a view, offsets from 0)."""
        if isinstance(i, slice):
            lo, hi = _entry_slice(i, len(self))
            offsets = self.offsets[lo:hi + 1]
            return Jagged(offsets - offsets[0], self.content[offsets[0]:offsets[-1]])
        i = _entry_index(i, len(self))
        return self.content[self.offsets[i]:self.offsets[i + 1]]

    @property
    def counts(self) -> np.ndarray:
        """Values per entry (int64)."""
        return np.diff(self.offsets)

    def split(self) -> list[np.ndarray]:
        """One array per entry (views of ``content``), like ``np.split``."""
        return np.split(self.content, self.offsets[1:-1])

    def tolist(self) -> list[list]:
        """One Python list per entry."""
        return [part.tolist() for part in self.split()]

    def to_numpy(self) -> np.ndarray:
        """A NumPy object array of per-entry arrays (views), as uproot's
        ``library="np"``."""
        out = np.empty(len(self), dtype=object)
        for i, part in enumerate(self.split() if len(self) else []):
            out[i] = part  # one by one: equal-length parts would broadcast
        return out

    def to_awkward(self) -> Any:
        """An ``awkward.Array`` over the same memory (needs awkward)."""
        import awkward as ak

        layout = ak.contents.ListOffsetArray(ak.index.Index64(self.offsets),
                                             ak.contents.NumpyArray(self.content))
        return ak.Array(layout)

    def __repr__(self) -> str:
        return (f"<decoflow.root.Jagged: {len(self)} entries, {len(self.content)} "
                f"{self.content.dtype} values>")


class Strings:
    """A string branch (``char*``, what uproot writes for ``"string"``):
    ``content`` holds the baskets' bytes as stored — each entry's length (one
    byte, or 255 and four more) then its UTF-8 bytes — and entry ``i`` is
    ``content[starts[i]:stops[i]]`` (awkward's ListArray layout; ``offsets``:
    the ``len + 1`` entry boundaries, length bytes included). ``content``
    shares memory with decoflow's arrays (no copy). The length bytes were
    checked against the boundaries while decoding."""

    __slots__ = ("content", "offsets", "starts", "stops")

    def __init__(self, offsets: np.ndarray, starts: np.ndarray, content: np.ndarray) -> None:
        self.content = content
        self.offsets = offsets
        self.starts = starts
        self.stops = offsets[1:]

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int | slice) -> str | Strings:
        """Entry i as ``str``, or the entries of a slice (step 1) as Strings
        (views)."""
        if isinstance(i, slice):
            lo, hi = _entry_slice(i, len(self))
            return Strings(self.offsets[lo:hi + 1], self.starts[lo:hi], self.content)
        i = _entry_index(i, len(self))
        return self.content[self.starts[i]:self.stops[i]].tobytes().decode(errors="surrogateescape")

    def tolist(self) -> list[str]:
        base = int(self.offsets[0])  # a slice's entries need only their own bytes
        data = self.content[base:int(self.offsets[-1])].tobytes()
        return [data[a - base:b - base].decode(errors="surrogateescape")
                for a, b in zip(self.starts.tolist(), self.stops.tolist())]

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


class RootRead:
    """What :func:`decoflow.root.read` returns.

    Attributes:
        arrays: ``{name: numpy.ndarray or Jagged}`` of every branch read.
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
