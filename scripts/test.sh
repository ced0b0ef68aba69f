#!/usr/bin/env bash
# Sets up and runs every test: the Release build with warnings as errors
# (ctest, then pytest against the build tree's Python package), the Python
# package on the other CPython version we find (3.12 / 3.13), the C++
# consumer projects (scripts/test_consumers.sh), the self-contained wheel
# (scripts/build_wheel.sh, scripts/test_wheel.sh), then the C++ suite under
# AddressSanitizer + UndefinedBehaviorSanitizer, then every fuzz target for a
# bounded time (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
jobs=$(nproc)
python_args=()
pytest_python=""
if [ -n "$DECOFLOW_PYTHON_EXE" ]; then
  python_args=(-DPython_EXECUTABLE="$DECOFLOW_PYTHON_EXE")
  # The development venv: nanobind for the build, numpy/pytest/compressors
  # for the tests. The package itself is not installed: the build tree is
  # importable (PYTHONPATH=build/release/bindings).
  scripts/python_env.sh "$DECOFLOW_PYTHON_EXE" .venv
  pytest_python=.venv/bin/python
  python_args+=(-Dnanobind_DIR="$($pytest_python -m nanobind --cmake_dir)")
fi

echo "== release build and tests"
cmake --preset release "${python_args[@]}" >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

if [ -n "$pytest_python" ]; then
  # The other supported CPython, when present: build just the extension for
  # it, so that the exit-with-glue test runs on both 3.12 and 3.13.
  other_pythons=""
  main_version=$("$DECOFLOW_PYTHON_EXE" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  for other in /root/.pyenv/versions/3.1[23]*/bin/python3.1[23] "$(command -v python3.12 || true)" \
               "$(command -v python3.13 || true)"; do
    [ -n "$other" ] && [ -x "$other" ] || continue
    version=$("$other" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$version" != "$main_version" ] || continue
    "$other" -c 'import sysconfig, sys; sys.exit(not sysconfig.get_config_var("Py_ENABLE_SHARED"))' || continue
    echo "== Python extension for $version ($other)"
    scripts/python_env.sh "$other" ".venv-$version"
    cmake -S . -B "build/python-$version" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDECOFLOW_WERROR=ON \
      -DDECOFLOW_BUILD_TESTS=OFF -DDECOFLOW_BUILD_SAMPLES=OFF -DDECOFLOW_BUILD_BENCH=OFF \
      -DPython_EXECUTABLE="$other" \
      -Dnanobind_DIR="$(".venv-$version/bin/python" -m nanobind --cmake_dir)" >/dev/null
    cmake --build "build/python-$version" -j "$jobs" --target decoflow_core
    other_pythons+="$PWD/.venv-$version/bin/python=$PWD/build/python-$version/bindings;"
    break
  done

  echo "== Python tests (pytest, build tree)"
  DECOFLOW_TEST_PYTHONS="$other_pythons" PYTHONPATH="$PWD/build/release/bindings" \
    "$pytest_python" -m pytest -q -p no:cacheprovider -m "not slow" tests/python

  # Glue and the engine's lifecycle on the other CPython too: subinterpreters,
  # thread states and interrupts behave differently between 3.12 and 3.13.
  IFS=';' read -ra others <<< "$other_pythons"
  for pair in "${others[@]}"; do
    [ -n "$pair" ] || continue
    echo "== Python glue and execution tests on ${pair%%=*}"
    PYTHONPATH="${pair#*=}" "${pair%%=*}" -m pytest -q -p no:cacheprovider -m "not slow" \
      tests/python/test_glue.py tests/python/test_execution.py tests/python/test_lifecycle.py
  done
fi

# C++ consumers: find_package(decoflow) from an installed prefix, and
# add_subdirectory without Catch2, each building the README's example.
echo "== C++ consumers"
scripts/test_consumers.sh build/release "$DECOFLOW_PYTHON_EXE"

if [ -n "$pytest_python" ]; then
  # The self-contained wheel: one real `pip wheel` + `auditwheel repair`,
  # installed into a fresh venv, checked to load its bundled libraries.
  echo "== self-contained wheel"
  wheel=$(scripts/build_wheel.sh "$DECOFLOW_PYTHON_EXE" build/dist | tail -n1)
  scripts/test_wheel.sh "$wheel" "$DECOFLOW_PYTHON_EXE"
fi

echo "== address + undefined sanitizers"
# The Python extension is not built here: an ASan-instrumented module cannot
# load into an uninstrumented Python without preloading the runtime.
cmake --preset asan "${python_args[@]}" -DDECOFLOW_BUILD_PYTHON_MODULE=OFF >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"

# Every fuzz target for a bounded time (clang, address + undefined; 12 s each,
# about 3 minutes with the build, so that CI stays well under 30 minutes).
# Longer fuzz runs (DECOFLOW_FUZZ_SECONDS=600) and the thread-sanitizer
# preset are run by hand: see docs/RELIABILITY.md.
echo "== fuzz targets (libFuzzer, ${DECOFLOW_FUZZ_SECONDS:-12} s each)"
scripts/fuzz.sh "${DECOFLOW_FUZZ_SECONDS:-12}"

echo "all tests passed"
