//! ONNX import as a specification: scikit-learn models exported by skl2onnx register as
//! versions and predict, through the same path as Kiln's own models, what onnxruntime
//! predicts (fixtures from scripts/fixtures/make_onnx_fixtures.py); bad files and columns
//! that do not fit are refused with the file and the reason.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kiln_core::data::{LoadOptions, load_table};
use kiln_core::inference::{Model, predict};
use kiln_core::models::Task;
use kiln_core::onnx::{ImportRequest, import_onnx};
use kiln_core::registry::load_model;
use kiln_core::store::Store;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/onnx")
}

fn header_minus(csv: &str, drop: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join(csv)).expect("csv");
    let header = text.lines().next().expect("header");
    header
        .split(',')
        .filter(|c| *c != drop)
        .map(str::to_owned)
        .collect()
}

fn import(store: &Store, model: &str, csv: &str, target: &str) -> Result<i64, String> {
    let request = ImportRequest {
        file: fixtures().join(format!("{model}.onnx")),
        name: model.to_owned(),
        columns: Some(header_minus(csv, target)),
        target: Some(target.to_owned()),
        description: String::new(),
    };
    import_onnx(store, &request)
        .map(|v| v.version)
        .map_err(|e| e.to_string())
}

fn expected(model: &str) -> Value {
    let text =
        std::fs::read_to_string(fixtures().join(format!("{model}.ort.json"))).expect("ort json");
    serde_json::from_str(&text).expect("json")
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("array")
        .iter()
        .flat_map(|v| match v.as_array() {
            Some(row) => row.iter().map(|x| x.as_f64().expect("number")).collect(),
            None => vec![v.as_f64().expect("number")],
        })
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * w.abs().max(1.0),
            "value {i}: {g} vs onnxruntime {w}"
        );
    }
}

fn registered_predictions(
    model: &str,
    csv: &str,
    target: &str,
) -> (Model, kiln_core::inference::Predictions) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let version = import(&store, model, csv, target).expect("imports");
    let loaded = load_model(&store, &format!("{model}:{version}")).expect("loads");
    let frame = load_table(&fixtures().join(csv), &LoadOptions::default(), |_, _| true)
        .expect("csv")
        .frame;
    let predictions = predict(&loaded, &frame).expect("predicts");
    (loaded, predictions)
}

fn classifier_matches_onnxruntime(model: &str, label: &str, proba: &str) {
    let (loaded, predictions) = registered_predictions(model, "iris_input.csv", "species");
    assert_eq!(loaded.task(), Task::Classification);
    assert_eq!(loaded.classes(), ["setosa", "versicolor", "virginica"]);
    let ort = expected(model);
    let labels: Vec<String> = serde_json::from_value(ort[label].clone()).expect("labels");
    assert_eq!(predictions.labels, labels);
    let got: Vec<f64> = predictions
        .proba
        .expect("probabilities")
        .into_iter()
        .flatten()
        .collect();
    assert_close(&got, &floats(&ort[proba]), 1e-5);
}

#[test]
fn a_scaled_logistic_regression_predicts_what_onnxruntime_predicts() {
    classifier_matches_onnxruntime("logreg_scaler", "label", "probabilities");
}

#[test]
fn a_random_forest_with_zipmap_predicts_what_onnxruntime_predicts() {
    classifier_matches_onnxruntime("forest_classifier", "output_label", "output_probability");
}

#[test]
fn a_small_mlp_predicts_what_onnxruntime_predicts() {
    classifier_matches_onnxruntime("mlp_classifier", "label", "probabilities");
}

#[test]
fn a_random_forest_regressor_predicts_what_onnxruntime_predicts() {
    let (loaded, predictions) =
        registered_predictions("forest_regressor", "diabetes_input.csv", "progression");
    assert_eq!(loaded.task(), Task::Regression);
    let got: Vec<f64> = predictions
        .labels
        .iter()
        .map(|v| v.parse().expect("number"))
        .collect();
    assert_close(
        &got,
        &floats(&expected("forest_regressor")["variable"]),
        1e-5,
    );
}

#[test]
fn the_version_records_the_signature_and_the_file_as_lineage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    import(&store, "logreg_scaler", "iris_input.csv", "species").expect("imports");
    let version = store.model_version("logreg_scaler", 1).expect("version");
    assert_eq!(version.run_id, None);
    let bytes = std::fs::read(fixtures().join("logreg_scaler.onnx")).expect("file");
    assert_eq!(
        version.artifact_sha256,
        kiln_core::store::sha256_hex(&bytes)
    );
    let signature = &version.signature;
    assert_eq!(signature["kind"], "onnx");
    assert_eq!(signature["source"]["file"], "logreg_scaler.onnx");
    assert_eq!(
        signature["source"]["sha256"],
        version.artifact_sha256.as_str()
    );
    assert_eq!(signature["inputs"][0]["tensor"]["name"], "X");
    let columns: Vec<String> =
        serde_json::from_value(signature["inputs"][0]["columns"].clone()).expect("columns");
    assert_eq!(
        columns,
        ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    );
    assert_eq!(signature["label_output"], "label");
    assert_eq!(signature["value_output"], "probabilities");
}

#[test]
fn columns_that_do_not_fit_the_input_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    // Without --drop the target is a fifth column for a four-column input.
    let request = ImportRequest {
        file: fixtures().join("logreg_scaler.onnx"),
        name: "m".into(),
        columns: Some(header_minus("iris_input.csv", "none")),
        ..ImportRequest::default()
    };
    let error = import_onnx(&store, &request)
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("logreg_scaler.onnx") && error.contains("takes 4 columns, but 5"),
        "{error}"
    );
    // Without --columns-from, one tensor of four columns cannot be matched by name.
    let request = ImportRequest {
        columns: None,
        ..request
    };
    let error = import_onnx(&store, &request)
        .expect_err("refused")
        .to_string();
    assert!(error.contains("--columns-from"), "{error}");
    assert!(
        store
            .model_versions("m")
            .map(|v| v.is_empty())
            .unwrap_or(true)
    );
}

#[test]
fn a_file_that_is_not_onnx_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let garbage = dir.path().join("model.onnx");
    std::fs::write(&garbage, b"this is not a protobuf \xff\xff\xff").expect("write");
    let truncated = dir.path().join("truncated.onnx");
    let bytes = std::fs::read(fixtures().join("forest_classifier.onnx")).expect("file");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    for (file, reason) in [
        (&garbage, "not an ONNX model"),
        (&truncated, "not an ONNX model"),
    ] {
        let request = ImportRequest {
            file: file.clone(),
            name: "m".into(),
            ..ImportRequest::default()
        };
        let error = import_onnx(&store, &request)
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains(&file.display().to_string()) && error.contains(reason),
            "{error}"
        );
    }
    let missing = ImportRequest {
        file: dir.path().join("absent.onnx"),
        name: "m".into(),
        ..ImportRequest::default()
    };
    let error = import_onnx(&store, &missing)
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("cannot read") && error.contains("absent.onnx"),
        "{error}"
    );
}
