"""Errors seen from Python: the class for each engine ErrorCode, the location
(graph, node, chunk), bad inputs, and an executor that stays usable."""

from __future__ import annotations

import concurrent.futures
import pickle

import numpy as np
import pytest

import decoflow
from decoflow import _core
from conftest import compress, graph_for, make_chunked

EXPECTED = {
    "invalid_argument": (decoflow.InvalidArgumentError, ValueError),
    "slice_error": (decoflow.SliceError, ValueError),
    "corrupt_input": (decoflow.CorruptInputError, decoflow.Error),
    "size_mismatch": (decoflow.SizeMismatchError, decoflow.Error),
    "unsupported_format": (decoflow.UnsupportedFormatError, decoflow.Error),
    "checksum_mismatch": (decoflow.ChecksumError, decoflow.CorruptInputError),
    "io_error": (decoflow.FileIOError, OSError),
    "cancelled": (decoflow.CancelledError, concurrent.futures.CancelledError),
    "glue_error": (decoflow.GlueError, decoflow.Error),
    "resource_error": (decoflow.ResourceError, decoflow.Error),
    "internal": (decoflow.InternalError, decoflow.Error),
    "stage_error": (decoflow.StageError, decoflow.Error),
}


def test_every_error_code_has_its_class():
    codes = _core._error_codes()
    assert set(codes) == set(EXPECTED)
    for name, value in codes.items():
        cls, also = EXPECTED[name]
        with pytest.raises(cls) as info:
            _core._raise_native(value, "the cause", "g", "n", 5)
        e = info.value
        assert type(e) is cls and isinstance(e, also) and isinstance(e, decoflow.Error)
        assert (e.code, e.cause, e.graph, e.node, e.chunk) == (name, "the cause", "g", "n", 5)
        assert "chunk 5" in str(e)
        again = pickle.loads(pickle.dumps(e))
        assert type(again) is cls and again.chunk == 5 and str(again) == str(e)
    with pytest.raises(decoflow.Error) as info:
        _core._raise_native(codes["corrupt_input"], "no location", "", "", -1)
    assert info.value.graph is None and info.value.node is None and info.value.chunk is None


BAD = 3


def with_bad_chunk(bad: bytes, codec: str, dest_size: int):
    good = make_chunked("zstd", count=8)
    parts, sizes, dsizes = [], [], []
    for i in range(8):
        if i == BAD:
            parts.append(bad)
            dsizes.append(dest_size)
        else:
            a = int(good.offsets[i])
            parts.append(good.blob[a: a + int(good.sizes[i])])
            dsizes.append(int(good.dest_sizes[i]))
        sizes.append(len(parts[-1]))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = decoflow.empty(sum(dsizes))
    np.asarray(out)[:] = 0xEE  # poison
    g = decoflow.Graph("bad-input")
    inp = g.add_input(b"".join(parts))
    g.add_stage(decoflow.decode())
    for i in range(8):
        g.add_chunk(inp, int(offsets[i]), sizes[i], out, int(sum(dsizes[:i])), dsizes[i],
                    codec=codec if i == BAD else "zstd")
    return g, out, good


