#!/usr/bin/env bash
# Drift benchmark: `kiln drift --json` against Evidently 0.7.23's DataDriftPreset (pandas
# read_csv + Report.run) on the same two 1M-row CSVs, in the same run, on this machine.
#
#   bash benches/drift/run.sh
#
# Settings (environment):
#   KILN_BIN         kiln binary (default /var/tmp/kiln-target/release/kiln; never built here)
#   KILN_BENCH_DIR   where the data goes (default /var/tmp/kiln-bench/drift)
#   KILN_BENCH_ROWS  rows per file (default 1000000)
#   KILN_BENCH_RUNS  runs per side, median reported (default 3)
# Evidently runs in the venv of scripts/fixtures/evidently-venv.sh (created when missing).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
KILN_BIN="${KILN_BIN:-/var/tmp/kiln-target/release/kiln}"
DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench/drift}"
ROWS="${KILN_BENCH_ROWS:-1000000}"
RUNS="${KILN_BENCH_RUNS:-3}"
VENV="${KILN_EVIDENTLY_VENV:-/var/tmp/kiln-evidently-venv}"

if [[ ! -x "$KILN_BIN" ]]; then
  echo "run.sh: no Kiln binary at $KILN_BIN (build it: CARGO_TARGET_DIR=/var/tmp/kiln-target cargo build --release -p kiln)" >&2
  exit 1
fi
"$ROOT/scripts/fixtures/evidently-venv.sh"
if [[ ! -f "$DIR/reference.csv" ]]; then
  "$VENV/bin/python" "$HERE/make_data.py" "$DIR" "$ROWS"
fi

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

kiln_times=()
for _ in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  "$KILN_BIN" drift --reference "$DIR/reference.csv" --current "$DIR/current.csv" --json > "$DIR/kiln.json"
  end=$(date +%s.%N)
  kiln_times+=("$(echo "$end - $start" | bc)")
done
evidently_times=()
for _ in $(seq "$RUNS"); do
  evidently_times+=("$("$VENV/bin/python" "$HERE/evidently_peer.py" "$DIR/reference.csv" "$DIR/current.csv" 2>/dev/null \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["total_s"])')")
done
kiln=$(printf '%s\n' "${kiln_times[@]}" | median)
evidently=$(printf '%s\n' "${evidently_times[@]}" | median)
echo "rows per file: $ROWS, runs: $RUNS, binary: $KILN_BIN"
echo "kiln drift (load both + report):        ${kiln} s"
echo "Evidently (read_csv both + Report.run): ${evidently} s"
