#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang, address + undefined
# sanitizers), writes their seed corpora, and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS [TARGET...]]     default: 20 seconds, every target
#
# Each target keeps its corpus in build/fuzz/corpus/TARGET (grown by every run,
# never committed); crashes land in build/fuzz/artifacts/ and fail the script.
# A line "fuzz: TARGET: N execs in S s" per target is the record that
# docs/RELIABILITY.md quotes. Runs one target at a time (CI has 2 cores; the
# executor target uses 2 worker threads).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
all_targets=(fuzz_zstd fuzz_lz4_block fuzz_lz4_frame fuzz_root_blocks fuzz_raw
             fuzz_scan_zstd fuzz_scan_lz4 fuzz_graph fuzz_root_meta fuzz_rntuple)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

# libFuzzer comes with Debian's clang and its runtime package.
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: installing clang and libclang-rt-dev"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq clang libclang-rt-dev >/dev/null
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]}" decoflow_fuzz_corpus

build=build/fuzz
rm -rf "$build/seeds"
"$build/tests/fuzz/decoflow_fuzz_corpus" "$build/seeds" tests/fixtures/hzz_baskets.tsv ../shared/testdata/root
mkdir -p "$build/artifacts"
failed=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  log="$build/$target.log"
  # -timeout: one input taking 10 s is a hang, and a finding.
  if "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$build/artifacts/$target-" "$corpus" "$build/seeds/$target" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 || true)
  echo "fuzz: $target: ${execs:-?} execs in $seconds s, $cov, corpus $(ls "$corpus" | wc -l) files: $status"
  if [ "$status" = FAILED ]; then
    grep -E -A12 'invariant broken|ERROR:|runtime error' "$log" | head -n 40 >&2 || tail -n 40 "$log" >&2
  fi
done
exit "$failed"
