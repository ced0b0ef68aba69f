"""Building graphs from Python: lists, NumPy arrays (vectorised), files, stages."""

from __future__ import annotations


import numpy as np
import pytest

import decoflow
from conftest import compress, graph_for, make_chunked


@pytest.mark.parametrize("codec", ["zstd", "lz4_block", "lz4", "root", "raw"])
def test_every_codec_decodes_into_its_slices(executor, codec):
    data = make_chunked(codec, count=12)
    g, out = graph_for(data, name=codec)
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), data.original)


def test_chunks_from_python_lists(executor):
    data = make_chunked("zstd", count=5)
    out = decoflow.empty(data.original.size)
    g = decoflow.Graph("lists")
    inp = g.add_input(data.blob)
    g.add_stage(decoflow.decode())
    new = g.add_chunks(inp, data.offsets.tolist(), data.sizes.tolist(), out,
                       data.dest_sizes.tolist(), codec="zstd")
    assert new == range(0, 5) and len(g) == 5
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), data.original)


def test_one_chunk_at_a_time_with_explicit_slices(executor):
    data = make_chunked("lz4_block", count=4)
    out = decoflow.empty(data.original.size + 100)
    poison = np.asarray(out)
    poison[:] = 0xAB
    g = decoflow.Graph("single")
    inp = g.add_input(data.blob)
    g.add_stage(decoflow.decode())
    # Backwards, with a 100-byte gap in front: order of chunks is free.
    for i in reversed(range(4)):
        g.add_chunk(inp, int(data.offsets[i]), int(data.sizes[i]), out,
                    100 + int(data.dest_offsets[i]), int(data.dest_sizes[i]), codec="lz4_block",
                    tag=i)
    executor.submit(g).result()
    view = np.asarray(out)
    assert (view[:100] == 0xAB).all()          # never written
    assert np.array_equal(view[100:], data.original)


def test_dest_offsets_array_and_uint32_columns(executor):
    data = make_chunked("zstd", count=6)
    out = decoflow.empty(data.original.size)
    g = decoflow.Graph("columns")
    inp = g.add_input(np.frombuffer(data.blob, np.uint8))  # a NumPy array as input
    g.add_stage(decoflow.decode())
    g.add_chunks(inp, data.offsets.astype(np.uint32), data.sizes.astype(np.int32), out,
                 data.dest_sizes.astype(np.uint64), dest_offsets=data.dest_offsets[::1].copy(),
                 codec="zstd")
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), data.original)


def test_strided_columns_are_read_in_place(executor):
    data = make_chunked("zstd", count=6)
    table = np.stack([data.offsets, data.sizes, data.dest_sizes], axis=1)  # rows: chunks
    out = decoflow.empty(data.original.size)
    g = decoflow.Graph("strided")
    inp = g.add_input(data.blob)
    g.add_stage(decoflow.decode())
    g.add_chunks(inp, table[:, 0], table[:, 1], out, table[:, 2], codec="zstd")
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), data.original)


def test_column_errors():
    g = decoflow.Graph()
    inp = g.add_input(b"x" * 100)
    out = decoflow.empty(100)
    with pytest.raises(ValueError, match="differ in length"):
        g.add_chunks(inp, np.arange(3), np.arange(4), out, 1)
    with pytest.raises(TypeError, match="integers"):
        g.add_chunks(inp, [0.5, 1.5], 1, out, 1)
    with pytest.raises(ValueError, match=r"input_offsets\[1\] is negative"):
        g.add_chunks(inp, np.array([0, -1]), 1, out, 1)
    with pytest.raises(ValueError, match="unknown codec 'brotli'"):
        g.add_chunk(inp, 0, 1, out, codec="brotli")
    with pytest.raises(ValueError, match="unknown input id 7"):
        g.add_chunk(inp + 7, 0, 1, out)
    with pytest.raises(TypeError, match="bytes-like"):
        g.add_input(12)
    assert len(g) == 0  # nothing half-added


def test_hundred_thousand_chunks_in_one_call(executor):
    n = 100_000
    payload = np.arange(n, dtype=np.uint32)
    out = decoflow.empty(n, np.uint32)
    g = decoflow.Graph("many")
    inp = g.add_input(payload)
    g.add_stage(decoflow.decode())
    offsets = np.arange(n, dtype=np.int64) * 4
    g.add_chunks(inp, offsets, 4, out, 4)
    assert len(g) == n
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), payload)


def test_file_input_with_offsets_table(executor, tmp_path):
    data = make_chunked("zstd", count=10)
    path = tmp_path / "chunks.bin"
    path.write_bytes(b"HEADER--" + data.blob)
    out = decoflow.empty(data.original.size)
    g = decoflow.Graph("file")
    inp = g.add_input(path)            # mapped, never read into Python
    assert g._input_size(inp) == len(data.blob) + 8
    g.add_stage(decoflow.decode())
    g.add_chunks(inp, data.offsets + 8, data.sizes, out, data.dest_sizes, codec="zstd")
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), data.original)


def test_missing_file_is_a_file_io_error(tmp_path):
    g = decoflow.Graph()
    with pytest.raises(decoflow.FileIOError, match="nope.bin") as info:
        g.add_file(tmp_path / "nope.bin")
    assert isinstance(info.value, OSError)


def test_byteswap_stage_with_big_endian_data(executor):
    values = np.linspace(-5, 5, 4096).astype(">f8")
    raw = values.tobytes()
    packed = compress("root", raw[:16384]) + compress("root", raw[16384:])
    first = len(compress("root", raw[:16384]))
    out = decoflow.empty(4096, np.float64)
    g = decoflow.Graph("swap")
    inp = g.add_input(packed)
    g.add_stage(decoflow.decode())
    g.add_stage(decoflow.byteswap(8))
    g.add_chunks(inp, [0, first], [first, len(packed) - first], out, 16384, codec="root")
    assert [s.name for s in g.stages] == ["decode", "byteswap8"]
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), values.astype("=f8"))


def test_big_endian_dtype_without_byteswap(executor):
    values = np.arange(1000, dtype=">i4")
    out = decoflow.empty(1000, ">i4")
    g = decoflow.Graph()
    inp = g.add_input(values.tobytes())
    g.add_stage(decoflow.decode())
    g.add_chunk(inp, 0, values.nbytes, out)
    executor.submit(g).result()
    view = np.asarray(out)
    assert view.dtype == np.dtype(">i4")
    assert np.array_equal(view, values)


def test_bad_byteswap_width():
    with pytest.raises(decoflow.InvalidArgumentError):
        decoflow.byteswap(3)


def test_graph_is_a_value_resubmitted_and_changed(executor):
    data = make_chunked("zstd", count=4)
    g, out = graph_for(data)
    fut = executor.submit(g)
    # Changing the graph while it runs changes only later submissions.
    extra = decoflow.empty(10)
    g.add_chunk(g.add_input(b"0123456789"), 0, 10, extra)
    fut.result()
    executor.submit(g).result()
    assert bytes(np.asarray(extra)) == b"0123456789"
    assert np.array_equal(np.asarray(out), data.original)


def test_repr_and_introspection():
    g = decoflow.Graph("shown")
    g.add_stage(decoflow.decode())
    assert "shown" in repr(g) and "decode" in repr(g)
    assert decoflow.codecs() == ["raw", "zstd", "lz4_block", "lz4_frame", "root_blocks"]
    inp = g.add_input(b"abc")
    out = decoflow.empty(3)
    g.add_chunk(inp, 0, 3, out, codec="root", tag=42)
    assert g._chunk(0) == (0, 0, 3, 0, 0, 3, "root_blocks", 42)
