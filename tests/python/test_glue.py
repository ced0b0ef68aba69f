"""Python glue stages seen from Python: module targets with sys_path, source
text, results, errors with the remote traceback, escaped views, imports that
cannot work in a subinterpreter."""

from __future__ import annotations

import pathlib
import textwrap
import time

import numpy as np
import pytest

import decoflow
from conftest import graph_for, make_chunked

MODULE = textwrap.dedent('''
    import struct

    def scale_and_count(src, dst, index, tag):
        """Decoded big-endian int32 counts in dst: rewrite them native, x2."""
        n = len(dst) // 4
        values = struct.unpack(f">{n}i", dst)
        struct.pack_into(f"={n}i", dst, 0, *(v * 2 for v in values))
        return n

    def explode(src, dst, index, tag):
        if tag == 5:
            raise RuntimeError(f"tag {tag} is cursed")

    def keep(src, dst, index, tag):
        global KEPT
        KEPT = dst[:4]

    def numpy_please(src, dst, index, tag):
        import numpy
''')


@pytest.fixture(scope="module")
def glue_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("glue")
    (folder / "pyglue_mod.py").write_text(MODULE)
    return str(folder)


def be_int32_chunks(count=10, per=1000):
    values = np.arange(count * per, dtype=">i4")
    raw = values.tobytes()
    return values, raw, per * 4


def test_native_then_glue_from_a_module(executor, glue_dir):
    values, raw, size = be_int32_chunks()
    data = make_chunked("zstd", count=1)  # just to prove mixing codecs with glue
    out = decoflow.empty(values.size, np.int32)
    g = decoflow.Graph("native+glue")
    inp = g.add_input(raw)
    g.add_stage(decoflow.decode())
    g.add_stage(decoflow.glue("pyglue_mod:scale_and_count", sys_path=[glue_dir]))
    g.add_chunks(inp, np.arange(10) * size, size, out, size)
    results = executor.submit(g).result()
    assert np.array_equal(np.asarray(out), values.astype(np.int32) * 2)
    assert (results == 1000).all()
    assert data.original.size > 0


def test_glue_error_carries_the_remote_traceback(executor, glue_dir):
    g = decoflow.Graph("cursed")
    out = decoflow.empty(80)
    g.add_stage(decoflow.glue("pyglue_mod:explode", sys_path=[glue_dir], name="explode"))
    g.add_chunks(g.add_input(bytes(80)), np.arange(8) * 10, 10, out, 10, tags=np.arange(8))
    with pytest.raises(decoflow.GlueError) as info:
        executor.submit(g).result()
    e = info.value
    assert (e.graph, e.node, e.chunk) == ("cursed", "explode", 5)
    assert "RuntimeError: tag 5 is cursed" in str(e)
    assert e.remote_traceback.startswith("Traceback (most recent call last):")
    assert 'raise RuntimeError(f"tag {tag} is cursed")' in e.remote_traceback
    assert "pyglue_mod.py" in e.remote_traceback


def test_glue_that_keeps_a_view_fails_its_chunk(executor, glue_dir):
    g = decoflow.Graph("keeper")
    g.add_stage(decoflow.glue("pyglue_mod:keep", sys_path=[glue_dir]))
    g.add_chunk(g.add_input(bytes(10)), 0, 10, decoflow.empty(10))
    with pytest.raises(decoflow.GlueError, match="kept a view"):
        executor.submit(g).result()


def test_numpy_cannot_be_imported_in_glue_and_the_error_says_why(executor, glue_dir):
    g = decoflow.Graph("numpy")
    g.add_stage(decoflow.glue("pyglue_mod:numpy_please", sys_path=[glue_dir]))
    g.add_chunk(g.add_input(bytes(10)), 0, 10, decoflow.empty(10))
    with pytest.raises(decoflow.GlueError) as info:
        executor.submit(g).result()
    assert info.value.chunk == 0
    assert "numpy" in str(info.value).lower()


def test_missing_module_is_a_glue_error(executor):
    g = decoflow.Graph("missing")
    g.add_stage(decoflow.glue("no_such_module_xyz:f"))
    g.add_chunk(g.add_input(bytes(10)), 0, 10, decoflow.empty(10))
    with pytest.raises(decoflow.GlueError, match="no_such_module_xyz"):
        executor.submit(g).result()


def test_source_glue_results_and_bad_specs(executor):
    src = "def length(src, dst, index, tag):\n    dst[:] = src\n    return len(src) + index\n"
    data = bytes(range(200))
    out = decoflow.empty(200)
    g = decoflow.Graph("source")
    g.add_stage(decoflow.glue(source=src, function="length"))
    g.add_chunks(g.add_input(data), np.arange(4) * 50, 50, out, 50)
    assert list(executor.submit(g).result()) == [50, 51, 52, 53]
    assert bytes(np.asarray(out)) == data
    with pytest.raises(decoflow.InvalidArgumentError, match="module:function"):
        decoflow.glue("no_colon")
    with pytest.raises(decoflow.InvalidArgumentError, match="either"):
        decoflow.glue()
    with pytest.raises(decoflow.InvalidArgumentError, match="function"):
        decoflow.glue(source="x = 1")


