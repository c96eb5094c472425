//! The `kiln` binary as scripts see it: exit codes, one-line errors, JSON on stdout.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Output};

use kiln_core::store::{NewRun, RunStatus, Store};
mod common;
use common::{kiln, kiln_bin};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn version_and_help_work() {
    let home = tempfile::tempdir().expect("tempdir");
    let version = kiln(home.path(), &["--version"]);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
    let help = kiln(home.path(), &["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for sub in [
        "gui", "profile", "train", "predict", "runs", "models", "serve", "simulate", "demo",
    ] {
        assert!(text.contains(sub), "help lists {sub}");
    }
}

#[test]
fn serving_an_unknown_model_exits_non_zero_with_one_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let output = kiln(home.path(), &["serve", "churn@production"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("churn"), "{err}");
}

#[test]
fn a_bad_flag_is_a_usage_error_not_a_panic() {
    let home = tempfile::tempdir().expect("tempdir");
    let output = kiln(home.path(), &["gui", "--size", "huge"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("WIDTHxHEIGHT"));
    assert!(!stderr(&output).contains("panicked"));
}

#[test]
fn runs_are_listed_as_json_and_csv() {
    let home = tempfile::tempdir().expect("tempdir");
    let store = Store::open(home.path()).expect("store");
    let run = store
        .record_run(
            &NewRun {
                experiment: "churn".into(),
                params: vec![
                    ("model".into(), "ridge".into()),
                    ("alpha".into(), "0.5".into()),
                ],
                ..NewRun::default()
            },
            &[("r2".into(), 0.75)],
            RunStatus::Finished,
        )
        .expect("run");

    let output = kiln(home.path(), &["runs", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    let first = &doc["runs"][0];
    assert_eq!(first["run_id"], run.id.as_str());
    assert_eq!(first["experiment"], "churn");
    assert_eq!(first["status"], "finished");
    assert_eq!(first["model"], "ridge");
    assert_eq!(first["params"]["alpha"], "0.5");
    assert_eq!(first["metrics"]["r2"], 0.75);
    assert!(first["start_time"].as_str().expect("time").ends_with('Z'));

    let csv = kiln(home.path(), &["runs", "--csv"]);
    let text = String::from_utf8_lossy(&csv.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "run_id,experiment,status,model,start_time,duration_s,params.alpha,params.model,metrics.r2"
        )
    );
    assert!(lines.next().expect("row").starts_with(&run.id));

    let show = kiln(home.path(), &["runs", "show", &run.id, "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&show.stdout).expect("json");
    assert_eq!(doc["kiln_version"], kiln_core::KILN_VERSION);
}

#[test]
fn an_unknown_run_is_a_clear_error() {
    let home = tempfile::tempdir().expect("tempdir");
    let output = kiln(home.path(), &["runs", "show", "deadbeef"]);
    assert!(!output.status.success());
    assert_eq!(stderr(&output).trim(), "error: run not found: deadbeef");
}

#[test]
fn a_corrupt_store_is_a_clear_error() {
    let home = tempfile::tempdir().expect("tempdir");
    std::fs::write(home.path().join("kiln.db"), vec![7u8; 4096]).expect("garbage");
    let output = kiln(home.path(), &["runs"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.starts_with("error: store database"), "{err}");
    assert!(err.contains("damaged"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn kiln_home_chooses_the_store_when_no_flag_is_given() {
    let home = tempfile::tempdir().expect("tempdir");
    let output = Command::new(kiln_bin())
        .args(["runs", "--json"])
        .env("KILN_HOME", home.path())
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(home.path().join("kiln.db").exists());
}

#[test]
fn profile_json_follows_the_contract_and_honours_type_choices() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/penguins.csv");
    let penguins = penguins.to_str().expect("path");
    let output = kiln(
        home.path(),
        &["profile", penguins, "--json", "--as", "year=categorical"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(doc["rows"], 344);
    assert_eq!(doc["columns_count"], 8);
    assert_eq!(doc["fingerprint"].as_str().expect("sha").len(), 64);
    let column = |name: &str| {
        doc["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .find(|c| c["name"] == name)
            .expect("column")
            .clone()
    };
    let bill = column("bill_length_mm");
    assert_eq!(bill["kind"], "numeric");
    assert_eq!(bill["nulls"], 2);
    assert!(bill["histogram"]["edges"].as_array().expect("edges").len() > 2);
    let year = column("year");
    assert_eq!(year["kind"], "categorical");
    assert!(
        year["mean"].is_null(),
        "statistics that do not apply are null"
    );
    assert_eq!(year["top"].as_array().expect("top").len(), 3);
    assert!(doc["correlations"]["pearson"]["matrix"].is_array());
    assert!(
        doc["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["kind"] == "missing")
    );

    let bad = kiln(
        home.path(),
        &["profile", penguins, "--as", "species=numeric"],
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("'Adelie' in row 1 is not a number"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn demo_fills_the_store_with_real_runs() {
    let home = tempfile::tempdir().expect("tempdir");
    let output = kiln(home.path(), &["demo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let runs = kiln(home.path(), &["runs", "--experiment", "demo", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("json");
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 9);
    assert!(runs.iter().all(|r| r["status"] == "finished"));
    assert!(home.path().join("samples/penguins.csv").exists());
}

#[test]
fn runs_can_be_filtered_and_sorted_with_mlflow_syntax_plus_or() {
    let home = tempfile::tempdir().expect("tempdir");
    let store = Store::open(home.path()).expect("store");
    for (model, accuracy) in [("svm", 0.91), ("ridge", 0.5), ("random_forest", 0.95)] {
        store
            .record_run(
                &NewRun {
                    experiment: "e".into(),
                    params: vec![("model".into(), model.into())],
                    ..NewRun::default()
                },
                &[("accuracy".into(), accuracy)],
                RunStatus::Finished,
            )
            .expect("run");
    }
    let ids = |filter: &str| -> Vec<String> {
        let output = kiln(
            home.path(),
            &[
                "runs",
                "--filter",
                filter,
                "--sort",
                "-metrics.accuracy",
                "--json",
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["model"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("metrics.accuracy > 0.9"), ["random_forest", "svm"]);
    assert_eq!(
        ids("params.model = 'ridge' or params.model LIKE 'random%'"),
        ["random_forest", "ridge"]
    );
    let bad = kiln(home.path(), &["runs", "--filter", "metrics.accuracy >> 1"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).starts_with("error: --filter: "),
        "{}",
        stderr(&bad)
    );
    assert!(stderr(&bad).contains("at character"), "{}", stderr(&bad));
}

#[test]
fn runs_group_by_a_key_with_aggregates() {
    let home = tempfile::tempdir().expect("tempdir");
    let store = Store::open(home.path()).expect("store");
    for (model, accuracy) in [("svm", 0.9), ("svm", 0.8), ("ridge", 0.5)] {
        let new = NewRun {
            experiment: "e".into(),
            params: vec![("model".into(), model.into())],
            ..NewRun::default()
        };
        store
            .record_run(&new, &[("accuracy".into(), accuracy)], RunStatus::Finished)
            .expect("run");
    }
    let output = kiln(
        home.path(),
        &["runs", "--group-by", "params.model", "--json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let svm = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["value"] == "svm")
        .expect("svm")
        .clone();
    assert_eq!(svm["runs"], 2);
    assert!((svm["metrics"]["accuracy"]["mean"].as_f64().unwrap() - 0.85).abs() < 1e-12);
}

#[test]
fn a_minimal_profile_has_the_same_columns_and_no_correlation_matrices() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/penguins.csv");
    let penguins = penguins.to_str().expect("path");
    let profile = |extra: &[&str]| {
        let mut args = vec!["profile", penguins, "--json"];
        args.extend_from_slice(extra);
        let output = kiln(home.path(), &args);
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("one JSON document")
    };
    let (full, minimal) = (profile(&[]), profile(&["--minimal"]));
    assert_eq!(full["columns"], minimal["columns"]);
    assert_eq!(full["duplicate_rows"], minimal["duplicate_rows"]);
    assert_eq!(
        full["correlations"]["spearman"]["columns"]
            .as_array()
            .expect("names")
            .len(),
        5
    );
    assert_eq!(
        minimal["correlations"]["spearman"]["columns"],
        serde_json::json!([])
    );
    assert_eq!(
        minimal["correlations"]["pearson"]["matrix"],
        serde_json::json!([])
    );
}
