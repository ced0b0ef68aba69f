#!/usr/bin/env bash
# Installs what decoflow needs and is missing: Debian packages (as root, with
# apt-get), and finds a CPython >= 3.12 with headers for the glue (own-GIL
# subinterpreters). Sourced by demo.sh and test.sh; safe to run again.
# Exports DECOFLOW_PYTHON_EXE (empty when no suitable Python exists).
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config libtbb-dev libzstd-dev liblz4-dev
          libxxhash-dev zlib1g-dev libdeflate-dev liblzma-dev catch2 zstd lz4
          python3-dev python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# CMake >= 3.25: Debian 12's and 13's are; a newer one on PATH is fine too.
cmake_version=$(cmake --version | head -n1 | awk '{print $3}')
if [ "$(printf '%s\n3.25\n' "$cmake_version" | sort -V | head -n1)" != "3.25" ]; then
  echo "setup: cmake $cmake_version is older than 3.25" >&2
  exit 1
fi

# A CPython >= 3.12 built with shared libpython and headers: DECOFLOW_PYTHON_EXE
# if set, else python3.13 / python3.12 (pyenv's or on PATH), else python3
# (Debian 13's is 3.13; Debian 12's 3.11 cannot host own-GIL subinterpreters).
python_ok() {
  "$1" -c 'import sys, sysconfig; sys.exit(not (sys.version_info >= (3, 12) and sysconfig.get_config_var("Py_ENABLE_SHARED")))' 2>/dev/null
}
if [ -z "${DECOFLOW_PYTHON_EXE:-}" ]; then
  for candidate in /root/.pyenv/versions/3.13*/bin/python3.13 /root/.pyenv/versions/3.12*/bin/python3.12 \
                   "$(command -v python3.13 || true)" "$(command -v python3.12 || true)" \
                   "$(command -v python3 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && python_ok "$candidate"; then
      DECOFLOW_PYTHON_EXE=$candidate
      break
    fi
  done
fi
export DECOFLOW_PYTHON_EXE=${DECOFLOW_PYTHON_EXE:-}
if [ -n "$DECOFLOW_PYTHON_EXE" ]; then
  echo "setup: Python for glue: $DECOFLOW_PYTHON_EXE ($("$DECOFLOW_PYTHON_EXE" -V 2>&1))"
else
  echo "setup: no CPython >= 3.12 with a shared libpython found: Python glue is skipped" >&2
fi