def zstd_frame(n=4096):
    return compress("zstd", bytes(range(256)) * (n // 256))


def zstd_flipped():
    import zstandard

    # With a content checksum, so that any flipped byte is caught.
    raw = np.random.default_rng(3).integers(0, 16, 4096, dtype=np.uint8).tobytes()
    frame = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(raw))
    frame[len(frame) // 2] ^= 0x40
    return bytes(frame)


def lz4_root_block(raw: bytes, flip_checksum=False):
    import lz4.block
    import xxhash

    payload = lz4.block.compress(raw, store_size=False)
    digest = xxhash.xxh64(payload).digest()
    if flip_checksum:
        digest = bytes([digest[0] ^ 1]) + digest[1:]
    body = digest + payload
    return b"L4" + bytes([1]) + len(body).to_bytes(3, "little") + len(raw).to_bytes(3, "little") + body


CASES = {
    "truncated zstd": (zstd_frame()[:-9], "zstd", 4096, decoflow.CorruptInputError),
    "flipped zstd": (zstd_flipped(), "zstd", 4096, decoflow.CorruptInputError),
    "garbage lz4 block": (b"\xff" * 64, "lz4_block", 4096, decoflow.CorruptInputError),
    "size mismatch": (zstd_frame(4096), "zstd", 5000, decoflow.SizeMismatchError),
    "root CS": (b"CS" + bytes(7) + bytes(16), "root", 100, decoflow.UnsupportedFormatError),
    "root L4 checksum": (lz4_root_block(bytes(range(256)) * 16, flip_checksum=True), "root", 4096,
                         decoflow.ChecksumError),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_chunk_and_executor_stays_usable(executor, case):
    bad, codec, dest_size, cls = CASES[case]
    g, out, good = with_bad_chunk(bad, codec, dest_size)
    fut = executor.submit(g)
    with pytest.raises(cls) as info:
        fut.result()
    e = info.value
    assert (e.graph, e.node, e.chunk) == ("bad-input", "decode", BAD), str(e)
    assert f"chunk {BAD}" in str(e)
    assert fut.exception() is e
    assert fut.chunk_states()[BAD] == 2
    # Usable afterwards.
    g2, out2 = graph_for(good)
    executor.submit(g2).result()
    assert np.array_equal(np.asarray(out2), good.original)


def test_submit_time_validation_raises_from_submit(executor):
    out = decoflow.empty(100)
    g = decoflow.Graph("validate")
    inp = g.add_input(bytes(50))
    g.add_stage(decoflow.decode())
    g.add_chunk(inp, 0, 10, out, 95, 10)
    with pytest.raises(decoflow.SliceError) as info:
        executor.submit(g)
    assert info.value.chunk == 0 and "outside array" in str(info.value)
    assert isinstance(info.value, ValueError)

    g = decoflow.Graph("overlap")
    inp = g.add_input(bytes(50))
    g.add_stage(decoflow.decode())
    g.add_chunk(inp, 0, 10, out, 0, 10)
    g.add_chunk(inp, 10, 10, out, 5, 10)
    with pytest.raises(decoflow.SliceError, match="overlaps chunk 0") as info:
        executor.submit(g)
    assert info.value.chunk == 1

    g = decoflow.Graph("input-range")
    inp = g.add_input(bytes(50))
    g.add_stage(decoflow.decode())
    g.add_chunk(inp, 45, 10, out, 0, 10)
    with pytest.raises(decoflow.InvalidArgumentError, match="outside input"):
        executor.submit(g)

    g = decoflow.Graph("no-stages")
    with pytest.raises(decoflow.InvalidArgumentError, match="no stages"):
        executor.submit(g)


def test_overlap_with_a_running_graph_is_refused(executor):
    src = "import time\ndef slow(s, d, i, t):\n    time.sleep(0.2)\n"
    out = decoflow.empty(100)
    first = decoflow.Graph("first")
    first.add_stage(decoflow.glue(source=src, function="slow"))
    first.add_chunk(first.add_input(bytes(100)), 0, 100, out, 0, 100)
    fut = executor.submit(first)
    second = decoflow.Graph("second")
    second.add_stage(decoflow.decode())
    second.add_chunk(second.add_input(bytes(10)), 0, 10, out, 50, 10)
    with pytest.raises(decoflow.SliceError, match="another running graph"):
        executor.submit(second)
    fut.result()
    executor.submit(second).result()


# Bad arguments to the public API are reported in decoflow's words, naming the
# function and the argument: never nanobind's "incompatible function
# arguments" nor a C++ cast failure.
def _bad_argument_cases():
    arr = decoflow.empty(100)
    g = decoflow.Graph("args")
    inp = g.add_input(bytes(100))
    return [
        ("executor-negative", lambda: decoflow.Executor(threads=-1), decoflow.InvalidArgumentError,
         r"decoflow\.Executor: threads must be from 0 to 4096 \(0: one per CPU\), not -1"),
        ("executor-huge", lambda: decoflow.Executor(threads=2**40), decoflow.InvalidArgumentError,
         r"decoflow\.Executor: threads must be from 0 to 4096 .*not 1099511627776"),
        ("executor-float", lambda: decoflow.Executor(threads=2.5), TypeError,
         r"decoflow\.Executor: threads must be an int .*not float 2\.5"),
        ("executor-str", lambda: decoflow.Executor(threads="4"), TypeError,
         r"decoflow\.Executor: threads must be an int .*not str '4'"),
        ("byteswap-negative", lambda: decoflow.byteswap(-1), decoflow.InvalidArgumentError,
         r"decoflow\.byteswap: width must be 2, 4 or 8, not -1"),
        ("decode-name", lambda: decoflow.decode(5), TypeError,
         r"decoflow\.decode: name must be a str, not int 5"),
        ("glue-target", lambda: decoflow.glue(5), TypeError,
         r"decoflow\.glue: target must be a str, not int 5"),
        ("graph-name", lambda: decoflow.Graph(5), TypeError,
         r"decoflow\.Graph: name must be a str, not int 5"),
        ("add-chunk-offset", lambda: g.add_chunk(inp, -1, 10, arr), decoflow.InvalidArgumentError,
         r"Graph\.add_chunk \(graph 'args'\): offset must be >= 0, not -1"),
        ("add-chunk-dest-size", lambda: g.add_chunk(inp, 0, 10, arr, 0, -5),
         decoflow.InvalidArgumentError,
         r"Graph\.add_chunk \(graph 'args'\): dest_size must be >= 0 or None, not -5"),
        ("add-chunk-array", lambda: g.add_chunk(inp, 0, 10, "out"), TypeError,
         r"Graph\.add_chunk \(graph 'args'\): array must be a decoflow\.Array"),
        ("add-chunk-tag", lambda: g.add_chunk(inp, 0, 10, arr, tag="x"), TypeError,
         r"Graph\.add_chunk \(graph 'args'\): tag must be an int, not str 'x'"),
        ("add-chunks-start", lambda: g.add_chunks(inp, [0], [10], arr, [10], dest_start=-1),
         decoflow.InvalidArgumentError,
         r"Graph\.add_chunks \(graph 'args'\): dest_start must be >= 0, not -1"),
        ("add-stage", lambda: g.add_stage("decode"), TypeError,
         r"Graph\.add_stage: stage must be a decoflow\.Stage .*not str 'decode'"),
    ]


@pytest.mark.parametrize("index", range(len(_bad_argument_cases())),
                         ids=[c[0] for c in _bad_argument_cases()])
def test_bad_arguments_speak_decoflow(index):
    _, call, cls, pattern = _bad_argument_cases()[index]
    with pytest.raises(cls, match=pattern) as info:
        call()
    assert "incompatible function arguments" not in str(info.value)
    if cls is decoflow.InvalidArgumentError:
        assert isinstance(info.value, ValueError)


def test_submit_of_something_else_than_a_graph(executor):
    with pytest.raises(TypeError, match=r"Executor\.submit: graph must be a decoflow\.Graph, "
                                        r"not str 'g'"):
        executor.submit("g")


def test_executor_threads_zero_is_one_per_cpu():
    with decoflow.Executor(threads=0) as ex:
        assert ex.threads >= 1
    with decoflow.Executor(threads=np.int64(2)) as ex:
        assert ex.threads == 2
