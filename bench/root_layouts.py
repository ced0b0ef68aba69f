#!/usr/bin/env python3
"""decoflow.root against uproot and ROOT's own readers on branch layouts
written by ROOT itself: std::vector<float>, Double32_t with a range, and
std::vector<std::vector<float>>.

For each case, a file written by ROOT (in a subprocess: ROOT bundles its own
libtbb and installs signal handlers, so it never runs in this process) with
one branch of about --mib MiB of decoded output, ~32 KiB baskets
(``SetBasketSize``, set again after ROOT's first auto-flush, whose
OptimizeBaskets grows them), 64 clusters (auto-flush in entries) and zstd
(ROOT's default setting, 505: zstd level 5):

  vector_float         ``std::vector<float> Jet_pt``: Poisson(5) values per
                       entry, pT-like (20 + exponential(30), rounded to 0.01)
  double32             ``x/d[0,100,16]``: a flat Double32_t with a range
                       (16 bits in 4 bytes on disk, float64 out)
  vector_vector_float  ``std::vector<std::vector<float>> Jet_constituent_pt``:
                       Poisson(4) inner vectors of Poisson(5) values

are read, page cache warm, best of --repeat, at --threads threads, by

  - decoflow: ``decoflow.root.arrays(tree, [name], executor=decoflow.Executor(n))``
    (``library="ak"`` for jagged branches, as uproot's), the tree opened once
    with uproot's caches off, outside the timing;
  - uproot: ``tree[name].array()`` with its default executors, and with
    ``decompression_executor = interpretation_executor = ThreadPoolExecutor(n)``
    (``library="np"`` for flat branches, ``"ak"`` otherwise); the best of the two;
  - ROOT, in a subprocess with ``ROOT.EnableImplicitMT(n)`` when n > 1, its
    loops compiled by cling before the timing: (a) a ``TTree::GetEntry`` loop
    appending every value to one std::vector (and offsets per entry, as
    decoflow's output), the file opened outside the timing, with and without
    ``TTreeCacheUnzip``'s parallel unzipping (the best of the two is shown);
    (b) ``ROOT::RDataFrame("t", path).Take<...>(name)`` (the data frame made
    inside the timing; one RVec per entry).

decoflow's output is checked equal to uproot's (values, dtype, offsets);
uproot's two configurations against each other; ROOT's against uproot's by
counts and exact, order-independent sums of the values' bit patterns (RDF's
Take does not keep entry order with several threads). A case decoflow does not
read yet (vector_vector_float: ``UnsupportedBranchError``) shows "refused"
beside the others' times.

Usage (from the project root, with the build tree's package):

  PYTHONPATH=build/release/bindings .venv/bin/python bench/root_layouts.py \
      [--mib 1024] [--threads 2] [--repeat 3] [--dir /tmp/decoflow-root-bench] \
      [--cases vector_float,double32,vector_vector_float] \
      [--root-python /work/root-venv/bin/python] [--json out.json] [--write-only]

Files are written once to --dir and reused (their parameters are in their
names). Without ROOT (``import ROOT`` fails in --root-python), a case whose
file is missing is skipped, saying so; one whose file exists is read without
ROOT's columns.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
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
from root_vs_uproot import release_freed_memory, timed  # noqa: E402

# case: (branch name, jagged depth, decoded bytes per entry on average)
CASES = {
    # 5 float32 values + one int64 offset
    "vector_float": ("Jet_pt", 1, 5 * 4 + 8),
    # one float64
    "double32": ("x", 0, 8),
    # one outer offset + 4 × (inner offset + 5 float32 values)
    "vector_vector_float": ("Jet_constituent_pt", 2, 8 + 4 * (8 + 5 * 4)),
}
COMPRESSION = 505      # ROOT's default: zstd (5xx), level 5
BASKET_BYTES = 32 * 1024
CLUSTERS = 64          # auto-flush every entries / CLUSTERS entries
FORMAT = 1             # bump when the writer's values change (it is in the file names)
DEFAULT_ROOT_PYTHON = "/work/root-venv/bin/python"

# Compiled by cling in the ROOT subprocess: the writer (a Python loop of Fill
# calls would take minutes per file) and the timed readers. Every reader
# returns the seconds it took and fills a Check of what it read.
WRITE_CPP = r"""
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>
#include "TFile.h"
#include "TTree.h"

