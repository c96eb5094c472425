"""Model registry: versions from a runs:/ URI and from a models:/<model_id> URI, an alias, a
stage, tags, searches, and the registry's error codes.

Experiment `kiln-registry`, runs `registry-autolog` (autologged LogisticRegression, registered
as version 1 through runs:/<run>/model) and `registry-explicit` (mlflow.sklearn.log_model,
registered as version 2 through models:/<model_id>). Registered model `iris-registry`: alias
`champion` -> 1, version 1 in Staging with tag validated=true, version 2 in stage None.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wfkit import PIP, check, eq, error_code, fresh_experiment, iris, run, step  # noqa: E402

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

NAME = "iris-registry"


def main():
    client = MlflowClient()
    X, y = iris()

    step("two logged models")
    fresh_experiment("kiln-registry")
    mlflow.sklearn.autolog()
    with mlflow.start_run(run_name="registry-autolog") as active:
        autolog_run = active.info.run_id
        LogisticRegression(max_iter=200).fit(X, y)
    mlflow.sklearn.autolog(disable=True)
    autolog_model = mlflow.last_logged_model().model_id
    with mlflow.start_run(run_name="registry-explicit") as active:
        explicit_run = active.info.run_id
        clf = LogisticRegression(max_iter=300, C=0.5).fit(X, y)
        info = mlflow.sklearn.log_model(clf, name="model", input_example=X.iloc[:2],
                                        pip_requirements=PIP)
    explicit_model = info.model_id

    step("register_model runs:/<run>/model")
    check(error_code(lambda: client.get_registered_model(NAME)) == "RESOURCE_DOES_NOT_EXIST",
          f"{NAME} does not exist before registration")
    mv = mlflow.register_model(f"runs:/{autolog_run}/model", NAME)
    eq(mv.name, NAME, "version 1 name")
    eq(str(mv.version), "1", "version 1 number")
    eq(mv.status, "READY", "version 1 status")
    eq(mv.run_id, autolog_run, "version 1 run_id")
    eq(mv.source, f"models:/{autolog_model}", "version 1 source (the run's LoggedModel)")

    step("register_model models:/<model_id> (the registered model exists already)")
    mv2 = mlflow.register_model(f"models:/{explicit_model}", NAME)
    eq(str(mv2.version), "2", "version 2 number")
    eq(mv2.source, f"models:/{explicit_model}", "version 2 source")
    eq(client.get_model_version(NAME, "2").run_id, explicit_run, "version 2 run_id")
    tag = client.get_logged_model(autolog_model).tags.get("mlflow.modelVersions", "")
    check(NAME in tag, f"the LoggedModel's mlflow.modelVersions tag names {NAME} (it is {tag!r})")

    step("alias")
    client.set_registered_model_alias(NAME, "champion", mv.version)
    v = client.get_model_version_by_alias(NAME, "champion")
    eq(str(v.version), "1", "champion -> version")
    eq(v.aliases, ["champion"], "version 1's aliases")
    eq(client.get_model_version(NAME, "2").aliases, [], "version 2's aliases")

    step("search_model_versions")
    versions = client.search_model_versions(f"name='{NAME}'", order_by=["version_number DESC"])
    eq([str(x.version) for x in versions], ["2", "1"], "versions, newest first")
    versions = client.search_model_versions(f"name='{NAME}'", order_by=["version_number ASC"])
    eq([str(x.version) for x in versions], ["1", "2"], "versions, oldest first")
    eq(client.search_model_versions("name='no-such-model'"), [], "versions of an unknown model")

    step("transition_model_version_stage")
    moved = client.transition_model_version_stage(NAME, mv.version, "Staging",
                                                  archive_existing_versions=False)
    eq(moved.current_stage, "Staging", "the transition's answer")
    eq(client.get_model_version(NAME, "1").current_stage, "Staging", "version 1's stage")
    eq(client.get_model_version(NAME, "2").current_stage, "None", "version 2's stage")
    eq([str(x.version) for x in client.get_latest_versions(NAME, stages=["Staging"])], ["1"],
       "get_latest_versions Staging")

    step("set_model_version_tag")
    client.set_model_version_tag(NAME, mv.version, "validated", "true")
    eq(client.get_model_version(NAME, "1").tags, {"validated": "true"}, "version 1's tags")
    client.set_registered_model_tag(NAME, "owner", "kiln")

    step("get_registered_model")
    rm = client.get_registered_model(NAME)
    eq(rm.name, NAME, "name")
    eq(rm.aliases, {"champion": "1"}, "aliases")
    eq(rm.tags, {"owner": "kiln"}, "tags")
    eq(sorted((str(x.version), x.current_stage) for x in rm.latest_versions),
       [("1", "Staging"), ("2", "None")], "latest version per stage")
    found = client.search_registered_models(filter_string="name LIKE 'iris-reg%'")
    eq([m.name for m in found], [NAME], "search_registered_models LIKE")

    step("errors")
    eq(error_code(lambda: mlflow.register_model("runs:/0123456789abcdef0123456789abcdef/model", NAME)),
       "RESOURCE_DOES_NOT_EXIST", "registering from an unknown run")
    client.set_registered_model_alias(NAME, "challenger", "2")
    client.delete_registered_model_alias(NAME, "challenger")
    eq(error_code(lambda: client.get_model_version_by_alias(NAME, "challenger")),
       "INVALID_PARAMETER_VALUE", "a deleted alias (400, not 404)")
    eq(error_code(lambda: client.get_registered_model("no-such-model")),
       "RESOURCE_DOES_NOT_EXIST", "an unknown registered model")
    eq(client.get_registered_model(NAME).aliases, {"champion": "1"}, "aliases after the delete")


run(main)
