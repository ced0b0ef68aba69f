"""decoflow's native core (use the decoflow package instead)."""

from collections.abc import Sequence
from typing import Annotated

import numpy
from numpy.typing import NDArray


def _error_codes() -> dict:
    """{name: value} of decoflow::ErrorCode."""

def _raise_native(arg0: int, arg1: str, arg2: str, arg3: str, arg4: int, /) -> None:
    """Raises a native decoflow::Error (tests the error mapping)."""

class Array:
    """
    Memory that graphs decode into: an n-dimensional C-contiguous array.

    Made by decoflow.empty() (engine-owned) or decoflow.adopt() (a NumPy
    array's memory). Exports the buffer protocol, so np.asarray(arr) and
    memoryview(arr) share its memory; exporting is refused (BufferError)
    while a running graph writes into it. Engine-owned memory returns to
    the system once the array, every view of it and every graph using it
    are gone.
    """

    def __array__(self, dtype: object = None, copy: object = None) -> "numpy.ndarray": ...

    def __buffer__(self, flags, /):
        """
        Return a buffer object that exposes the underlying memory of the object.
        """

    @property
    def nbytes(self) -> int:
        """Size in bytes."""

    @property
    def shape(self) -> tuple:
        """Shape (a tuple of ints)."""

    @property
    def format(self) -> str:
        """Buffer-protocol format of one element (struct module syntax)."""

    @property
    def itemsize(self) -> int:
        """Bytes per element."""

    @property
    def in_use(self) -> bool:
        """True while a running graph writes into this array."""

    @property
    def owns_memory(self) -> bool:
        """
        True for engine-owned memory (decoflow.empty), False for adopted memory.
        """

    @property
    def is_mapped(self) -> bool:
        """
        True when the engine backed this array with an anonymous memory map
        (arrays of 256 KiB and more): freeing it unmaps the pages at once.
        """

    @property
    def address(self) -> int:
        """Address of the first byte (for tests and debugging)."""

def _allocate(shape: Sequence[int], format: str, itemsize: int) -> Array:
    """Allocates an engine-owned array (use decoflow.empty())."""

def _adopt(source: object) -> Array:
    """Wraps a writable C-contiguous buffer (use decoflow.adopt())."""

class Stage:
    """
    One step every chunk goes through (make with decoflow.decode(),
    decoflow.byteswap(), decoflow.glue()).
    """

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def __repr__(self) -> str: ...

def _decode_stage(name: str) -> Stage: ...

def _byteswap_stage(width: int, name: str) -> Stage: ...

def _glue_stage(name: str, target: str, source: str, function: str, sys_path: Sequence[str], timeout: float) -> Stage: ...

def _codec_names() -> list[str]: ...

class _Graph:
    def __init__(self, name: str = 'graph') -> None: ...

    @property
    def name(self) -> str: ...

    @property
    def chunk_count(self) -> int: ...

    @property
    def input_count(self) -> int: ...

    @property
    def stages(self) -> list[Stage]: ...

    def _add_input(self, data: object) -> int: ...

    def _add_file(self, path: str) -> int: ...

    def _input_size(self, input: int) -> int: ...

    def add_stage(self, stage: Stage) -> None:
        """
        Appends a stage; chunks go through stages in the order they were added.
        """

    def _add_chunk(self, input: int, input_offset: int, input_size: int, array: Array, dest_offset: int, dest_size: object | None, codec: str, tag: int) -> None: ...

    def _add_chunks(self, input: int, input_offsets: object, input_sizes: object, array: Array, dest_sizes: object, dest_offsets: object | None, dest_start: int, codec: str, tags: object | None) -> int: ...

    def _chunk(self, index: int) -> tuple: ...

class _Run:
    def done(self) -> bool: ...

    def wait(self, timeout: object | None = None) -> bool: ...

    def cancel(self) -> None: ...

    def progress(self) -> tuple: ...

    def raise_error(self) -> None: ...

    def results(self) -> Annotated[NDArray[numpy.int64], dict(shape=(None,))]: ...

    def chunk_states(self) -> Annotated[NDArray[numpy.uint8], dict(shape=(None,))]: ...

    def on_done(self, fn: object) -> None: ...

    def watch(self, fn: object, interval: float) -> None: ...

