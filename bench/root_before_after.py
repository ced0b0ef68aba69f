#!/usr/bin/env python3
"""decoflow.root before and after a change: the decoflow rows of
root_vs_uproot.py (flat branches), root_iterate.py, root_jagged.py and
root_strings.py, timed with two builds side by side.

Each round runs one worker process per build — baseline, candidate, baseline
again — in that order, so that drift (page cache, another process, thermal)
touches all three alike; each worker times every case best of --repeat, with
uproot's caches off. The table gives, per case, the best over rounds of each
and the ratios candidate / baseline ("change") and baseline again / baseline
("spread": what the baseline measures against itself). Every worker's output
is checked equal to the candidate's first (a checksum per case).

Usage (from the project root):

  PYTHONPATH=build/release/bindings .venv/bin/python bench/root_before_after.py \
      --baseline /path/to/old/build/bindings [--rounds 3] [--repeat 3] [--threads 2] \
      [--mib 128] [--dir /tmp/decoflow-root-bench] [--from-path]

The baseline is the `bindings` folder of another build tree (one with the
decoflow package and its _core extension), for example of the commit before
the change, built in a git worktree.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
FLAT = [(codec, kib) for codec in ("zstd", "lz4", "zlib") for kib in (32, 256)]
STEPS = ["100 MB", "10 MB", 2000]


def files(args) -> dict[str, Path]:
    """The benchmarks' files, written once (by the benchmarks' own writers)."""
    sys.path.insert(0, str(BENCH))
    import root_jagged
    import root_strings
    import root_vs_uproot

    args.dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for codec, kib in FLAT:
        path = args.dir / f"{codec}-{kib}k-{args.mib}m.root"
        if not path.exists():
            root_vs_uproot.write_file(path, codec, args.mib, kib)
        out[f"flat {codec} {kib} KiB"] = path
    path = args.dir / "jagged-zstd-1600000-2000.root"
    if not path.exists():
        root_jagged.write(path, "zstd", 1_600_000, 2000)
    out["jagged zstd"] = path
    path = args.dir / "strings-zstd-4000000.root"
    if not path.exists():
        root_strings.write(path, "zstd", 4_000_000)
    out["strings zstd"] = path
    return out


def worker(config: dict) -> dict:
    """Times every case with the decoflow on sys.path; {case: [seconds, digest]}."""
    import numpy as np
    import uproot

    import decoflow
    import decoflow.root

    def digest(arrays: dict) -> str:
        h = hashlib.sha1()
        for name in sorted(arrays):
            a = arrays[name]
            for part in (getattr(a, "offsets", None), getattr(a, "content", a)):
                if part is not None:
                    h.update(np.ascontiguousarray(part).tobytes())
        return h.hexdigest()

    sys.path.insert(0, str(BENCH))
    from root_vs_uproot import timed  # the other benchmarks' timing: best of, heap trimmed

    def best(fn, repeat):
        t, _, out = timed(fn, repeat)
        return t, out

    results = {}
    paths = {k: Path(v) for k, v in config["files"].items()}
    repeat = config["repeat"]
    from_path = config["from_path"]

    @contextlib.contextmanager
    def source(path):
        """The tree as the read gets it: an open uproot tree, or (from_path)
        the path, whose metadata each read then reads itself."""
        if from_path:
            yield f"{path}:t"
            return
        with uproot.open(f"{path}:t", array_cache=None, object_cache=None) as tree:
            yield tree

    with decoflow.Executor(config["threads"]) as ex:
        def read(case, names):
            with source(paths[case]) as tree:
                t, out = best(lambda: decoflow.root.arrays(tree, names, executor=ex), repeat)
                results[case] = [t, digest(out)]

        for codec, kib in FLAT:
            read(f"flat {codec} {kib} KiB", ["px", "py", "pz", "E", "charge", "id"])
        read("jagged zstd", ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"])
        read("strings zstd", ["label"])
        flat = paths["flat zstd 256 KiB"]
        with source(flat) as tree:
            for step in STEPS:
                def run_steps(step=step):
                    h = hashlib.sha1()
                    for arrays in decoflow.root.iterate(tree, ["px", "E", "id"], step_size=step,
                                                        executor=ex):
                        h.update(digest(arrays).encode())
                    return h.hexdigest()

                t, out = best(run_steps, repeat)
                results[f"iterate {step}"] = [t, out]
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", type=Path, required=True,
                   help="the baseline build's bindings folder (holds decoflow/)")
    p.add_argument("--candidate", type=Path, default=None,
                   help="the candidate's bindings folder (default: this PYTHONPATH's)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--mib", type=int, default=128, help="uncompressed MiB of the flat files")
    p.add_argument("--dir", type=Path, default=Path("/tmp/decoflow-root-bench"))
    p.add_argument("--from-path", action="store_true",
                   help="read from the paths (each read reads the metadata too) instead of "
                        "open uproot trees")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    import decoflow

    candidate = args.candidate or Path(decoflow.__file__).resolve().parents[1]
    config = {"files": {k: str(v) for k, v in files(args).items()},
              "repeat": args.repeat, "threads": args.threads, "from_path": args.from_path}
    builds = [("baseline", args.baseline), ("candidate", candidate), ("baseline again", args.baseline)]
    times: dict[str, dict[str, list[float]]] = {label: {} for label, _ in builds}
    digests: dict[str, str] = {}
    for r in range(args.rounds):
        for label, bindings in builds:
            env = dict(os.environ, PYTHONPATH=str(bindings))
            done = subprocess.run([sys.executable, __file__, "--baseline", str(args.baseline),
                                   "--worker", json.dumps(config)], env=env, check=True,
                                  capture_output=True, text=True)
            for case, (t, d) in json.loads(done.stdout.strip().splitlines()[-1]).items():
                times[label].setdefault(case, []).append(t)
                if digests.setdefault(case, d) != d:
                    raise SystemExit(f"{label}: {case} differs from the first output")
            print(f"# round {r + 1}/{args.rounds}: {label} done", file=sys.stderr)
    print(f"# {args.threads} threads, best of {args.repeat} per worker, {args.rounds} rounds "
          f"(baseline, candidate, baseline again); {os.cpu_count()} CPUs; "
          f"baseline {args.baseline}, candidate {candidate}")
    print("| case | baseline s | candidate s | change | baseline again s | spread |")
    print("|---|---|---|---|---|---|")
    for case in times["baseline"]:
        base = min(times["baseline"][case])
        cand = min(times["candidate"][case])
        again = min(times["baseline again"][case])
        print(f"| {case} | {base:.4f} | {cand:.4f} | {cand / base - 1:+.1%} | {again:.4f} | "
              f"{again / base - 1:+.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
