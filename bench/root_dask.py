#!/usr/bin/env python3
"""decoflow.root.dask against uproot.dask, side by side on one distributed
cluster over the same files, computing one physics quantity: the sum of the
leading jet's pT over the events with at least two jets. Also the same
quantity from decoflow.root.arrays in one process (a 2-thread executor), the
cost of Dask itself. Results checked equal; times are the best of --repeat,
after a warm-up compute of each (workers import their modules then).

The files are written here with uproot (zstd, baskets of --basket-kib of
jet pT values): --files files holding --out-mib of decoded output in all
(the jet pT values and their counts, what the computation reads).

Usage: PYTHONPATH=build/release/bindings python bench/root_dask.py \
           [--out-mib 1024] [--files 4] [--workers 2] [--repeat 3] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import awkward as ak
import dask
import dask_awkward as dak
import distributed
import numpy as np
import uproot

import decoflow
import decoflow.root

MEAN_JETS = 4  # jets per event, Poisson
BYTES_PER_EVENT = 4 * MEAN_JETS + 4  # jet pT (float32) + its count (int32)


def write_files(folder: Path, files: int, out_mib: float, basket_kib: int) -> list[str]:
    """`files` files of events with jagged jet pT, `out_mib` of decoded
    output in all, every basket of jet_pt about `basket_kib` KiB."""
    events = int(out_mib * 2**20 / BYTES_PER_EVENT / files)
    per_basket = max(1, basket_kib * 1024 // (4 * MEAN_JETS))
    paths = []
    for k in range(files):
        path = folder / f"jets{k}.root"
        paths.append(str(path))
        if path.exists():
            continue
        rng = np.random.default_rng(k)
        counts = rng.poisson(MEAN_JETS, events).astype(np.int32)
        pt = rng.exponential(40.0, int(counts.sum())).astype(np.float32)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        tmp = path.with_suffix(".tmp")
        with uproot.recreate(tmp, compression=uproot.ZSTD(1)) as f:
            f.mktree("events", {"jet_pt": "var * float32"})
            for lo in range(0, events, per_basket):
                hi = min(lo + per_basket, events)
                f["events"].extend({"jet_pt": ak.unflatten(pt[offsets[lo]:offsets[hi]],
                                                           counts[lo:hi])})
        tmp.rename(path)
    return paths


def leading_pt_sum(events: ak.Array, lib=ak) -> float:
    """Sum of the leading jet's pT over events with >= 2 jets."""
    pt = events.jet_pt
    return lib.sum(pt[lib.num(pt, axis=1) >= 2][:, 0])


def best(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up
    times, value = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return min(times), float(value)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out-mib", type=float, default=1024)
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--basket-kib", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps-per-file", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", type=Path, help="where the files are written (default: a new "
                                            "temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the files for the next run")
    args = p.parse_args()
    if args.dir is None:
        args.dir = Path(tempfile.mkdtemp(prefix="decoflow-root-dask-"))
    args.dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    paths = write_files(args.dir, args.files, args.out_mib, args.basket_kib)
    written = time.perf_counter() - t
    sources = [f"{path}:events" for path in paths]
    entries = sum(uproot.open(s).num_entries for s in sources)
    with uproot.open(paths[0]) as f:
        baskets = f["events"]["jet_pt"].num_baskets
    print(f"# {len(paths)} files, {entries} events, {entries * BYTES_PER_EVENT / 2**20:.0f} MiB "
          f"of output (jet pT + counts), {baskets} baskets of jet_pt per file "
          f"(written in {written:.0f} s); {args.workers} worker processes x 1 thread; "
          f"best of {args.repeat}")
    print(f"# decoflow {decoflow.__version__}, uproot {uproot.__version__}, dask "
          f"{dask.__version__}, dask-awkward {dak.__version__}, distributed "
          f"{distributed.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.2f}")
    spf = args.steps_per_file
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=40) as cluster, \
            distributed.Client(cluster):
        ours_t, ours = best(lambda: leading_pt_sum(
            decoflow.root.dask(sources, steps_per_file=spf), dak).compute(), args.repeat)
        theirs_t, theirs = best(lambda: leading_pt_sum(
            uproot.dask(sources, steps_per_file=spf), dak).compute(), args.repeat)
    with decoflow.Executor(threads=2) as ex, decoflow.Executor(threads=1) as ex1:
        one_t, one = best(lambda: leading_pt_sum(decoflow.root.arrays(
            sources, ["jet_pt"], executor=ex, library="ak")), args.repeat)
        # One partition's parts, one thread: what bounds the ratio (the
        # awkward computation is the same for both).
        part = int(uproot.open(sources[0]).num_entries) // spf
        tree = uproot.open(sources[0], array_cache=None, object_cache=None)  # as uproot.dask
        part_read, _ = best(lambda: len(decoflow.root.arrays(
            sources[0], ["jet_pt"], entry_stop=part, executor=ex1, library="ak")), args.repeat)
        part_up, _ = best(lambda: len(tree.arrays(["jet_pt"], entry_stop=part)), args.repeat)
        events = decoflow.root.arrays(sources[0], ["jet_pt"], entry_stop=part, executor=ex1,
                                      library="ak")
        part_ak, _ = best(lambda: leading_pt_sum(events), args.repeat)
    load_after = os.getloadavg()[0]
    assert ours == theirs == one or (abs(ours - theirs) <= 1e-6 * abs(theirs)
                                     and abs(ours - one) <= 1e-6 * abs(one)), (ours, theirs, one)
    print("| method | s | vs decoflow.root.dask |")
    print("|---|---|---|")
    print(f"| decoflow.root.dask, {args.workers} workers x 1 thread | {ours_t:.2f} | 1.00 |")
    print(f"| uproot.dask, same cluster | {theirs_t:.2f} | {theirs_t / ours_t:.2f} |")
    print(f"| decoflow.root.arrays, one process, Executor(threads=2) | {one_t:.2f} | "
          f"{one_t / ours_t:.2f} |")
    print(f"# uproot.dask / decoflow.root.dask = {theirs_t / ours_t:.2f}x; decoflow.root.dask / "
          f"one process = {ours_t / one_t:.2f}x (the cost of Dask); load average after "
          f"{load_after:.2f}")
    print(f"# one partition ({part} events), one thread: decoflow reads it in {part_read:.2f} s, "
          f"uproot in {part_up:.2f} s ({part_up / part_read:.2f}x); the computation on it takes "
          f"{part_ak:.2f} s: ratio bound (read + computation) "
          f"{(part_up + part_ak) / (part_read + part_ak):.2f}x")
    if not args.keep:
        shutil.rmtree(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
