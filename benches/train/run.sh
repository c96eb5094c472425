#!/usr/bin/env bash
# Training benchmark: Kiln vs scikit-learn and LightGBM on one 150k/50k split of 200,000 x 20
# (binary), same run, same machine. See README.md next to this file.
#   CARGO_TARGET_DIR=/var/tmp/kiln-target cargo build --release -p kiln
#   bash benches/train/run.sh
# KILN_BIN (default /var/tmp/kiln-target/release/kiln), KILN_BENCH_DIR (default /var/tmp/kiln-bench),
# KILN_BENCH_RUNS (default 3), KILN_BENCH_TRAIN_RESULTS (default benches/train/results.json).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KILN_BIN="${KILN_BIN:-/var/tmp/kiln-target/release/kiln}"
DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench}"
[[ -x "$KILN_BIN" ]] || { echo "run.sh: no Kiln binary at $KILN_BIN; build it: CARGO_TARGET_DIR=/var/tmp/kiln-target cargo build --release -p kiln" >&2; exit 1; }
KILN_BENCH_DIR="$DIR" "$HERE/../../scripts/bench-venvs" train
PY="$DIR/venv-train/bin/python"
mapfile -t FILES < <("$PY" "$HERE/make_data.py" "$DIR")
"$PY" "$HERE/bench.py" --kiln "$KILN_BIN" --train "${FILES[1]}" --test "${FILES[2]}" \
  --runs "${KILN_BENCH_RUNS:-3}" --out "${KILN_BENCH_TRAIN_RESULTS:-$HERE/results.json}"
