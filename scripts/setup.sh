#!/usr/bin/env bash
# Installs what decoflow needs and is missing: Debian packages (as root, with
# apt-get). Sourced by demo.sh and test.sh; safe to run again.
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config libtbb-dev libzstd-dev liblz4-dev
          libxxhash-dev zlib1g-dev libdeflate-dev liblzma-dev catch2 zstd lz4)
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
