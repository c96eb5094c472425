#!/usr/bin/env bash
# Runs the workflow scripts against the reference: a real `mlflow server` (SQLite backend,
# artifact proxy) on a fresh store in a temp dir, so a failure in app/tests/mlflow_client.rs
# can be told apart from a wrong script. Every script must pass here.
#
#   tests/mlflow/against_reference.sh                  # all wf_*.py
#   tests/mlflow/against_reference.sh wf_search.py     # only these
#
# PYTHON  the interpreter with mlflow 3.17.2 (default $KILN_BENCH_DIR/venv-mlflow/bin/python,
#         made by scripts/bench-venvs mlflow)
# PORT    the server's port (default 5077)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-${KILN_BENCH_DIR:-/var/tmp/kiln-bench}/venv-mlflow/bin/python}"
PORT="${PORT:-5077}"
[[ -x "$PYTHON" ]] || { echo "no $PYTHON: run scripts/bench-venvs mlflow" >&2; exit 2; }
MLFLOW="$(dirname "$PYTHON")/mlflow"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kiln-mlflow-ref.XXXXXX")"
export MLFLOW_HTTP_REQUEST_MAX_RETRIES=0 MLFLOW_HTTP_REQUEST_TIMEOUT=60 \
  MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true PYTHONDONTWRITEBYTECODE=1
# Its own process group (it starts uvicorn and job consumers), stopped as a whole at exit.
setsid "$MLFLOW" server --backend-store-uri "sqlite:///$WORK/mlflow.db" --artifacts-destination "$WORK/artifacts" \
  --host 127.0.0.1 --port "$PORT" --workers 1 > "$WORK/server.log" 2>&1 &
SERVER=$!
stop_server() {
  kill -- -$SERVER 2>/dev/null
  for _ in $(seq 20); do kill -0 -- -$SERVER 2>/dev/null || return; sleep 0.5; done
  kill -KILL -- -$SERVER 2>/dev/null
}
trap stop_server EXIT
for _ in $(seq 120); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break
  kill -0 $SERVER 2>/dev/null || { echo "mlflow server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.5
done

scripts=("$@")
[[ ${#scripts[@]} -eq 0 ]] && scripts=(wf_tracking.py wf_search.py wf_autolog.py wf_registry.py wf_load.py)
status=0
for script in "${scripts[@]}"; do
  dir="$WORK/${script%.py}"
  mkdir -p "$dir"
  start=$SECONDS
  if (cd "$dir" && MLFLOW_TRACKING_URI="http://127.0.0.1:$PORT" "$PYTHON" "$HERE/$script" > out.txt 2> err.txt); then
    echo "pass  $script  ($((SECONDS - start)) s)"
  else
    echo "FAIL  $script  ($((SECONDS - start)) s); its stderr ends:"
    tail -n 15 "$dir/err.txt"
    status=1
  fi
done
echo "outputs and the server log: $WORK"
exit $status
