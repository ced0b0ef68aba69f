#!/usr/bin/env python3
"""decoflow.root against uproot's RNTuple reader and ROOT's own, on RNTuples
written by ROOT (default options: split encodings, page checksums) and by
uproot.

Files (written once to --dir, reused; their entry count is in their names):

  root-zstd, root-lz4   written by ROOT 6.40 (in a subprocess: ROOT bundles
                        its own libtbb and installs signal handlers) with
                        RNTupleWriter's defaults (root-zstd: the defaults
                        whole, zstd 505; root-lz4: lz4 404): SplitReal32,
                        SplitInt32 (zigzag), SplitInt64, SplitIndex64 (delta)
                        columns, 1 MiB pages, page checksums, clusters of
                        ~128 MiB compressed
  uproot-zstd,          written by uproot (``f[name] = {...}``, zstd 5 /
  uproot-lz4            lz4 4): the unsplit columns it writes, one page per
                        column per write (written in 16 pieces)

Fields: ``f32`` float (Gaussian), ``i32`` int32 (a count-like Poisson), ``i64``
int64 (a running id), ``jet_pt`` std::vector<float> (Poisson(5) values,
pT-like) — about 44 decoded bytes per entry, entries for --mib MiB of output
(the issue's size: 1024; 256 for a quicker run).

Each file is read whole, page cache warm, best of --repeat, by

  - uproot: ``ntuple.arrays(library="ak", array_cache=None)`` (uproot reads
    RNTuple pages one at a time in Python; it takes no executor for them);
  - decoflow: ``decoflow.root.arrays(path, library="ak",
    executor=Executor(n))`` at 1 and --threads threads;
  - ROOT (its Python in a subprocess, --root-python; the column is skipped,
    saying so, where it is absent): a compiled function (ACLiC, -O) that
    reads every value of the four fields and sums them, at 1 and --threads
    threads (``ROOT::EnableImplicitMT(n)``: RNTuple decompresses and unpacks
    a cluster's pages in parallel). --root-api views (the default):
    ``RNTupleReader`` direct-access views of f32, i32, i64 and of jet_pt's
    items through its collection view (ROOT's fastest per-value reading);
    rdf: ``RDataFrame`` sums. Timed inside the subprocess, from opening the
    RNTuple to the last value; ROOT's start-up (import, compiling the reader
    once, cached in --dir) is reported apart. ROOT keeps no output arrays:
    it hands each page's values to the loop and reuses its page memory.

Checked before a row is printed: decoflow's output equal to uproot's, field by
field (awkward's array_equal, same type); ROOT's sums equal to sums of
decoflow's arrays (integers exactly, floats to 1e-9 of the sum of |values|).

Columns: wall seconds; "x uproot" and "x ROOT" are their wall time over
decoflow's at --threads threads; "1->n" each reader's scaling; CPU seconds of
each reader's process (all its threads; best run); "peak MiB": decoflow's
peak RssAnon growth during a read (sampled every millisecond in a separate,
untimed run), beside its output's size and the documented bound over the
output: threads × (the largest page's elements × 8 bytes: a page decoded
through scratch) + 16 MiB (Python objects, allocator slack).

Usage (from the project root):

  PYTHONPATH=build/release/bindings .venv/bin/python bench/root_rntuple.py \\
      [--mib 1024] [--threads 2] [--repeat 5] [--files root-zstd,root-lz4,uproot-zstd,uproot-lz4] \\
      [--dir /tmp/decoflow-rntuple-bench] [--root-python /work/root-venv/bin/python] \\
      [--root-api views|rdf] [--no-root]
"""

from __future__ import annotations

import argparse
import json
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
from root_vs_uproot import AnonPeak, release_freed_memory  # noqa: E402

BYTES_PER_ENTRY = 4 + 4 + 8 + 5 * 4 + 8
FILES = ("root-zstd", "root-lz4", "uproot-zstd", "uproot-lz4")

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

