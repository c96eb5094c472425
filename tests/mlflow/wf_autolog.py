"""sklearn autolog: a LogisticRegression fit on iris inside a run makes a LoggedModel (3.x).

Experiment `kiln-autolog`, run `autolog-run`. Checks the autologged params, tags, training
metrics and dataset input, the LoggedModel (last_logged_model, search_logged_models, the run's
model outputs), and that every file the client uploaded (the model's and the run's) downloads
back byte for byte.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wfkit import UploadRecorder, check, close, eq, fresh_experiment, iris, run, step, tree_hashes  # noqa: E402

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import LoggedModelStatus  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


def main():
    client = MlflowClient()
    uploads = UploadRecorder()
    X, y = iris()

    step("autolog a fit")
    exp = fresh_experiment("kiln-autolog")
    mlflow.sklearn.autolog()
    with mlflow.start_run(run_name="autolog-run") as active:
        run_id = active.info.run_id
        clf = LogisticRegression(max_iter=200).fit(X, y)
    mlflow.sklearn.autolog(disable=True)

    step("the run: params, tags, metrics, input")
    r = client.get_run(run_id)
    eq(r.info.status, "FINISHED", "status")
    eq(r.info.run_name, "autolog-run", "run name")
    eq(r.data.params.get("max_iter"), "200", "param max_iter")
    eq(r.data.params.get("C"), "1.0", "param C")
    check(len(r.data.params) >= 10, f"autolog logs every estimator param ({len(r.data.params)} logged)")
    eq(r.data.tags.get("estimator_name"), "LogisticRegression", "tag estimator_name")
    eq(r.data.tags.get("estimator_class"), "sklearn.linear_model._logistic.LogisticRegression",
       "tag estimator_class")
    close(r.data.metrics.get("training_accuracy_score"), clf.score(X, y), "training_accuracy_score")
    for key in ("training_f1_score", "training_log_loss", "training_precision_score",
                "training_recall_score", "training_roc_auc", "training_score"):
        check(key in r.data.metrics, f"metric {key} (logged: {sorted(r.data.metrics)})")
    contexts = [{t.key: t.value for t in d.tags}.get("mlflow.data.context")
                for d in r.inputs.dataset_inputs]
    check("train" in contexts, f"a dataset input with context 'train' (contexts: {contexts})")

    step("the LoggedModel")
    lm = mlflow.last_logged_model()
    check(lm is not None, "last_logged_model() is not None")
    check(lm.model_id.startswith("m-"), f"model id 'm-…' (got {lm.model_id})")
    eq(lm.name, "model", "model name")
    eq(lm.source_run_id, run_id, "source_run_id")
    eq(lm.experiment_id, exp.experiment_id, "experiment_id")
    eq(lm.status, LoggedModelStatus.READY, "status after upload")
    eq(client.get_logged_model(lm.model_id).model_id, lm.model_id, "get_logged_model")
    found = mlflow.search_logged_models(experiment_ids=[exp.experiment_id], output_format="list")
    eq([m.model_id for m in found], [lm.model_id], "search_logged_models")
    found = mlflow.search_logged_models(experiment_ids=[exp.experiment_id],
                                        filter_string="name = 'model'", output_format="list")
    eq([m.model_id for m in found], [lm.model_id], "search_logged_models name = 'model'")
    eq([o.model_id for o in r.outputs.model_outputs], [lm.model_id], "the run's model outputs")

    step("the model's files download byte for byte")
    sent = uploads.uploads_under(lm.model_id)
    for name in ("MLmodel", "model.pkl", "requirements.txt", "python_env.yaml", "conda.yaml"):
        check(name in sent, f"the client uploaded {name} (it uploaded {sorted(sent)})")
    dl = mlflow.artifacts.download_artifacts(artifact_uri=lm.artifact_location,
                                             dst_path=tempfile.mkdtemp(prefix="wf-autolog-"))
    eq(tree_hashes(dl), sent, "sha256 of the downloaded model files against the uploaded ones")
    loaded = mlflow.sklearn.load_model(f"models:/{lm.model_id}")
    eq(list(loaded.predict(X)), list(clf.predict(X)), "predictions of the model loaded by id")

    step("the run's own artifacts")
    root = {a.path for a in client.list_artifacts(run_id)}
    for name in ("training_confusion_matrix.png", "estimator.html"):
        check(name in root, f"run artifact {name} (listed: {sorted(root)})")
    check("model" not in root, "the model is not in the run's artifacts (3.x LoggedModel)")
    sent = uploads.uploads_under(run_id)
    dl = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="training_confusion_matrix.png",
                                             dst_path=tempfile.mkdtemp(prefix="wf-autolog-"))
    eq(tree_hashes(os.path.dirname(dl)), {"training_confusion_matrix.png": sent["training_confusion_matrix.png"]},
       "sha256 of the confusion matrix png")


run(main)