namespace layouts_bench {

float rounded(double v) { return static_cast<float>(std::round(v * 100.0) / 100.0); }

void write(const char* path, const char* kind, long long entries, int basket_bytes,
           int compression, long long autoflush) {
  std::mt19937_64 rng(20261126);
  std::poisson_distribution<int> jets(5.0), subjets(4.0), constituents(5.0);
  std::exponential_distribution<double> pt(1.0 / 30.0), cpt(1.0 / 10.0), x(1.0 / 20.0);
  TFile f(path, "RECREATE", "", compression);
  TTree t("t", "decoflow bench/root_layouts.py");
  // Clusters of `autoflush` entries, as real files have (RDataFrame's
  // threads take one cluster per task). ROOT's first flush calls
  // OptimizeBaskets, which grows the baskets: the size is set again after it.
  t.SetAutoFlush(autoflush);
  t.SetAutoSave(0);
  std::string k = kind;
  std::vector<float> vf;
  double d = 0;
  std::vector<std::vector<float>> vv;
  if (k == "vector_float") t.Branch("Jet_pt", &vf);
  else if (k == "double32") t.Branch("x", &d, "x/d[0,100,16]");
  else t.Branch("Jet_constituent_pt", &vv);
  t.SetBasketSize("*", basket_bytes);
  for (long long i = 0; i < entries; ++i) {
    if (k == "vector_float") {
      vf.resize(jets(rng));
      for (auto& v : vf) v = rounded(20.0 + pt(rng));
    } else if (k == "double32") {
      d = std::min(99.99, std::round(x(rng) * 1000.0) / 1000.0);
    } else {
      vv.resize(subjets(rng));
      for (auto& inner : vv) {
        inner.resize(constituents(rng));
        for (auto& v : inner) v = rounded(0.5 + cpt(rng));
      }
    }
    t.Fill();
    if (i + 1 == autoflush) t.SetBasketSize("*", basket_bytes);
  }
  t.Write();
  f.Close();
}

}  // namespace layouts_bench
"""

READ_CPP = r"""
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include "ROOT/RDataFrame.hxx"
#include "ROOT/RVec.hxx"
#include "TFile.h"
#include "TTree.h"
#include "TTreeCacheUnzip.h"

