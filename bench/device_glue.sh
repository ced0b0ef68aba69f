#!/usr/bin/env bash
# On the 16-core device: pure-Python glue scaling through decoflow (pinned
# own-GIL subinterpreters between native decode and byteswap) at 1..16
# threads, beside the glue_scaling anchor (threads / processes / raw
# subinterpreters) in the same call. Writes $OUT/glue.txt.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dev="$root/build/device"
out=${OUT:-$root/build/device-out}
mkdir -p "$out"
home=${DECOFLOW_PYTHONHOME:-$(python3 -c 'import sys; print(sys.base_prefix)')}
{
  echo "# decoflow glue scaling ($(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), python home $home)"
  for t in 1 2 4 8 16; do
    DECOFLOW_PYTHONHOME=$home PYTHONPATH=$dev/lib-dynload LD_LIBRARY_PATH=$dev \
      "$dev/decoflow-glue-pipeline" \
      --threads "$t" --mib "${GLUE_MIB:-64}" --chunk-kib 32 --repeat 2 "$dev/count_fast.py"
  done
  echo "# anchor: glue_scaling.py (TASKS=1024)"
  TASKS=1024 timeout 240 python3 "$dev/glue_scaling.py" 16 || echo "anchor failed or timed out"
} 2>&1 | tee "$out/glue.txt"
