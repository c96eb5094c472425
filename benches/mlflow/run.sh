#!/usr/bin/env bash
# Logging throughput through MLflow's tracking REST API: the real MLflow client (3.17.2) runs
# log_bench.py (100 runs x 10 params x 50 metrics x 10 steps through MlflowClient().log_batch,
# then search_runs with a filter and order_by) against `kiln server` on a fresh store and against
# `mlflow server` (SQLite backend) on a fresh database, same client, same run, on this machine.
# Each server is started, and answers /health, before the client's clock starts.
#
#   bash benches/mlflow/run.sh
#
# Settings (environment):
#   KILN_BIN             kiln binary (default /var/tmp/kiln-target/release/kiln, else
#                        /var/tmp/kiln-target-release/release/kiln; never built here)
#   KILN_BENCH_DIR       stores, databases, logs and virtualenvs (default /var/tmp/kiln-bench)
#   KILN_BENCH_BATCH     batching modes of log_bench.py to run, of "run" and "step"
#                        (default "run step"; see log_bench.py)
#   KILN_BENCH_ROUNDS    rounds; each round runs Kiln then MLflow, per mode (default 2)
#   KILN_BENCH_RUNS      runs logged per benchmark (default 100)
#   KILN_BENCH_MLFLOW_WORKERS  `mlflow server --workers` (default 1: the client is sequential)
#   KILN_BENCH_RESULTS   results file (default benches/mlflow/results.json)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_DIR="${KILN_BENCH_DIR:-/var/tmp/kiln-bench}"
MODES="${KILN_BENCH_BATCH:-run step}"
ROUNDS="${KILN_BENCH_ROUNDS:-2}"
NRUNS="${KILN_BENCH_RUNS:-100}"
WORKERS="${KILN_BENCH_MLFLOW_WORKERS:-1}"
RESULTS="${KILN_BENCH_RESULTS:-$HERE/results.json}"
KILN_PORT=5184
MLFLOW_PORT=5185
log() { echo "run.sh: $*" >&2; }

# shellcheck source=common.sh
source "$HERE/common.sh"

DATA="$BENCH_DIR/mlflow-log"
rm -rf "$DATA"
mkdir -p "$DATA"

SERVER=""
stop_server() {
  [[ -n "$SERVER" ]] || return 0
  kill -- -"$SERVER" 2>/dev/null || true
  for _ in $(seq 40); do kill -0 -- -"$SERVER" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- -"$SERVER" 2>/dev/null || true
  SERVER=""
}
trap stop_server EXIT

wait_health() { # PORT LOG
  for _ in $(seq 240); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1/health" 2>/dev/null && return 0
    kill -0 "$SERVER" 2>/dev/null || { log "the server exited:"; cat "$2" >&2; return 1; }
    sleep 0.5
  done
  log "no answer from :$1/health"; cat "$2" >&2; return 1
}

# What else the machine was doing, next to each measurement: load averages and the busiest
# other processes (the 2 cores are shared with other builds).
machine() { # -> JSON on stdout
  "$PY" - <<'EOF'
import json, os, subprocess
ps = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
                    capture_output=True, text=True).stdout.split("\n")
busy = [" ".join(l.split()) for l in ps if l.strip() and float(l.split()[0]) >= 5.0][:6]
print(json.dumps({"loadavg": [round(x, 2) for x in os.getloadavg()], "busy_processes": busy}))
EOF
}

# One measurement: fresh store/database, server up, the client's run, server down.
measure() { # SERVER_NAME MODE ROUND
  local name=$1 mode=$2 round=$3 dir="$DATA/$1-$2-$3" port
  mkdir -p "$dir"
  if [[ $name == kiln ]]; then
    port=$KILN_PORT
    setsid "$KILN_BIN" --home "$dir/home" server --port $port > "$dir/server.log" 2>&1 &
  else
    port=$MLFLOW_PORT
    # setsid: MLflow's uvicorn workers are children of its own process group, stopped as one.
    # MLflow starts uvicorn by name: the virtualenv's bin folder goes first on PATH.
    PATH="$VENV/bin:$PATH" setsid "$VENV/bin/mlflow" server \
      --backend-store-uri "sqlite:///$dir/mlflow.db" --default-artifact-root "$dir/artifacts" \
      --host 127.0.0.1 --port $port --workers "$WORKERS" > "$dir/server.log" 2>&1 &
  fi
  SERVER=$!
  wait_health $port "$dir/server.log"
  machine > "$dir/machine-before.json"
  log "$name, batch per $mode, round $round (load $(cut -d' ' -f1-3 /proc/loadavg))"
  if ! MLFLOW_TRACKING_URI="http://127.0.0.1:$port" "$PY" "$HERE/log_bench.py" \
      --runs "$NRUNS" --batch "$mode" --json "$dir/result.json" > /dev/null 2> "$dir/client.log"; then
    log "the client failed against $name; its stderr ends:"; tail -n 20 "$dir/client.log" >&2
    exit 1
  fi
  machine > "$dir/machine-after.json"
  stop_server
  log "  $("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("log %.2f s, search %.0f ms, total %.2f s (%d runs checked)" % (d["log_s"], d["search_first_s"]*1000, d["total_s"], d["checks"]["runs"]))' "$dir/result.json")"
}