# ROOT's reading, compiled with ACLiC: every value of the four fields summed
# (floats into doubles, integers into 64-bit integers).
ROOT_READER_MACRO = r"""
#include <ROOT/RDataFrame.hxx>
#include <ROOT/RNTupleReader.hxx>
#include <ROOT/RNTupleView.hxx>
#include <ROOT/RVec.hxx>
#include <cstdint>

// Direct-access views: a reference into ROOT's unpacked page per value.
void decoflow_bench_views(const char* path, double* sums, long long* counts) {
  auto reader = ROOT::RNTupleReader::Open("ntuple", path);
  auto f32 = reader->GetDirectAccessView<float>("f32");
  auto i32 = reader->GetDirectAccessView<std::int32_t>("i32");
  auto i64 = reader->GetDirectAccessView<std::int64_t>("i64");
  auto jets = reader->GetCollectionView("jet_pt");
  auto pt = jets.GetDirectAccessView<float>("_0");
  double s_f32 = 0, s_pt = 0;
  long long s_i32 = 0, s_i64 = 0, n_pt = 0;
  for (auto e : reader->GetEntryRange()) {
    s_f32 += f32(e);
    s_i32 += i32(e);
    s_i64 += i64(e);
    for (auto k : jets.GetCollectionRange(e)) {
      s_pt += pt(k);
      ++n_pt;
    }
  }
  sums[0] = s_f32; sums[1] = s_pt;
  counts[0] = s_i32; counts[1] = s_i64; counts[2] = n_pt;
}

void decoflow_bench_rdf(const char* path, double* sums, long long* counts) {
  ROOT::RDataFrame df("ntuple", path);
  auto s_f32 = df.Define("f", [](float v) { return double(v); }, {"f32"}).Sum<double>("f");
  auto s_i32 = df.Define("a", [](std::int32_t v) { return (long long)v; }, {"i32"}).Sum<long long>("a");
  auto s_i64 = df.Define("b", [](std::int64_t v) { return (long long)v; }, {"i64"}).Sum<long long>("b");
  auto jets = df.Define("s", [](const ROOT::RVec<float>& v) { double s = 0; for (float x : v) s += x; return s; }, {"jet_pt"})
                .Define("n", [](const ROOT::RVec<float>& v) { return (long long)v.size(); }, {"jet_pt"});
  auto s_pt = jets.Sum<double>("s");
  auto n_pt = jets.Sum<long long>("n");
  sums[0] = *s_f32; sums[1] = *s_pt;
  counts[0] = *s_i32; counts[1] = *s_i64; counts[2] = *n_pt;
}
"""

# Runs in ROOT's Python: argv = macro, api, threads, repeat, files...; prints
# one JSON object.
ROOT_RUNNER = r"""
import array, json, resource, sys, time
t0 = time.perf_counter()
import ROOT
t1 = time.perf_counter()
macro, api, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if ROOT.gSystem.CompileMacro(macro, "kO") != 1:
    sys.exit("ACLiC could not compile " + macro)
t2 = time.perf_counter()
if threads > 1:
    ROOT.EnableImplicitMT(threads)
else:
    ROOT.DisableImplicitMT()
read = getattr(ROOT, "decoflow_bench_" + api)
out = {"import_s": t1 - t0, "compile_s": t2 - t1, "files": {}}
for path in sys.argv[5:]:
    sums, counts = array.array("d", [0.0] * 2), array.array("q", [0] * 3)
    read(path, sums, counts)  # warm: ROOT's lazy set-up, the page cache
    walls, cpus = [], []
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        read(path, sums, counts)
        walls.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    out["files"][path] = {"wall": min(walls), "cpu": min(cpus), "sums": list(sums),
                          "counts": list(counts)}
print("DECOFLOW-BENCH " + json.dumps(out))
"""


def write_root(path: Path, compression: int, entries: int, root_python: str) -> None:
    subprocess.run([root_python, "-c", ROOT_WRITER, str(path), str(compression), str(entries)],
                   check=True)


