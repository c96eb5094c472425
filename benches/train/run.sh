#!/usr/bin/env bash
# Training benchmark: Kiln vs scikit-learn on 200,000 x 20 (binary), same run, same machine.
#   CARGO_TARGET_DIR=/var/tmp/kiln-target cargo build --release -p kiln
#   bash benches/train/run.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KILN_BIN="${KILN_BIN:-/var/tmp/kiln-target/release/kiln}"
DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench}"
PY="$DIR/venv-main/bin/python"
[[ -x "$PY" ]] || { python3 -m venv "$DIR/venv-main"; "$PY" -m pip install -q pandas scikit-learn; }
"$PY" -m pip show scikit-learn >/dev/null 2>&1 || "$PY" -m pip install -q scikit-learn
DATA="$("$PY" "$HERE/make_data.py" "$DIR/classification_200k.csv")"
HOME_DIR="$(mktemp -d)"
echo "== Kiln (whole command: read CSV, split, preprocess, fit, predict, metrics, store the run)"
for model in "logistic_regression" "random_forest --param n_estimators=100 --param max_depth=8"; do
  # shellcheck disable=SC2086
  "$KILN_BIN" --home "$HOME_DIR" train --data "$DATA" --target target --model $model --seed 0 --json \
    | "$PY" -c "import json,sys; d=json.load(sys.stdin); print(d['model'], 'total', round(d['duration_s'],3), 's', 'accuracy', round(d['metrics']['accuracy'],4))"
done
echo "== scikit-learn (fit + predict only, data already in memory and scaled)"
"$PY" "$HERE/peers.py" "$DATA"
rm -rf "$HOME_DIR"
