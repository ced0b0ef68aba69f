#!/usr/bin/env python3
"""decoflow.root.arrays vs uproot's tree.arrays on large files written by uproot itself.

For each codec (zstd, lz4, zlib) and basket size (~32 KiB and ~256 KiB, set
through the rows per ``extend`` call: uproot writes one basket per branch per
call), writes a TTree of six flat branches (float32 px/py/pz, float64 E, int32
charge, int64 id; physics-like values, so the codecs have real work), then
times, on a warm page cache, best of ``--repeat``:

  - uproot ``tree.arrays(names, library="np")`` with its default executors;
  - uproot with ``decompression_executor`` and ``interpretation_executor`` =
    ``ThreadPoolExecutor(n)``, for each n in ``--threads``;
  - ``decoflow.root.arrays(tree, names, executor=decoflow.Executor(n))``.

Every method's output is checked against uproot's default one, array by array.
Peak RssAnon (anonymous memory: the file's mapped pages do not count) is
sampled every millisecond during each call and reported above the level
before it (after malloc_trim, so freed heap memory is not reused unseen),
beside the output arrays' size.

Usage (from the project root, with the build tree's package):

  PYTHONPATH=build/release/bindings .venv/bin/python bench/root_vs_uproot.py \
      [--mib 256] [--codecs zstd,lz4,zlib] [--basket-kib 32,256] [--threads 1,2] \
      [--repeat 3] [--dir /tmp/decoflow-root-bench] [--keep] [--write-jobs N]

Files are kept in --dir between runs when --keep is given (rewritten when the
parameters change).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import multiprocessing
import os
import platform
import shutil
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import uproot

import decoflow
import decoflow.root

BRANCHES = {"px": "float32", "py": "float32", "pz": "float32", "E": "float64",
            "charge": "int32", "id": "int64"}
ROW_BYTES = sum(np.dtype(t).itemsize for t in BRANCHES.values())  # 32
COMPRESSION = {"zstd": lambda: uproot.ZSTD(3), "lz4": lambda: uproot.LZ4(1),
               "zlib": lambda: uproot.ZLIB(1), "lzma": lambda: uproot.LZMA(1)}


def physics_rows(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    pt = rng.exponential(30.0, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    eta = rng.normal(0.0, 1.5, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    # Rounded to 10 MeV, as stored values often are: compressible, not trivial.
    out = {"px": np.round(px, 2).astype(np.float32), "py": np.round(py, 2).astype(np.float32),
           "pz": np.round(pz, 2).astype(np.float32)}
    out["E"] = np.round(np.sqrt(px**2 + py**2 + pz**2 + 0.105**2), 3)
    out["charge"] = rng.choice(np.array([-1, 1], dtype=np.int32), n)
    out["id"] = np.arange(n, dtype=np.int64) + seed * n
    return out


def write_file(path: Path, codec: str, mib: int, basket_kib: int) -> None:
    # Rows per extend so that the average branch's basket is ~basket_kib
    # (float32/int32 baskets are smaller, float64/int64 ones larger).
    avg_width = ROW_BYTES / len(BRANCHES)
    rows_per_basket = max(1, int(basket_kib * 1024 / avg_width))
    total_rows = mib * 2**20 // ROW_BYTES
    block = physics_rows(min(total_rows, 1 << 20), 1)
    tmp = path.with_suffix(".tmp")
    with uproot.recreate(tmp, compression=COMPRESSION[codec]()) as f:
        f.mktree("t", BRANCHES)
        done = 0
        while done < total_rows:
            n = min(rows_per_basket, total_rows - done)
            start = done % len(block["id"])
            n = min(n, len(block["id"]) - start)
            chunk = {k: v[start:start + n] for k, v in block.items()}
            chunk["id"] = np.arange(done, done + n, dtype=np.int64)
            f["t"].extend(chunk)
            done += n
    tmp.rename(path)


class AnonPeak:
    """Samples RssAnon every millisecond on a thread; .peak_mib above the start."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.base = self.peak = self._read()

    @staticmethod
    def _read() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        return 0

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read())
            time.sleep(0.001)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._read())

    @property
    def peak_mib(self) -> float:
        return (self.peak - self.base) / 2**20


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)


try:
    _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc
    _malloc_trim = None