def write_uproot(path: Path, entries: int, compression) -> None:
    rng = np.random.default_rng(5)
    pieces = 16
    with uproot.recreate(path, compression=compression) as f:
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


def write(name: str, path: Path, entries: int, root_python: str) -> None:
    print(f"writing {path} ...", flush=True)
    if name.startswith("root"):
        write_root(path, 505 if name == "root-zstd" else 404, entries, root_python)
    else:
        write_uproot(path, entries, uproot.ZSTD(5) if name == "uproot-zstd" else uproot.LZ4(4))


def best_of(fn, repeat: int) -> tuple[float, float, object]:
    """(best wall s, best CPU s of the process, the last result) over
    `repeat` calls; freed heap memory is handed back before each."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        out = None
        release_freed_memory()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
    return min(walls), min(cpus), out


def peak_mib(fn) -> float:
    """RssAnon growth during one call, sampled every millisecond (a run of
    its own: the sampling thread would slow a timed one)."""
    release_freed_memory()
    with AnonPeak() as mem:
        out = fn()
    del out
    return mem.peak_mib


def run_root(root_python: str, api: str, threads: int, repeat: int, folder: Path,
             paths: list[Path]) -> dict:
    """ROOT's reading of `paths` at `threads` threads, in a subprocess."""
    macro = folder / "decoflow_bench_rntuple_reader.C"
    if not macro.exists() or macro.read_text() != ROOT_READER_MACRO:
        macro.write_text(ROOT_READER_MACRO)  # ACLiC reuses its library while the macro is unchanged
    run = subprocess.run([root_python, "-c", ROOT_RUNNER, str(macro), api, str(threads),
                          str(repeat), *map(str, paths)], capture_output=True, text=True)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("DECOFLOW-BENCH ")), None)
    if run.returncode != 0 or line is None:
        raise RuntimeError(f"ROOT's reader failed ({run.returncode}): {run.stderr[-2000:]}")
    return json.loads(line.split(" ", 1)[1])


def check_root_sums(got: ak.Array, root: dict, name: str) -> None:
    """ROOT's sums against the same sums of decoflow's arrays."""
    flat_pt = ak.to_numpy(ak.flatten(got["jet_pt"]))
    f32 = ak.to_numpy(got["f32"])
    want_counts = [int(np.sum(ak.to_numpy(got["i32"]), dtype=np.int64)),
                   int(np.sum(ak.to_numpy(got["i64"]), dtype=np.int64)), len(flat_pt)]
    assert root["counts"] == want_counts, (name, root["counts"], want_counts)
    for k, values in enumerate((f32, flat_pt)):
        want = float(np.sum(values, dtype=np.float64))
        scale = float(np.sum(np.abs(values), dtype=np.float64))
        assert abs(root["sums"][k] - want) <= 1e-9 * scale, (name, k, root["sums"][k], want)


