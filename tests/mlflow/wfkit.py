"""Shared helpers of the MLflow client workflows in this folder.

Each `wf_*.py` drives the real MLflow Python client (3.17.2, the version the wire spec was
recorded with) against whatever `MLFLOW_TRACKING_URI` points at -- `kiln server` or the
reference `mlflow server` -- and asserts what it reads back. The first failed check prints
`FAIL <script>: <what>` on stderr and exits 1; an unexpected exception prints its traceback and
the step it happened in, and exits 1 too. Every script expects a store it has not run against
before (each uses its own experiment and model names, so they can share one store, in any order).

Import this module before `mlflow`: it sets the environment the client needs in a test.
"""

from __future__ import annotations

import hashlib
import os
import sys
import traceback

# No retries (a 5xx would otherwise be retried with backoff for minutes), no telemetry (it
# reaches the network). Set before mlflow is imported, which reads some of them at import.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

SCRIPT = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "workflow"
MLFLOW_VERSION = "3.17.2"
_step = "start"

_uri = os.environ.get("MLFLOW_TRACKING_URI", "")
if not _uri.startswith(("http://", "https://")):
    print(
        f"FAIL {SCRIPT}: MLFLOW_TRACKING_URI must be the http:// URL of a tracking server "
        f"(kiln server or mlflow server); it is {_uri!r}",
        file=sys.stderr,
    )
    sys.exit(2)


def fail(what: str) -> None:
    """Stops the script: the check `what` failed."""
    print(f"FAIL {SCRIPT} (step '{_step}'): {what}", file=sys.stderr, flush=True)
    sys.exit(1)


def check(condition: bool, what: str) -> None:
    """Fails with `what` unless `condition` holds."""
    if not condition:
        fail(what)


def eq(actual, expected, what: str) -> None:
    """Fails unless `actual == expected`, showing both."""
    if actual != expected:
        fail(f"{what}: expected {expected!r}, got {actual!r}")


def close(actual: float, expected: float, what: str, tol: float = 1e-9) -> None:
    """Fails unless the two numbers agree within `tol` (relative)."""
    if actual is None or abs(actual - expected) > tol * max(1.0, abs(expected)):
        fail(f"{what}: expected {expected!r}, got {actual!r}")


def error_code(call):
    """The MLflow error code `call()` raises (fails if it does not raise)."""
    from mlflow.exceptions import MlflowException

    try:
        call()
    except MlflowException as e:
        return e.error_code
    fail("expected an MlflowException")


def step(name: str) -> None:
    """Names the step that follows (shown on stdout and in a failure)."""
    global _step
    _step = name
    print(f"[{SCRIPT}] {name}", flush=True)


def run(main) -> None:
    """Runs `main()`; an exception is a failure of the current step."""
    import mlflow

    if mlflow.__version__ != MLFLOW_VERSION:
        print(
            f"warning: mlflow {mlflow.__version__}; these workflows were written for "
            f"{MLFLOW_VERSION} (benches/serve/requirements.txt)",
            file=sys.stderr,
        )
    try:
        main()
    except SystemExit:
        raise
    except BaseException:  # noqa: BLE001 -- report anything, then exit non-zero
        traceback.print_exc()
        fail("unexpected exception (traceback above)")
    print(f"[{SCRIPT}] ok", flush=True)


def fresh_experiment(name: str):
    """`mlflow.set_experiment(name)`, first checking the store does not have it yet."""
    import mlflow

    if mlflow.get_experiment_by_name(name) is not None:
        fail(f"experiment '{name}' already exists: run the workflows against a fresh store")
    return mlflow.set_experiment(name)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return sha256_bytes(f.read())


def tree_hashes(root: str) -> dict[str, str]:
    """sha256 of every file under `root`, by '/'-separated path relative to it."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            out[rel] = sha256_file(full)
    return out


class UploadRecorder:
    """Records the sha256 of every file the client uploads through the artifact proxy.

    Wraps `HttpArtifactRepository.log_artifact`, the one place the 3.17 client PUTs a file
    (`log_artifacts` calls it per file). `uploads_under(fragment)` gives the files uploaded to
    an artifact root whose URI contains `fragment` (a model id, a run id), by path relative to
    that root: what a download of that root must give back byte for byte.
    """

    def __init__(self) -> None:
        from mlflow.store.artifact import http_artifact_repo

        self.records: list[tuple[str, str, str]] = []  # (artifact_uri, relative path, sha256)
        cls = http_artifact_repo.HttpArtifactRepository
        original = cls.log_artifact
        recorder = self

        def log_artifact(repo, local_file, artifact_path=None):
            original(repo, local_file, artifact_path)
            name = os.path.basename(local_file)
            rel = f"{artifact_path.strip('/')}/{name}" if artifact_path else name
            recorder.records.append((repo.artifact_uri, rel, sha256_file(local_file)))

        cls.log_artifact = log_artifact

    def uploads_under(self, fragment: str) -> dict[str, str]:
        return {rel: digest for uri, rel, digest in self.records if fragment in uri}


def iris():
    """Iris as a DataFrame and Series (bundled with scikit-learn: no download)."""
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True, as_frame=True)


# For an explicit log_model: naming the requirements skips their inference, which loads the
# model in a subprocess (seconds per model).
PIP = ["scikit-learn==1.9.1"]

# A few iris rows from each class, to predict on.
IRIS_ROWS = [0, 1, 50, 51, 70, 100, 101, 133]
