#!/usr/bin/env python3
"""decoflow.root.iterate against uproot's TTree.iterate (its best executor
configuration) on files this benchmark writes with uproot, for step sizes
larger and smaller than the baskets; decoflow.root.arrays of the whole file is
the floor. Every step is checked equal to uproot's (once, untimed).

Each step is consumed (a sum over one branch), as a loop over a file would.

Usage: PYTHONPATH=build/release/bindings python bench/root_iterate.py \
           [--mib 256] [--codec zstd] [--basket-kib 256] [--threads 2] \
           [--steps "100 MB,10 MB,2000"] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import uproot

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decoflow  # noqa: E402
import decoflow.root  # noqa: E402
from root_vs_uproot import BRANCHES, timed, write_file  # noqa: E402


def step_value(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text.strip()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mib", type=int, default=256, help="uncompressed MiB (default 256)")
    p.add_argument("--codec", default="zstd", choices=["zstd", "lz4", "zlib", "lzma"])
    p.add_argument("--basket-kib", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", default="100 MB,10 MB,2000",
                   help="step sizes, comma-separated: entries or sizes such as '10 MB'")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", type=Path, default=Path("/tmp/decoflow-root-bench"))
    args = p.parse_args()

    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"{args.codec}-{args.basket_kib}k-{args.mib}m.root"
    if not path.exists():
        write_file(path, args.codec, args.mib, args.basket_kib)
    source, names, n = f"{path}:t", list(BRANCHES), args.threads
    with uproot.open(source) as tree:
        baskets = tree["px"].num_baskets
        entries = tree.num_entries
    print(f"# {path.name}: {entries} entries, {baskets} baskets per branch "
          f"(~{entries // max(baskets, 1)} entries each), {len(names)} branches; "
          f"{n} threads, uproot {uproot.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, best of {args.repeat}")

    with decoflow.Executor(n) as ex, ThreadPoolExecutor(n) as pool, \
            uproot.open(source, array_cache=None, object_cache=None) as tree:  # no caches
        def ours(step):
            return decoflow.root.iterate(tree, names, step_size=step, executor=ex)

        def theirs(step):
            return tree.iterate(names, step_size=step, library="np",
                                decompression_executor=pool, interpretation_executor=pool)

        def consume(steps):
            return sum(float(s["px"].sum(dtype=np.float64)) for s in steps)

        whole = timed(lambda: decoflow.root.arrays(tree, names, executor=ex), args.repeat)[0]
        print("| step | steps | decoflow iterate s | uproot iterate s | × uproot "
              "| decoflow arrays (whole) s |")
        print("|---|---|---|---|---|---|")
        for step in (step_value(s) for s in args.steps.split(",")):
            count = 0
            for a, b in zip(ours(step), theirs(step), strict=True):
                assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
                count += 1
            t_ours = timed(lambda: consume(ours(step)), args.repeat)[0]
            t_theirs = timed(lambda: consume(theirs(step)), args.repeat)[0]
            print(f"| {step} | {count} | {t_ours:.3f} | {t_theirs:.3f} | "
                  f"{t_theirs / t_ours:.2f} | {whole:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