def test_glue_runs_on_several_executors(glue_dir):
    values, raw, size = be_int32_chunks(4, 256)
    for threads in (1, 2, 3):
        out = decoflow.empty(values.size, np.int32)
        g = decoflow.Graph(f"ex{threads}")
        g.add_stage(decoflow.decode())
        g.add_stage(decoflow.glue("pyglue_mod:scale_and_count", sys_path=[glue_dir]))
        g.add_chunks(g.add_input(raw), np.arange(4) * size, size, out, size)
        with decoflow.Executor(threads) as ex:
            ex.submit(g).result()
        assert np.array_equal(np.asarray(out), values.astype(np.int32) * 2)
    # Interpreters are pooled for the process, not made per executor.
    assert 1 <= decoflow._core._glue_interpreter_count() <= 4


def test_start_glue_creates_the_interpreters_up_front(glue_dir):
    with decoflow.Executor(3) as ex:
        alive = ex.start_glue()
        # Every interpreter exists when it returns (pooled: earlier tests' may too).
        assert alive >= 3 and decoflow._core._glue_interpreter_count() == alive
        assert ex.start_glue() == alive  # a second call creates none
        values, raw, size = be_int32_chunks(6, 512)
        out = decoflow.empty(values.size, np.int32)
        g = decoflow.Graph("prewarmed")
        g.add_stage(decoflow.decode())
        g.add_stage(decoflow.glue("pyglue_mod:scale_and_count", sys_path=[glue_dir]))
        g.add_chunks(g.add_input(raw), np.arange(6) * size, size, out, size)
        ex.submit(g).result()
    assert np.array_equal(np.asarray(out), values.astype(np.int32) * 2)
    assert decoflow._core._glue_interpreter_count() == alive


SPIN = textwrap.dedent('''
    def spin(src, dst, index, tag):
        while index >= 5:
            pass
    ''')


def spin_graph(count=8, timeout=None):
    values, raw, size = be_int32_chunks(count, 64)
    out = decoflow.empty(values.size, np.int32)
    g = decoflow.Graph("spin")
    g.add_stage(decoflow.glue(source=SPIN, function="spin", timeout=timeout, name="spin"))
    g.add_chunks(g.add_input(raw), np.arange(count) * size, size, out, size, codec="raw")
    return g


def test_glue_timeout_fails_the_chunk_and_interrupts_the_call(executor):
    with pytest.raises(decoflow.GlueError, match=r"time limit of 0\.25 s") as info:
        executor.submit(spin_graph(timeout=0.25)).result()
    assert info.value.chunk >= 5 and info.value.node == "spin"  # the first to time out
    assert "TimeoutError" in str(info.value)
    with pytest.raises(decoflow.InvalidArgumentError, match="timeout"):
        decoflow.glue(source=SPIN, function="spin", timeout=-1)


def test_cancel_interrupts_endless_glue(executor, chunked):
    fut = executor.submit(spin_graph())
    time.sleep(0.2)
    assert fut.cancel()
    with pytest.raises(decoflow.CancelledError):
        fut.result(timeout=30)  # the calls in flight are interrupted
    states = fut.chunk_states()
    assert (states == 3).any() and not (states == 2).any()
    g, out = graph_for(chunked)  # the interpreters are fine afterwards
    executor.submit(g).result()
    assert np.array_equal(np.asarray(out), chunked.original)


def thread_switches(name):
    """Voluntary context switches (wake-ups) of this process's thread `name`."""
    for task in pathlib.Path("/proc/self/task").iterdir():
        if (task / "comm").read_text().strip() == name:
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    return int(line.split()[1])
    return None


@pytest.mark.skipif(not pathlib.Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_the_glue_watchdog_sleeps_while_no_glue_runs(executor):
    """Timeouts and cancels are watched only while glue runs: an idle process
    is not woken every few milliseconds; the next timeout still fires."""
    with pytest.raises(decoflow.GlueError, match="time limit"):
        executor.submit(spin_graph(timeout=0.1)).result()
    before = thread_switches("decoflow-watch")
    assert before is not None  # the watchdog runs, by that name
    time.sleep(0.5)  # a watchdog that polled would wake ~50 times meanwhile
    assert thread_switches("decoflow-watch") - before <= 2
    with pytest.raises(decoflow.GlueError, match="time limit"):
        executor.submit(spin_graph(timeout=0.1)).result()
