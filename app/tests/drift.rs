//! `kiln drift` through the binary: the documented JSON, Evidently's verdicts on its own
//! fixtures, `--exclude`, `--fail-on-drift` exit codes, and one-line errors naming the file.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{error, json, kiln};
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/drift")
        .join(name)
        .display()
        .to_string()
}

fn drift(case: &str, extra: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let reference = fixture(&format!("{case}_reference.csv"));
    let current = fixture(&format!("{case}_current.csv"));
    let mut args = vec!["drift", "--reference", &reference, "--current", &current];
    args.extend_from_slice(extra);
    kiln(home.path(), &args)
}

fn evidently(case: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{case}.json"))).unwrap())
        .unwrap()
}

#[test]
fn json_has_the_contract_shape_and_evidentlys_verdicts() {
    let out = json(&drift("small_shifted", &["--json"]));
    let expected = evidently("small_shifted");
    let report = &out["drift"];
    assert_eq!(report["dataset_drift"], expected["dataset_drift"]);
    assert_eq!(report["share"], expected["share"]);
    let columns = report["columns"].as_array().unwrap();
    assert_eq!(columns.len(), expected["columns"].as_array().unwrap().len());
    for column in columns {
        for key in ["column", "method", "score", "threshold", "drifted", "psi"] {
            assert!(column.get(key).is_some(), "{key} missing in {column}");
        }
        let want = expected["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["column"] == column["column"])
            .unwrap();
        assert_eq!(column["method"], want["method"]);
        assert_eq!(column["drifted"], want["drifted"]);
    }
    // Alerts name every drifted column, and the dataset.
    let alerts = out["alerts"].as_array().unwrap();
    let drifted = columns.iter().filter(|c| c["drifted"] == true).count();
    assert_eq!(alerts.len(), drifted + 1);
    assert!(alerts.iter().any(|a| a["kind"] == "dataset_drift"));
    assert!(alerts.iter().any(|a| a["column"] == "num_shift"));
}

#[test]
fn excluded_columns_are_left_out() {
    let out = json(&drift(
        "small_shifted",
        &["--json", "--exclude", "num_shift", "--exclude", "binary"],
    ));
    let names: Vec<&str> = out["drift"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["column"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"num_shift") && !names.contains(&"binary"));
    assert_eq!(names.len(), 9);
}

#[test]
fn fail_on_drift_exits_1_only_when_the_dataset_drifts() {
    assert!(drift("small_shifted", &[]).status.success());
    assert_eq!(
        drift("small_shifted", &["--fail-on-drift"]).status.code(),
        Some(1)
    );
    assert!(
        drift("small_resample", &["--fail-on-drift"])
            .status
            .success()
    );
}

#[test]
fn the_table_names_columns_and_the_verdict() {
    let out = drift("large_shifted", &[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("wasserstein") && text.contains("jensenshannon"));
    assert!(text.contains("dataset drift"));
}

#[test]
fn bad_files_give_one_line_naming_the_file() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("nope.csv").display().to_string();
    let current = fixture("small_shifted_current.csv");
    let args = ["drift", "--reference", &missing, "--current", &current];
    let message = error(&kiln(home.path(), &args));
    assert!(
        message.starts_with("error: ") && message.contains("nope.csv"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);

    let garbage = home.path().join("garbage.parquet");
    std::fs::write(&garbage, b"PAR1 this is not parquet").unwrap();
    let garbage = garbage.display().to_string();
    let args = ["drift", "--reference", &current, "--current", &garbage];
    let message = error(&kiln(home.path(), &args));
    assert!(message.contains("garbage.parquet"), "{message}");
    assert_eq!(message.lines().count(), 1);

    let other = home.path().join("other.csv");
    std::fs::write(&other, "a,b\n1,2\n3,4\n").unwrap();
    let other = other.display().to_string();
    let args = ["drift", "--reference", &current, "--current", &other];
    let message = error(&kiln(home.path(), &args));
    assert!(message.contains("no column in common"), "{message}");
}
