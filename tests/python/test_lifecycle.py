"""Process lifetime: exit with glue interpreters alive (on every Python we
have a build for), fork refused in the child, multiprocessing 'spawn' and
'forkserver' beside a live executor."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import decoflow
from conftest import python_env

GLUE_EXIT = textwrap.dedent('''
    import sys, threading, numpy as np, decoflow
    src = "import struct\\ndef inc(src, dst, index, tag):\\n    dst[0] = (src[0] + 1) & 255\\n"

    def run(threads, name):
        out = decoflow.empty(64)
        g = decoflow.Graph(name)
        g.add_stage(decoflow.glue(source=src, function="inc"))
        g.add_chunks(g.add_input(bytes(range(64))), np.arange(64), 1, out, 1)
        with decoflow.Executor(threads) as ex:
            ex.submit(g).result()
        assert bytes(np.asarray(out)) == bytes(range(1, 65)), name

    workers = [threading.Thread(target=run, args=(t % 3 + 1, f"g{t}")) for t in range(4)]
    for w in workers: w.start()
    for w in workers: w.join()
    # One more executor left open, with a graph still running, at exit.
    slow = "import time\\ndef slow(s, d, i, t):\\n    time.sleep(0.01)\\n"
    live = decoflow.Executor(2)
    g = decoflow.Graph("left-running")
    g.add_stage(decoflow.glue(source=slow, function="slow"))
    g.add_chunks(g.add_input(bytes(1000)), np.arange(1000), 1, decoflow.empty(1000), 1)
    fut = live.submit(g)
    print("interpreters", decoflow._core._glue_interpreter_count(), sys.version_info[:2], flush=True)
''')


def interpreters():
    """(python, PYTHONPATH) pairs: this one, plus DECOFLOW_TEST_PYTHONS
    ("exe=pythonpath" separated by ';'), which scripts/test.sh sets for the
    other Python version it built the extension for."""
    pairs = [(sys.executable, python_env()["PYTHONPATH"])]
    for item in filter(None, os.environ.get("DECOFLOW_TEST_PYTHONS", "").split(";")):
        exe, _, path = item.partition("=")
        pairs.append((exe, path))
    return pairs


@pytest.mark.parametrize("python,pythonpath", interpreters(),
                         ids=[os.path.basename(p[0]) for p in interpreters()])
def test_exit_with_glue_from_several_executors_and_threads(python, pythonpath):
    env = dict(os.environ, PYTHONPATH=pythonpath)
    for attempt in range(3):  # repeated: exit-time crashes tend to be intermittent
        proc = subprocess.run([python, "-c", GLUE_EXIT], env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
        assert "interpreters" in proc.stdout
        assert "Traceback" not in proc.stderr, proc.stderr


EXIT_WHILE_STARTING = textwrap.dedent('''
    import numpy as np, decoflow
    # One tiny glue graph on 2 threads, then exit at once: the second glue
    # interpreter is often still being created (and registering with the
    # glue watchdog) while the exit hook ends the pool.
    out = decoflow.empty(4)
    g = decoflow.Graph("tiny")
    g.add_stage(decoflow.glue(source="def f(s, d, i, t):\\n    pass\\n", function="f"))
    g.add_chunks(g.add_input(bytes(4)), np.arange(4), 1, out, 1)
    with decoflow.Executor(2) as ex:
        ex.submit(g).result()
''')


def test_exit_while_glue_interpreters_are_still_starting():
    # Found by bench/glue_startup.py: a watchdog thread restarted by a late
    # interpreter kept the exit hook waiting forever.
    for attempt in range(12):
        proc = subprocess.run([sys.executable, "-c", EXIT_WHILE_STARTING], env=python_env(),
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (attempt, proc.returncode, proc.stderr)


def test_forked_child_refuses_to_run():
    script = textwrap.dedent('''
        import os, sys, numpy as np, decoflow
        with decoflow.Executor(2) as ex:   # native only: no subinterpreters exist
            g = decoflow.Graph()
            g.add_stage(decoflow.decode())
            g.add_chunk(g.add_input(b"abc"), 0, 3, decoflow.empty(3))
            ex.submit(g).result()
            pid = os.fork()
            if pid == 0:
                code = 3
                try:
                    ex.submit(g)
                except decoflow.ResourceError as e:
                    code = 0 if "spawn" in str(e) else 4
                try:
                    decoflow.Executor(1)
                    code = 5
                except decoflow.ResourceError:
                    pass
                os._exit(code)
            _, status = os.waitpid(pid, 0)
            print("child", os.waitstatus_to_exitcode(status))
            ex.submit(g).result()   # the parent goes on
    ''')
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", script], env=python_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "child 0" in proc.stdout, proc.stdout + proc.stderr


def _child_sum(n):
    return int(np.arange(n).sum())


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_multiprocessing_beside_a_live_executor(executor, method):
    src = "def noop(s, d, i, t):\n    pass\n"
    g = decoflow.Graph("beside")
    g.add_stage(decoflow.glue(source=src, function="noop"))
    g.add_chunk(g.add_input(bytes(8)), 0, 8, decoflow.empty(8))
    executor.submit(g).result()  # glue interpreters exist now
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        assert pool.map(_child_sum, [10, 100]) == [45, 4950]
    executor.submit(g).result()
