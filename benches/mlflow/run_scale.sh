#!/usr/bin/env bash
# Scale through the API: the real MLflow client logs 10,000 runs (20 params + `model`,
# 20 metrics, 10 experiments, 100 runs with loss/val_loss/lr series; log_scale.py) into a fresh
# Kiln store through `kiln server`, then app/benches/experiments_gui.rs measures the Experiments
# workspace on that store (KILN_BENCH_STORE): open time, filter + sort, UI-thread CPU per frame,
# against the targets of the native benchmark (open < 0.3 s, filter < 50 ms, frame median < 8 ms).
#
#   bash benches/mlflow/run_scale.sh
#
# Settings (environment):
#   KILN_BIN                 kiln binary serving the API (default /var/tmp/kiln-target/release/kiln,
#                            else /var/tmp/kiln-target-release/release/kiln; never built here)
#   KILN_BENCH_DIR           store, logs and virtualenvs (default /var/tmp/kiln-bench)
#   KILN_BENCH_SCALE_RUNS    runs (default 10000)
#   KILN_BENCH_SCALE_WORKERS client processes logging in parallel (default 2)
#   KILN_BENCH_SERIES_POINTS points of each of the 3 series of the 100 series runs (default
#                            10000; the native store has 100000, i.e. 30 M points, which takes
#                            the Python client ~25 min of CPU alone)
#   KILN_BENCH_REUSE=1       keep an already logged store ($KILN_BENCH_DIR/mlflow-scale/home)
#   CARGO_TARGET_DIR         for `cargo bench` (default /var/tmp/kiln-target)
#   KILN_BENCH_RESULTS       results file (default benches/mlflow/results_scale.json)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BENCH_DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench}"
NRUNS="${KILN_BENCH_SCALE_RUNS:-10000}"
WORKERS="${KILN_BENCH_SCALE_WORKERS:-2}"
POINTS="${KILN_BENCH_SERIES_POINTS:-10000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/kiln-target}"
RESULTS="${KILN_BENCH_RESULTS:-$HERE/results_scale.json}"
PORT=5186
log() { echo "run_scale.sh: $*" >&2; }

# shellcheck source=common.sh
source "$HERE/common.sh"

DATA="$BENCH_DIR/mlflow-scale"
HOME_DIR="$DATA/home"
if [[ "${KILN_BENCH_REUSE:-}" == 1 && -f "$DATA/logged.json" ]]; then
  log "reusing the store logged earlier: $HOME_DIR"
else
  rm -rf "$DATA"
  mkdir -p "$DATA"
  setsid "$KILN_BIN" --home "$HOME_DIR" server --port $PORT > "$DATA/server.log" 2>&1 &
  SERVER=$!
  trap 'kill -- -$SERVER 2>/dev/null || true' EXIT
  for _ in $(seq 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && break
    kill -0 $SERVER 2>/dev/null || { log "kiln server exited:"; cat "$DATA/server.log" >&2; exit 1; }
    sleep 0.5
  done
  log "logging $NRUNS runs with $WORKERS client processes (load $(cut -d' ' -f1-3 /proc/loadavg))"
  MLFLOW_TRACKING_URI="http://127.0.0.1:$PORT" "$PY" "$HERE/log_scale.py" --runs "$NRUNS" \
    --workers "$WORKERS" --points "$POINTS" --json "$DATA/logged.json.part" > /dev/null 2> "$DATA/client.log" \
    || { log "logging failed; the client's stderr ends:"; tail -n 20 "$DATA/client.log" >&2; exit 1; }
  kill -- -$SERVER 2>/dev/null || true
  wait $SERVER 2>/dev/null || true
  trap - EXIT
  mv "$DATA/logged.json.part" "$DATA/logged.json"
  log "logged: $(tr -d '\n ' < "$DATA/logged.json" | cut -c1-200)"
fi

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "cargo bench -p kiln --bench experiments_gui on $HOME_DIR (CARGO_TARGET_DIR=$CARGO_TARGET_DIR, load $LOAD_BEFORE)"
(cd "$ROOT" && KILN_BENCH_STORE="$HOME_DIR" cargo bench -p kiln --bench experiments_gui) \
  > "$DATA/gui.json" 2> "$DATA/gui.log" \
  || { log "the benchmark failed; its log ends:"; tail -n 30 "$DATA/gui.log" >&2; exit 1; }
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

"$PY" - "$DATA" "$RESULTS" "$LOAD_BEFORE" "$LOAD_AFTER" "$KILN_BIN" <<'EOF'
import datetime, json, os, sys
data, results, before, after, kiln_bin = sys.argv[1:6]
logged = json.load(open(f"{data}/logged.json"))
text = open(f"{data}/gui.json").read()
gui = json.loads(text[text.index("{"):])
targets = {"open_workspace_s": 0.3, "filter_and_sort_ms_median": 50.0, "scroll_frame_cpu_ms_median": 8.0}
out = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "cpus": os.cpu_count(),
    "load_before_after": [before, after],
    "kiln_server_binary": kiln_bin,
    "logged_through_api": logged,
    "experiments_gui": gui,
    "targets": {k: {"target": v, "measured": gui.get(k), "met": gui.get(k) is not None and gui[k] < v}
                for k, v in targets.items()},
}
json.dump(out, open(results, "w"), indent=2)
print(f"{logged['runs']} runs logged through kiln server in {logged['log_s']} s "
      f"({logged['runs_per_s']} runs/s, {logged['workers']} client processes)")
for k, t in out["targets"].items():
    print(f"  {k:<30} {t['measured']!s:>22}  target < {t['target']}  {'met' if t['met'] else 'MISSED'}")
print(f"results: {results}")
EOF
