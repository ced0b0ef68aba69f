#!/usr/bin/env bash
# Adds the glue pipeline to build/device/ (see build_device.sh): the
# decoflow-glue-pipeline sample built against CPython 3.12 (the device's
# python3 is 3.12), with its libpython beside it. On the device it runs with
# PYTHONHOME pointing at the device's own 3.12 standard library.
#
# Usage: bench/build_device_glue.sh [PYTHON3.12]   then, there: bench/device_glue.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${1:-/root/.pyenv/versions/3.12.1/bin/python3.12}
cmake_dir="$root/build/device-glue-cmake"
out="$root/build/device"
mkdir -p "$out"
cmake -S "$root" -B "$cmake_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DDECOFLOW_WERROR=ON -DDECOFLOW_STATIC_CODECS=ON \
  -DDECOFLOW_BUILD_TESTS=OFF -DDECOFLOW_BUILD_BENCH=OFF -DDECOFLOW_BUILD_PYTHON_MODULE=OFF \
  -DPython_EXECUTABLE="$python" -DCMAKE_BUILD_RPATH='$ORIGIN' > "$cmake_dir.log"
cmake --build "$cmake_dir" -j2 --target decoflow-glue-pipeline
cp "$cmake_dir/samples/decoflow-glue-pipeline" "$out/"
cp "$root/samples/glue/count_fast.py" "$root/../shared/anchors/glue_scaling.py" "$out/"
libpython=$(ldd "$out/decoflow-glue-pipeline" | awk '$1 ~ /^libpython3\.12/ { print $3 }')
[[ $libpython -ef $out/$(basename "$libpython") ]] || cp -L "$libpython" "$out/"
# Distributions often build math, _struct, ... into their python binary rather
# than lib-dynload, so the device's stdlib may lack them: ship ours (3.12 ABI).
rm -rf "$out/lib-dynload" && mkdir -p "$out/lib-dynload"
for so in "$(dirname "$(dirname "$python")")"/lib/python3.12/lib-dynload/*.so; do
  case $(basename "$so") in
    _test*|_ctypes_test*|xx*|_tkinter*|_curses*|readline*|nis*|spwd*|ossaudiodev*|_sqlite3*|_ssl*|_hashlib*|_xxtestfuzz*) ;;
    *) cp "$so" "$out/lib-dynload/" ;;
  esac
done
ldd "$out/decoflow-glue-pipeline"
du -sh "$out"
