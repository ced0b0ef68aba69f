#!/usr/bin/env bash
# Builds build/device/: the native roofline anchor and decoflow-bench-engine for
# the 16-core device (no internet, no -dev packages there). zstd, lz4 and the
# other codec libraries are linked statically; oneTBB travels beside the
# binaries (libtbb.so.12, found through an rpath of $ORIGIN). Checks with ldd
# that nothing else outside the C/C++ runtime is needed.
#
# Usage: bench/build_device.sh        then, on the device: bench/device_native.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmake_dir="$root/build/device-cmake"
out="$root/build/device"
mkdir -p "$out"

cmake -S "$root" -B "$cmake_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DDECOFLOW_WERROR=ON -DDECOFLOW_STATIC_CODECS=ON \
  -DDECOFLOW_BUILD_TESTS=OFF -DDECOFLOW_BUILD_SAMPLES=OFF \
  -DCMAKE_BUILD_RPATH='$ORIGIN' > "$cmake_dir.log"
cmake --build "$cmake_dir" -j2 --target decoflow-bench-engine
cp "$cmake_dir/bench/decoflow-bench-engine" "$out/"

g++ -O2 -std=c++17 "$root/../shared/anchors/native_roofline.cpp" -o "$out/native_roofline" \
  -ltbb -l:libzstd.a -l:liblz4.a -Wl,-rpath,'$ORIGIN'

# The one shared library that travels: whichever libtbb.so.12 the binaries use here.
tbb=$(ldd "$out/native_roofline" | awk '$1 == "libtbb.so.12" { print $3 }')
[[ -n $tbb && $tbb != "$out/libtbb.so.12" ]] && cp -L "$tbb" "$out/libtbb.so.12"

# Every binary must find libtbb beside itself and need nothing but the C/C++ runtime.
status=0
for bin in "$out/native_roofline" "$out/decoflow-bench-engine"; do
  runpath=$(readelf -d "$bin" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p')
  if [[ $runpath != '$ORIGIN' ]]; then
    echo "build_device.sh: $bin has rpath '$runpath', not \$ORIGIN" >&2
    status=1
  fi
  while read -r name _ path _; do
    case $name in
      linux-vdso.so.*|/lib64/ld-linux-x86-64.so.*|libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*) ;;
      libtbb.so.12)
        [[ $path == "$out/libtbb.so.12" ]] ||
          { echo "build_device.sh: $bin takes libtbb from $path" >&2; status=1; } ;;
      *) echo "build_device.sh: $bin needs $name ($path)" >&2; status=1 ;;
    esac
  done < <(ldd "$bin")
done
ls -l "$out"
exit $status
