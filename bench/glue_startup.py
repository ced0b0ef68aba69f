#!/usr/bin/env python3
"""Time to the first glue graph's result: interpreters created lazily (by the
first glue batches) against created up front with ``Executor.start_glue()``.

Each measurement runs in a fresh Python process (interpreters live for the
process, so only a new one shows the creation cost), ``--repeat`` times, and
the median is printed:

  - lazy:   Executor(n); submit a glue graph; result()     (one timed span)
  - eager:  Executor(n); start_glue() (timed); then the same graph (timed)

The graph: ``--chunks`` chunks of 4 KiB, raw copy, then trivial glue (the
chunk's first byte), so the time is the interpreters' and the hand-off's.

Usage: PYTHONPATH=build/release/bindings python bench/glue_startup.py [--threads 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
import numpy as np
import decoflow
threads, chunks, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
size = 4096
src = np.arange(chunks * size, dtype=np.uint8)
out = decoflow.empty(chunks * size, np.uint8)
g = decoflow.Graph("startup")
g.add_stage(decoflow.decode())
g.add_stage(decoflow.glue(source="def first(src, dst, index, tag):\n    return dst[0]\n",
                          function="first"))
g.add_chunks(g.add_input(src.tobytes()), np.arange(chunks) * size, size, out, size,
             dest_offsets=np.arange(chunks) * size, codec="raw")
with decoflow.Executor(threads) as ex:
    t0 = time.perf_counter()
    created = ex.start_glue() if mode == "eager" else 0
    t1 = time.perf_counter()
    results = ex.submit(g).result()
    t2 = time.perf_counter()
assert np.array_equal(np.asarray(out), src) and np.array_equal(results, src[::size])
print(json.dumps({"start_glue": t1 - t0, "graph": t2 - t1, "created": created,
                  "alive": decoflow._core._glue_interpreter_count()}))
"""


def run(threads: int, chunks: int, mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(chunks), mode],
                          capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(done.stdout)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", default="1,2")
    p.add_argument("--chunks", type=int, default=256)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    print(f"# glue start-up, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"{args.chunks} chunks of 4 KiB, median of {args.repeat} fresh processes")
    print("| threads | lazy: first graph ms | eager: start_glue() ms | eager: first graph ms "
          "| start_glue per interpreter ms |")
    print("|---|---|---|---|---|")
    for n in (int(t) for t in args.threads.split(",")):
        lazy = [run(n, args.chunks, "lazy") for _ in range(args.repeat)]
        eager = [run(n, args.chunks, "eager") for _ in range(args.repeat)]
        assert all(e["created"] >= n for e in eager), eager
        med = lambda rows, key: statistics.median(r[key] for r in rows) * 1e3  # noqa: E731
        print(f"| {n} | {med(lazy, 'graph'):.1f} | {med(eager, 'start_glue'):.1f} | "
              f"{med(eager, 'graph'):.1f} | {med(eager, 'start_glue') / n:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
