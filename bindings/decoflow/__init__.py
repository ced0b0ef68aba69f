"""decoflow: parallel decompression pipelines into shared arrays.

Build a :class:`Graph` (chunks of compressed input, the stages they go
through, the slices of destination arrays they land in), then run it on an
:class:`Executor`::

    import decoflow, numpy as np
    out = decoflow.empty(1000, "float32")
    g = decoflow.Graph("example")
    inp = g.add_input(compressed_bytes)
    g.add_stage(decoflow.decode())
    g.add_chunk(inp, 0, len(compressed_bytes), out, codec="zstd")
    with decoflow.Executor(threads=4) as ex:
        ex.submit(g).result()
    values = np.asarray(out)   # no copy

Native stages run on the engine's TBB threads without the GIL; Python glue
stages (:func:`glue`) run in subinterpreters with their own GIL, so they run in
parallel too. See docs/python.md for the user guide.

ROOT files: :mod:`decoflow.root` decodes TTree branches into NumPy arrays
(``decoflow.root.arrays("file.root:tree", ["px", "Jet_Px"])``, ``iterate()``;
the metadata read natively; uproot for what only it types), see ``help(decoflow.root)``.

Command line: ``python -m decoflow`` (``--info``, ``--self-test``,
``--api-reference``; ``--help`` lists the rest); the C++ tools
``decoflow-decode`` (a multi-frame .zst / .lz4 file decoded in parallel) and
``decoflow-root-decode`` (ROOT branches into raw files) are built from the
source tree, not installed by pip.
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 12):  # pragma: no cover - pip refuses first (requires-python)
    raise ImportError(
        "decoflow needs Python 3.12 or newer (glue runs in own-GIL subinterpreters, PEP 684); "
        f"this is {sys.version.split()[0]}"
    )

import atexit
import concurrent.futures
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from . import _core
from ._errors import (
    CancelledError,
    ChecksumError,
    CorruptInputError,
    Error,
    FileIOError,
    GlueError,
    InternalError,
    InvalidArgumentError,
    ResourceError,
    SizeMismatchError,
    SliceError,
    StageError,
    UnsupportedFormatError,
)

__version__ = "0.1.0"

__all__ = [
    "Array", "Stage", "Graph", "Executor", "Future", "Progress",
    "empty", "zeros", "adopt", "decode", "byteswap", "glue", "codecs",
    "Error", "InvalidArgumentError", "SliceError", "CorruptInputError", "SizeMismatchError",
    "UnsupportedFormatError", "ChecksumError", "FileIOError", "CancelledError", "GlueError",
    "ResourceError", "InternalError", "StageError",
    "__version__",
]

Array = _core.Array
Stage = _core.Stage


def _array_dunder(self, dtype=None, copy=None):
    # NumPy tries the buffer protocol first; only when that export is refused
    # (a running graph writes the array) does it come here. Without this, it
    # would wrap the Array in a 0-d object array instead of reporting why.
    view = np.asarray(memoryview(self))  # raises the BufferError
    return view if dtype is None else view.astype(dtype, copy=bool(copy))


Array.__array__ = _array_dunder

# ------------------------------------------------------------------ arguments
#
# Public functions check their arguments here, so that a mistake is reported
# in decoflow's words, naming the function and the argument, rather than by
# nanobind ("incompatible function arguments") or as a C++ cast failure.

_MAX_THREADS = 4096
_MAX_U64 = (1 << 64) - 1
_MAX_I64 = (1 << 63) - 1


def _int_arg(value: Any, where: str, what: str, *, minimum: int = 0,
             maximum: int = _MAX_U64, meaning: str = "") -> int:
    """``value`` as an int in [minimum, maximum]: TypeError for another type,
    InvalidArgumentError (a ValueError) out of range, both naming ``where``
    (the function) and ``what`` (the argument)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {what} must be an int{meaning}, not {type(value).__name__} "
                        f"{value!r}")
    n = int(value)
    if n < minimum or n > maximum:
        bound = f"from {minimum} to {maximum}" if maximum < _MAX_I64 else f">= {minimum}"
        raise InvalidArgumentError(f"{where}: {what} must be {bound}{meaning}, not {n}")
    return n


