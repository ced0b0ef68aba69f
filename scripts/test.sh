#!/usr/bin/env bash
# Sets up and runs every test: the Release build with warnings as errors, then
# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
jobs=$(nproc)
python_args=()
[ -n "$DECOFLOW_PYTHON_EXE" ] && python_args=(-DPython_EXECUTABLE="$DECOFLOW_PYTHON_EXE")

echo "== release build and tests"
cmake --preset release "${python_args[@]}" >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

echo "== address + undefined sanitizers"
cmake --preset asan "${python_args[@]}" >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"

echo "all tests passed"