namespace layouts_bench {

using Clock = std::chrono::steady_clock;

// Counts and order-independent sums (mod 2^64) of the values' bit patterns
// and of the per-entry and per-inner-vector counts' squares.
struct Check {
  long long entries = 0, inner = 0, values = 0;
  unsigned long long bits = 0, bits2 = 0, counts2 = 0, inner_counts2 = 0;
  template <class T> void value(T v) {
    unsigned long long b = 0;
    if constexpr (sizeof(T) == 4) { std::uint32_t u; std::memcpy(&u, &v, 4); b = u; }
    else { std::uint64_t u; std::memcpy(&u, &v, 8); b = u; }
    ++values; bits += b; bits2 += b * b;
  }
  void entry(unsigned long long n) { ++entries; counts2 += n * n; }
  void inner_vector(unsigned long long n) { ++inner; inner_counts2 += n * n; }
};

struct Result {
  double seconds = 0;
  Check check;
};

// (a) TTree::GetEntry into one std::vector of values (and int64 offsets),
// sized up front as decoflow sizes its arrays.
Result getentry(const char* path, const char* kind, const char* name, long long values,
                long long inner, bool parallel_unzip) {
  TTreeCacheUnzip::SetParallelUnzip(parallel_unzip ? TTreeCacheUnzip::kEnable
                                                   : TTreeCacheUnzip::kDisable);
  std::unique_ptr<TFile> f(TFile::Open(path));
  auto* t = f->Get<TTree>("t");
  const long long entries = t->GetEntries();
  std::string k = kind;
  Result r;
  if (k == "double32") {
    double d = 0;
    t->SetBranchAddress(name, &d);
    auto t0 = Clock::now();
    std::vector<double> out;
    out.reserve(entries);
    for (long long i = 0; i < entries; ++i) { t->GetEntry(i); out.push_back(d); }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (double v : out) { r.check.entry(0); r.check.value(v); }
  } else if (k == "vector_float") {
    std::vector<float>* v = nullptr;
    t->SetBranchAddress(name, &v);
    auto t0 = Clock::now();
    std::vector<float> content;
    std::vector<std::int64_t> offsets;
    content.reserve(values);
    offsets.reserve(entries + 1);
    offsets.push_back(0);
    for (long long i = 0; i < entries; ++i) {
      t->GetEntry(i);
      content.insert(content.end(), v->begin(), v->end());
      offsets.push_back(static_cast<std::int64_t>(content.size()));
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (long long i = 0; i < entries; ++i) r.check.entry(offsets[i + 1] - offsets[i]);
    for (float x : content) r.check.value(x);
  } else {
    std::vector<std::vector<float>>* v = nullptr;
    t->SetBranchAddress(name, &v);
    auto t0 = Clock::now();
    std::vector<float> content;
    std::vector<std::int64_t> inner_offsets, offsets;
    content.reserve(values);
    inner_offsets.reserve(inner + 1);
    offsets.reserve(entries + 1);
    inner_offsets.push_back(0);
    offsets.push_back(0);
    for (long long i = 0; i < entries; ++i) {
      t->GetEntry(i);
      for (const auto& in : *v) {
        content.insert(content.end(), in.begin(), in.end());
        inner_offsets.push_back(static_cast<std::int64_t>(content.size()));
      }
      offsets.push_back(static_cast<std::int64_t>(inner_offsets.size() - 1));
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (long long i = 0; i < entries; ++i) r.check.entry(offsets[i + 1] - offsets[i]);
    for (std::size_t i = 0; i + 1 < inner_offsets.size(); ++i)
      r.check.inner_vector(inner_offsets[i + 1] - inner_offsets[i]);
    for (float x : content) r.check.value(x);
  }
  t->ResetBranchAddresses();
  return r;
}

// (b) RDataFrame: Take materialises every entry (order not kept with IMT).
Result rdataframe(const char* path, const char* kind, const char* name) {
  std::string k = kind;
  Result r;
  auto t0 = Clock::now();
  ROOT::RDataFrame df("t", path);
  if (k == "double32") {
    auto taken = df.Take<double>(name);
    const auto& out = *taken;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (double v : out) { r.check.entry(0); r.check.value(v); }
  } else if (k == "vector_float") {
    auto taken = df.Take<ROOT::RVecF>(name);
    const auto& out = *taken;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (const auto& e : out) {
      r.check.entry(e.size());
      for (float v : e) r.check.value(v);
    }
  } else {
    auto taken = df.Take<ROOT::RVec<std::vector<float>>>(name);
    const auto& out = *taken;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (const auto& e : out) {
      r.check.entry(e.size());
      for (const auto& in : e) {
        r.check.inner_vector(in.size());
        for (float v : in) r.check.value(v);
      }
    }
  }
  return r;
}

}  // namespace layouts_bench
"""

# Run by --root-python: one JSON request in argv[1], one JSON answer on the
# last line of stdout.
ROOT_DRIVER = r"""
import json, sys, warnings
warnings.simplefilter("ignore")  # the wheel's "alpha stage" notice
import ROOT
req = json.loads(sys.argv[1])
ROOT.gROOT.SetBatch(True)
assert ROOT.gInterpreter.Declare(req["cpp"]), "cling could not compile the benchmark's C++"
lb = ROOT.layouts_bench
answer = {"root_version": ROOT.gROOT.GetVersion()}
if req["mode"] == "write":
    lb.write(req["path"], req["kind"], req["entries"], req["basket_bytes"], req["compression"],
             req["autoflush"])
else:
    if req["threads"] > 1:
        ROOT.EnableImplicitMT(req["threads"])
    answer["pool_size"] = ROOT.GetThreadPoolSize()
    def check(c):
        return {"entries": c.entries, "inner": c.inner, "values": c.values, "bits": c.bits,
                "bits2": c.bits2, "counts2": c.counts2, "inner_counts2": c.inner_counts2}
    runs = {
        "getentry": lambda: lb.getentry(req["path"], req["kind"], req["name"], req["values"],
                                        req["inner"], False),
        "getentry_unzip": lambda: lb.getentry(req["path"], req["kind"], req["name"],
                                              req["values"], req["inner"], True),
        "rdataframe": lambda: lb.rdataframe(req["path"], req["kind"], req["name"]),
    }
    for method, run in runs.items():
        best, checks = float("inf"), []
        for _ in range(req["repeat"]):
            r = run()
            best = min(best, r.seconds)
            checks.append(check(r.check))
        assert all(c == checks[0] for c in checks), f"{method}: repetitions differ"
        answer[method] = {"seconds": best, "check": checks[0]}
print(json.dumps(answer))
"""


def root_call(root_python: str, request: dict) -> dict:
    """Runs ROOT_DRIVER with ``request`` under ``root_python``; its answer."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # not our build
    proc = subprocess.run([root_python, "-c", ROOT_DRIVER, json.dumps({**request, "cpp": WRITE_CPP if request["mode"] == "write" else READ_CPP})],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"ROOT subprocess failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def root_available(root_python: str | None) -> bool:
    if not root_python:
        return False
    try:
        return subprocess.run([root_python, "-c", "import ROOT"], capture_output=True,
                              timeout=300).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def checksum(values: np.ndarray, counts: np.ndarray | None,
             inner_counts: np.ndarray | None) -> dict:
    """The same sums as ROOT_CPP's Check, from NumPy arrays."""
    width = {4: np.uint32, 8: np.uint64}[values.dtype.itemsize]
    bits, bits2 = np.uint64(0), np.uint64(0)
    step = 1 << 24
    with np.errstate(over="ignore"):
        for lo in range(0, len(values), step):
            b = values[lo:lo + step].view(width).astype(np.uint64)
            bits += b.sum(dtype=np.uint64)
            bits2 += (b * b).sum(dtype=np.uint64)
    square_sum = lambda c: int((c.astype(np.uint64) ** 2).sum(dtype=np.uint64))  # noqa: E731
    entries = len(values) if counts is None else len(counts)
    return {"entries": entries,
            "inner": 0 if inner_counts is None else len(inner_counts),
            "values": len(values), "bits": int(bits), "bits2": int(bits2),
            "counts2": 0 if counts is None else square_sum(counts),
            "inner_counts2": 0 if inner_counts is None else square_sum(inner_counts)}


def checksum_of(array, depth: int) -> tuple[dict, int]:
    """(checksum, decoded bytes: values, and int64 offsets per list) of uproot's output."""
    if depth == 0:
        return checksum(np.asarray(array), None, None), array.nbytes
    counts = ak.to_numpy(ak.num(array, axis=1))
    inner = ak.to_numpy(ak.flatten(ak.num(array, axis=2))) if depth == 2 else None
    values = ak.to_numpy(ak.flatten(array, axis=None))
    lists = len(counts) + (0 if inner is None else len(inner))
    return checksum(values, counts, inner), values.nbytes + 8 * lists


def equal(a, b, depth: int) -> bool:
    if depth == 0:
        return a.dtype == b.dtype and np.array_equal(a, b)
    return ak.array_equal(a, b)


def file_path(args, case: str) -> Path:
    return args.dir / (f"layouts-{case}-{args.mib}m-{BASKET_BYTES // 1024}k-"
                       f"c{COMPRESSION}-v{FORMAT}.root")


def write(args, case: str, path: Path) -> float:
    name, depth, per_entry = CASES[case]
    entries = args.mib * 2**20 // per_entry
    tmp = path.with_suffix(".tmp")
    t0 = time.perf_counter()
    root_call(args.root_python, {"mode": "write", "path": str(tmp), "kind": case,
                                 "entries": entries, "basket_bytes": BASKET_BYTES,
                                 "compression": COMPRESSION,
                                 "autoflush": max(1, entries // CLUSTERS)})
    tmp.rename(path)
    return time.perf_counter() - t0


def run_case(args, case: str, path: Path, with_root: bool) -> dict:
    name, depth, _ = CASES[case]
    library = "np" if depth == 0 else "ak"
    n = args.threads
    path.read_bytes()  # warm the page cache (every reader maps or reads it)
    row: dict = {"case": case, "file_mib": path.stat().st_size / 2**20}
    # No caches: every call decodes (uproot's array cache would answer repeats).
    with uproot.open(path, array_cache=None, object_cache=None) as f:
        tree = f["t"]
        branch = tree[name]
        row.update(entries=tree.num_entries, baskets=branch.num_baskets,
                   basket_kib=branch.member("fTotBytes") / branch.num_baskets / 1024,
                   interpretation=repr(branch.interpretation))
        default_t, _, reference = timed(lambda: branch.array(library=library), args.repeat)
        with ThreadPoolExecutor(n) as pool:
            pool_t, _, out = timed(lambda: branch.array(
                library=library, decompression_executor=pool, interpretation_executor=pool),
                args.repeat)
        assert equal(out, reference, depth), f"{case}: uproot pool({n}) differs from its default"
        del out
        row["uproot_s"] = {"default": default_t, f"pool({n})": pool_t}
        with decoflow.Executor(n) as ex:
            try:
                ours_t, _, ours = timed(lambda: decoflow.root.arrays(
                    tree, [name], library=library, executor=ex)[name], args.repeat)
            except decoflow.root.UnsupportedBranchError as e:
                row["decoflow_s"], row["decoflow_refused"] = None, str(e)
            else:
                assert equal(ours, reference, depth), f"{case}: decoflow differs from uproot"
                row["decoflow_s"] = ours_t
                del ours
        expected, output_bytes = checksum_of(reference, depth)
        row["output_mib"] = output_bytes / 2**20
        del reference
    release_freed_memory()  # before ROOT's process takes its share
    if with_root:
        answer = root_call(args.root_python, {
            "mode": "read", "path": str(path), "kind": case, "name": name, "threads": n,
            "repeat": args.repeat, "values": expected["values"], "inner": expected["inner"]})
        row["root_version"], row["root_pool_size"] = answer["root_version"], answer["pool_size"]
        row["root_s"] = {}
        for method in ("getentry", "getentry_unzip", "rdataframe"):
            got = answer[method]["check"]
            assert got == expected, f"{case}: ROOT's {method} read {got}, uproot {expected}"
            row["root_s"][method] = answer[method]["seconds"]
    return row


def cell(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.3f}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mib", type=int, default=1024, help="decoded MiB per file (default 1024)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", type=Path, default=Path("/tmp/decoflow-root-bench"))
    p.add_argument("--cases", default=",".join(CASES), help=f"of {', '.join(CASES)}")
    p.add_argument("--root-python",
                   default=DEFAULT_ROOT_PYTHON if Path(DEFAULT_ROOT_PYTHON).exists() else "python3",
                   help="a Python that can import ROOT (default: %(default)s)")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--write-only", action="store_true", help="write the missing files, read nothing")
    args = p.parse_args()
    cases = args.cases.split(",")
    unknown = set(cases) - set(CASES)
    if unknown:
        p.error(f"unknown cases {sorted(unknown)}; known: {', '.join(CASES)}")
    args.dir.mkdir(parents=True, exist_ok=True)

    with_root = root_available(args.root_python)
    if not with_root:
        print(f"# ROOT not found ({args.root_python!r} cannot `import ROOT`; see --root-python): "
              "no ROOT columns, and cases whose file is missing are skipped", file=sys.stderr)
    todo = []
    for case in cases:
        path = file_path(args, case)
        if not path.exists():
            if not with_root:
                print(f"# {case}: skipped, {path} is missing and only ROOT writes it",
                      file=sys.stderr)
                continue
            seconds = write(args, case, path)
            print(f"# wrote {path} ({path.stat().st_size / 2**20:.0f} MiB) in {seconds:.1f} s",
                  file=sys.stderr, flush=True)
        todo.append((case, path))
    if args.write_only or not todo:
        return 0

    print(f"# decoflow.root vs uproot {uproot.__version__} and ROOT"
          f"{' (absent)' if not with_root else ''}, {args.threads} threads, best of "
          f"{args.repeat}; awkward {ak.__version__}, NumPy {np.__version__}, Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}); "
          f"files written by ROOT, zstd ({COMPRESSION}), {BASKET_BYTES // 1024} KiB baskets")
    print("| case | output MiB | file MiB | baskets (mean KiB) | decoflow s | uproot best s "
          "| ROOT GetEntry s | RDataFrame s | × uproot's best | × ROOT's best |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for case, path in todo:
        row = run_case(args, case, path, with_root)
        rows.append(row)
        up = min(row["uproot_s"].values())
        getentry = min(row["root_s"]["getentry"], row["root_s"]["getentry_unzip"]) \
            if with_root else None
        rdf = row["root_s"]["rdataframe"] if with_root else None
        ours = row["decoflow_s"]
        if ours is None:
            ours_cell, vs_up, vs_root = "refused (not yet supported)", "—", "—"
        else:
            ours_cell = cell(ours)
            vs_up = f"{up / ours:.2f}×"
            vs_root = f"{min(getentry, rdf) / ours:.2f}×" if with_root else "—"
        print(f"| {case} | {row['output_mib']:.0f} | {row['file_mib']:.0f} | {row['baskets']} "
              f"({row['basket_kib']:.1f}) | {ours_cell} | {up:.3f} | {cell(getentry)} | "
              f"{cell(rdf)} | {vs_up} | {vs_root} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