def release_freed_memory() -> None:
    """Hands the heap memory earlier calls freed back to the OS, so that the
    next call's RssAnon rise counts all it uses (glibc would otherwise reuse
    freed memory unseen and the figure would be a lower bound)."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


def timed(fn, repeat: int):
    best, peak, out = float("inf"), 0.0, None
    for _ in range(repeat):
        out = None
        release_freed_memory()
        with AnonPeak() as mem:
            t0 = time.perf_counter()
            out = fn()
            dt = time.perf_counter() - t0
        best = min(best, dt)
        peak = max(peak, mem.peak_mib)
    return best, peak, out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mib", type=int, default=256, help="uncompressed MiB per file (default 256)")
    p.add_argument("--codecs", default="zstd,lz4,zlib")
    p.add_argument("--basket-kib", default="32,256")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", type=Path, default=Path("/tmp/decoflow-root-bench"))
    p.add_argument("--keep", action="store_true", help="keep the files for the next run")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--write-jobs", type=int, default=1,
                   help="write the missing files first, this many at once (processes)")
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    args.dir.mkdir(parents=True, exist_ok=True)
    names = list(BRANCHES)

    print(f"# decoflow.root vs uproot {uproot.__version__}, numpy {np.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}), "
          f"{args.mib} MiB per file, {len(names)} flat branches, best of {args.repeat}")
    header = ("| codec | basket | file MiB | baskets | uproot default s | "
              + " | ".join(f"uproot pool({n}) s" for n in threads) + " | "
              + " | ".join(f"decoflow {n}T s" for n in threads)
              + f" | speedup @{threads[-1]}T vs uproot best | RssAnon MiB uproot best / decoflow (arrays {args.mib}) |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    cells = [(codec, int(kib), args.dir / f"bench-{codec}-{kib}k-{args.mib}m.root")
             for codec in args.codecs.split(",") for kib in args.basket_kib.split(",")]
    missing = [c for c in cells if not c[2].exists()]
    if args.write_jobs > 1 and missing:
        t0 = time.perf_counter()
        spawn = multiprocessing.get_context("spawn")  # no fork beside live threads
        with ProcessPoolExecutor(min(args.write_jobs, len(missing)), mp_context=spawn) as pool:
            list(pool.map(write_file, [c[2] for c in missing], [c[0] for c in missing],
                          [args.mib] * len(missing), [c[1] for c in missing]))
        print(f"# wrote {len(missing)} files in {time.perf_counter() - t0:.1f} s "
              f"({args.write_jobs} at once)", file=sys.stderr)
    rows = []
    for codec, kib, path in cells:
        if not path.exists():
            t0 = time.perf_counter()
            write_file(path, codec, args.mib, kib)
            print(f"# wrote {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        path.read_bytes()  # warm the page cache (both readers map or read it)
        # No caches: every call decodes (uproot's array cache would answer
        # repeats from memory).
        with uproot.open(path, array_cache=None, object_cache=None) as f:
            tree = f["t"]
            baskets = sum(tree[n].num_baskets for n in names)
            ref_t, ref_mem, ref = timed(lambda: tree.arrays(names, library="np"), args.repeat)
            up = {}
            for n in threads:
                with ThreadPoolExecutor(n) as pool:
                    t, mem, out = timed(lambda: tree.arrays(
                        names, library="np", decompression_executor=pool,
                        interpretation_executor=pool), args.repeat)
                assert same(out, ref), f"uproot pool({n}) differs"
                up[n] = (t, mem)
                del out
            dec = {}
            for n in threads:
                with decoflow.Executor(n) as ex:
                    t, mem, out = timed(lambda: decoflow.root.arrays(
                        tree, names, executor=ex), args.repeat)
                assert same(out, ref), f"decoflow {n} threads differs from uproot"
                dec[n] = (t, mem)
                del out
            del ref
        best_up = min([ref_t] + [up[n][0] for n in threads])
        best_up_mem = min([(ref_t, ref_mem)] + [up[n] for n in threads])[1]
        last = threads[-1]
        row = {"codec": codec, "basket_kib": kib, "file_mib": path.stat().st_size / 2**20,
               "baskets": baskets, "uproot_default_s": ref_t,
               "uproot_pool_s": {n: up[n][0] for n in threads},
               "decoflow_s": {n: dec[n][0] for n in threads},
               "speedup": best_up / dec[last][0],
               "rss_anon_mib": {"uproot_best": best_up_mem, "decoflow": dec[last][1]}}
        rows.append(row)
        print(f"| {codec} | {kib} KiB | {row['file_mib']:.0f} | {baskets} | {ref_t:.3f} | "
              + " | ".join(f"{up[n][0]:.3f}" for n in threads) + " | "
              + " | ".join(f"{dec[n][0]:.3f}" for n in threads)
              + f" | {row['speedup']:.2f}× | {best_up_mem:.0f} / {dec[last][1]:.0f} |",
              flush=True)
        if not args.keep:
            path.unlink()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
