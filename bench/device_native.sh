#!/usr/bin/env bash
# On the 16-core device: the engine vs the native roofline at 1, 2, 4, 8, 16
# threads, 512 MiB of output, 256 KiB and 32 KiB chunks, two interleaved runs of
# each program per chunk size. Needs only what bench/build_device.sh put in
# build/device/ (carry it) and python3; writes the table to $OUT/native.txt and
# the raw outputs to $OUT/native-logs/. About 4-5 minutes.
#
# Usage (from the repository root): bench/device_native.sh [MIB=512] [MAX_THREADS=16]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dev="$root/build/device"
out=${OUT:-$root/build/device-out}
mkdir -p "$out/native-logs"
for f in native_roofline decoflow-bench-engine libtbb.so.12; do
  [[ -e $dev/$f ]] || { echo "device_native.sh: $dev/$f is missing: run bench/build_device.sh here first" >&2; exit 1; }
done

"$root/bench/run_native.sh" --rounds "${ROUNDS:-2}" \
  --anchor "$dev/native_roofline" --engine "$dev/decoflow-bench-engine" \
  --logs "$out/native-logs" "${1:-512}" "${2:-16}" 256 32 | tee "$out/native.txt"
