#!/usr/bin/env bash
# The engine against the hand-written native roofline, side by side.
#
# Builds the anchor (../shared/anchors/native_roofline.cpp) into build/bench/,
# then for each chunk size runs the anchor and decoflow-bench-engine alternately
# (anchor, engine, anchor, engine, ...: this machine is noisy, so both see the
# same conditions) with the same data size and thread counts, and prints a
# Markdown table of the best GB/s of each cell and the ratio engine / roofline.
#
# Usage: bench/run_native.sh [options] [MIB=128] [MAX_THREADS=2] [CHUNK_KIB...=256 32]
#   --rounds N        runs of each program per chunk size (default 2)
#   --reps N          repetitions inside each engine run (default 5, as the anchor)
#   --static-codecs   link the anchor with static zstd/lz4 (as for the device)
#   --anchor PATH     use this anchor binary, do not build one
#   --engine PATH     use this decoflow-bench-engine, do not build one (default: build
#                     the release preset's build/release/bench/decoflow-bench-engine)
#   --logs DIR        keep the raw outputs there (default: a temporary folder)
# Threads run 1, 2, 4, ... up to MAX_THREADS in both programs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=2
reps=5
static=0
anchor=""
engine=""
logs=""
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --static-codecs) static=1; shift ;;
    --anchor) anchor=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    *) echo "run_native.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mib=${1:-128}
max_threads=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
chunks=("${@:-256 32}")
read -r -a chunks <<< "${chunks[*]}"

if [[ -z $anchor ]]; then
  anchor="$root/build/bench/native_roofline"
  mkdir -p "$root/build/bench"
  if (( static )); then
    codec_libs=(-l:libzstd.a -l:liblz4.a)
  else
    codec_libs=(-lzstd -llz4)
  fi
  g++ -O2 -std=c++17 "$root/../shared/anchors/native_roofline.cpp" -o "$anchor" \
    -ltbb "${codec_libs[@]}" -Wl,-rpath,'$ORIGIN'
fi
if [[ -z $engine ]]; then
  engine="$root/build/release/bench/decoflow-bench-engine"
  [[ -d $root/build/release ]] || (cd "$root" && cmake --preset release > /dev/null)
  (cd "$root" && cmake --build --preset release --target decoflow-bench-engine > /dev/null)
fi
for bin in "$anchor" "$engine"; do
  [[ -x $bin ]] || { echo "run_native.sh: $bin is missing (build it first)" >&2; exit 1; }
done
if [[ -z $logs ]]; then
  logs=$(mktemp -d)
  trap 'rm -rf "$logs"' EXIT
fi
mkdir -p "$logs"

echo "# Engine vs native roofline"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- data: $mib MiB of output; chunks: ${chunks[*]} KiB; threads 1..$max_threads (powers of 2)"
echo "- policy: $rounds interleaved runs of each program per chunk size, best of $reps repetitions in each"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

anchor_logs=()
engine_logs=()
for chunk in "${chunks[@]}"; do
  for ((r = 1; r <= rounds; r++)); do
    a="$logs/anchor-$chunk-$r.txt"
    e="$logs/engine-$chunk-$r.txt"
    "$anchor" "$mib" "$chunk" "$max_threads" > "$a"
    "$engine" "$mib" "$chunk" "$max_threads" "$reps" > "$e"
    anchor_logs+=("$a")
    engine_logs+=("$e")
    echo "chunk $chunk KiB, round $r done ($(date -u +%T), load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done

python3 "$root/bench/native_table.py" --anchor "${anchor_logs[@]}" --engine "${engine_logs[@]}"
echo
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
