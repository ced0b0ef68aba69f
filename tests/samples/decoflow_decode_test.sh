#!/usr/bin/env bash
# Runs the decoflow-decode binary on files written by the real pzstd, zstd and
# lz4 tools, compares every output with cmp, and checks exit codes and messages
# for bad inputs and bad arguments.
# Usage: decoflow_decode_test.sh DECOFLOW_DECODE DECOFLOW_GEN_PHYSICS
set -euo pipefail

decode=$1
gen=$2
for tool in pzstd zstd lz4 cmp; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed"
    exit 77
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect CODE PATTERN CMD...: runs CMD, requires exit status CODE and stderr
# (or stdout) matching the extended regex PATTERN.
expect() {
  local code=$1 pattern=$2
  shift 2
  local status=0
  "$@" >out.txt 2>err.txt || status=$?
  if [ "$status" -ne "$code" ]; then
    fail "'$*' exited $status, expected $code; stderr: $(cat err.txt)"
  elif ! grep -Eq -- "$pattern" err.txt out.txt; then
    fail "'$*': output does not match '$pattern': $(cat err.txt out.txt)"
  fi
}

"$gen" 12 orig
head -c 5000000 orig >part1
tail -c +5000001 orig >part2

# pzstd: skippable frame before every frame, no content sizes -> path ordered.
pzstd -q -p 2 -3 orig -o orig.pz.zst
# zstd outputs concatenated (content sizes, checksums) -> path slices.
zstd -q --check part1 -o p1.zst && zstd -q --check part2 -o p2.zst && cat p1.zst p2.zst >orig.cat.zst
# lz4 CLI: independent 64 KiB blocks, content checksum, no content size -> ordered.
lz4 -q -B4 orig orig.lz4
# lz4 with content size and block checksums -> slices.
lz4 -q -B4 -BX --content-size orig orig.cs.lz4
# lz4 with linked blocks: cannot be decoded in parallel.
lz4 -q -B4 -BD orig orig.linked.lz4

check_decode() {  # FILE PATH-NAME [OPTIONS...]
  local file=$1 path=$2
  shift 2
  rm -f out.bin
  expect 0 "path $path" "$decode" --threads 3 --verify "$@" "$file" out.bin
  cmp -s out.bin orig || fail "$file: output differs from the original"
}
check_decode orig.pz.zst ordered
grep -Eq "zstd, ([2-9]|[1-9][0-9]+) pieces" err.txt || fail "pzstd wrote one frame only: $(cat err.txt)"
check_decode orig.cat.zst slices
check_decode orig.cat.zst ordered --ordered
check_decode orig.lz4 ordered
check_decode orig.cs.lz4 slices
expect 0 "verify: 2 zstd frame checksums OK" "$decode" --verify -f orig.cat.zst out.bin
expect 0 "verify: 1 lz4 content checksum OK" "$decode" --verify -f orig.lz4 out.bin
expect 0 "compare: identical to orig" "$decode" -f --compare orig orig.pz.zst out.bin
grep -Eq "MB in, .* MB out, .* s, .* GB/s, [0-9]+ threads" err.txt || fail "no summary line: $(cat err.txt)"
"$decode" -q -f orig.lz4 out.bin 2>err.txt || fail "--quiet decode failed"
[ ! -s err.txt ] || fail "--quiet printed: $(cat err.txt)"
cmp -s out.bin orig || fail "--quiet output differs"

# --threads 0: one per hardware thread, as in Python (threads=0).
rm -f out.bin
expect 0 " [1-9][0-9]* threads" "$decode" --threads 0 orig.pz.zst out.bin
cmp -s out.bin orig || fail "--threads 0: output differs"

# One zstd frame (zstd -T2 writes one however large): decoded, with a note
# that one frame cannot be split and how to write files that can.
zstd -q -T2 orig -o single.zst
rm -f out.bin
expect 0 "note: single.zst is a single zstd frame, which one thread decodes: only files of several frames decode in parallel .*pzstd" \
  "$decode" single.zst out.bin
cmp -s out.bin orig || fail "single frame: output differs"
expect 0 "" "$decode" -f orig.pz.zst out.bin
if grep -q "single zstd frame" err.txt; then fail "the single-frame note on a multi-frame file"; fi

