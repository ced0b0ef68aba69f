#!/usr/bin/env python3
"""Opening a tree and planning a read of every branch: decoflow's native
metadata reader against uproot, side by side in one run, warm cache.

Cases, each the best of --repeat (the file read once first, so it is cached):

  uproot open        uproot.open(path)["Events"] (uproot's caches off)
  native meta        decoflow.root's NativeTree(path, "Events"): the file's
                     keys, the tree's record decompressed and parsed, every
                     branch's kind and basket table (kept in C++), and the
                     branches' paths, names and kinds in Python (one call)
  native plan        + the selection of every branch, the engine's tree (its
                     basket tables built from the metadata in C++) and its
                     plan of a read of every branch (the graph made,
                     nothing decoded)
  uproot arrays      uproot.open(path)["Events"].arrays(library="np") of the
                     branches decoflow reads
  decoflow arrays    decoflow.root.arrays(path, those branches)

It prints the times and the ratios uproot / decoflow, and checks the arrays
equal. The default file is the 1,499-branch NanoAOD-like tree of
../shared/testdata/root/tree/uproot-issue121.root.

Usage (from the project root):

  PYTHONPATH=build/release/bindings .venv/bin/python bench/root_native_meta.py \
      [--file PATH] [--tree Events] [--repeat 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

DEFAULT = (Path(__file__).resolve().parents[2] / "shared" / "testdata" / "root" / "tree" /
           "uproot-issue121.root")


def best(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT)
    parser.add_argument("--tree", default="Events")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import uproot

    import decoflow
    import decoflow.root as droot
    from decoflow.root import _native, _read, _select

    path = str(args.file)
    args.file.read_bytes()  # warm the page cache

    def uproot_open():
        with uproot.open(path, array_cache=None, object_cache=None) as f:
            return len(f[args.tree].keys())

    def native_meta():
        return len(_native.NativeTree(path, args.tree).names)

    def native_plan():
        trees, owned = _native.open_trees(f"{path}:{args.tree}", None)
        names, explicit = _select.branch_names(trees[0][1], None, lambda n: True)
        selection = _select.select(trees, names, explicit)
        reader = _read.TreeReader(trees, selection, "np")
        graph = decoflow.Graph("plan")
        reader.engine.plan(graph, None, [], None)
        for f in owned:
            f.close()
        return [t.name for t in selection.tables]

    t_uproot, n_branches = best(uproot_open, args.repeat)
    t_meta, _ = best(native_meta, args.repeat)
    t_plan, names = best(native_plan, args.repeat)

    with decoflow.Executor(threads=args.threads) as ex:
        def decoflow_arrays():
            return droot.arrays(f"{path}:{args.tree}", names, executor=ex)

        def uproot_arrays():
            with uproot.open(path, array_cache=None, object_cache=None) as f:
                return f[args.tree].arrays(names, library="np")

        t_da, ours = best(decoflow_arrays, args.repeat)
        t_ua, theirs = best(uproot_arrays, args.repeat)
    for name in names:  # every array equal (jagged: entry by entry)
        a, b = ours[name], theirs[name]
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            assert len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y))
                                            for x, y in zip(a, b)), name

    print(f"{args.file.name}:{args.tree}: {n_branches} branches, {len(names)} read by decoflow; "
          f"{platform.machine()}, {args.threads} threads, best of {args.repeat}, warm cache")
    rows = [("uproot open", t_uproot, None),
            ("native meta", t_meta, t_uproot / t_meta),
            ("native plan (every branch)", t_plan, t_uproot / t_plan),
            ("uproot arrays (from path)", t_ua, None),
            ("decoflow arrays (from path)", t_da, t_ua / t_da)]
    for label, t, ratio in rows:
        print(f"  {label:30s} {t * 1e3:9.1f} ms" + (f"   uproot / this: {ratio:5.1f}x"
                                                    if ratio else ""))


if __name__ == "__main__":
    main()