def _str_arg(value: Any, where: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{where}: {what} must be a str, not {type(value).__name__} {value!r}")
    return value


# ------------------------------------------------------------------ arrays


def _dtype_format(dtype: np.dtype) -> str:
    if dtype.hasobject:
        raise ValueError(f"dtype {dtype} holds Python objects: decoders write bytes")
    # NumPy knows the buffer-protocol spelling of every dtype (byte order too).
    return memoryview(np.empty(0, dtype)).format


def empty(shape: int | Sequence[int], dtype: Any = "uint8") -> Array:
    """Allocates an engine-owned destination array.

    Args:
        shape: number of elements, or a tuple of dimensions (C order).
        dtype: anything ``numpy.dtype()`` accepts (``"float32"``, ``">i4"``, ...).

    Returns:
        An :class:`Array` that NumPy sees without a copy (``np.asarray(arr)``).
        Arrays of 256 KiB or more are anonymous memory maps: their pages go
        back to the system as soon as the array, every NumPy view of it and
        every graph using it are gone. Contents are unspecified (zero pages for
        mapped arrays).

    Raises:
        ValueError: a negative dimension or a dtype of Python objects.
        ResourceError: the memory cannot be obtained.

    Thread-safe.
    """
    dt = np.dtype(dtype)
    dims = [int(shape)] if isinstance(shape, (int, np.integer)) else [int(d) for d in shape]
    return _core._allocate(dims, _dtype_format(dt), dt.itemsize)


def zeros(shape: int | Sequence[int], dtype: Any = "uint8") -> Array:
    """Like :func:`empty`, with every byte zero (mapped arrays already are)."""
    arr = empty(shape, dtype)
    if not arr.is_mapped:
        np.asarray(arr).view(np.uint8).reshape(-1)[:] = 0
    return arr


def adopt(array: Any, dtype: Any = None) -> Array:
    """Lets graphs decode into a caller's array (a NumPy array, a bytearray, ...).

    The array must be writable and C-contiguous, without Python objects. It is
    kept alive (and cannot be resized) while the returned :class:`Array` or any
    graph using it exists.

    Args:
        array: any object exporting a writable C-contiguous buffer.
        dtype: if given, the array's dtype must be exactly this one.

    Raises:
        ValueError: read-only, not C-contiguous, object dtype, or another dtype
            than ``dtype``.

    Thread-safe.
    """
    if dtype is not None:
        have = getattr(array, "dtype", None)
        want = np.dtype(dtype)
        if have is None or np.dtype(have) != want:
            raise ValueError(f"decoflow.adopt: expected dtype {want}, got {have}")
    if isinstance(array, np.ndarray) and array.dtype.hasobject:
        raise ValueError(f"decoflow.adopt: dtype {array.dtype} holds Python objects")
    return _core._adopt(array)


def codecs() -> list[str]:
    """Names of the codecs a chunk may use (``add_chunk(..., codec=NAME)``)."""
    return list(_core._codec_names())


# ------------------------------------------------------------------ stages


def decode(name: str = "decode") -> Stage:
    """A stage that decodes each chunk with its codec straight into its slice.

    The decoded size must equal the slice length (else :class:`SizeMismatchError`).
    """
    return _core._decode_stage(_str_arg(name, "decoflow.decode", "name"))


def byteswap(width: int, name: str | None = None) -> Stage:
    """A stage that reverses the byte order of every ``width``-byte element
    (2, 4 or 8) of each slice, in place: big-endian data (ROOT) to native.

    Raises:
        InvalidArgumentError: another width.
    """
    width = _int_arg(width, "decoflow.byteswap", "width", minimum=-_MAX_I64 - 1, maximum=_MAX_I64)
    if width not in (2, 4, 8):
        raise InvalidArgumentError(f"decoflow.byteswap: width must be 2, 4 or 8, not {width}")
    name = _str_arg(name if name is not None else f"byteswap{width}", "decoflow.byteswap", "name")
    return _core._byteswap_stage(width, name)


def glue(target: str | None = None, *, source: str | None = None, function: str | None = None,
         sys_path: Iterable[str | os.PathLike] = (), timeout: float | None = None,
         name: str = "glue") -> Stage:
    """A stage that calls a Python function for every chunk, in parallel.

    The function runs in subinterpreters with their own GIL (one per glue
    thread, created once and reused): ``fn(src, dst, index, tag)`` gets a
    read-only memoryview of the chunk's input, a writable memoryview of its
    destination slice (format ``"B"``), the chunk index and its tag, and may
    return an int (stored in the run's results) or None. The views are valid
    only during the call.

    Nothing of the caller's interpreter is visible there: not its modules, not
    NumPy (which cannot load in subinterpreters), not this package. Use
    memoryview, struct, array, int.from_bytes, zlib, ...

    Args:
        target: ``"package.module:function"``, imported once per interpreter.
        source: Python source defining ``function`` (instead of ``target``).
        function: the function's name in ``source``.
        sys_path: folders put in front of ``sys.path`` before importing.
        timeout: the longest one call may run, in seconds (None: no limit).
            A call past it has ``TimeoutError`` raised inside it, and its
            chunk fails with :class:`GlueError` (the graph with it). Python
            code is interrupted within ~20 ms, a blocking C call such as
            ``time.sleep`` when it returns.
        name: the stage's name (errors name it).

    When the graph stops (cancelled, or another chunk failed), calls in flight
    are interrupted the same way, so a cancel does not wait for them.

    Raises:
        InvalidArgumentError: neither or both of target and source, a target
            not of the form ``"module:function"``, or a negative timeout.
    """
    for what, value in (("target", target), ("source", source), ("function", function)):
        if value is not None:
            _str_arg(value, "decoflow.glue", what)
    return _core._glue_stage(_str_arg(name, "decoflow.glue", "name"), target or "", source or "",
                             function or "",
                             [os.fspath(p) for p in sys_path],
                             0.0 if timeout is None else float(timeout))


# ------------------------------------------------------------------ graphs


def _array_arg(array: Any, where: str) -> None:
    if not isinstance(array, Array):
        raise TypeError(f"{where}: array must be a decoflow.Array (decoflow.empty(), zeros(), "
                        f"adopt()), not {type(array).__name__}")


def _column(value: Any) -> Any:
    """An int, None or an integer array as _core takes it; lists become arrays
    (converted by NumPy in C, not per chunk in Python)."""
    if value is None or isinstance(value, (int, np.ndarray)):
        return value
    if isinstance(value, np.integer):
        return int(value)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        if arr.size == 0:
            return arr.astype(np.int64)
        raise TypeError(f"expected integers, got an array of {arr.dtype}")
    return arr


class Graph(_core._Graph):
    """A decode graph: chunks, the stages they flow through, and the slices
    of destination arrays they land in.

    A graph is a value: submitting it does not change it, and it can be
    submitted again once its previous run is over. Building is not
    thread-safe; submitting from several threads is.

    Args:
        name: the graph's name (errors name it).
    """

    def __init__(self, name: str = "graph") -> None:
        super().__init__(_str_arg(name, "decoflow.Graph", "name"))

    def add_stage(self, stage: Stage) -> None:
        """Appends a stage; chunks go through stages in the order they were added."""
        if not isinstance(stage, Stage):
            raise TypeError(f"Graph.add_stage: stage must be a decoflow.Stage (decoflow.decode(), "
                            f"byteswap(), glue()), not {type(stage).__name__} {stage!r}")
        super().add_stage(stage)

    def add_input(self, data: Any) -> int:
        """Adds an input and returns its id for the chunks.

        Args:
            data: a bytes-like object (bytes, bytearray, memoryview, a
                contiguous NumPy array: used in place, no copy, kept alive while
                the graph exists), or a path (str or os.PathLike): the file is
                mapped read-only and never read into Python.

        Raises:
            FileIOError: the file cannot be opened or mapped.
            TypeError: neither a buffer nor a path.
        """
        if isinstance(data, (str, os.PathLike)):
            return self._add_file(os.fspath(data))
        return self._add_input(data)

    def add_file(self, path: str | os.PathLike) -> int:
        """Adds the file at ``path`` (mapped read-only) as an input; returns its id."""
        return self._add_file(os.fspath(path))

    def add_chunk(self, input: int, offset: int, size: int, array: Array, dest_offset: int = 0,
                  dest_size: int | None = None, *, codec: str = "raw", tag: int = 0) -> None:
        """Appends one chunk.

        Args:
            input: an id from :meth:`add_input`.
            offset, size: the chunk's compressed bytes within the input.
            array: the destination :class:`Array`.
            dest_offset, dest_size: the slice it fills, in bytes (default: the
                rest of the array from ``dest_offset``).
            codec: a name from :func:`codecs` (``"zstd"``, ``"lz4_block"``,
                ``"lz4"``, ``"root"``, ``"raw"``).
            tag: any int, handed to glue as its ``tag``.

        Nothing is checked against the data until submit (ids and the codec
        name are): slices out of range or overlapping raise :class:`SliceError`
        from :meth:`Executor.submit`, naming the chunk.
        """
        where = f"Graph.add_chunk (graph {self.name!r})"
        input = _int_arg(input, where, "input")
        offset = _int_arg(offset, where, "offset")
        size = _int_arg(size, where, "size")
        _array_arg(array, where)
        dest_offset = _int_arg(dest_offset, where, "dest_offset")
        if dest_size is not None:
            dest_size = _int_arg(dest_size, where, "dest_size", meaning=" or None")
        tag = _int_arg(tag, where, "tag", minimum=-_MAX_I64 - 1, maximum=_MAX_I64)
        self._add_chunk(input, offset, size, array, dest_offset, dest_size,
                        _str_arg(codec, where, "codec"), tag)

    def add_chunks(self, input: int, offsets: Any, sizes: Any, array: Array, dest_sizes: Any, *,
                   dest_offsets: Any = None, dest_start: int = 0, codec: str = "raw",
                   tags: Any = None) -> range:
        """Appends many chunks from arrays (vectorised: no Python per chunk).

        Each of ``offsets``, ``sizes``, ``dest_sizes``, ``dest_offsets`` and
        ``tags`` is an int (the same for every chunk) or a 1-D array (or list)
        of int32/int64/uint32/uint64; arrays must have one length.

        Args:
            input: an input id (a mapped file plus an offsets table works
                without reading the file into Python).
            offsets, sizes: the compressed bytes of each chunk.
            array: the destination :class:`Array`.
            dest_sizes: the decoded size (slice length) of each chunk.
            dest_offsets: where each slice starts; default: back to back from
                ``dest_start``.
            codec: one codec name for every chunk.
            tags: per-chunk tags; default: the chunk's position in this call.

        Returns:
            The range of the new chunks' indices.
        """
        where = f"Graph.add_chunks (graph {self.name!r})"
        input = _int_arg(input, where, "input")
        _array_arg(array, where)
        dest_start = _int_arg(dest_start, where, "dest_start")
        codec = _str_arg(codec, where, "codec")
        first = self._add_chunks(input, _column(offsets), _column(sizes), array,
                                 _column(dest_sizes), _column(dest_offsets), dest_start, codec,
                                 _column(tags))
        return range(first, self.chunk_count)

    def __len__(self) -> int:
        return self.chunk_count

    def __repr__(self) -> str:
        stages = ", ".join(s.name for s in self.stages)
        return f"<decoflow.Graph {self.name!r}: {self.chunk_count} chunks, stages [{stages}]>"


# ------------------------------------------------------------------ execution


class Progress:
    """Counters of a running graph (chunks and bytes are counted as chunks
    pass their last stage)."""

    __slots__ = ("chunks_done", "chunks_total", "bytes_done", "bytes_total")

    def __init__(self, chunks_done: int, chunks_total: int, bytes_done: int,
                 bytes_total: int) -> None:
        self.chunks_done = chunks_done
        self.chunks_total = chunks_total
        self.bytes_done = bytes_done
        self.bytes_total = bytes_total

    @property
    def fraction(self) -> float:
        """Done bytes over total bytes (chunks when no bytes), 1.0 for empty graphs."""
        if self.bytes_total:
            return self.bytes_done / self.bytes_total
        return self.chunks_done / self.chunks_total if self.chunks_total else 1.0

    def __repr__(self) -> str:
        return (f"Progress(chunks {self.chunks_done}/{self.chunks_total}, "
                f"bytes {self.bytes_done}/{self.bytes_total})")


_FINISHED = concurrent.futures._base.FINISHED
_CANCELLED_STATES = (concurrent.futures._base.CANCELLED,
                     concurrent.futures._base.CANCELLED_AND_NOTIFIED)
_DONE_STATES = (_FINISHED, *_CANCELLED_STATES)


class Future(concurrent.futures.Future):
    """A submitted graph: a real :class:`concurrent.futures.Future` (so
    ``asyncio.wrap_future`` and ``concurrent.futures.wait`` accept it).

    ``result()`` returns the per-chunk results (a NumPy int64 array: what glue
    returned, 0 otherwise) or raises the graph's :class:`Error`. Done callbacks
    run on decoflow's courier thread (or on the thread that waits, whichever
    sees the end first). ``cancel()`` stops the graph: chunks not yet started
    are skipped and it returns True unless every chunk had already finished.
    Ctrl-C during ``result()`` cancels the graph and raises KeyboardInterrupt.
    """

    def __init__(self, run: Any, graph: Graph, executor: "Executor") -> None:
        super().__init__()
        self._run = run
        self._graph_name = graph.name
        self._executor_ref = weakref.ref(executor)
        self._delivered = False
        self._cancel_requested = False
        super().set_running_or_notify_cancel()
        run.on_done(self._deliver)

    # -- completion, from the courier or a waiting thread
    def _deliver(self) -> None:
        with self._condition:
            if self._delivered:
                # Another thread is delivering: its outcome is moments away, and
                # callers of result()/cancel() must not look before it is set.
                self._condition.wait_for(lambda: self._state in _DONE_STATES)
                return
            self._delivered = True
        try:
            self._run.raise_error()
            results = self._run.results()
        except CancelledError as e:
            self._cancel_error = e
            with self._condition:
                self._state = concurrent.futures._base.CANCELLED
                self._condition.notify_all()
            # Like Future.cancel(): waiters in concurrent.futures.wait() and
            # done callbacks (asyncio's among them) learn of it.
            super().set_running_or_notify_cancel()
            self._invoke_callbacks()
        except BaseException as e:  # noqa: BLE001 - the graph's error is the result
            self.set_exception(e)
        else:
            self.set_result(results)
        ex = self._executor_ref()
        if ex is not None:
            ex._forget(self)

    def _wait_run(self, timeout: float | None) -> bool:
        try:
            finished = self._run.wait(timeout)
        except KeyboardInterrupt:
            # Ctrl-C: stop the graph (prompt: chunks in flight finish, no new
            # ones start) and let the interrupt go on.
            self._run.cancel()
            self._run.wait(None)
            self._deliver()
            raise
        if finished:
            self._deliver()
        return finished

    def result(self, timeout: float | None = None) -> np.ndarray:
        """Waits (GIL released) and returns the per-chunk results.

        Raises:
            TimeoutError: not done within ``timeout`` seconds.
            decoflow.Error: the graph failed (the subclass names the cause, and
                ``.graph``, ``.node``, ``.chunk`` where), or was cancelled
                (:class:`CancelledError`).
        """
        if not self._wait_run(timeout):
            raise TimeoutError(f"graph {self._graph_name!r} not done after {timeout} s")
        if self.cancelled():
            raise self._cancel_error
        return super().result(0)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Waits like :meth:`result` and returns the graph's error, or None."""
        if not self._wait_run(timeout):
            raise TimeoutError(f"graph {self._graph_name!r} not done after {timeout} s")
        if self.cancelled():
            raise self._cancel_error
        return super().exception(0)

    def cancel(self) -> bool:
        """Stops the graph and waits (briefly: running chunks finish) for it.

        Returns True when the graph ended cancelled, False when it had already
        finished (successfully or with another error).
        """
        with self._condition:
            if self._state in _CANCELLED_STATES:
                return True
            if self._state == _FINISHED:
                return False
        self._run.cancel()
        self._wait_run(None)
        return self.cancelled()

    def progress(self) -> Progress:
        """The graph's counters now (exact once done)."""
        return Progress(*self._run.progress())

    def chunk_states(self) -> np.ndarray:
        """After done: per chunk, 0 not run, 1 done, 2 failed, 3 interrupted
        (a glue call stopped mid-way by a cancel or another chunk's failure)
        (uint8 array)."""
        self._wait_run(None)
        return self._run.chunk_states()

    def __repr__(self) -> str:
        return f"<decoflow.Future {self._graph_name!r} {self._state.lower()}>"


def _tqdm_reporter(total_bytes: int, desc: str) -> Callable[..., None]:
    from tqdm.auto import tqdm

    # delay: short graphs never show a bar.
    bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
               delay=0.5, leave=False)
    state = {"shown": 0}

    def report(chunks_done, chunks_total, bytes_done, bytes_total, finished):
        bar.update(bytes_done - state["shown"])
        state["shown"] = bytes_done
        if finished:
            bar.close()

    return report


