"""Logging throughput through MLflow's tracking REST API, timed on the client side.

With MLFLOW_TRACKING_URI pointing at a tracking server (`kiln server` or `mlflow server`) on a
fresh store, the real MLflow client (3.17.2) logs RUNS runs, each with PARAMS params and
METRICS metrics x STEPS steps through `MlflowClient().log_batch`, then runs `search_runs` with a
filter and an order_by. Everything is deterministic, so the script then checks (outside the
timed part) that what it logged landed: the run count, every param and final metric of one run,
a full metric history, and that the search returned exactly the runs, in the order, that the
logged values imply.

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python log_bench.py [--batch step|run] [--json OUT]

Batching: `step` (default) sends one log_batch per training step (that step's METRICS points,
the params with the first), as a training loop would; `run` sends the whole run in one call
(the client splits it into requests of at most 1000 metrics / 100 params). Per run there are
also `create_run` and `set_terminated` (which the client follows with a `runs/get`, to print the
run's URL), so with `step` the 100 runs make 1,301 requests.

Prints a JSON document: wall times of logging, of the search (first and median of SEARCHES),
total, the request count, and the checks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import time

# No retries (a 5xx would otherwise be retried with backoff and hide in the timings), no
# telemetry. Set before mlflow is imported, which reads some of them at import.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402
import requests  # noqa: E402

# Every HTTP request the client makes, by "METHOD /path": count and seconds (client-side
# latency, from the call into requests until the response is back). Wrapping costs ~1 us.
ENDPOINTS: dict[str, list] = {}
_request = requests.Session.request


def _timed_request(self, method, url, *args, **kwargs):
    t = time.perf_counter()
    try:
        return _request(self, method, url, *args, **kwargs)
    finally:
        path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        slot = ENDPOINTS.setdefault(f"{method} /{path}", [0, 0.0])
        slot[0] += 1
        slot[1] += time.perf_counter() - t


requests.Session.request = _timed_request


def endpoint_table() -> dict:
    return {
        k: {"requests": n, "total_s": round(s, 3), "mean_ms": round(1000 * s / n, 2)}
        for k, (n, s) in sorted(ENDPOINTS.items(), key=lambda kv: -kv[1][1])
    }

BASE_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, ms: fixed, so both servers get the same rows
FILTER = "params.p00 = '3' and metrics.m00 > 0.5"
ORDER_BY = ["metrics.m01 DESC"]


def fail(what: str) -> None:
    print(f"FAIL log_bench.py: {what}", file=sys.stderr, flush=True)
    sys.exit(1)


def eq(actual, expected, what: str) -> None:
    if actual != expected:
        fail(f"{what}: expected {expected!r}, got {actual!r}")


def plan(runs: int, params: int, metrics: int, steps: int, seed: int):
    """The logged values, run by run: (name, {param: value}, [[value of metric m at step s]])."""
    rng = random.Random(seed)
    out = []
    for i in range(runs):
        ps = {f"p{p:02d}": str(i % 10) if p == 0 else str(rng.randrange(1000)) for p in range(params)}
        ms = [[round(rng.random(), 6) for _ in range(metrics)] for _ in range(steps)]
        out.append((f"run-{i:03d}", ps, ms))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--params", type=int, default=10)
    ap.add_argument("--metrics", type=int, default=50)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", choices=["step", "run"], default="step")
    ap.add_argument("--searches", type=int, default=5)
    ap.add_argument("--experiment", default="log-bench")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", help="also write the result document here")
    a = ap.parse_args()
    if not os.environ.get("MLFLOW_TRACKING_URI", "").startswith("http"):
        fail("MLFLOW_TRACKING_URI must be the http:// URL of a tracking server")
    if a.params < 1 or a.metrics < 2:
        fail("need at least 1 param and 2 metrics (the filter and order_by use p00, m00, m01)")

    runs = plan(a.runs, a.params, a.metrics, a.steps, a.seed)
    # Entities built before the clock starts: the client's own object building is the same
    # for both servers and not what is measured.
    batches = []  # per run: list of (metrics, params) for log_batch
    for _, ps, ms in runs:
        params = [Param(k, v) for k, v in ps.items()]
        points = [
            [Metric(f"m{m:02d}", v, BASE_TS + s, s) for m, v in enumerate(row)]
            for s, row in enumerate(ms)
        ]
        if a.batch == "step":
            batches.append([(pts, params if s == 0 else []) for s, pts in enumerate(points)])
        else:
            batches.append([([p for pts in points for p in pts], params)])

    client = MlflowClient()
    if client.get_experiment_by_name(a.experiment) is not None:
        fail(f"experiment {a.experiment!r} already exists: run against a fresh store")

    ENDPOINTS.clear()
    c0 = time.process_time()
    t0 = time.perf_counter()
    exp_id = client.create_experiment(a.experiment)
    run_ids = []
    # set_terminated prints the run's URL on stdout (after a runs/get): kept, as a script
    # would see it, but sent to stderr so stdout stays the JSON document.
    with contextlib.redirect_stdout(sys.stderr):
        for (name, _, _), run_batches in zip(runs, batches):
            run = client.create_run(exp_id, start_time=BASE_TS, run_name=name)
            rid = run.info.run_id
            for metrics, params in run_batches:
                client.log_batch(rid, metrics=metrics, params=params, synchronous=True)
            client.set_terminated(rid, "FINISHED", end_time=BASE_TS + a.steps)
            run_ids.append(rid)
    t_logged = time.perf_counter()
    client_cpu_log_s = time.process_time() - c0
    logging_endpoints = endpoint_table()
    ENDPOINTS.clear()

    search_times = []
    found = None
    for _ in range(max(1, a.searches)):
        ts = time.perf_counter()
        found = client.search_runs([exp_id], filter_string=FILTER, order_by=ORDER_BY, max_results=1000)
        search_times.append(time.perf_counter() - ts)
    t_end = time.perf_counter()
    search_endpoints = endpoint_table()
    log_s = t_logged - t0
    first_search_s = search_times[0]

    # --- checks, outside the clock ---
    checks = {}
    by_name = {name: (ps, ms) for name, ps, ms in runs}
    all_runs = []
    token = None
    while True:
        page = client.search_runs([exp_id], max_results=1000, page_token=token)
        all_runs.extend(page)
        token = page.token
        if not token:
            break
    eq(len(all_runs), a.runs, "runs in the experiment")
    eq(sorted(r.info.run_name for r in all_runs), sorted(by_name), "run names")
    eq({r.info.status for r in all_runs}, {"FINISHED"}, "run statuses")
    checks["runs"] = len(all_runs)

    last = runs[-1]
    got = client.get_run(run_ids[-1])
    eq(got.data.params, last[1], f"params of {last[0]}")
    eq(got.data.metrics, {f"m{m:02d}": v for m, v in enumerate(last[2][-1])},
       f"latest metrics of {last[0]}")
    hist = client.get_metric_history(run_ids[-1], "m07" if a.metrics > 7 else "m01")
    key = 7 if a.metrics > 7 else 1
    eq(sorted((h.step, h.value, h.timestamp) for h in hist),
       [(s, last[2][s][key], BASE_TS + s) for s in range(a.steps)],
       f"metric history of {last[0]}")
    checks["metric_history_points"] = len(hist)

    latest = {name: ms[-1] for name, _, ms in runs}
    expected = sorted(
        (name for name, ps, _ in runs if ps["p00"] == "3" and latest[name][0] > 0.5),
        key=lambda n: -latest[n][1],
    )
    eq([r.info.run_name for r in found], expected, f"search_runs({FILTER!r}, {ORDER_BY})")
    checks["search_hits"] = len(found)

    out = {
        "tracking_uri": os.environ["MLFLOW_TRACKING_URI"],
        "client": f"mlflow {mlflow.__version__}",
        "runs": a.runs,
        "params": a.params,
        "metrics": a.metrics,
        "steps": a.steps,
        "batch": a.batch,
        "metric_points": a.runs * a.metrics * a.steps,
        "requests_logging": sum(e["requests"] for e in logging_endpoints.values()),
        "log_s": round(log_s, 3),
        "client_cpu_log_s": round(client_cpu_log_s, 3),
        "http_wait_log_s": round(sum(e["total_s"] for e in logging_endpoints.values()), 3),
        "search_first_s": round(first_search_s, 4),
        "search_median_s": round(statistics.median(search_times), 4),
        "searches": len(search_times),
        "total_s": round(log_s + first_search_s, 3),
        "wall_incl_all_searches_s": round(t_end - t0, 3),
        "filter": FILTER,
        "order_by": ORDER_BY,
        "checks": checks,
        "endpoints_logging": logging_endpoints,
        "endpoints_search": search_endpoints,
    }
    text = json.dumps(out, indent=2)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    print(text)


main()
