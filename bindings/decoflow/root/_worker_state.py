"""What one process keeps for the decoflow.root.dask partitions it runs: one
executor per Dask worker (made on first use, closed when the worker closes),
the opened files' metadata (so partitions of one file do not read it again),
and a count of the baskets decoded. None of it is ever pickled: tasks carry
paths and names, and find these here."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections import Counter, OrderedDict
from typing import Any

from .. import Executor
from ._read import TreeReader
from ._rntuple import RNTupleKey, RNTupleReader, make_reader
from ._select import select
from ._uproot import _open_tree

# Read plans (a TreeReader: the branches' basket tables, the mapped file; an
# RNTupleReader: the RNTuple's metadata and its fields' plans) and opened
# uproot files kept per process, least recently used first out.
# The files are closed on the way out (a TreeReader needs them no more).
MAX_READERS = 64
MAX_FILES = 8

_lock = threading.Lock()
_readers: OrderedDict[tuple, TreeReader | RNTupleReader] = OrderedDict()
_files: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_process_executors: dict[int, Executor] = {}
_baskets: Counter[str] = Counter()
opens: Counter[str] = Counter()  # uproot.open calls per path (the tests read it)

_PLUGIN = "decoflow-executors"


class WorkerExecutors:
    """A Dask worker plugin (put in ``worker.plugins`` by the first
    partition that runs there): the worker's executors, by thread count,
    closed by its teardown when the worker closes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.executors: dict[int, Executor] = {}

    def get(self, threads: int) -> Executor:
        with self._lock:
            ex = self.executors.get(threads)
            if ex is None or ex.closed:
                ex = self.executors[threads] = Executor(threads=threads)
            return ex

    def teardown(self, worker: Any) -> None:
        with self._lock:
            executors = list(self.executors.values())
            self.executors.clear()
        for ex in executors:
            ex.close(cancel=True)  # the worker is going: its tasks are abandoned
        forget_files()


def _current_worker() -> Any:
    """The distributed Worker running this task, or None (no distributed,
    or Dask's threaded / synchronous scheduler)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def executor_for(threads: int | None) -> Executor:
    """The executor of the process (or of the Dask worker) running this
    partition: in a distributed worker, one per worker and thread count,
    default the worker's nthreads; elsewhere (the threaded or synchronous
    scheduler) one per process and thread count, default a thread per CPU."""
    worker = _current_worker()
    if worker is not None:
        plugins = worker.plugins
        executors = plugins.get(_PLUGIN)
        if executors is None:
            executors = plugins.setdefault(_PLUGIN, WorkerExecutors())  # atomic: one wins
        return executors.get(threads or worker.state.nthreads)
    threads = threads or 0  # 0: a thread per CPU
    with _lock:
        ex = _process_executors.get(threads)
        if ex is None or ex.closed:
            ex = _process_executors[threads] = Executor(threads=threads)
        return ex


def _release_at_exit() -> None:
    """Closes and lets go of this process's executors and plans before
    Python finalises (registered after decoflow's own exit hook, so it runs
    first): nothing of decoflow's is still referenced at teardown."""
    with _lock:
        executors = list(_process_executors.values())
        _process_executors.clear()
    for ex in executors:
        ex.close(cancel=True)
    forget_files()


atexit.register(_release_at_exit)


def reader_for(path: str, tree: str, names: tuple[str, ...], library: str) -> TreeReader:
    """The read plan of these branches of this file's tree, made once per
    process (while the file is unchanged: its identity is part of the key)."""
    st = os.stat(path)
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    key = (path, tree, names, library, identity)
    with _lock:  # held while a file is opened: uproot's objects are not shared mid-parse
        reader = _readers.get(key)
        if reader is not None:
            _readers.move_to_end(key)
            return reader
        ttree = _opened(path, tree, identity)
        selection = select([(path, ttree)], list(names), True)
        if selection.errors:
            raise selection.errors[0]
        reader = _readers[key] = TreeReader([(path, ttree)], selection, library)
        while len(_readers) > MAX_READERS:
            _readers.popitem(last=False)
        return reader


def rntuple_reader_for(path: str, ntuple: str, names: tuple[str, ...]) -> RNTupleReader:
    """A reader of these fields of this file's RNTuple: its metadata read and
    its fields planned once per process (while the file is unchanged), a
    new reader per partition (a reader keeps its last decode: partitions
    running at once on a worker's threads must not share one)."""
    st = os.stat(path)
    key = ("rntuple", path, ntuple, names, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    with _lock:
        made = _readers.get(key)
        if made is None:
            made, errors, _ = make_reader([(path, RNTupleKey(path, ntuple))], list(names),
                                          lambda _: True)
            if errors:
                raise errors[0]
            _readers[key] = made
            while len(_readers) > MAX_READERS:
                _readers.popitem(last=False)
        else:
            _readers.move_to_end(key)
    return RNTupleReader(made.srcs, made.schema, made.plans, made.name)


def _opened(path: str, tree: str, identity: tuple) -> Any:
    """uproot's TTree of the file, opened once per process (the lock held)."""
    key = (path, tree, identity)
    got = _files.get(key)
    if got is not None:
        _files.move_to_end(key)
        return got[0]
    _, ttree, f = _open_tree(path, tree)
    opens[path] += 1
    _files[key] = (ttree, f)
    while len(_files) > MAX_FILES:
        _, (_, old) = _files.popitem(last=False)
        old.close()
    return ttree


def forget_files() -> None:
    """Drops the read plans and closes the files this process opened."""
    with _lock:
        _readers.clear()
        files = list(_files.values())
        _files.clear()
    for _, f in files:
        f.close()


def _at_exit() -> None:
    """Closes what this process kept before Python finalises (registered
    after decoflow's own exit hook, so it runs first): the read plans, the
    files, the executors made here."""
    forget_files()
    with _lock:
        executors = list(_process_executors.values())
        _process_executors.clear()
    for ex in executors:
        ex.close(cancel=True)


atexit.register(_at_exit)


def record_baskets(basket_results: dict[str, Any]) -> None:
    with _lock:
        for name, results in basket_results.items():
            _baskets[name] += len(results)


def baskets_decoded(reset: bool = False) -> dict[str, int]:
    """How many baskets the decoflow.root.dask partitions run by this process
    have decoded, per branch (a basket shared by two partitions counts
    twice). On a cluster: ``client.run(decoflow.root.baskets_decoded)``.

    Args:
        reset: start counting from 0 again after reading.

    Thread-safe.
    """
    with _lock:
        counts = dict(_baskets)
        if reset:
            _baskets.clear()
    return counts