# Pipes as INPUT are read whole: '-', /dev/stdin on a pipe, a named pipe.
rm -f out.bin
cat orig.pz.zst | "$decode" -q - out.bin || fail "'-' from a pipe failed"
cmp -s out.bin orig || fail "'-' from a pipe: output differs"
rm -f out.bin
cat orig.cat.zst | "$decode" -q /dev/stdin out.bin || fail "/dev/stdin on a pipe failed"
cmp -s out.bin orig || fail "/dev/stdin on a pipe: output differs"
mkfifo fifo.zst
cat orig.lz4 >fifo.zst &
rm -f out.bin
"$decode" -q fifo.zst out.bin || fail "a named pipe failed"
wait
cmp -s out.bin orig || fail "a named pipe: output differs"
: | "$decode" - out.bin 2>err.txt && fail "an empty pipe decoded"
grep -Eq "stdin: corrupt_input: .*empty" err.txt || fail "an empty pipe: $(cat err.txt)"

# stdout, through the ordered path.
"$decode" -q orig.pz.zst - | cmp -s - orig || fail "stdout output differs"
"$decode" -q orig.cat.zst - | cmp -s - orig || fail "stdout output (sizes known) differs"

# Compare against a different file: exit 1, names the byte.
cp orig other && printf 'X' | dd of=other bs=1 seek=1000 conv=notrunc status=none
expect 1 "differs from 'other' at byte 1000" "$decode" -f --compare other orig.pz.zst out.bin

# Bad inputs: exit 1, a message naming the file and the place; no output left.
: >empty.zst
rm -f out.bin
expect 1 "'empty.zst': corrupt_input: .*empty" "$decode" empty.zst out.bin
[ ! -e out.bin ] || fail "empty input left an output file"
head -c -100 orig.pz.zst >truncated.zst
expect 1 "'truncated.zst': corrupt_input: zstd: truncated frame at byte [0-9]+" "$decode" truncated.zst out.bin
[ ! -e out.bin ] || fail "truncated input left an output file"
head -c -100 orig.lz4 >truncated.lz4
expect 1 "'truncated.lz4': corrupt_input: lz4: truncated" "$decode" truncated.lz4 out.bin
head -c 100000 /dev/urandom >garbage.bin
expect 1 "'garbage.bin': unsupported_format: .*not a zstd or lz4 file" "$decode" garbage.bin out.bin
expect 1 "linked blocks" "$decode" orig.linked.lz4 out.bin
expect 1 "'missing.zst': io_error" "$decode" missing.zst out.bin

# A frame damaged in the middle: the scan passes, decoding fails on that piece;
# the partly written output is removed (kept with --keep-partial).
cp orig.cat.zst damaged.zst
size1=$(stat -c %s p1.zst)
printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of=damaged.zst bs=1 seek=$((size1 + 4000)) conv=notrunc status=none
expect 1 "piece 1: zstd frame at input bytes $size1\." "$decode" damaged.zst out.bin
[ ! -e out.bin ] || fail "a failed decode left its output"
expect 1 "piece 1" "$decode" --keep-partial damaged.zst out.bin
[ -e out.bin ] || fail "--keep-partial removed the output"
rm -f out.bin
cp orig.pz.zst damaged.pz.zst
printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of=damaged.pz.zst bs=1 seek=600000 conv=notrunc status=none
expect 1 "corrupt_input: .*\(piece [0-9]+: zstd frame at input bytes" "$decode" damaged.pz.zst out.bin

# Arguments: --help and --version exit 0; mistakes exit 2.
expect 0 "^usage: decoflow-decode" "$decode" --help
expect 0 "^decoflow-decode [0-9]" "$decode" --version
expect 2 "needs INPUT and OUTPUT" "$decode"
expect 2 "needs INPUT and OUTPUT" "$decode" orig.pz.zst
expect 2 "unknown option '--bogus'" "$decode" --bogus orig.pz.zst out.bin
expect 2 "--threads needs a number from 0 \(one per hardware thread\) to 4096, not '-1'" \
  "$decode" --threads -1 orig.pz.zst out.bin
expect 2 "--threads needs a number" "$decode" --threads x orig.pz.zst out.bin
expect 2 "--threads needs a value" "$decode" orig.pz.zst out.bin --threads
expect 2 "too many arguments" "$decode" orig.pz.zst out.bin extra
echo keep >exists.bin
expect 2 "exists \(use --force" "$decode" orig.pz.zst exists.bin
[ "$(cat exists.bin)" = keep ] || fail "an existing output was touched without --force"
expect 2 "is the input file" "$decode" -f orig.pz.zst orig.pz.zst
expect 2 "--compare needs an OUTPUT file" "$decode" --compare orig orig.pz.zst -

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "decoflow-decode: all checks passed"