class _Executor:
    def __init__(self, threads: int) -> None: ...

    @property
    def threads(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    def submit(self, graph: _Graph) -> _Run: ...

    def close(self) -> None: ...

def _end_glue_interpreters() -> None:
    """
    Ends every glue subinterpreter on its own thread (atexit; no glue may be running).
    """

def _glue_interpreter_count() -> int: ...

def _start_glue_interpreters(count: int) -> int:
    """Creates up to `count` glue subinterpreters now; returns how many live."""

def _stop_courier() -> None:
    """Runs queued callbacks and ends the courier thread (atexit)."""

def _forked_after_start() -> bool: ...

def _root_keys(path: str) -> list:
    """Every key of the ROOT file: (path, cycle, class name, title), natively."""

class _RootTreeMeta:
    """A TTree's metadata, read natively and kept in C++ (decoflow._core._root_tree_meta)."""

    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def entries(self) -> int: ...
    def __len__(self) -> int: ...
    def table(self) -> tuple:
        """(paths, names, kinds, kind index per branch (-1: not typed), fTotBytes per branch)."""

    def why(self, i: int) -> str:
        """Why branch i is not typed natively ('' when it is)."""

    def branch(self, i: int) -> tuple:
        """
        Branch i whole: (path, name, class, kind dict or None, why unknown, fEntries, parent index or -1, leaves [(class, name, title)], seeks, sizes, bounds, embedded, borders, files, numbers, inputs, fTotBytes).
        """

def _root_tree_meta(path: str, tree: str) -> _RootTreeMeta:
    """A TTree's metadata read natively (a _RootTreeMeta)."""

class _RootPlan:
    """A planned ROOT read (see decoflow.root)."""

    def collect(self) -> list:
        """Once the graph has run: every branch's window and failure (call once)."""

    def locate(self, chunk: int) -> tuple | None:
        """(branch, file, basket, where) of a graph chunk, or None."""

class _RootTree:
    """Branches of one tree in mapped ROOT files."""

    def __init__(self, paths: Sequence[str], tables: list, name: str, embedded: list) -> None:
        """
        Maps the files (one tree each, read as one) with each branch's table: (name, kind, seeks, sizes, entry_bounds, files, numbers, inputs, borders), or (name, [_RootTreeMeta per file], [the branch's index in each]) for one read natively, kind a dict (type, layout, items, header_bytes, coding, nbits, low, high, fields, depth, leaf_strings); `embedded`: the bytes of baskets kept in TBranch records (inputs len(paths), len(paths) + 1, ...).
        """

    def plan(self, graph: _Graph, window: tuple[int, int] | None, stages: Sequence[Stage], previous: _RootPlan | None) -> _RootPlan:
        """
        Plans entries [start, stop) (None: every basket) and makes `graph` (an empty decoflow.Graph) its graph, `stages` after the native one; `previous`: the step before, whose last baskets are not decoded again.
        """

class _RNTuple:
    """An RNTuple's metadata, read natively (see decoflow.root)."""

    def __init__(self, path: str, anchor: tuple[int, int, int, int, int, int, int], name: str) -> None:
        """
        Maps `path` and reads the RNTuple `anchor` = (seek_header, nbytes_header, len_header, seek_footer, nbytes_footer, len_footer, max_key_size) leads to.
        """

    @staticmethod
    def open(path: str, name: str) -> _RNTuple:
        """
        Opens the RNTuple `name` ("ntuple", "dir/ntuple;1") of the ROOT file at `path`, its anchor read natively.
        """

    def anchor(self) -> tuple[int, int, int, int, int, int, int]:
        """
        The anchor it was read from: (seek_header, nbytes_header, len_header, seek_footer, nbytes_footer, len_footer, max_key_size).
        """

    @property
    def entries(self) -> int: ...

    def fields(self) -> list:
        """
        Per field: (name, type, alias, parent, role, flags, array_size, source or -1, representations, physical column ids).
        """

    def columns(self) -> list:
        """Per physical column: (type, bits, field, flags, representation, first_element)."""

    def clusters(self) -> list[tuple[int, int]]:
        """Per cluster: (first_entry, entries)."""

    def value_type(self, field: int, slot: int) -> str:
        """The values' NumPy type name of a field's column."""

    def plan_fields(self, names: Sequence[str]) -> list:
        """
        Plans each named field (rntuple_fields.hpp's plan_rntuple_field): per name (node, columns) — node (kind, name, type, size, column, content, children), a column (name, field, slot, offsets, type) — or (None, why it is refused).
        """

    def column_bytes(self, field: int, slot: int) -> int:
        """Decoded bytes of a field's column in every cluster."""

def _rntuple_tree(ntuples: Sequence[_RNTuple], columns: Sequence[tuple[str, int, int]], clusters: Sequence[tuple[int, int]], name: str) -> _RootTree:
    """
    A _RootTree over (name, field, slot) columns of the RNTuples (one per file, read as one), clusters [begin, end) of each.
    """
