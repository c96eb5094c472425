//! `kiln import mlflow` through the binary: a summary on stdout (or one JSON document with
//! `--json`), exit 0; an unreadable run is an `error:` line naming its file and exit 1, with
//! every other run imported; a path that is no MLflow store is one error line.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod common;
use common::{error, json, kiln};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mlflow")
}

#[test]
fn an_mlruns_folder_imports_with_a_summary_and_again_adds_nothing() {
    let home = tempfile::tempdir().unwrap();
    let mlruns = fixtures().join("mlruns");
    let first = kiln(home.path(), &["import", "mlflow", mlruns.to_str().unwrap()]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("runs               8 new, 0 already there"),
        "{text}"
    );
    let again = json(&kiln(
        home.path(),
        &["import", "mlflow", mlruns.to_str().unwrap(), "--json"],
    ));
    assert_eq!(again["runs"]["new"], 0);
    assert_eq!(again["runs"]["existing"], 8);
    assert_eq!(again["versions"]["existing"], 2);
    assert_eq!(again["problems"], serde_json::json!([]));
}

#[test]
fn an_mlflow_db_imports_with_its_artifact_root() {
    let home = tempfile::tempdir().unwrap();
    let db = fixtures().join("sqlite/mlflow.db");
    let artifacts = fixtures().join("sqlite/artifacts");
    let summary = json(&kiln(
        home.path(),
        &[
            "import",
            "mlflow",
            db.to_str().unwrap(),
            "--artifacts",
            artifacts.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(summary["runs"]["new"], 8);
    assert_eq!(summary["artifacts"]["new"], 9);
}

#[test]
fn an_unreadable_run_is_named_and_the_rest_is_imported() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mlruns = work.path().join("mlruns");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(fixtures().join("mlruns"))
        .arg(&mlruns)
        .status()
        .unwrap();
    assert!(copied.success());
    let meta = mlruns.join("416184855680995766/692eee1e5151429f8a1c2ba7a0befde9/meta.yaml");
    std::fs::write(&meta, "artifact_uri: x\nend_time: 17962").unwrap();
    let output = kiln(home.path(), &["import", "mlflow", mlruns.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let err = error(&output);
    assert!(
        err.starts_with(&format!("error: {}: missing", meta.display())),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("runs               7 new"));
}

#[test]
fn a_path_that_is_no_mlflow_store_is_one_error_line() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let output = kiln(
        home.path(),
        &["import", "mlflow", empty.path().to_str().unwrap()],
    );
    let err = error(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is not an MLflow store"), "{err}");
}
