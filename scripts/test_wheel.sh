#!/usr/bin/env bash
# Checks a wheel from scripts/build_wheel.sh the way a user meets it: installed
# into a fresh venv with pip, the native libraries it loads are the ones
# bundled in the wheel (decoflow.libs/, shown by ldd), never the system's, and
# the Python smoke tests pass against the installed package (run from outside
# the source tree, so that nothing of the build tree can be imported).
# Usage: scripts/test_wheel.sh WHEEL [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=$(realpath "$1")
python=${2:-${DECOFLOW_PYTHON_EXE:-python3}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -m venv "$work/venv"
py=$work/venv/bin/python
"$py" -m pip install -q --disable-pip-version-check "$wheel" pytest zstandard lz4 xxhash 2>&1 |
  { grep -v "is ignored: it is neither a file nor a directory" || true; }

# Which libraries the extension loads: each of decoflow's native dependencies
# must resolve inside the wheel.
core=$("$py" -c 'import pathlib, decoflow._core as c; print(pathlib.Path(c.__file__).resolve())')
site=$(dirname "$(dirname "$core")")
echo "== ldd $(basename "$core")"
ldd "$core" | tee "$work/ldd.txt"
for lib in libtbb libzstd liblz4 libxxhash libdeflate liblzma; do
  line=$(grep -E "^\s*$lib[-.]" "$work/ldd.txt" || true)
  if [ -z "$line" ]; then
    echo "FAIL: $(basename "$core") does not link $lib" >&2
    exit 1
  fi
  case "$line" in
    *"=> $site/decoflow/../decoflow.libs/"* | *"=> $site/decoflow.libs/"*) ;;
    *) echo "FAIL: $lib is not the wheel's own copy: $line" >&2; exit 1 ;;
  esac
done
echo "every native dependency resolves in $site/decoflow.libs"

echo "== Python smoke tests against the installed wheel"
# In the source tree, but without PYTHONPATH: only the venv's decoflow can be
# imported (the package's sources are under bindings/, not importable as is).
env -u PYTHONPATH "$py" -c 'import decoflow, sys; print(decoflow.__file__); sys.exit("site-packages" not in decoflow.__file__)'
env -u PYTHONPATH "$py" -m pytest -q -p no:cacheprovider -m "not slow" \
  tests/python/test_packaging.py tests/python/test_graph.py tests/python/test_errors.py \
  tests/python/test_arrays.py tests/python/test_execution.py
echo "wheel: installs into a fresh venv and passes the smoke tests with its bundled libraries"
