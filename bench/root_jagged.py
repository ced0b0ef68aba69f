#!/usr/bin/env python3
"""Jagged branches (NanoAOD-like: Jet_pt[nJet], Jet_eta, Jet_phi, Jet_mass,
float32, ~5 jets per event) read by decoflow.root.arrays against uproot's
tree.arrays with its best executor configuration (the default, and a
ThreadPoolExecutor(n) as decompression and interpretation executor), both
returning awkward arrays, on a file this benchmark writes with uproot.
Outputs checked equal.

Usage: PYTHONPATH=build/release/bindings python bench/root_jagged.py \
           [--events 1600000] [--events-per-basket 2000] [--codec zstd] \
           [--threads 1,2] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decoflow  # noqa: E402
import decoflow.root  # noqa: E402
from root_vs_uproot import COMPRESSION  # noqa: E402

NAMES = ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"]


def write(path: Path, codec: str, events: int, per_basket: int) -> None:
    rng = np.random.default_rng(2)
    tmp = path.with_suffix(".tmp")
    with uproot.recreate(tmp, compression=COMPRESSION[codec]()) as f:
        f.mktree("t", {"nJet": "int32", **{n: "var * float32" for n in NAMES}},
                 counter_name=lambda counted: "nJet")
        for lo in range(0, events, per_basket):
            counts = rng.poisson(5, min(per_basket, events - lo))
            total = int(counts.sum())
            # Rounded to 0.01, as stored values often are: compressible, not trivial.
            data = {n: ak.unflatten(np.round(rng.normal(50, 20, total), 2).astype(np.float32),
                                    counts) for n in NAMES}
            data["nJet"] = counts.astype(np.int32)
            f["t"].extend(data)
    tmp.rename(path)


def times(fn, repeat: int) -> tuple[float, float, object]:
    runs, out = [], None
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
    return min(runs), statistics.median(runs), out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1_600_000)
    p.add_argument("--events-per-basket", type=int, default=2000)
    p.add_argument("--codec", default="zstd", choices=list(COMPRESSION))
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--dir", type=Path, default=Path("/tmp/decoflow-root-bench"))
    args = p.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"jagged-{args.codec}-{args.events}-{args.events_per_basket}.root"
    if not path.exists():
        write(path, args.codec, args.events, args.events_per_basket)
    # No uproot caches: every timed call reads the file (array_cache would
    # return the previous result).
    with uproot.open(f"{path}:t", array_cache=None, object_cache=None) as tree:
        values = int(tree["nJet"].array(library="np").sum())
        print(f"# {path.name}: {args.events} events, {values} jets, "
              f"{tree['Jet_pt'].num_baskets} baskets per branch, "
              f"{os.path.getsize(path) / 2**20:.0f} MiB; uproot {uproot.__version__}, "
              f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
              f"best (median) of {args.repeat}")
        print("| threads | decoflow s | uproot default s | uproot pool(n) s | × uproot's best |")
        print("|---|---|---|---|---|")
        default_best, default_median, reference = times(
            lambda: tree.arrays(NAMES, library="ak"), args.repeat)
        for n in (int(t) for t in args.threads.split(",")):
            with decoflow.Executor(n) as ex, ThreadPoolExecutor(n) as pool:
                ours_best, ours_median, ours = times(lambda: decoflow.root.arrays(
                    tree, NAMES, library="ak", executor=ex), args.repeat)
                assert all(ak.array_equal(ours[k], reference[k]) for k in NAMES)
                del ours
                pool_best, pool_median, _ = times(lambda: tree.arrays(
                    NAMES, library="ak", decompression_executor=pool,
                    interpretation_executor=pool), args.repeat)
            best = min(default_best, pool_best)
            print(f"| {n} | {ours_best:.3f} ({ours_median:.3f}) | {default_best:.3f} "
                  f"({default_median:.3f}) | {pool_best:.3f} ({pool_median:.3f}) | "
                  f"{best / ours_best:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
