"""Searching: filter strings, order_by, pagination, experiment search, and the error codes the
client depends on.

Experiments `kiln-search` (runs search-0 .. search-4; search-4 FAILED) and `kiln-search-other`
(run other-0). Run search-i has metric x = i, loss = 1/(i+1), param p = 'a' (even i) or 'b'
(odd i), tag t = 'even' / 'odd'.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wfkit import check, eq, error_code, fresh_experiment, run, step  # noqa: E402

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

N = 5


def names(runs):
    return [r.info.run_name for r in runs]


def main():
    client = MlflowClient()

    step("make runs")
    exp = fresh_experiment("kiln-search")
    for i in range(N):
        parity = "even" if i % 2 == 0 else "odd"
        status = "FAILED" if i == N - 1 else "FINISHED"
        with mlflow.start_run(run_name=f"search-{i}"):
            mlflow.log_param("p", "a" if i % 2 == 0 else "b")
            mlflow.log_metrics({"x": float(i), "loss": 1.0 / (i + 1)})
            mlflow.set_tag("t", parity)
            if status == "FAILED":
                mlflow.end_run(status="FAILED")
        time.sleep(0.01)  # distinct start times, for order_by start_time
    other = fresh_experiment("kiln-search-other")
    with mlflow.start_run(run_name="other-0"):
        mlflow.log_metric("x", 100.0)
        mlflow.log_param("p", "a")
    ids = [exp.experiment_id]

    def search(filter_string="", order_by=None, experiment_ids=ids):
        return client.search_runs(experiment_ids, filter_string=filter_string,
                                  order_by=order_by or ["metrics.x ASC"], max_results=100)

    step("filter strings")
    eq(names(search("metrics.x < 2")), ["search-0", "search-1"], "metrics.x < 2")
    eq(names(search("metrics.x >= 3")), ["search-3", "search-4"], "metrics.x >= 3")
    eq(names(search("metrics.loss <= 0.25")), ["search-3", "search-4"], "metrics.loss <= 0.25")
    eq(names(search("params.p = 'a'")), ["search-0", "search-2", "search-4"], "params.p = 'a'")
    eq(names(search("params.p != 'a'")), ["search-1", "search-3"], "params.p != 'a'")
    eq(names(search("tags.t = 'odd'")), ["search-1", "search-3"], "tags.t = 'odd'")
    eq(names(search("attributes.status = 'FINISHED'")), [f"search-{i}" for i in range(4)],
       "attributes.status = 'FINISHED'")
    eq(names(search("attributes.status = 'FAILED'")), ["search-4"], "attributes.status = 'FAILED'")
    eq(names(search("metrics.x >= 1 and params.p = 'b' and tags.t = 'odd'")),
       ["search-1", "search-3"], "three clauses joined by and")
    eq(names(search("params.p = 'zzz'")), [], "a filter nothing matches")
    eq(names(search("attributes.run_name = 'search-2'")), ["search-2"], "attributes.run_name")

    step("order_by")
    eq(names(search(order_by=["metrics.x DESC"])), [f"search-{i}" for i in reversed(range(N))],
       "metrics.x DESC")
    eq(names(search(order_by=["attributes.start_time DESC"])),
       [f"search-{i}" for i in reversed(range(N))], "attributes.start_time DESC")
    eq(names(search(order_by=["start_time ASC"])), [f"search-{i}" for i in range(N)],
       "start_time ASC")
    eq(names(search(order_by=["params.p DESC", "metrics.x ASC"])),
       ["search-1", "search-3", "search-0", "search-2", "search-4"], "params.p DESC, metrics.x ASC")

    step("several experiments")
    both = search("params.p = 'a'", experiment_ids=[exp.experiment_id, other.experiment_id])
    eq(names(both), ["search-0", "search-2", "search-4", "other-0"], "params.p = 'a' over both")

    step("mlflow.search_runs (a DataFrame)")
    df = mlflow.search_runs(experiment_names=["kiln-search"],
                            filter_string="metrics.loss < 0.5 and params.p = 'a'",
                            order_by=["metrics.loss ASC", "start_time DESC"])
    eq(list(df["tags.mlflow.runName"]), ["search-4", "search-2"], "DataFrame run names")
    eq(list(df["metrics.x"]), [4.0, 2.0], "DataFrame metrics.x")
    eq(list(df["params.p"]), ["a", "a"], "DataFrame params.p")
    eq(list(df["status"]), ["FAILED", "FINISHED"], "DataFrame status")

    step("pagination: max_results + page_token")
    seen, token, pages = [], None, 0
    while True:
        page = client.search_runs(ids, order_by=["metrics.x ASC"], max_results=2, page_token=token)
        pages += 1
        check(len(page) <= 2, f"page {pages} has at most 2 runs (it has {len(page)})")
        seen += names(page)
        token = page.token
        if not token:
            break
        check(pages < 10, "pagination ends")
    eq(seen, [f"search-{i}" for i in range(N)], "the pages, in order, without repeats")
    eq(pages, 3, "pages of 2 for 5 runs")

    step("search_experiments with LIKE")
    found = client.search_experiments(filter_string="name LIKE 'kiln-search%'", order_by=["name ASC"])
    eq([e.name for e in found], ["kiln-search", "kiln-search-other"], "name LIKE 'kiln-search%'")
    found = client.search_experiments(filter_string="name LIKE '%other'")
    eq([e.name for e in found], ["kiln-search-other"], "name LIKE '%other'")
    check("Default" in [e.name for e in mlflow.search_experiments()], "the Default experiment is listed")

    step("errors the client relies on")
    check(client.get_experiment_by_name("does-not-exist") is None,
          "get_experiment_by_name of a missing name is None (404 RESOURCE_DOES_NOT_EXIST)")
    eq(error_code(lambda: client.get_run("0123456789abcdef0123456789abcdef")),
       "RESOURCE_DOES_NOT_EXIST", "get_run of an unknown id")
    eq(error_code(lambda: client.create_experiment("kiln-search")), "RESOURCE_ALREADY_EXISTS",
       "create_experiment of an existing name")
    eq(error_code(lambda: client.search_runs(ids, filter_string="metrics.x <<< 1")),
       "INVALID_PARAMETER_VALUE", "a bad filter")


run(main)
