"""Destination arrays: engine-owned (NumPy sees them without a copy, memory
goes back to the system when dropped) and adopted NumPy arrays."""

from __future__ import annotations

import gc
import sys
import time
import weakref

import numpy as np
import pytest

import decoflow
from conftest import graph_for, make_chunked, rss_bytes


@pytest.mark.parametrize("dtype", ["u1", "i2", "<u4", ">f4", "f8", "c16", "?", "i8"])
def test_buffer_protocol_matches_the_dtype(dtype):
    arr = decoflow.empty((3, 5), dtype)
    view = np.asarray(arr)
    assert view.dtype == np.dtype(dtype)
    assert view.shape == (3, 5)
    assert view.strides == (5 * view.itemsize, view.itemsize)
    assert view.flags.c_contiguous and view.flags.writeable
    assert arr.nbytes == 15 * np.dtype(dtype).itemsize
    mv = memoryview(arr)
    assert mv.shape == (3, 5) and mv.itemsize == np.dtype(dtype).itemsize
    assert mv.format == memoryview(np.empty(0, dtype)).format


def test_numpy_shares_memory_without_copy():
    arr = decoflow.empty(1000, np.int32)
    a, b = np.asarray(arr), np.asarray(arr)
    assert a.ctypes.data == arr.address == b.ctypes.data
    a[7] = 12345
    assert b[7] == 12345
    assert np.shares_memory(a, b)


def test_shapes_and_dtypes_of_empty_and_zeros():
    assert decoflow.empty(10).shape == (10,)
    assert decoflow.empty((2, 3, 4), "f4").nbytes == 96
    assert np.asarray(decoflow.empty(0)).size == 0
    small = decoflow.zeros(100, "u8")
    assert not small.is_mapped and not np.asarray(small).any()
    big = decoflow.zeros(1 << 20)
    assert big.is_mapped and big.owns_memory and not np.asarray(big).any()
    with pytest.raises(ValueError):
        decoflow.empty(-1)
    with pytest.raises(ValueError, match="Python objects"):
        decoflow.empty(3, object)


def test_adopt_a_numpy_array(executor):
    data = make_chunked("zstd", count=8)
    target = np.full(data.original.size, 0xAB, np.uint8)
    arr = decoflow.adopt(target)
    assert not arr.owns_memory and arr.address == target.ctypes.data
    g, _ = graph_for(data, out=arr)
    executor.submit(g).result()
    assert np.array_equal(target, data.original)  # decoded in place, no copy


def test_adopt_a_2d_float_array_and_bytearray(executor):
    target = np.zeros((4, 256), np.float32)
    arr = decoflow.adopt(target, dtype=np.float32)
    assert arr.shape == (4, 256) and np.asarray(arr).dtype == np.float32
    values = np.arange(1024, dtype=np.float32)
    g = decoflow.Graph()
    g.add_stage(decoflow.decode())
    g.add_chunk(g.add_input(values), 0, values.nbytes, arr)
    executor.submit(g).result()
    assert np.array_equal(target.ravel(), values)
    buf = bytearray(4)
    arr2 = decoflow.adopt(buf)
    g2 = decoflow.Graph()
    g2.add_stage(decoflow.decode())
    g2.add_chunk(g2.add_input(b"wxyz"), 0, 4, arr2)
    executor.submit(g2).result()
    assert buf == bytearray(b"wxyz")


def test_adopt_refuses_bad_arrays_with_value_error():
    base = np.zeros((8, 8), np.float64)
    with pytest.raises(ValueError, match="not C-contiguous"):
        decoflow.adopt(base[:, ::2])
    with pytest.raises(ValueError, match="not C-contiguous"):
        decoflow.adopt(np.asfortranarray(base))
    ro = np.zeros(16)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        decoflow.adopt(ro)
    with pytest.raises(ValueError, match="read-only"):
        decoflow.adopt(b"bytes are immutable")
    with pytest.raises(ValueError, match="expected dtype float32, got float64"):
        decoflow.adopt(base, dtype="float32")
    with pytest.raises(ValueError, match="Python objects"):
        decoflow.adopt(np.empty(3, object))
    with pytest.raises(ValueError, match="exports no strided buffer"):
        decoflow.adopt([1, 2, 3])


def test_adopted_array_is_kept_alive_then_released():
    target = np.zeros(1 << 16, np.uint8)
    alive = weakref.ref(target)
    arr = decoflow.adopt(target)
    g = decoflow.Graph()
    g.add_stage(decoflow.decode())
    g.add_chunk(g.add_input(bytes(10)), 0, 10, arr)
    del target, arr
    gc.collect()
    assert alive() is not None  # the graph holds the array
    del g
    gc.collect()
    assert alive() is None


def test_adopted_array_released_from_an_engine_thread(executor):
    """The run holds the last reference, and drops it on a TBB worker: the
    Python object is released on decoflow's courier, never with PyGILState."""
    src = '''
import time
def slow(src, dst, index, tag):
    time.sleep(0.05)
'''
    target = np.zeros(4096, np.uint8)
    alive = weakref.ref(target)
    arr = decoflow.adopt(target)
    g = decoflow.Graph("last-ref")
    g.add_stage(decoflow.glue(source=src, function="slow"))
    g.add_chunks(g.add_input(bytes(4096)), np.arange(4) * 1024, 1024, arr, 1024)
    fut = executor.submit(g)
    del target, arr, g
    gc.collect()
    assert alive() is not None  # the running graph holds it
    fut._run.wait(None)  # wait on the engine only: nothing delivered by this thread
    deadline = time.monotonic() + 5
    while alive() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert alive() is None
    fut.result()


def test_reading_while_running_is_refused(executor):
    src = '''
import time
def slow(src, dst, index, tag):
    time.sleep(0.2)
'''
    arr = decoflow.empty(1024)
    g = decoflow.Graph()
    g.add_stage(decoflow.glue(source=src, function="slow"))
    g.add_chunk(g.add_input(bytes(1024)), 0, 1024, arr)
    fut = executor.submit(g)
    assert arr.in_use
    with pytest.raises(BufferError, match="running graph"):
        np.asarray(arr)
    fut.result()
    assert not arr.in_use
    np.asarray(arr)


def test_memory_goes_back_to_the_system_when_the_last_reference_drops(executor):
    """256 MiB, touched by a graph, then dropped: RSS must come back.

    Tolerance 16 MiB (6% of the array): munmap returns every page at once, so
    what remains is noise from the interpreter and allocator (NumPy, the
    executor's buffers, pytest) that has nothing to do with the array. With
    glibc's malloc (no mmap) the whole 256 MiB could stay.
    """
    size = 256 << 20
    gc.collect()
    before = rss_bytes()
    arr = decoflow.empty(size)
    assert arr.is_mapped
    g = decoflow.Graph("big")
    g.add_stage(decoflow.decode())
    block = 1 << 20
    g.add_chunks(g.add_input(b"\x01" * block), 0, block, arr, block,
                 dest_offsets=np.arange(size // block) * block)
    executor.submit(g).result()
    view = np.asarray(arr)
    assert view[::4096].min() == 1  # every page was written
    touched = rss_bytes()
    assert touched - before > size * 0.9
    del view, arr, g
    gc.collect()
    after = rss_bytes()
    assert after - before < 16 << 20, (before, touched, after)


def test_array_outlives_numpy_views_and_graphs():
    arr = decoflow.empty(1 << 20)
    view = np.asarray(arr)
    ref = sys.getrefcount(arr)
    del arr  # the view keeps the memory
    view[:] = 3
    assert view.sum() == 3 << 20
    assert ref >= 3
