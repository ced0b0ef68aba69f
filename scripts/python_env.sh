#!/usr/bin/env bash
# Makes (or refreshes) a virtual environment with what the Python package's
# build and tests need, from tests/python/requirements.txt.
# Usage: scripts/python_env.sh PYTHON VENV_DIR     (sourced or run; prints nothing on success)
set -euo pipefail
python=$1
venv=$2
requirements="$(dirname "${BASH_SOURCE[0]}")/../tests/python/requirements.txt"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
stamp="$venv/.decoflow-requirements"
if ! cmp -s "$requirements" "$stamp"; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi
