#!/usr/bin/env bash
# Serving benchmark: single-row POST /invocations for a logistic regression on the 30-feature
# breast-cancer data, `kiln serve` against `mlflow models serve --workers 2`, loaded by the same
# wrk (16 connections, 2 threads) in the same run on this machine.
#
#   bash benches/serve/run.sh
#
# Settings (environment):
#   KILN_BIN            kiln binary (default /var/tmp/kiln-target/release/kiln; never built here)
#   KILN_BENCH_DIR      data, stores and virtualenvs (default /var/tmp/kiln-bench)
#   KILN_BENCH_SECONDS  seconds of load per server (default 15)
#   KILN_BENCH_RESULTS  raw results file (default benches/serve/results.json)
#   PYTHON              interpreter the MLflow virtualenv is made from (default python3)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KILN_BIN="${KILN_BIN:-/var/tmp/kiln-target/release/kiln}"
BENCH_DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench}"
SECONDS_OF_LOAD="${KILN_BENCH_SECONDS:-15}"
RESULTS="${KILN_BENCH_RESULTS:-$HERE/results.json}"
KILN_PORT=5181
MLFLOW_PORT=5182
log() { echo "run.sh: $*" >&2; }

if [[ ! -x "$KILN_BIN" ]]; then
  log "no Kiln binary at $KILN_BIN; build one first:"
  log "    CARGO_TARGET_DIR=/var/tmp/kiln-target cargo build --release -p kiln"
  exit 1
fi
if ! command -v wrk >/dev/null; then
  log "installing wrk (Debian package)"
  apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
fi
export KILN_BENCH_DIR="$BENCH_DIR"
"$HERE/../../scripts/bench-venvs" mlflow || { log "could not make the MLflow virtualenv"; exit 1; }
VENV="$BENCH_DIR/venv-mlflow"

DATA="$BENCH_DIR/serve"
"$VENV/bin/python" "$HERE/make_data.py" "$DATA"

# Kiln trains the same model from the same CSV into a store of its own.
HOME_DIR="$DATA/kiln-home"
rm -rf "$HOME_DIR"
RUN_ID=$("$KILN_BIN" --home "$HOME_DIR" train --data "$DATA/breast_cancer.csv" --target target \
  --model logistic_regression --json | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill -- "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_for() { # URL
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  log "no answer from $1"; return 1
}

"$KILN_BIN" --home "$HOME_DIR" serve "$RUN_ID" --port $KILN_PORT 2>"$DATA/kiln-serve.log" &
PIDS+=($!)
# setsid: MLflow's workers are children of its own process group, stopped as a group.
# MLflow starts uvicorn by name: the virtualenv's bin folder goes first on PATH.
PATH="$VENV/bin:$PATH" setsid "$VENV/bin/mlflow" models serve -m "$DATA/mlflow-model" --env-manager local --workers 2 \
  -h 127.0.0.1 -p $MLFLOW_PORT >"$DATA/mlflow-serve.log" 2>&1 &
MLFLOW_PID=$!
PIDS+=(-"$MLFLOW_PID")
wait_for "http://127.0.0.1:$KILN_PORT/ping"
wait_for "http://127.0.0.1:$MLFLOW_PORT/ping"

for port in $KILN_PORT $MLFLOW_PORT; do
  log "answer of :$port: $(curl -fsS -H 'Content-Type: application/json' --data @"$DATA/row.json" \
    "http://127.0.0.1:$port/invocations")"
done

load() { # NAME PORT -> wrk output in $DATA/wrk-NAME.txt
  BODY_FILE="$DATA/row.json" wrk -t2 -c16 -d2s -s "$HERE/post.lua" "http://127.0.0.1:$2/invocations" >/dev/null
  BODY_FILE="$DATA/row.json" wrk -t2 -c16 -d"${SECONDS_OF_LOAD}s" --latency -s "$HERE/post.lua" \
    "http://127.0.0.1:$2/invocations" | tee "$DATA/wrk-$1.txt" >&2
}
load kiln $KILN_PORT
load mlflow $MLFLOW_PORT

# Hot swap under load: an endpoint following bc@production while version 2 is promoted halfway
# through the load; wrk counts every non-2xx answer and socket error.
SWAP_PORT=5183
"$KILN_BIN" --home "$HOME_DIR" models register "$RUN_ID" --name bc >/dev/null
RUN2=$("$KILN_BIN" --home "$HOME_DIR" train --data "$DATA/breast_cancer.csv" --target target \
  --model logistic_regression --param C=0.5 --json | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
"$KILN_BIN" --home "$HOME_DIR" models register "$RUN2" --name bc >/dev/null
"$KILN_BIN" --home "$HOME_DIR" models promote bc 1 --to production --reason "benchmark start" >/dev/null
"$KILN_BIN" --home "$HOME_DIR" serve bc@production --port $SWAP_PORT 2>"$DATA/kiln-swap.log" &
PIDS+=($!)
wait_for "http://127.0.0.1:$SWAP_PORT/ping"
BODY_FILE="$DATA/row.json" wrk -t2 -c16 -d"${SECONDS_OF_LOAD}s" --latency -s "$HERE/post.lua" \
  "http://127.0.0.1:$SWAP_PORT/invocations" > "$DATA/wrk-swap.txt" &
WRK_PID=$!
sleep $(( SECONDS_OF_LOAD / 2 ))
"$KILN_BIN" --home "$HOME_DIR" models promote bc 2 --to production --reason "benchmark swap" >/dev/null
wait "$WRK_PID"
cat "$DATA/wrk-swap.txt" >&2
curl -fsS "http://127.0.0.1:$SWAP_PORT/version" > "$DATA/swap-version.json"

"$VENV/bin/python" - "$DATA" "$RESULTS" "$SECONDS_OF_LOAD" <<'EOF'
import json, re, subprocess, sys, datetime
from importlib.metadata import version

data, results, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])

def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

def parse(name):
    text = open(f"{data}/wrk-{name}.txt").read()
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", text, re.M))  # wrk pads "1.18s "
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    return {
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50_ms": ms(pct["50"]),
        "p99_ms": ms(pct["99"]),
        "errors": errors,
    }

kiln, mlflow = parse("kiln"), parse("mlflow")
swap = parse("swap")
swap["version_after"] = json.load(open(f"{data}/swap-version.json"))["model"]["version"]
out = {
    "date": datetime.date.today().isoformat(),
    "load": f"wrk -t2 -c16 -d{seconds}s, one-row dataframe_split, same machine",
    "cpus": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
    "kiln": kiln,
    "mlflow": {**mlflow, "version": version("mlflow"), "scikit_learn": version("scikit-learn"), "workers": 2},
    "speedup": round(kiln["rps"] / mlflow["rps"], 1) if mlflow["rps"] else None,
    "hot_swap": {**swap, "promoted_at_s": seconds // 2},
}
json.dump(out, open(results, "w"), indent=2)
print(json.dumps(out, indent=2))
print(f"Kiln {kiln['rps']:.0f} req/s (p50 {kiln['p50_ms']:.2f} ms, p99 {kiln['p99_ms']:.2f} ms); "
      f"MLflow {mlflow['rps']:.0f} req/s (p50 {mlflow['p50_ms']:.1f} ms, p99 {mlflow['p99_ms']:.1f} ms); "
      f"{out['speedup']}x; hot swap to version {swap['version_after']} under load: "
      f"{swap['requests']} requests, {swap['errors']} errors", file=sys.stderr)
EOF
