"""Logs the Experiments scale benchmark's 10,000 runs through MLflow's REST API.

The same shape as the native store of app/benches/experiments_gui.rs: RUNS runs in 10
experiments `exp-0`..`exp-9` (run i in exp-{i % 10}), each with 20 params p00..p19 (0..99) and
`model` (svm, ridge, random_forest, logistic_regression in turn), 20 metrics m00..m19 in [0, 1),
status FINISHED; the first SERIES_RUNS runs also get three step series `loss`, `val_loss`, `lr`
of POINTS points. Per run the real MLflow client sends create_run, one log_batch (params and
metrics) and set_terminated; series go in log_batch calls of 1000 points. WORKERS client
processes share the runs.

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 python log_scale.py [--runs 10000] [--workers 2]
        [--series-runs 100] [--points 100000] [--json OUT]

Then checks the run count per experiment and one series' length, and prints a JSON document.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import time

os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
# The run URL print (and the runs/get behind it) after each set_terminated: not wanted 10,000 times.
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402

MODELS = ["svm", "ridge", "random_forest", "logistic_regression"]
BASE_TS = 1_767_225_600_000


def worker(args):
    indices, exp_ids, series_runs, points, seed = args
    client = MlflowClient()
    rng = random.Random(seed * 1000 + indices.start)
    for i in indices:
        run = client.create_run(exp_ids[i % 10], start_time=BASE_TS + i, run_name=f"run-{i:05d}")
        rid = run.info.run_id
        params = [Param(f"p{p:02d}", str(rng.randrange(100))) for p in range(20)]
        params.append(Param("model", MODELS[i % 4]))
        metrics = [Metric(f"m{m:02d}", rng.randrange(10_000) / 10_000, BASE_TS + i, 0) for m in range(20)]
        client.log_batch(rid, metrics=metrics, params=params)
        if i < series_runs:
            for key in ("loss", "val_loss", "lr"):
                for lo in range(0, points, 1000):
                    batch = [
                        Metric(key, 1.0 / (1.0 + s * 0.001) + rng.randrange(100) * 1e-4, BASE_TS + s, s)
                        for s in range(lo, min(points, lo + 1000))
                    ]
                    client.log_batch(rid, metrics=batch)
        client.set_terminated(rid, "FINISHED", end_time=BASE_TS + i + 1000)
    return len(indices)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--series-runs", type=int, default=100)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json")
    a = ap.parse_args()
    client = MlflowClient()
    exp_ids = []
    for e in range(10):
        if client.get_experiment_by_name(f"exp-{e}") is not None:
            sys.exit(f"FAIL log_scale.py: experiment exp-{e} already exists: use a fresh store")
        exp_ids.append(client.create_experiment(f"exp-{e}"))

    # Worker k logs runs k, k + n, k + 2n, ...: the series runs are shared out evenly.
    n = a.workers
    slices = [(range(k, a.runs, n), exp_ids, a.series_runs, a.points, a.seed) for k in range(n)]
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(n) as pool:
        done = sum(pool.map(worker, slices, chunksize=1))
    log_s = time.perf_counter() - t0

    counts = {}
    for e, eid in enumerate(exp_ids):
        total, token = 0, None
        while True:
            page = client.search_runs([eid], max_results=1000, page_token=token)
            total += len(page)
            token = page.token
            if not token:
                break
        counts[f"exp-{e}"] = total
    if sum(counts.values()) != a.runs or done != a.runs:
        sys.exit(f"FAIL log_scale.py: {done} logged, the server holds {counts}")
    series_points = None
    if a.series_runs and a.points:
        first = client.search_runs([exp_ids[0]], filter_string="attributes.run_name = 'run-00000'")
        hist = client.get_metric_history(first[0].info.run_id, "loss")
        series_points = len(hist)
        if series_points != a.points:
            sys.exit(f"FAIL log_scale.py: run-00000's loss has {series_points} points, not {a.points}")
    out = {
        "tracking_uri": os.environ.get("MLFLOW_TRACKING_URI"),
        "runs": a.runs,
        "params_per_run": 21,
        "metrics_per_run": 20,
        "series_runs": a.series_runs,
        "series_points": a.points,
        "workers": a.workers,
        "log_s": round(log_s, 1),
        "runs_per_s": round(a.runs / log_s, 1),
        "checked": {"runs_per_experiment": counts, "loss_points_of_run_00000": series_points},
    }
    text = json.dumps(out, indent=2)
    if a.json:
        open(a.json, "w").write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