_live_executors: "weakref.WeakSet[Executor]" = weakref.WeakSet()


class Executor:
    """Runs graphs on ``threads`` engine threads (TBB workers; 0: one per CPU).

    Use as a context manager; leaving it waits for every graph it runs
    (``close(cancel=True)`` cancels them first). One executor runs many graphs,
    one after another or at once. Glue subinterpreters are shared by every
    executor of the process and live until exit.

    Thread-safe: submit from any thread.
    """

    def __init__(self, threads: int = 0) -> None:
        threads = _int_arg(threads, "decoflow.Executor", "threads", maximum=_MAX_THREADS,
                           meaning=" (0: one per CPU)")
        self._core = _core._Executor(threads)
        self._lock = threading.Lock()
        self._futures: set[Future] = set()
        _live_executors.add(self)

    @property
    def threads(self) -> int:
        """Worker threads of this executor."""
        return self._core.threads

    def submit(self, graph: Graph, *, progress: bool | Callable[[Progress], Any] = False,
               progress_interval: float = 0.1) -> Future:
        """Validates ``graph`` and starts it; returns a :class:`Future`.

        Args:
            graph: the graph (it may be changed or resubmitted afterwards:
                the run keeps the version it was given).
            progress: a callable ``fn(Progress)``, called every
                ``progress_interval`` seconds on decoflow's courier thread and
                once at the end; or True for a tqdm bar (shown after half a
                second; needs the ``tqdm`` package).

        Raises:
            SliceError: a slice outside its array or overlapping another one
                (of this graph, or of a graph still running on that array).
            InvalidArgumentError: no stages, an input range outside its input.
            ResourceError: in a process forked from one running decoflow.
            RuntimeError: the executor is closed.
        """
        if self._core.closed:
            raise RuntimeError("cannot submit to a closed decoflow.Executor")
        if not isinstance(graph, _core._Graph):
            raise TypeError(f"Executor.submit: graph must be a decoflow.Graph, not "
                            f"{type(graph).__name__} {graph!r}")
        run = self._core.submit(graph)
        future = Future(run, graph, self)
        with self._lock:
            if not future.done():
                self._futures.add(future)
        if progress:
            if progress is True:
                _, _, _, total = run.progress()
                reporter = _tqdm_reporter(total, graph.name)
            else:
                user = progress

                def reporter(cd, ct, bd, bt, finished, _user=user):
                    _user(Progress(cd, ct, bd, bt))
            run.watch(reporter, progress_interval)
        return future

    def start_glue(self) -> int:
        """Creates the glue subinterpreters this executor's graphs use (one per
        thread) now, rather than when the first glue batches arrive.

        They are created one at a time, a few tens of milliseconds each, so a
        first graph with glue on many threads would wait for them; call this
        at start-up (from any thread) to pay that up front. Interpreters are
        shared by every executor and kept until exit, so a second call costs
        nothing. Returns the number of glue interpreters alive in the process.

        Raises:
            ResourceError: in a process forked from one with glue
                interpreters.
        """
        return _core._start_glue_interpreters(self.threads)

    def run(self, graph: Graph, **kwargs: Any) -> np.ndarray:
        """``submit(graph).result()``."""
        return self.submit(graph, **kwargs).result()

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def close(self, cancel: bool = False) -> None:
        """Waits for every graph (cancelling them first when ``cancel``), then
        releases the threads. Idempotent; Ctrl-C while waiting cancels."""
        with self._lock:
            futures = list(self._futures)
        if cancel:
            for f in futures:
                f._run.cancel()
        try:
            for f in futures:
                f._wait_run(None)
        finally:
            self._core.close()

    @property
    def closed(self) -> bool:
        return self._core.closed

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # An exception leaving the block (KeyboardInterrupt among them) cancels
        # what is still running rather than waiting for it.
        self.close(cancel=exc_type is not None)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._futures)} running"
        return f"<decoflow.Executor threads={self.threads} {state}>"


# ------------------------------------------------------------------ process exit


def _at_exit() -> None:
    """Ends what decoflow started before Python finalises: running graphs are
    cancelled, glue interpreters end on their own threads (3.12 aborts in
    Py_Finalize otherwise), the courier delivers what is queued and stops."""
    if _core._forked_after_start():
        return
    for ex in list(_live_executors):
        try:
            ex.close(cancel=True)
        except BaseException:  # noqa: BLE001 - exit must go on
            pass
    _core._end_glue_interpreters()
    _core._stop_courier()


atexit.register(_at_exit)

# Errors print as decoflow.X (where users catch them), not decoflow._errors.X.
for _cls in (Error, InvalidArgumentError, SliceError, CorruptInputError, SizeMismatchError,
             UnsupportedFormatError, ChecksumError, FileIOError, CancelledError, GlueError,
             ResourceError, InternalError, StageError):
    _cls.__module__ = __name__
del _cls
