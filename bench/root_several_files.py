#!/usr/bin/env python3
"""Several ROOT files read as one: decoflow.root.arrays([files]) (one graph,
every basket straight into its slice of one array per branch) against reading
file by file and concatenating, and against uproot.concatenate with its best
executor configuration. Outputs checked equal. Files: those given, written by
bench/root_vs_uproot.py (for example its --keep folder).

Usage: PYTHONPATH=build/release/bindings python bench/root_several_files.py \
           [--threads 2] [--repeat 3] FILE.root [FILE.root ...]
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
from root_vs_uproot import BRANCHES, same, timed  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    names = list(BRANCHES)
    sources = [f"{f}:t" for f in args.files]
    n = args.threads
    out_mib = sum(uproot.open(s).num_entries for s in sources) * 32 / 2**20
    print(f"# {len(sources)} files, {out_mib:.0f} MiB of output, {n} threads, uproot "
          f"{uproot.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"best of {args.repeat}")
    with decoflow.Executor(n) as ex, ThreadPoolExecutor(n) as pool:
        one_t, one_mem, one = timed(lambda: decoflow.root.arrays(sources, names, executor=ex),
                                    args.repeat)

        def file_by_file():
            parts = [decoflow.root.arrays(s, names, executor=ex) for s in sources]
            return {k: np.concatenate([part[k] for part in parts]) for k in names}

        fbf_t, fbf_mem, fbf = timed(file_by_file, args.repeat)
        assert same(one, fbf)
        del fbf
        up_t, up_mem, up = timed(lambda: uproot.concatenate(
            sources, names, library="np", decompression_executor=pool,
            interpretation_executor=pool), args.repeat)
        assert same(one, up)
    print("| method | s | peak RssAnon MiB |")
    print("|---|---|---|")
    print(f"| decoflow.root.arrays(files): one graph, no copy | {one_t:.3f} | {one_mem:.0f} |")
    print(f"| decoflow.root.arrays per file + np.concatenate | {fbf_t:.3f} | {fbf_mem:.0f} |")
    print(f"| uproot.concatenate, ThreadPoolExecutor({n}) | {up_t:.3f} | {up_mem:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
