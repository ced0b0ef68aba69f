#!/usr/bin/env bash
# The two ways a C++ project takes decoflow, each as a separate project that
# builds and runs the README's C++ example (tests/consumer/):
#  1. find_package(decoflow) from a prefix that `cmake --install` of BUILD
#     filled (plus decoflow::graphs, and decoflow::python when built);
#  2. add_subdirectory(decoflow) with Catch2 made unfindable: a subproject
#     builds the libraries only.
# Usage: scripts/test_consumers.sh BUILD_DIR [PYTHON]   (BUILD_DIR: a configured, built tree)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
python=${2:-}
jobs=$(nproc)
out=build/consumers
rm -rf "$out"
mkdir -p "$out"

echo "== install $build into $out/prefix, then find_package(decoflow)"
cmake --install "$build" --prefix "$out/prefix" >"$out/install.log"
python_args=()
[ -z "$python" ] || python_args=(-DPython_EXECUTABLE="$python")
cmake -S tests/consumer/find_package -B "$out/find_package" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PWD/$out/prefix" "${python_args[@]}" >"$out/find_package.log"
cmake --build "$out/find_package" -j "$jobs"
"$out/find_package/readme_example"
"$out/find_package/uses_graphs"
if [ -x "$out/find_package/uses_python_host" ]; then
  "$out/find_package/uses_python_host"
fi

echo "== add_subdirectory(decoflow), no Catch2"
cmake -S tests/consumer/subdirectory -B "$out/subdirectory" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON "${python_args[@]}" >"$out/subdirectory.log"
cmake --build "$out/subdirectory" -j "$jobs"
"$out/subdirectory/readme_example"

echo "== a missing prerequisite says what to install"
# /usr/include ignored: every compression library's header is "missing";
# TBB's package disabled: "missing" too. Both the build and the installed
# package must name the libraries, the Debian packages and scripts/setup.sh.
expect_missing() {  # LOG
  local text
  text=$(tr -s ' \n' ' ' <"$1")
  for want in "zstd (header zstd.h not found)" "libzstd-dev" "libzstd-devel" "oneTBB" "libtbb-dev" \
              "apt-get install" "scripts/setup.sh"; do
    if ! grep -qF -- "$want" <<<"$text"; then
      echo "FAIL: $1 does not mention '$want':" >&2
      cat "$1" >&2
      exit 1
    fi
  done
}
missing_args=(-DCMAKE_IGNORE_PATH=/usr/include -DCMAKE_DISABLE_FIND_PACKAGE_TBB=ON)
if cmake -S . -B "$out/missing" -G Ninja -DDECOFLOW_PYTHON=OFF "${missing_args[@]}" \
     >"$out/missing.log" 2>&1; then
  echo "FAIL: decoflow configured without its prerequisites" >&2
  exit 1
fi
expect_missing "$out/missing.log"
if cmake -S tests/consumer/find_package -B "$out/find_package_missing" -G Ninja \
     -DCMAKE_PREFIX_PATH="$PWD/$out/prefix" "${missing_args[@]}" >"$out/find_package_missing.log" 2>&1; then
  echo "FAIL: find_package(decoflow) succeeded without its prerequisites" >&2
  exit 1
fi
expect_missing "$out/find_package_missing.log"

echo "consumers: find_package and add_subdirectory both build and run the README example;"
echo "missing prerequisites are named with the packages to install"
