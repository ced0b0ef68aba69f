#!/usr/bin/env bash
# Runs the Python tests that depend on timing, signals and process exit many
# times, to find tests that pass only on a quiet machine or only in the
# foreground: the signal / cancellation / shutdown tests RUNS times and the
# whole suite SUITE_RUNS times, each under `stress-ng --cpu N` (apt-get install
# stress-ng) when LOAD=1. Start it as `nohup scripts/stress_python.sh &` to
# run it from a background job (SIGINT ignored), as CI may.
# Usage: [RUNS=10] [SUITE_RUNS=3] [LOAD=1] scripts/stress_python.sh [PYTHONPATH]
# Prints one line per run and a count of failures; exits 1 if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
path=${1:-$PWD/build/release/bindings}
runs=${RUNS:-10}
suite_runs=${SUITE_RUNS:-3}
python=.venv/bin/python
load_pid=""
if [ "${LOAD:-1}" = 1 ]; then
  stress-ng --cpu "${LOAD_CPUS:-2}" --quiet &
  load_pid=$!
  trap 'kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null' EXIT
fi
load="none"
[ -z "$load_pid" ] || load="stress-ng --cpu ${LOAD_CPUS:-2}"
echo "stress: SIGINT $(grep -q . <(trap -p SIGINT) && echo ignored || echo default), load: $load"
failed=0
run() {  # NAME ARGS...
  local name=$1 start=$SECONDS
  shift
  if PYTHONPATH=$path "$python" -m pytest -q -p no:cacheprovider -m "not slow" "$@" \
       >/tmp/decoflow-stress-$$.log 2>&1; then
    echo "$name: passed ($((SECONDS - start)) s): $(tail -n1 /tmp/decoflow-stress-$$.log)"
  else
    failed=$((failed + 1))
    echo "$name: FAILED ($((SECONDS - start)) s)"
    grep -E "^(FAILED|ERROR)|Error" /tmp/decoflow-stress-$$.log | head -n 20
  fi
}
for i in $(seq "$runs"); do
  run "signals/cancel/shutdown $i" tests/python/test_execution.py tests/python/test_lifecycle.py \
    tests/python/test_glue.py -k "cancel or ctrl_c or exit or interrupt or timeout or close or fork or multiprocessing or execution or lifecycle"
done
for i in $(seq "$suite_runs"); do
  run "whole suite $i" tests/python
done
rm -f /tmp/decoflow-stress-$$.log
echo "stress: $failed failed run(s)"
[ "$failed" -eq 0 ]
