#!/usr/bin/env bash
# decoflow-decode against the reference tools on the same files (issue 2):
# `pzstd -d -p N` on pzstd's own output (sizes unknown: decoflow's ordered
# path), `lz4 -d` on the lz4 CLI's output (ordered path), and `zstd -d` on
# concatenated zstd outputs (content sizes known: decoflow's slices path).
# Every program writes its output to a file in the same folder (page cache warm:
# each input is read once first; no fsync); runs alternate, best of ROUNDS.
#
# Usage: bench/decode_vs_tools.sh [MIB=1024] [THREADS=nproc] [ROUNDS=3] [DIR=build/bench-decode]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mib=${1:-1024}
threads=${2:-$(nproc)}
rounds=${3:-3}
work=${4:-$root/build/bench-decode}
decode=$root/build/release/samples/decoflow-decode
gen=$root/build/release/samples/decoflow-gen-physics
[[ -x $decode && -x $gen ]] || { echo "build the release preset first" >&2; exit 1; }
mkdir -p "$work"
cd "$work"

if [[ ! -f original || $(stat -c %s original) -ne $((mib << 20)) ]]; then
  "$gen" "$mib" original
  pzstd -q -f -p "$threads" -3 original -o original.pz.zst
  lz4 -q -f original original.lz4
  rm -f part.* && split -b 16M -d -a 4 original part.
  for part in part.*; do zstd -q -f --check "$part" -o "$part.zst"; done
  cat part.*.zst >original.cat.zst && rm -f part.*
fi
cat original.pz.zst original.lz4 original.cat.zst >/dev/null  # warm the page cache

seconds() { local TIMEFORMAT=%R; { time "$@" >/dev/null 2>&1; } 2>&1; }
best() { sort -g | head -n1; }
declare -A t
for ((r = 0; r < rounds; r++)); do
  for f in original.pz.zst original.lz4 original.cat.zst; do
    case $f in
      *.pz.zst) ref=(pzstd -q -d -p "$threads" -f "$f" -o reference) ;;
      *.lz4) ref=(lz4 -q -d -f "$f" reference) ;;
      *) ref=(zstd -q -d -f "$f" -o reference) ;;
    esac
    rm -f decoded reference
    t[$f.ours]+="$(seconds "$decode" -q -f --threads "$threads" "$f" decoded) "
    t[$f.ref]+="$(seconds "${ref[@]}") "
    cmp -s decoded reference || { echo "outputs differ on $f" >&2; exit 1; }
  done
done
rm -f decoded reference

echo "# decoflow-decode vs reference tools"
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $mib MiB of physics-like data; output written to a file on the same disk as the input ($(df -T . | awk 'NR==2 {print $2}')), page cache warm, no fsync; best of $rounds alternating runs"
echo
echo "| input | reference | reference s | decoflow-decode --threads $threads s | speed-up |"
echo "|---|---|---|---|---|"
for f in original.pz.zst original.lz4 original.cat.zst; do
  case $f in
    *.pz.zst) name="pzstd -d -p $threads" ;;
    *.lz4) name="lz4 -d" ;;
    *) name="zstd -d" ;;
  esac
  ours=$(tr ' ' '\n' <<<"${t[$f.ours]}" | grep . | best)
  ref=$(tr ' ' '\n' <<<"${t[$f.ref]}" | grep . | best)
  echo "| $f | $name | $ref | $ours | $(awk -v a="$ref" -v b="$ours" 'BEGIN { printf "%.2fx", a / b }') |"
done
