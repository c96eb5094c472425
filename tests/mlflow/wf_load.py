"""Loading models back: a registered version by alias, by number, a run's model and a model by
id predict what the original estimator predicts, and the files download byte for byte as the
client uploaded them.

Experiment `kiln-load`, run `load-run` (mlflow.sklearn.log_model of a LogisticRegression on
iris), registered model `iris-load` version 1 with alias `champion`.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wfkit import IRIS_ROWS, PIP, UploadRecorder, check, eq, fresh_experiment, iris, run, step, tree_hashes  # noqa: E402

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

NAME = "iris-load"


def main():
    client = MlflowClient()
    uploads = UploadRecorder()
    X, y = iris()
    rows = X.iloc[IRIS_ROWS]

    step("log and register a model")
    fresh_experiment("kiln-load")
    clf = LogisticRegression(max_iter=200).fit(X, y)
    expected = list(clf.predict(rows))
    eq(sorted(set(expected)), [0, 1, 2], "the rows cover the three classes")
    with mlflow.start_run(run_name="load-run") as active:
        run_id = active.info.run_id
        info = mlflow.sklearn.log_model(clf, name="model", input_example=X.iloc[:2],
                                        pip_requirements=PIP)
    mv = mlflow.register_model(info.model_uri, NAME)
    eq(str(mv.version), "1", "version")
    client.set_registered_model_alias(NAME, "champion", mv.version)

    step("pyfunc.load_model models:/NAME@ALIAS")
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    eq(list(model.predict(rows)), expected, "predictions by alias")
    eq(model.metadata.model_id, info.model_id, "the alias resolves to the logged model")

    step("pyfunc.load_model models:/NAME/1")
    eq(list(mlflow.pyfunc.load_model(f"models:/{NAME}/1").predict(rows)), expected,
       "predictions by version")

    step("sklearn.load_model runs:/<run>/model")
    loaded = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    check(np.array_equal(loaded.predict_proba(rows), clf.predict_proba(rows)),
          "predict_proba of the run's model equals the original estimator's")
    check(np.array_equal(loaded.coef_, clf.coef_), "the coefficients are the original ones")

    step("pyfunc.load_model models:/<model_id>")
    eq(list(mlflow.pyfunc.load_model(f"models:/{info.model_id}").predict(rows)), expected,
       "predictions by model id")

    step("the registered version's files, byte for byte")
    sent = uploads.uploads_under(info.model_id)
    check("MLmodel" in sent, f"the client uploaded MLmodel (it uploaded {sorted(sent)})")
    check(any(name.startswith("model.") for name in sent),
          f"the client uploaded the serialised model (it uploaded {sorted(sent)})")
    uri = client.get_model_version_download_uri(NAME, "1")
    dl = mlflow.artifacts.download_artifacts(artifact_uri=uri,
                                             dst_path=tempfile.mkdtemp(prefix="wf-load-"))
    eq(tree_hashes(dl), sent, "sha256 of the downloaded version's files against the uploaded ones")
    dl = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{NAME}@champion",
                                             dst_path=tempfile.mkdtemp(prefix="wf-load-"))
    got = tree_hashes(dl)
    # The client writes this file itself when it downloads through a models:/ URI.
    check("registered_model_meta" in got, "models:/ downloads add registered_model_meta")
    del got["registered_model_meta"]
    eq(got, sent, "the same through models:/NAME@champion")


run(main)