for round in $(seq 1 "$ROUNDS"); do
  for mode in $MODES; do
    measure kiln "$mode" "$round"
    measure mlflow "$mode" "$round"
  done
done

"$PY" - "$DATA" "$RESULTS" "$KILN_BIN" "$WORKERS" "$MODES" "$ROUNDS" <<'EOF'
import datetime, glob, json, os, statistics, subprocess, sys
from importlib.metadata import version

data, results, kiln_bin, workers, modes, rounds = sys.argv[1:7]
modes, rounds = modes.split(), int(rounds)
kiln_version = subprocess.run([kiln_bin, "--version"], capture_output=True, text=True).stdout.strip()

def load(name, mode, r):
    d = f"{data}/{name}-{mode}-{r}"
    res = json.load(open(f"{d}/result.json"))
    res["machine_before"] = json.load(open(f"{d}/machine-before.json"))
    res["machine_after"] = json.load(open(f"{d}/machine-after.json"))
    return res

KEEP = ["log_s", "search_first_s", "search_median_s", "total_s", "client_cpu_log_s",
        "http_wait_log_s", "requests_logging"]
out = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "what": "100 runs x 10 params x 50 metrics x 10 steps via MlflowClient().log_batch, then "
            "search_runs(filter, order_by); wall times on the client; fresh store per measurement",
    "cpus": os.cpu_count(),
    "client": f"mlflow {version('mlflow')} (Python client)",
    "kiln": {"binary": kiln_bin, "version": kiln_version},
    "mlflow_server": {"version": version("mlflow"), "backend": "sqlite", "workers": int(workers)},
    "modes": {},
}
rows = []
for mode in modes:
    per = {n: [load(n, mode, r) for r in range(1, rounds + 1)] for n in ("kiln", "mlflow")}
    best = {n: min(per[n], key=lambda x: x["total_s"]) for n in per}
    med = {n: statistics.median(x["total_s"] for x in per[n]) for n in per}
    out["modes"][mode] = {
        "requests_per_benchmark": per["kiln"][0]["requests_logging"],
        "kiln": [{k: x[k] for k in KEEP} | {"load_before": x["machine_before"]["loadavg"],
                 "busy_before": x["machine_before"]["busy_processes"],
                 "endpoints_logging": x["endpoints_logging"],
                 "endpoints_search": x["endpoints_search"], "checks": x["checks"]} for x in per["kiln"]],
        "mlflow": [{k: x[k] for k in KEEP} | {"load_before": x["machine_before"]["loadavg"],
                   "busy_before": x["machine_before"]["busy_processes"],
                   "endpoints_logging": x["endpoints_logging"],
                   "endpoints_search": x["endpoints_search"], "checks": x["checks"]} for x in per["mlflow"]],
        "speedup_total_median": round(med["mlflow"] / med["kiln"], 1),
        "speedup_log_best": round(best["mlflow"]["log_s"] / best["kiln"]["log_s"], 1),
        "speedup_search_best": round(min(x["search_first_s"] for x in per["mlflow"])
                                     / min(x["search_first_s"] for x in per["kiln"]), 1),
        # Neither server can make the client faster than its own CPU time per logging phase.
        "client_cpu_floor_s": round(min(x["client_cpu_log_s"] for x in per["kiln"]), 2),
    }
    for n in ("kiln", "mlflow"):
        for r, x in enumerate(per[n], 1):
            rows.append((mode, n, r, x["log_s"], x["search_first_s"], x["total_s"],
                         x["client_cpu_log_s"], x["machine_before"]["loadavg"][0]))
json.dump(out, open(results, "w"), indent=2)

print(f"{'batch':<6}{'server':<8}{'round':>6}{'log s':>9}{'search ms':>11}{'total s':>9}"
      f"{'client cpu s':>14}{'load':>6}")
for mode, n, r, lg, s, t, c, l in rows:
    print(f"{mode:<6}{n:<8}{r:>6}{lg:>9.2f}{s * 1000:>11.1f}{t:>9.2f}{c:>14.2f}{l:>6.1f}")
for mode, m in out["modes"].items():
    print(f"batch per {mode}: Kiln {m['speedup_total_median']}x faster in total (median of "
          f"{rounds}); logging {m['speedup_log_best']}x, search {m['speedup_search_best']}x (best); "
          f"the client's own CPU while logging: {m['client_cpu_floor_s']} s")
print(f"results: {results}")
EOF
