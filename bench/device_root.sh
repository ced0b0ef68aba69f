#!/usr/bin/env bash
# On the 16-core device: decoflow.root vs uproot (bench/root_vs_uproot.py) at
# 1-16 threads, with what bench/build_device_root.sh built here (the device's
# python3 supplies only CPython 3.12 and NumPy). The files are written there
# by uproot itself, several at once; then a string branch (bench/root_strings.py),
# iterate() (bench/root_iterate.py) and jagged branches (bench/root_jagged.py), and
# bench/glue_startup.py at 1, 4 and 16 threads. Writes $OUT/root.txt and
# $OUT/root.json.
#
# Environment: ROOT_MIB (uncompressed MiB per file, default 512), ROOT_THREADS
# (default 1,2,4,8,16), ROOT_REPEAT (default 2), ROOT_CODECS (default
# zstd,lz4,zlib), PYTHON (default python3).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dev="$root/build/device-root"
out=${OUT:-$root/build/device-out}
python=${PYTHON:-python3}
mkdir -p "$out"
export PYTHONPATH="$dev:$dev/site${PYTHONPATH:+:$PYTHONPATH}"
{
  echo "# decoflow.root vs uproot on $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), $(date -u '+%Y-%m-%d %H:%M UTC')"
  "$python" -c 'import sys, numpy, uproot, awkward, decoflow
print(f"# Python {sys.version.split()[0]}, NumPy {numpy.__version__}, uproot {uproot.__version__}, awkward {awkward.__version__}, decoflow from {decoflow.__file__}")'
  "$python" "$root/bench/root_vs_uproot.py" --mib "${ROOT_MIB:-512}" \
    --threads "${ROOT_THREADS:-1,2,4,8,16}" --repeat "${ROOT_REPEAT:-2}" \
    --codecs "${ROOT_CODECS:-zstd,lz4,zlib}" --write-jobs 6 \
    --dir "${TMPDIR:-/tmp}/decoflow-root-bench" --json "$out/root.json"
  # Strings and iterate() at 16 threads (the 2-core figures are in PERFORMANCE.md).
  "$python" "$root/bench/root_strings.py" --threads 16 --repeat 2 \
    --dir "${TMPDIR:-/tmp}/decoflow-root-bench" || echo "strings benchmark failed"
  "$python" "$root/bench/root_iterate.py" --threads 16 --mib 256 --steps "3000000,20000" \
    --repeat 2 --dir "${TMPDIR:-/tmp}/decoflow-root-bench" || echo "iterate benchmark failed"
  "$python" "$root/bench/root_jagged.py" --threads 1,4,16 --repeat 3 \
    --dir "${TMPDIR:-/tmp}/decoflow-root-bench" || echo "jagged benchmark failed"
  # Glue start-up on many threads: lazy creation against Executor.start_glue().
  "$python" "$root/bench/glue_startup.py" --threads 1,4,16 --repeat 3 || echo "glue start-up failed"
} 2>&1 | tee "$out/root.txt"