def largest_page_elements(ntuple) -> int:
    return max((page.num_elements for cluster in ntuple.page_link_list for column in cluster
                for page in column.pages), default=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5,
                        help="reads per reader and file, the best reported (a shared VM's "
                             "single reads move by 10-30%%)")
    parser.add_argument("--files", default=",".join(FILES))
    parser.add_argument("--dir", default="/tmp/decoflow-rntuple-bench")
    parser.add_argument("--root-python", default="/work/root-venv/bin/python")
    parser.add_argument("--root-api", choices=("views", "rdf"), default="views")
    parser.add_argument("--no-root", action="store_true", help="skip ROOT's reading")
    args = parser.parse_args()
    entries = args.mib * 2**20 // BYTES_PER_ENTRY
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    names = [n for n in args.files.split(",") if n]
    if unknown := set(names) - set(FILES):
        parser.error(f"unknown files {sorted(unknown)}: choose from {', '.join(FILES)}")
    files = {name: folder / f"{name}-{entries}.root" for name in names}
    have_root = not args.no_root and Path(args.root_python).exists()
    for name, path in files.items():
        if not path.exists():
            if name.startswith("root") and not Path(args.root_python).exists():
                sys.exit(f"{path} is missing and writing it needs ROOT ({args.root_python} is absent)")
            write(name, path, entries, args.root_python)

    n = args.threads
    print(f"# {platform.node()}: {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M %Z')}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python "
          f"{platform.python_version()}, uproot {uproot.__version__}, awkward {ak.__version__}")
    print(f"# {entries} entries (~{args.mib} MiB decoded) per file, best of {args.repeat}, "
          f"page cache warm")
    root: dict[int, dict] = {}
    if have_root:
        for t in sorted({1, n}):
            root[t] = run_root(args.root_python, args.root_api, t, args.repeat, folder,
                               list(files.values()))
        start = root[1]
        print(f"# ROOT ({args.root_api}): start-up {start['import_s'] + start['compile_s']:.1f} s "
              f"(import, compiling or loading the reader; not timed)")
    else:
        reason = "--no-root" if args.no_root else f"{args.root_python} not found"
        print(f"# ROOT: skipped ({reason}): its columns read '-'")

    header = (f"| file | file MiB | uproot s | decoflow 1t s | decoflow {n}t s | ROOT 1t s | "
              f"ROOT {n}t s | x uproot | x ROOT | 1->{n} decoflow | 1->{n} ROOT | "
              f"CPU s uproot / decoflow 1t / {n}t / ROOT 1t / {n}t | peak MiB | out MiB | bound MiB |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    dash = "-"
    with decoflow.Executor(threads=1) as one, decoflow.Executor(threads=n) as many:
        for name, path in files.items():
            ntuple = uproot.open(path)["ntuple"]
            # array_cache=None: uproot would otherwise answer a repeat from its cache.
            t_up, c_up, want = best_of(lambda: ntuple.arrays(library="ak", array_cache=None),
                                       args.repeat)
            t_one, c_one, _ = best_of(lambda: decoflow.root.arrays(str(path), library="ak",
                                                                   executor=one), args.repeat)
            t_many, c_many, got = best_of(lambda: decoflow.root.arrays(str(path), library="ak",
                                                                       executor=many), args.repeat)
            for field in want.fields:
                assert got[field].type == want[field].type, (name, field)
                assert ak.array_equal(got[field], want[field], dtype_exact=True), (name, field)
            del want
            out_mib = got.nbytes / 2**20
            if root:
                for t in root:
                    check_root_sums(got, root[t]["files"][str(path)], f"{name} ROOT {t}t")
            del got
            peak = peak_mib(lambda: decoflow.root.arrays(str(path), library="ak", executor=many))
            bound = (n * largest_page_elements(ntuple) * 8 + 16 * 2**20) / 2**20
            if root:
                r1, rn = root[1]["files"][str(path)], root[n]["files"][str(path)]
                root_cells = [f"{r1['wall']:.3f}", f"{rn['wall']:.3f}"]
                versus_root = f"{rn['wall'] / t_many:.1f}x"
                root_scaling = f"{r1['wall'] / rn['wall']:.2f}x"
                root_cpu = f"{r1['cpu']:.3f} / {rn['cpu']:.3f}"
            else:
                root_cells, versus_root, root_scaling, root_cpu = [dash, dash], dash, dash, f"{dash} / {dash}"
            print(f"| {name} | {path.stat().st_size / 2**20:.1f} | {t_up:.3f} | {t_one:.3f} | "
                  f"{t_many:.3f} | {' | '.join(root_cells)} | {t_up / t_many:.1f}x | {versus_root} | "
                  f"{t_one / t_many:.2f}x | {root_scaling} | {c_up:.3f} / {c_one:.3f} / {c_many:.3f} / "
                  f"{root_cpu} | {peak:.0f} | {out_mib:.0f} | {out_mib + bound:.0f} |", flush=True)
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
