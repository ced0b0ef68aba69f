#!/usr/bin/env bash
# The first command to run: sets up, builds decoflow-decode, and decodes
# generated multi-frame zstd / lz4 files in parallel, checking every output
# against the original bytes and timing it beside the reference tools; where
# CPython >= 3.12 is found, also runs native decode -> Python glue -> native
# byteswap, and decoflow.root against uproot on ROOT files uproot writes.
#   DEMO_MIB   size of the generated data in MiB (default 256)
#   DEMO_DIR   where to work (default: a new folder under ${TMPDIR:-/tmp}, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
repo=$(pwd)
threads=$(nproc)
mib=${DEMO_MIB:-256}

echo "== build (release preset: decoflow-decode and the data generator)"
python_args=()  # configure as test.sh does, so the two share one build tree
targets=(decoflow-decode decoflow-gen-physics)
if [ -n "${DECOFLOW_PYTHON_EXE:-}" ]; then
  # The development venv (NumPy, uproot, nanobind, ...) for the Python parts.
  scripts/python_env.sh "$DECOFLOW_PYTHON_EXE" .venv
  python_args=(-DPython_EXECUTABLE="$DECOFLOW_PYTHON_EXE"
               -Dnanobind_DIR="$(.venv/bin/python -m nanobind --cmake_dir)")
  targets+=(decoflow-glue-pipeline decoflow_core)
fi
cmake --preset release "${python_args[@]}" >/dev/null
cmake --build --preset release -j "$threads" --target "${targets[@]}"
decode=$repo/build/release/samples/decoflow-decode
gen=$repo/build/release/samples/decoflow-gen-physics

work=${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/decoflow-demo.XXXXXX")}
mkdir -p "$work"
[ -n "${DEMO_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
cd "$work"

echo
echo "== generate $mib MiB of physics-like data (big-endian int32 counts + float32 momenta)"
"$gen" "$mib" original
bytes=$(stat -c %s original)

echo
echo "== compress"
pzstd -q -p 2 -3 original -o original.pz.zst
echo "pzstd -p 2:        original.pz.zst   $(stat -c %s original.pz.zst) bytes (a skippable frame before every frame, no content sizes)"
lz4 -q original original.lz4
echo "lz4:               original.lz4      $(stat -c %s original.lz4) bytes (independent 4 MiB blocks, content checksum, no content size)"
split -b 16M -d -a 4 original part.
for part in part.*; do zstd -q --check "$part" -o "$part.zst"; done
cat part.*.zst >original.cat.zst
rm -f part.*
echo "zstd per 16 MiB:   original.cat.zst  $(stat -c %s original.cat.zst) bytes (concatenated zstd outputs, content sizes and checksums)"

echo
echo "== decode with decoflow-decode --threads $threads --verify --compare original"
for f in original.pz.zst original.lz4 original.cat.zst; do
  echo "-- $f"
  rm -f decoded
  "$decode" --threads "$threads" --verify --compare original "$f" decoded 2>&1
done

# Wall time of a command, in seconds.
seconds() {
  local TIMEFORMAT=%R
  { time "$@" >/dev/null 2>&1; } 2>&1
}
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.2f GB/s", (s > 0 ? b / s / 1e9 : 0) }'; }

echo
echo "== timings: $mib MiB decoded into a file in $work ($threads hardware threads, wall time per command)"
printf '%-18s %-32s %s\n' "input" "decoflow-decode --threads $threads" "reference tool"
for f in original.pz.zst original.lz4 original.cat.zst; do
  case $f in
    *.pz.zst) ref=(pzstd -q -d -p 2 -f "$f" -o reference); ref_name="pzstd -d -p 2" ;;
    *.lz4) ref=(lz4 -q -d -f "$f" reference); ref_name="lz4 -d" ;;
    *) ref=(zstd -q -d -f "$f" -o reference); ref_name="zstd -d" ;;
  esac
  rm -f decoded reference
  ours=$(seconds "$decode" -q --threads "$threads" --verify "$f" decoded)
  theirs=$(seconds "${ref[@]}")
  cmp -s decoded reference || { echo "demo: decoflow-decode and $ref_name disagree on $f" >&2; exit 1; }
  printf '%-18s %-32s %s\n' "$f" "$ours s ($(rate "$ours"))" "$ref_name: $theirs s ($(rate "$theirs"))"
done
rm -f decoded reference

if [ -n "${DECOFLOW_PYTHON_EXE:-}" ]; then
  echo
  echo "== native zstd decode -> Python glue (own-GIL subinterpreters) -> native byteswap"
  "$repo/build/release/samples/decoflow-glue-pipeline" --threads "$threads" --mib 64 \
    "$repo/samples/glue/count_fast.py"

  root_mib=$(( mib < 256 ? mib : 256 ))
  thread_list=1
  [ "$threads" -gt 1 ] && thread_list="1,$threads"
  echo
  echo "== ROOT branches: decoflow.root vs uproot on files uproot writes ($root_mib MiB of"
  echo "   output each, 32 KiB baskets; every array checked equal to uproot's)"
  PYTHONPATH="$repo/build/release/bindings" "$repo/.venv/bin/python" "$repo/bench/root_vs_uproot.py" \
    --mib "$root_mib" --codecs zstd,lz4 --basket-kib 32 --threads "$thread_list" --repeat 1 \
    --dir "$work/root"
fi

echo
echo "demo: every output matched the original byte for byte"
