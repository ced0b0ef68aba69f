#!/usr/bin/env python3
"""Python-side overhead of decoflow: building and submitting graphs.

Targets (issue 4): <= 50 us per graph plus <= 1 us per chunk for graphs built
from NumPy arrays. Measures, on one executor:

  graph   : build + submit + result of a 1-chunk raw graph (fixed cost per graph),
            next to the same through the C++-only path's floor (an empty wait);
  chunks  : add_chunks() of N chunks from NumPy arrays, and submit()+result()
            of those N 4-byte raw chunks, per chunk.

Usage: PYTHONPATH=build/release/bindings .venv/bin/python bench/python_overhead.py [--threads N]
Prints the machine's thread count and the numbers; timing only, no asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import decoflow


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} hardware threads; executor threads: {args.threads}")

    payload = bytes(64)
    out = decoflow.empty(64)
    with decoflow.Executor(args.threads) as ex:
        def one_graph():
            g = decoflow.Graph("tiny")
            inp = g.add_input(payload)
            g.add_stage(decoflow.decode())
            g.add_chunk(inp, 0, 64, out)
            ex.submit(g).result()

        prebuilt = decoflow.Graph("prebuilt")
        prebuilt.add_stage(decoflow.decode())
        prebuilt.add_chunk(prebuilt.add_input(payload), 0, 64, out)

        def submit_only():
            ex.submit(prebuilt).result()

        for fn in (one_graph, submit_only):
            fn()
        n = 2000
        best, med = best_of(lambda: [one_graph() for _ in range(n)], 3)
        print(f"graph: build+submit+result of a 1-chunk graph: {best / n * 1e6:7.1f} us "
              f"(median {med / n * 1e6:.1f})")
        best, med = best_of(lambda: [submit_only() for _ in range(n)], 3)
        print(f"graph: submit+result of a prebuilt 1-chunk graph: {best / n * 1e6:7.1f} us "
              f"(median {med / n * 1e6:.1f})  [target <= 50 us]")

        k = args.chunks
        data = np.arange(k, dtype=np.uint32)
        big = decoflow.empty(k, np.uint32)
        offsets = np.arange(k, dtype=np.int64) * 4

        def build():
            g = decoflow.Graph("many")
            inp = g.add_input(data)
            g.add_stage(decoflow.decode())
            g.add_chunks(inp, offsets, 4, big, 4)
            return g

        g = build()
        best, med = best_of(build, 5)
        print(f"chunks: add_chunks of {k} chunks from NumPy: {best / k * 1e9:7.1f} ns/chunk "
              f"(median {med / k * 1e9:.1f})  [target <= 1000 ns]")
        best, med = best_of(lambda: ex.submit(g).result(), 5)
        print(f"chunks: submit+result of {k} 4-byte chunks: {best / k * 1e9:7.1f} ns/chunk "
              f"(median {med / k * 1e9:.1f}; includes the engine's own per-chunk work)")
        assert np.array_equal(np.asarray(big), data)


if __name__ == "__main__":
    main()
