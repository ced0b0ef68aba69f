"""Executors and futures: concurrent.futures semantics, asyncio, progress,
cancellation, Ctrl-C, closing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import decoflow
from conftest import graph_for, make_chunked, python_env

SLOW = '''
import time
def slow(src, dst, index, tag):
    time.sleep(0.02)
'''


def slow_graph(chunks=200, name="slow"):
    arr = decoflow.empty(chunks * 16)
    g = decoflow.Graph(name)
    g.add_stage(decoflow.glue(source=SLOW, function="slow"))
    g.add_chunks(g.add_input(bytes(chunks * 16)), np.arange(chunks) * 16, 16, arr, 16)
    return g, arr


def test_future_is_a_concurrent_future(executor, chunked):
    g, out = graph_for(chunked)
    fut = executor.submit(g)
    assert isinstance(fut, concurrent.futures.Future)
    results = fut.result(timeout=30)
    assert fut.done() and not fut.cancelled() and fut.exception() is None
    assert results.dtype == np.int64 and results.shape == (len(g),)
    assert (fut.chunk_states() == 1).all()
    done, _ = concurrent.futures.wait([fut, executor.submit(graph_for(chunked)[0])])
    assert len(done) == 2


def test_done_callback_runs_once_on_a_main_interpreter_thread(executor, chunked):
    g, _ = graph_for(chunked)
    seen = []
    event = threading.Event()

    def callback(f):
        seen.append((f, threading.current_thread()))
        event.set()

    fut = executor.submit(g)
    fut.add_done_callback(callback)
    assert event.wait(10)
    fut.result()
    time.sleep(0.05)
    assert len(seen) == 1 and seen[0][0] is fut


def test_done_callback_is_delivered_without_waiting(executor, chunked):
    """Nobody calls result(): the courier thread completes the future."""
    g, _ = graph_for(chunked)
    event = threading.Event()
    executor.submit(g).add_done_callback(lambda f: event.set())
    assert event.wait(10)


@pytest.mark.parametrize("ask", ["result", "exception", "cancel"])
def test_waiter_sees_the_outcome_while_the_courier_is_still_setting_it(
        executor, chunked, monkeypatch, ask):
    """The graph ends, the courier starts delivering and is slow to set the
    outcome; a thread that asks meanwhile waits for it instead of seeing a
    future still running (result(timeout) used to raise TimeoutError)."""
    courier_inside = threading.Event()
    real_set_result = concurrent.futures.Future.set_result

    def slow_set_result(self, value):
        if threading.current_thread() is not threading.main_thread():
            courier_inside.set()
            time.sleep(0.3)
        real_set_result(self, value)

    monkeypatch.setattr(decoflow.Future, "set_result", slow_set_result)
    g, out = graph_for(chunked)
    fut = executor.submit(g)
    assert courier_inside.wait(10)
    if ask == "result":
        assert fut.result(timeout=5).shape == (len(g),)
    elif ask == "exception":
        assert fut.exception(timeout=5) is None
    else:
        assert fut.cancel() is False
    assert fut.done() and not fut.cancelled()
    assert np.array_equal(np.asarray(out), chunked.original)


def test_asyncio_wrap_future(executor, chunked):
    async def main():
        g, out = graph_for(chunked)
        results = await asyncio.wrap_future(executor.submit(g))
        return results, np.asarray(out).copy()

    results, out = asyncio.run(main())
    assert np.array_equal(out, chunked.original)


def test_asyncio_cancel_cancels_the_graph(executor):
    g, _ = slow_graph()

    async def main():
        fut = executor.submit(g)
        wrapped = asyncio.wrap_future(fut)
        await asyncio.sleep(0.1)
        wrapped.cancel()
        with pytest.raises(asyncio.CancelledError):
            await wrapped
        return fut

    fut = asyncio.run(main())
    deadline = time.monotonic() + 10
    while not fut.done() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fut.cancelled()


def test_result_timeout(executor):
    g, _ = slow_graph(100)
    fut = executor.submit(g)
    with pytest.raises(TimeoutError):
        fut.result(timeout=0.05)
    assert fut.cancel()


def test_cancel_stops_promptly_and_executor_is_reusable(executor, chunked):
    g, _ = slow_graph(400)  # 8 s of glue on one thread, ~4 s on two
    fut = executor.submit(g)
    time.sleep(0.1)
    assert fut.cancel()
    assert fut.cancelled() and fut.done()
    # Prompt: the chunks not yet started were skipped, not run to the end.
    assert (fut.chunk_states() == 0).sum() > 200
    with pytest.raises(decoflow.CancelledError) as info:
        fut.result()
    assert isinstance(info.value, concurrent.futures.CancelledError)
    assert info.value.graph == "slow"
    states = fut.chunk_states()
    assert (states == 0).any() and not (states == 2).any()
    assert fut.cancel()  # again: still cancelled
    g2, out = graph_for(chunked)
    executor.submit(g2).result()
    assert np.array_equal(np.asarray(out), chunked.original)


def test_cancel_after_done_returns_false(executor, chunked):
    fut = executor.submit(graph_for(chunked)[0])
    fut.result()
    assert not fut.cancel() and not fut.cancelled()


def test_progress_callback(executor):
    g, _ = slow_graph(60)
    seen = []
    fut = executor.submit(g, progress=seen.append, progress_interval=0.05)
    fut.result()
    deadline = time.monotonic() + 5
    while (not seen or seen[-1].chunks_done != 60) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(seen) >= 2
    assert all(isinstance(p, decoflow.Progress) for p in seen)
    assert seen[-1].chunks_done == seen[-1].chunks_total == 60
    assert seen[-1].fraction == 1.0
    done = [p.chunks_done for p in seen]
    assert done == sorted(done)


def test_progress_bar_with_tqdm(executor, capsys):
    pytest.importorskip("tqdm")
    g, _ = slow_graph(60)
    executor.submit(g, progress=True, progress_interval=0.05).result()
    time.sleep(0.2)  # the final update arrives on the courier


def test_submit_from_many_threads(executor):
    datas = [make_chunked("zstd", count=8, seed=s) for s in range(8)]
    outs = [None] * 8

    def work(i):
        g, out = graph_for(datas[i], name=f"t{i}")
        executor.submit(g).result()
        outs[i] = np.asarray(out).copy()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for d, o in zip(datas, outs):
        assert np.array_equal(o, d.original)


def test_executor_context_manager_waits_and_closes(chunked):
    with decoflow.Executor(threads=1) as ex:
        assert ex.threads == 1
        g, out = graph_for(chunked)
        fut = ex.submit(g)
    assert fut.done() and ex.closed
    assert np.array_equal(np.asarray(out), chunked.original)
    with pytest.raises(RuntimeError, match="closed"):
        ex.submit(g)
    ex.close()  # idempotent


def test_exception_in_with_block_cancels_running_graphs():
    g, _ = slow_graph(400)
    with pytest.raises(ZeroDivisionError):
        with decoflow.Executor(threads=2) as ex:
            fut = ex.submit(g)
            time.sleep(0.05)
            1 / 0
    assert fut.cancelled()


def test_ctrl_c_during_result_cancels_the_graph(tmp_path):
    # The child installs Python's default SIGINT handler itself: started from a
    # background job of a non-interactive shell (nohup scripts/test.sh &), it
    # inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
    # handler (docs/python.md says users need that handler too). The run's
    # wait() reports when result() has started waiting (inside the code that
    # cancels on KeyboardInterrupt), so the signal is sent then, whatever the
    # machine's load.
    script = textwrap.dedent(f'''
        import signal, time, numpy as np, decoflow
        signal.signal(signal.SIGINT, signal.default_int_handler)
        src = {SLOW!r}
        arr = decoflow.empty(16000)
        g = decoflow.Graph("interrupted")
        g.add_stage(decoflow.glue(source=src, function="slow"))
        g.add_chunks(g.add_input(bytes(16000)), np.arange(1000) * 16, 16, arr, 16)

        class ReportingRun:
            def __init__(self, run):
                self._real = run
                self._reported = False

            def __getattr__(self, name):
                return getattr(self._real, name)

            def wait(self, timeout=None):
                if not self._reported:
                    self._reported = True
                    print("waiting", flush=True)
                return self._real.wait(timeout)

        with decoflow.Executor(threads=2) as ex:
            fut = ex.submit(g)
            fut._run = ReportingRun(fut._run)
            t0 = time.monotonic()
            try:
                fut.result()
            except KeyboardInterrupt:
                print("interrupted after", round(time.monotonic() - t0, 2), flush=True)
            print("cancelled", fut.cancelled(), flush=True)
            print("not run", int((fut.chunk_states() == 0).sum()), flush=True)
    ''')
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=python_env())
    line = proc.stdout.readline()
    assert line.strip() == "waiting", line + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "interrupted after" in out and "cancelled True" in out, out + err
    # The graph had ~10 s of work left: most of its chunks never started.
    assert int(out.split("not run")[1]) > 500, out
    assert proc.returncode == 0, err
