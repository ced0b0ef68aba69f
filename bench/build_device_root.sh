#!/usr/bin/env bash
# Builds build/device-root/ for bench/device_root.sh: what the ROOT benchmark
# (bench/root_vs_uproot.py) needs on the 16-core device, whose python3 is
# CPython 3.12 with NumPy and nothing else, without internet:
#   decoflow/   the Python package with its extension built here against
#               CPython 3.12 (same ABI), codecs linked statically, oneTBB
#               beside it (libtbb.so.12, found through an rpath of $ORIGIN);
#   site/       uproot and what it needs but NumPy (awkward, awkward-cpp,
#               cramjam, xxhash, fsspec, packaging), at the versions of
#               tests/python/requirements.txt's environment, as 3.12 wheels.
# Checks that the extension needs nothing but libtbb and the C/C++ runtime.
#
# Usage: bench/build_device_root.sh [PYTHON3.12]   then, there: bench/device_root.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${1:-/root/.pyenv/versions/3.12.1/bin/python3.12}
cmake_dir="$root/build/device-root-cmake"
venv="$root/build/device-root-venv"
out="$root/build/device-root"
# What uproot needs, pinned to the development environment's versions where it has them.
packages=(uproot awkward awkward-cpp cramjam xxhash fsspec packaging)

"$root/scripts/python_env.sh" "$python" "$venv"  # nanobind, and the same versions as the tests
pins=()
for p in "${packages[@]}"; do
  pin=$("$venv/bin/python" -m pip freeze 2>/dev/null | grep -i "^${p//-/[-_]}==" || true)
  pins+=("${pin:-$p}")
done

cmake -S "$root" -B "$cmake_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DDECOFLOW_WERROR=ON -DDECOFLOW_STATIC_CODECS=ON \
  -DDECOFLOW_BUILD_TESTS=OFF -DDECOFLOW_BUILD_SAMPLES=OFF -DDECOFLOW_BUILD_BENCH=OFF \
  -DPython_EXECUTABLE="$python" -Dnanobind_DIR="$("$venv/bin/python" -m nanobind --cmake_dir)" \
  -DCMAKE_BUILD_RPATH='$ORIGIN' > "$cmake_dir.log"
cmake --build "$cmake_dir" -j "$(nproc)" --target decoflow_core

rm -rf "$out" && mkdir -p "$out"
cp -r "$cmake_dir/bindings/decoflow" "$out/decoflow"
core=$(ls "$out"/decoflow/_core.cpython-312-*.so)
tbb=$(ldd "$core" | awk '$1 == "libtbb.so.12" { print $3 }')
[[ -n $tbb && $tbb != "$out/decoflow/libtbb.so.12" ]] && cp -L "$tbb" "$out/decoflow/libtbb.so.12"

"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-compile \
  --only-binary=:all: --target "$out/site" "${pins[@]}"
find "$out" -name __pycache__ -prune -exec rm -rf {} +
rm -rf "$out/site/bin"

status=0
runpath=$(readelf -d "$core" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p')
if [[ $runpath != *'$ORIGIN'* ]]; then
  echo "build_device_root.sh: $core has rpath '$runpath', without \$ORIGIN" >&2
  status=1
fi
while read -r name _ path _; do
  case $name in
    linux-vdso.so.*|/lib64/ld-linux-x86-64.so.*|libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*) ;;
    libtbb.so.12) [[ $path == "$out/decoflow/libtbb.so.12" ]] || { echo "libtbb from $path" >&2; status=1; } ;;
    *) echo "build_device_root.sh: $core needs $name ($path), which the device lacks" >&2; status=1 ;;
  esac
done < <(ldd "$core")
echo "${pins[*]}" > "$out/site/VERSIONS"
du -sh "$out" "$out/decoflow" "$out/site"
exit $status
