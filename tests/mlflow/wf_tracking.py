"""Tracking: runs and everything logged into them, read back through the same client.

Experiment `kiln-tracking`, runs (by name): basic-run (params, metric steps with timestamps,
tags, artifacts, a dataset input; resumed once), batch-run (MlflowClient.create_run + log_batch),
an unnamed run (the server names it), failing-run (FAILED), parent + child (nested),
killed-run (KILLED).
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wfkit import check, eq, fresh_experiment, run, sha256_file, step, tree_hashes  # noqa: E402

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402

T0 = 1_700_000_000_000  # epoch ms of the loss curve's first point
LOSS = [1.0 / (s + 1) for s in range(5)]


def main():
    client = MlflowClient()
    work = tempfile.mkdtemp(prefix="wf-tracking-")

    step("set_experiment")
    exp = fresh_experiment("kiln-tracking")
    eq(exp.name, "kiln-tracking", "experiment name")
    eq(client.get_experiment(exp.experiment_id).name, "kiln-tracking", "get_experiment")
    eq(mlflow.get_experiment_by_name("kiln-tracking").experiment_id, exp.experiment_id,
       "get_experiment_by_name id")

    # Files to upload.
    data_csv = os.path.join(work, "data.csv")
    with open(data_csv, "w") as f:
        f.write("x,y\n1,2\n3,4\n")
    bundle = os.path.join(work, "bundle")
    os.makedirs(os.path.join(bundle, "sub"))
    with open(os.path.join(bundle, "a.txt"), "w") as f:
        f.write("top level\n")
    with open(os.path.join(bundle, "sub", "b.bin"), "wb") as f:
        f.write(bytes(range(256)) * 4)
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(df, source=os.path.join(work, "toy.csv"), name="toy", targets="y")

    step("basic run: params, metrics, tags, artifacts, input")
    with mlflow.start_run(run_name="basic-run") as active:
        basic = active.info.run_id
        eq(active.info.run_name, "basic-run", "run name at start")
        eq(active.info.status, "RUNNING", "status at start")
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"epochs": 5, "optimizer": "sgd", "layers": [64, 32]})
        for s, value in enumerate(LOSS):
            mlflow.log_metric("loss", value, step=s, timestamp=T0 + 1000 * s)
        mlflow.log_metrics({"acc": 0.93, "f1": 0.91}, step=4)
        mlflow.set_tag("team", "rust-port")
        mlflow.set_tags({"stage": "dev", "owner": "me"})
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config/params.json")
        mlflow.log_text("hello mlflow\n", "notes/readme.txt")
        mlflow.log_artifact(data_csv)
        mlflow.log_artifacts(bundle, artifact_path="bundle")
        mlflow.log_input(dataset, context="training")
    eq(client.get_run(basic).info.status, "FINISHED", "basic-run status after the with-block")

    step("batch run: MlflowClient.create_run + log_batch + set_terminated")
    created = client.create_run(exp.experiment_id, run_name="batch-run", tags={"origin": "client"})
    batch = created.info.run_id
    client.log_batch(
        batch,
        metrics=[Metric("m", 0.5 * s, T0 + s, s) for s in range(3)],
        params=[Param("p", "1"), Param("q", "two")],
        tags=[RunTag("t", "1")],
    )
    client.set_terminated(batch)

    step("unnamed run: the server names it")
    with mlflow.start_run() as active:
        unnamed = active.info.run_id
        mlflow.log_metric("no_step_metric", 3.0)

    step("resume basic-run by run_id")
    with mlflow.start_run(run_id=basic) as active:
        eq(active.info.run_id, basic, "resumed run id")
        eq(client.get_run(basic).info.status, "RUNNING", "status while resumed")
        mlflow.log_metric("resumed_metric", 1.0, step=7)

    step("failing run: an exception inside the with-block")
    try:
        with mlflow.start_run(run_name="failing-run") as active:
            failing = active.info.run_id
            mlflow.log_param("will_fail", True)
            raise ValueError("boom")
    except ValueError:
        pass

    step("nested runs")
    with mlflow.start_run(run_name="parent") as parent_run:
        parent = parent_run.info.run_id
        mlflow.log_param("level", "parent")
        with mlflow.start_run(run_name="child", nested=True) as child_run:
            child = child_run.info.run_id
            mlflow.log_param("level", "child")
            mlflow.log_metric("child_metric", 1.5)
        eq(client.get_run(parent).info.status, "RUNNING", "parent still running after the child")

    step("killed run: end_run(status='KILLED')")
    killed = mlflow.start_run(run_name="killed-run").info.run_id
    mlflow.end_run(status="KILLED")
    check(mlflow.active_run() is None, "no active run after end_run")

    step("get_run: basic-run")
    r = client.get_run(basic)
    eq(r.info.run_name, "basic-run", "run_name")
    eq(r.info.status, "FINISHED", "status after resume")
    eq(r.info.experiment_id, exp.experiment_id, "experiment_id")
    check(r.info.end_time is not None and r.info.end_time >= r.info.start_time,
          f"end_time {r.info.end_time} after start_time {r.info.start_time}")
    eq(r.data.params, {"lr": "0.01", "epochs": "5", "optimizer": "sgd", "layers": "[64, 32]"}, "params")
    eq(r.data.metrics, {"loss": LOSS[4], "acc": 0.93, "f1": 0.91, "resumed_metric": 1.0},
       "latest metrics")
    for key, value in {"team": "rust-port", "stage": "dev", "owner": "me",
                       "mlflow.runName": "basic-run"}.items():
        eq(r.data.tags.get(key), value, f"tag {key}")
    inputs = r.inputs.dataset_inputs
    eq(len(inputs), 1, "dataset inputs")
    eq(inputs[0].dataset.name, "toy", "dataset name")
    eq(inputs[0].dataset.digest, dataset.digest, "dataset digest")
    eq(inputs[0].dataset.source_type, "local", "dataset source_type")
    eq({t.key: t.value for t in inputs[0].tags}.get("mlflow.data.context"), "training",
       "dataset context tag")

    step("get_metric_history: loss")
    history = sorted(client.get_metric_history(basic, "loss"), key=lambda m: m.step)
    eq([m.step for m in history], [0, 1, 2, 3, 4], "loss steps")
    eq([m.value for m in history], LOSS, "loss values")
    eq([m.timestamp for m in history], [T0 + 1000 * s for s in range(5)], "loss timestamps")
    eq([(m.step, m.value) for m in client.get_metric_history(basic, "resumed_metric")], [(7, 1.0)],
       "resumed_metric history")
    eq(client.get_metric_history(basic, "never-logged"), [], "history of an unknown metric")

    step("get_run: batch-run")
    r = client.get_run(batch)
    eq(r.info.status, "FINISHED", "batch-run status after set_terminated")
    eq(r.info.run_name, "batch-run", "batch-run name")
    eq(r.data.params, {"p": "1", "q": "two"}, "batch-run params")
    eq(r.data.metrics, {"m": 1.0}, "batch-run latest metric")
    eq(r.data.tags.get("t"), "1", "batch-run tag t")
    eq(r.data.tags.get("origin"), "client", "batch-run tag from create_run")
    history = sorted(client.get_metric_history(batch, "m"), key=lambda m: m.step)
    eq([(m.step, m.value, m.timestamp) for m in history], [(s, 0.5 * s, T0 + s) for s in range(3)],
       "batch-run history")

    step("get_run: unnamed run")
    r = client.get_run(unnamed)
    check(bool(r.info.run_name), "the server gave the unnamed run a name")
    eq(r.data.tags.get("mlflow.runName"), r.info.run_name, "mlflow.runName tag of the unnamed run")
    eq(r.info.status, "FINISHED", "unnamed run status")
    history = client.get_metric_history(unnamed, "no_step_metric")
    eq([(m.step, m.value) for m in history], [(0, 3.0)], "a metric logged without a step is at step 0")

    step("get_run: failing, parent, child, killed")
    r = client.get_run(failing)
    eq(r.info.status, "FAILED", "failing-run status")
    eq(r.data.params, {"will_fail": "True"}, "failing-run params")
    check(r.info.end_time is not None, "failing-run has an end_time")
    eq(client.get_run(parent).info.status, "FINISHED", "parent status")
    r = client.get_run(child)
    eq(r.info.status, "FINISHED", "child status")
    eq(r.data.tags.get("mlflow.parentRunId"), parent, "child's mlflow.parentRunId tag")
    eq(r.data.params, {"level": "child"}, "child params")
    eq(r.data.metrics, {"child_metric": 1.5}, "child metrics")
    check("mlflow.parentRunId" not in client.get_run(parent).data.tags, "the parent has no parent")
    eq(client.get_run(killed).info.status, "KILLED", "killed-run status")
    names = {x.info.run_name for x in client.search_runs([exp.experiment_id], max_results=100)}
    for name in ("basic-run", "batch-run", "failing-run", "parent", "child", "killed-run"):
        check(name in names, f"search_runs lists {name} (it listed {sorted(names)})")
    eq(len(names), 7, "seven runs in the experiment")

    step("list_artifacts")
    root = {(a.path, a.is_dir) for a in client.list_artifacts(basic)}
    eq(root, {("config", True), ("notes", True), ("bundle", True), ("data.csv", False)},
       "root listing")
    sizes = {a.path: a.file_size for a in client.list_artifacts(basic)}
    eq(sizes["data.csv"], os.path.getsize(data_csv), "data.csv file_size")
    eq({(a.path, a.is_dir) for a in client.list_artifacts(basic, "bundle")},
       {("bundle/a.txt", False), ("bundle/sub", True)}, "bundle listing")
    eq([(a.path, a.file_size) for a in client.list_artifacts(basic, "bundle/sub")],
       [("bundle/sub/b.bin", 1024)], "bundle/sub listing")
    eq([a.path for a in client.list_artifacts(basic, "config")], ["config/params.json"],
       "config listing")

    step("download_artifacts")
    dl = tempfile.mkdtemp(prefix="wf-tracking-dl-")
    p = mlflow.artifacts.download_artifacts(run_id=basic, artifact_path="notes/readme.txt",
                                            dst_path=os.path.join(dl, "one"))
    with open(p, "rb") as f:
        eq(f.read(), b"hello mlflow\n", "notes/readme.txt bytes")
    p = client.download_artifacts(basic, "data.csv", os.path.join(dl, "two"))
    eq(sha256_file(p), sha256_file(data_csv), "data.csv sha256")
    p = mlflow.artifacts.download_artifacts(run_id=basic, artifact_path="bundle",
                                            dst_path=os.path.join(dl, "three"))
    eq(tree_hashes(p), tree_hashes(bundle), "the bundle directory, downloaded recursively")
    eq(mlflow.artifacts.load_dict(f"runs:/{basic}/config/params.json"), {"a": 1, "b": [1, 2]},
       "load_dict")
    eq(mlflow.artifacts.load_text(f"runs:/{basic}/notes/readme.txt"), "hello mlflow\n", "load_text")


run(main)
