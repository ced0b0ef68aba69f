"""The exception hierarchy, rooted at :class:`decoflow.Error`.

Every failure the engine reports is a ``decoflow::Error`` with a stable
``ErrorCode``; :func:`_from_native` picks the class below for each code. The
mapping is deliberate (and tested): a caller can catch the exact failure
(``ChecksumError``), its family (``CorruptInputError``), or everything
(``decoflow.Error``). Classes that describe a bad argument also derive from
``ValueError``, and cancellation from ``concurrent.futures.CancelledError``.
"""

from __future__ import annotations

import concurrent.futures

__all__ = [
    "Error",
    "InvalidArgumentError",
    "SliceError",
    "CorruptInputError",
    "SizeMismatchError",
    "UnsupportedFormatError",
    "UnsupportedBranchError",
    "ChecksumError",
    "FileIOError",
    "CancelledError",
    "GlueError",
    "ResourceError",
    "InternalError",
    "StageError",
]


class Error(Exception):
    """Base of every decoflow error.

    Attributes:
        code: the engine's error code name (``"corrupt_input"``, ...).
        cause: what went wrong, without the location.
        graph: the graph's name, or ``None``.
        node: the stage's name, or ``None``.
        chunk: the failing chunk's index within its graph, or ``None``.

    Reads of ROOT files (:mod:`decoflow.root`) also say where in the data:

    Attributes:
        branch: the failing branch's name, or ``None``.
        basket: the failing basket's number among its branch's baskets in its
            file, or ``None``.
        file: the path of the file holding that basket, or ``None``.
        arrays: ``{name: array}`` of every branch of the read that did decode
            (not pickled).
        errors: every failure of the read, this one first (not pickled).
    """

    code: str = "error"
    branch: str | None = None
    basket: int | None = None
    file: str | None = None
    arrays: dict | None = None
    errors: list | None = None

    _LOCATION = ("branch", "basket", "file")

    def __init__(self, message: str = "", *, cause: str | None = None, graph: str | None = None,
                 node: str | None = None, chunk: int | None = None) -> None:
        super().__init__(message)
        self.cause = cause if cause is not None else message
        self.graph = graph
        self.node = node
        self.chunk = chunk

    def __reduce__(self):  # picklable across processes, with its location
        where = {k: self.__dict__[k] for k in self._LOCATION if k in self.__dict__}
        return (_rebuild, (type(self), str(self), self.cause, self.graph, self.node, self.chunk),
                where)


def _rebuild(cls, message, cause, graph, node, chunk):
    return cls(message, cause=cause, graph=graph, node=node, chunk=chunk)


class InvalidArgumentError(Error, ValueError):
    """A parameter that can never be valid (unknown codec, bad width, bad ids)."""

    code = "invalid_argument"


class SliceError(Error, ValueError):
    """A destination slice outside its array, or overlapping another one
    (of the same graph, or of a graph still running on the same array)."""

    code = "slice_error"


class CorruptInputError(Error):
    """Compressed bytes that do not decode (truncated, flipped, malformed)."""

    code = "corrupt_input"


class SizeMismatchError(Error):
    """The decoded size differs from the declared size or the slice length."""

    code = "size_mismatch"


class UnsupportedFormatError(Error):
    """A format decoflow recognises but does not decode (ROOT's old ``CS``)."""

    code = "unsupported_format"


class UnsupportedBranchError(UnsupportedFormatError):
    """A ROOT branch whose type decoflow.root does not decode (the message
    names it and its uproot interpretation; ``branch`` is its name)."""


class ChecksumError(CorruptInputError):
    """A checksum in the input (ROOT L4's XXH64, an lz4 frame's) does not match."""

    code = "checksum_mismatch"


class FileIOError(Error, OSError):
    """Reading or writing a file failed (the message names the path)."""

    code = "io_error"


class CancelledError(Error, concurrent.futures.CancelledError):
    """The graph was cancelled (``Future.cancel()``, Ctrl-C in ``result()``)."""

    code = "cancelled"


class GlueError(Error):
    """Python glue raised, kept a view past its call, or could not be loaded.

    Attributes:
        remote_traceback: the traceback formatted inside the subinterpreter
            that raised (text: no Python object crosses interpreters), or None.
    """

    code = "glue_error"

    def __init__(self, message: str = "", **kwargs) -> None:
        super().__init__(message, **kwargs)
        text = self.cause or ""
        at = text.find("Traceback (most recent call last):")
        self.remote_traceback: str | None = text[at:] if at >= 0 else None


class ResourceError(Error):
    """Memory or a subinterpreter could not be obtained, or the process cannot
    run graphs (a child forked from a process with decoflow threads)."""

    code = "resource_error"


class InternalError(Error):
    """A broken invariant inside decoflow: a bug, please report it."""

    code = "internal"


class StageError(Error):
    """A caller-supplied native stage failed with something other than a
    decoflow error."""

    code = "stage_error"


_BY_CODE: dict[str, type[Error]] = {
    cls.code: cls
    for cls in (InvalidArgumentError, SliceError, CorruptInputError, SizeMismatchError,
                UnsupportedFormatError, ChecksumError, FileIOError, CancelledError, GlueError,
                ResourceError, InternalError, StageError)
}


def _from_native(code: int, message: str, cause: str, graph: str, node: str,
                 chunk: int | None) -> Error:
    """Builds the exception for a native decoflow::Error (called by _core)."""
    from . import _core

    names = {value: name for name, value in _core._error_codes().items()}
    cls = _BY_CODE.get(names.get(code, ""), Error)
    return cls(message, cause=cause, graph=graph or None, node=node or None, chunk=chunk)
