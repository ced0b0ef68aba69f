#!/usr/bin/env python3
"""decoflow.root against uproot's RNTuple reader on RNTuples written by ROOT
(default options: split encodings, page checksums) and by uproot.

Files (written once to --dir, reused; their parameters are in their names):

  root-zstd, root-lz4   written by ROOT 6.40 (in a subprocess: ROOT bundles
                        its own libtbb and installs signal handlers) with
                        RNTupleWriter's defaults but the codec (505 zstd-5,
                        404 lz4-4): SplitReal32, SplitInt32 (zigzag),
                        SplitInt64, SplitIndex64 (delta) columns, 1 MiB pages,
                        clusters of ~128 MiB compressed
  uproot-zstd           written by uproot (``f[name] = {...}``, zstd): the
                        unsplit columns it writes, one page per column per
                        write (written in 16 pieces)

Fields: ``f32`` float (Gaussian), ``i32`` int32 (a count-like Poisson), ``i64``
int64 (a running id), ``jet_pt`` std::vector<float> (Poisson(5) values,
pT-like) — about 44 decoded bytes per entry, entries for --mib MiB of output.

Each file is read whole, page cache warm, best of --repeat, by decoflow
(``decoflow.root.arrays(path, library="ak", executor=Executor(threads))``,
with the peak RssAnon growth during the read beside its output's size)
and uproot (``ntuple.arrays(library="ak", array_cache=None)``: uproot reads RNTuple pages one at
a time in Python, it takes no executor for them), and decoflow at 1 thread
for the scaling; beside the wall times, each reader's CPU seconds (all its
threads; the best run). Every field of decoflow's output is checked equal to
uproot's (awkward's array_equal, same type) before a time is printed.

Usage (from the project root):

  PYTHONPATH=build/release/bindings .venv/bin/python bench/root_rntuple.py \\
      [--mib 256] [--threads 2] [--repeat 3] [--dir /tmp/decoflow-rntuple-bench] \\
      [--root-python /work/root-venv/bin/python]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decoflow  # noqa: E402
import decoflow.root  # noqa: E402
from root_vs_uproot import timed  # noqa: E402

BYTES_PER_ENTRY = 4 + 4 + 8 + 5 * 4 + 8


def with_cpu(fn, cpu: list[float]):
    """fn, recording the process's CPU seconds (every thread's) of each call
    into `cpu`: a figure a shared machine's load does not inflate as much as
    the wall time."""
    def run():
        before = resource.getrusage(resource.RUSAGE_SELF)
        out = fn()
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        return out
    return run

ROOT_WRITER = r"""
import sys
import ROOT
ROOT.gInterpreter.Declare(r'''
#include <ROOT/RNTupleModel.hxx>
#include <ROOT/RNTupleWriter.hxx>
#include <ROOT/RNTupleWriteOptions.hxx>
#include <TRandom3.h>
void decoflow_bench_write(const char* path, int compression, long entries) {
  auto model = ROOT::RNTupleModel::Create();
  auto f32 = model->MakeField<float>("f32");
  auto i32 = model->MakeField<std::int32_t>("i32");
  auto i64 = model->MakeField<std::int64_t>("i64");
  auto jet_pt = model->MakeField<std::vector<float>>("jet_pt");
  ROOT::RNTupleWriteOptions options;
  options.SetCompression(compression);
  auto writer = ROOT::RNTupleWriter::Recreate(std::move(model), "ntuple", path, options);
  TRandom3 rng(5);
  for (long e = 0; e < entries; ++e) {
    *f32 = static_cast<float>(rng.Gaus(0, 10));
    *i32 = rng.Poisson(20);
    *i64 = 1000000000L + e;
    const int n = rng.Poisson(5);
    jet_pt->resize(n);
    for (int k = 0; k < n; ++k) (*jet_pt)[k] = static_cast<float>(std::round((20 + rng.Exp(30)) * 100) / 100);
    writer->Fill();
  }
}
''')
ROOT.decoflow_bench_write(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
"""


def write_root(path: Path, compression: int, entries: int, root_python: str) -> None:
    subprocess.run([root_python, "-c", ROOT_WRITER, str(path), str(compression), str(entries)],
                   check=True)


def write_uproot(path: Path, entries: int) -> None:
    rng = np.random.default_rng(5)
    pieces = 16
    with uproot.recreate(path, compression=uproot.ZSTD(5)) as f:
        for p in range(pieces):
            n = entries // pieces + (1 if p < entries % pieces else 0)
            counts = rng.poisson(5, n)
            pt = np.round((20 + rng.exponential(30, counts.sum())) * 100) / 100
            data = {"f32": rng.normal(0, 10, n).astype(np.float32),
                    "i32": rng.poisson(20, n).astype(np.int32),
                    "i64": np.arange(n, dtype=np.int64) + 1_000_000_000,
                    "jet_pt": ak.unflatten(pt.astype(np.float32), counts)}
            if p == 0:
                f["ntuple"] = data
            else:
                f["ntuple"].extend(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/decoflow-rntuple-bench")
    parser.add_argument("--root-python", default="/work/root-venv/bin/python")
    args = parser.parse_args()
    entries = args.mib * 2**20 // BYTES_PER_ENTRY
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"root-zstd": folder / f"root-zstd-{entries}.root",
             "root-lz4": folder / f"root-lz4-{entries}.root",
             "uproot-zstd": folder / f"uproot-zstd-{entries}.root"}
    for name, path in files.items():
        if path.exists():
            continue
        print(f"writing {path} ...", flush=True)
        if name.startswith("root"):
            write_root(path, 505 if name == "root-zstd" else 404, entries, args.root_python)
        else:
            write_uproot(path, entries)
    print(f"# {platform.node()} {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}, "
          f"{entries} entries (~{args.mib} MiB decoded), best of {args.repeat}, page cache warm")
    print(f"{'file':12} {'MiB file':>8} {'uproot s':>9} {'decoflow 1t s':>13} "
          f"{f'decoflow {args.threads}t s':>13} {'vs uproot':>9} {'1->' + str(args.threads) + 't':>6} "
          f"{'peak MiB':>8} {'out MiB':>7} {'CPU s: uproot':>13} {'1t':>6} {str(args.threads) + 't':>6}")
    with decoflow.Executor(threads=1) as one, decoflow.Executor(threads=args.threads) as many:
        for name, path in files.items():
            ntuple = uproot.open(path)["ntuple"]
            # array_cache=None: uproot would otherwise answer a repeat from its cache.
            cpu_uproot, cpu_one, cpu_many = [], [], []
            t_uproot, _, want = timed(with_cpu(lambda: ntuple.arrays(library="ak", array_cache=None),
                                               cpu_uproot), args.repeat)
            t_one, _, _ = timed(with_cpu(lambda: decoflow.root.arrays(str(path), library="ak",
                                                                      executor=one), cpu_one),
                                args.repeat)
            t_many, peak, got = timed(with_cpu(lambda: decoflow.root.arrays(
                str(path), library="ak", executor=many), cpu_many), args.repeat)
            out_mib = sum(b.nbytes for f in got.fields for b in [got[f].layout]) / 2**20
            for field in want.fields:
                assert got[field].type == want[field].type, (name, field)
                assert ak.array_equal(got[field], want[field], dtype_exact=True), (name, field)
            del got, want
            print(f"{name:12} {path.stat().st_size / 2**20:8.1f} {t_uproot:9.3f} {t_one:13.3f} "
                  f"{t_many:13.3f} {t_uproot / t_many:8.1f}x {t_one / t_many:5.2f}x "
                  f"{peak:8.0f} {out_mib:7.0f} {min(cpu_uproot):13.3f} {min(cpu_one):6.3f} "
                  f"{min(cpu_many):6.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
