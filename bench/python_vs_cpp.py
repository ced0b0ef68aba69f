#!/usr/bin/env python3
"""The same decode graph from Python and from C++ (issue 4: Python >= 95% of
C++ throughput at 256 KiB chunks).

Runs `decoflow-bench-engine MIB CHUNK_KIB MAX_THREADS REPS` with
DECOFLOW_BENCH_DUMP set, so that it writes the exact chunks it decoded; then
builds the same graph through the Python package (one in-memory input, one
engine-owned array, `decode()`, chunk tables from NumPy) and times it the same
way (best of REPS, one executor per thread count), checks the output against
the source, and prints both figures and their ratio. C++ and Python runs
alternate per thread count (C++ first, from its own table).

Usage: PYTHONPATH=build/release/bindings .venv/bin/python bench/python_vs_cpp.py \
           [--engine build/release/bench/decoflow-bench-engine] [MIB=128] [CHUNK_KIB=256] [MAX_THREADS=2] [REPS=5]
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

import decoflow


def main() -> None:
    args = sys.argv[1:]
    engine = "build/release/bench/decoflow-bench-engine"
    if args[:1] == ["--engine"]:
        engine, args = args[1], args[2:]
    mib, chunk_kib, max_threads, reps = ([int(a) for a in args] + [128, 256, 2, 5][len(args):])[:4]
    with tempfile.TemporaryDirectory() as dump:
        out = subprocess.run([engine, str(mib), str(chunk_kib), str(max_threads), str(reps)],
                             env={**os.environ, "DECOFLOW_BENCH_DUMP": dump},
                             check=True, capture_output=True, text=True).stdout
        cpp: dict[tuple[str, int], float] = {}
        codec = None
        for line in out.splitlines():
            if m := re.match(r"(zstd-3|lz4): ratio", line):
                codec = m.group(1)
            elif codec and (m := re.match(r"\s+(\d+)\s+([\d.]+)", line)):
                cpp[(codec, int(m.group(1)))] = float(m.group(2))
        source = np.fromfile(os.path.join(dump, "source.bin"), dtype=np.uint8)
        total = source.size
        chunk = chunk_kib << 10
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {mib} MiB, "
              f"{chunk_kib} KiB chunks, best of {reps}; GB/s of output")
        print("| codec | threads | C++ | Python | Python / C++ |\n|---|---|---|---|---|")
        for name, codec_name in (("zstd-3", "zstd"), ("lz4", "lz4_block")):
            data = np.fromfile(os.path.join(dump, f"{name}.bin"), dtype=np.uint8)
            offsets = np.fromfile(os.path.join(dump, f"{name}.offsets"), dtype=np.uint64)
            sizes = np.fromfile(os.path.join(dump, f"{name}.sizes"), dtype=np.uint64)
            dest_sizes = np.minimum(chunk, total - np.arange(offsets.size, dtype=np.uint64) * chunk)
            array = decoflow.empty(total, np.uint8)
            graph = decoflow.Graph(f"python-{name}")
            data_id = graph.add_input(data)
            graph.add_stage(decoflow.decode())
            graph.add_chunks(data_id, offsets, sizes, array, dest_sizes, codec=codec_name)
            threads = 1
            while threads <= max_threads:
                with decoflow.Executor(threads=threads) as ex:
                    best = float("inf")
                    for _ in range(reps):
                        start = time.perf_counter()
                        ex.submit(graph).result()
                        best = min(best, time.perf_counter() - start)
                if not np.array_equal(np.asarray(array), source):
                    raise SystemExit(f"{name}: Python output differs from the source")
                py = total / best / 1e9
                c = cpp[(name, threads)]
                print(f"| {name} | {threads} | {c:.2f} | {py:.2f} | {py / c:.1%} |")
                threads *= 2


if __name__ == "__main__":
    main()
