#!/usr/bin/env python3
"""A char* string branch: decoflow.root.arrays against uproot's tree.arrays
(its best executor configuration), both as awkward arrays (library="ak": no
Python object per entry on either side), on a file this benchmark writes with
uproot. Outputs checked equal.

Usage: PYTHONPATH=build/release/bindings python bench/root_strings.py \
           [--entries 4000000] [--codec zstd] [--threads 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decoflow  # noqa: E402
import decoflow.root  # noqa: E402
from root_vs_uproot import COMPRESSION, timed  # noqa: E402


def write(path: Path, codec: str, entries: int) -> None:
    """Trigger-like labels: a few hundred distinct strings of 4 to 40 bytes."""
    rng = np.random.default_rng(3)
    vocabulary = [f"HLT_{'Mu' if i % 2 else 'Ele'}{i}_{'x' * int(rng.integers(0, 30))}"
                  for i in range(300)]
    per_extend = 100_000
    tmp = path.with_suffix(".tmp")
    with uproot.recreate(tmp, compression=COMPRESSION[codec]()) as f:
        f.mktree("t", {"label": "string"})
        for lo in range(0, entries, per_extend):
            n = min(per_extend, entries - lo)
            picks = rng.integers(0, len(vocabulary), n)
            f["t"].extend({"label": ak.Array([vocabulary[i] for i in picks])})
    tmp.rename(path)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, default=4_000_000)
    p.add_argument("--codec", default="zstd", choices=list(COMPRESSION))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", type=Path, default=Path("/tmp/decoflow-root-bench"))
    args = p.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"strings-{args.codec}-{args.entries}.root"
    if not path.exists():
        write(path, args.codec, args.entries)
    n = args.threads
    # No uproot caches: every timed call reads the file.
    with uproot.open(f"{path}:t", array_cache=None, object_cache=None) as tree, \
            decoflow.Executor(n) as ex, \
            ThreadPoolExecutor(n) as pool:
        ours_t, _, ours = timed(lambda: decoflow.root.arrays(
            tree, ["label"], library="ak", executor=ex)["label"], args.repeat)
        theirs_t, _, theirs = timed(lambda: tree["label"].array(
            library="ak", decompression_executor=pool, interpretation_executor=pool), args.repeat)
        assert ak.array_equal(ours, theirs)
        size = os.path.getsize(path) / 2**20
        print(f"# {path.name} ({size:.0f} MiB, {tree['label'].num_baskets} baskets): {n} threads, "
              f"uproot {uproot.__version__}, Python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, best of {args.repeat}")
        print(f"decoflow.root {ours_t:.3f} s, uproot {theirs_t:.3f} s: "
              f"{theirs_t / ours_t:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
