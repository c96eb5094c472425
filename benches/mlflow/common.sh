# Sourced by run.sh and run_scale.sh after they set HERE, BENCH_DIR and log(): the Kiln binary
# (never built here), the real MLflow client's virtualenv outside the clone, and the client's
# environment (no retries, so a 5xx cannot hide in the timings; no telemetry).
if [[ -z "${KILN_BIN:-}" ]]; then
  KILN_BIN=/var/tmp/kiln-target/release/kiln
  [[ -x "$KILN_BIN" ]] || KILN_BIN=/var/tmp/kiln-target-release/release/kiln
fi
if [[ ! -x "$KILN_BIN" ]]; then
  log "no Kiln binary at $KILN_BIN; build one first:"
  log "    CARGO_TARGET_DIR=/var/tmp/kiln-target cargo build --release -p kiln"
  exit 1
fi
export KILN_BENCH_DIR="$BENCH_DIR"
"$HERE/../../scripts/bench-venvs" mlflow || { log "could not make the MLflow virtualenv"; exit 1; }
VENV="$BENCH_DIR/venv-mlflow"
PY="$VENV/bin/python"
export MLFLOW_HTTP_REQUEST_MAX_RETRIES=0 MLFLOW_HTTP_REQUEST_TIMEOUT=120 \
  MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true PYTHONDONTWRITEBYTECODE=1
