//! ONNX export as a specification: Kiln's linear, logistic, tree and forest models with
//! their preprocessing (median imputer, scaler, most-frequent imputer + one-hot with unseen
//! levels as zeros) export to one graph of raw-column inputs that predicts what `kiln predict`
//! predicts, in tract here and in onnxruntime (its outputs on the committed exports are
//! fixtures written by scripts/fixtures/make_onnx_fixtures.py).
//!
//! The committed exports in tests/fixtures/onnx/kiln/ are rewritten by
//! `KILN_WRITE_ONNX_FIXTURES=1 cargo test -p kiln-core --test onnx_export write_export_fixtures -- --ignored`,
//! then `python3 scripts/fixtures/make_onnx_fixtures.py` records onnxruntime's outputs.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kiln_core::data::{LoadOptions, load_table};
use kiln_core::inference::{Model, ModelArtifact, Predictions, predict};
use kiln_core::jobs::JobRunner;
use kiln_core::onnx::{OnnxError, OnnxModel, decode, export_model, read_signature};
use kiln_core::polars::prelude::DataFrame;
use kiln_core::registry::load_model;
use kiln_core::store::Store;
use kiln_core::train::{TrainRequest, train};
use serde_json::Value;

/// Fixture name, model, target, hyper-parameters.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const CASES: &[Case] = &[
    ("logistic", "logistic_regression", "species", &[]),
    ("tree", "decision_tree", "species", &[("max_depth", "4")]),
    (
        "forest",
        "random_forest",
        "species",
        &[("n_estimators", "3"), ("max_depth", "3")],
    ),
    ("linear", "linear_regression", "body_mass_g", &[]),
    (
        "forest_regressor",
        "random_forest",
        "body_mass_g",
        &[("n_estimators", "3"), ("max_depth", "3")],
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn kiln_fixtures() -> PathBuf {
    root().join("tests/fixtures/onnx/kiln")
}

fn input_frame() -> DataFrame {
    load_table(
        &kiln_fixtures().join("penguins_input.csv"),
        &LoadOptions::default(),
        |_, _| true,
    )
    .expect("input")
    .frame
}

/// The penguins sample without the rows whose `target` is missing (Kiln refuses to train on
/// them); the other missing values stay, so the imputers have work to do.
fn training_file(dir: &Path, target: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("assets/penguins.csv")).expect("penguins");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let at = header
        .split(',')
        .position(|c| c == target)
        .expect("target column");
    let kept: Vec<&str> = lines
        .filter(|l| !matches!(l.split(',').nth(at), Some("" | "NA") | None))
        .collect();
    let path = dir.join("penguins.csv");
    std::fs::write(&path, format!("{header}\n{}\n", kept.join("\n"))).expect("write");
    path
}

/// Trains `model` on the penguins sample and returns its artifact.
fn trained(model: &str, target: &str, params: &[(&str, &str)]) -> ModelArtifact {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let request = TrainRequest {
        data: training_file(dir.path(), target),
        test: None,
        test_size: 0.25,
        target: target.to_owned(),
        drop: Vec::new(),
        model: model.to_owned(),
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        experiment: "onnx".into(),
        seed: 7,
        cv: None,
        steps: Default::default(),
        schema: Default::default(),
    };
    let job_store = store.clone();
    let outcome = JobRunner::new()
        .spawn("train", move |ctx| train(&job_store, &request, ctx))
        .wait()
        .expect("trains");
    match load_model(&store, &outcome.run_id).expect("model") {
        Model::Native(artifact) => *artifact,
        Model::Onnx(_) => panic!("a run holds a native model"),
    }
}

/// The export run by tract, with inputs matched to columns by name.
fn in_tract(bytes: Vec<u8>) -> Model {
    let signature =
        read_signature(&decode(&bytes).expect("decodes"), None, None).expect("signature");
    Model::Onnx(Box::new(
        OnnxModel::load(bytes, signature).expect("tract loads the export"),
    ))
}

fn assert_same(native: &Predictions, other_labels: &[String], other_values: &[f64], what: &str) {
    let numeric = native.proba.is_none();
    if numeric {
        let want: Vec<f64> = native
            .labels
            .iter()
            .map(|v| v.parse().expect("number"))
            .collect();
        assert_eq!(want.len(), other_values.len(), "{what}");
        for (i, (w, g)) in want.iter().zip(other_values).enumerate() {
            assert!(
                (w - g).abs() <= 1e-5 * w.abs().max(1.0),
                "{what} row {i}: native {w}, onnx {g}"
            );
        }
        return;
    }
    assert_eq!(native.labels, other_labels, "{what}: labels");
    let want: Vec<f64> = native.proba.iter().flatten().flatten().copied().collect();
    assert_eq!(want.len(), other_values.len(), "{what}");
    for (i, (w, g)) in want.iter().zip(other_values).enumerate() {
        assert!(
            (w - g).abs() <= 1e-5,
            "{what} probability {i}: native {w}, onnx {g}"
        );
    }
}

fn values_of(predictions: &Predictions) -> Vec<f64> {
    match &predictions.proba {
        Some(p) => p.iter().flatten().copied().collect(),
        None => predictions
            .labels
            .iter()
            .map(|v| v.parse().expect("number"))
            .collect(),
    }
}

#[test]
fn every_exported_model_predicts_in_tract_what_kiln_predicts() {
    let frame = input_frame();
    for (name, model, target, params) in CASES {
        let artifact = trained(model, target, params);
        let native = predict(&Model::Native(Box::new(artifact.clone())), &frame).expect("native");
        let exported = in_tract(export_model(&artifact).expect("exports"));
        let onnx = predict(&exported, &frame).expect("tract predicts");
        assert_same(&native, &onnx.labels, &values_of(&onnx), name);
    }
}

#[test]
fn onnxruntime_predicts_on_the_committed_exports_what_kiln_predicts() {
    let frame = input_frame();
    for (name, ..) in CASES {
        let text = std::fs::read_to_string(kiln_fixtures().join(format!("{name}.model.json")))
            .expect("model");
        let artifact: ModelArtifact = serde_json::from_str(&text).expect("artifact");
        // The committed export is what Kiln exports today, so onnxruntime's outputs hold for it.
        let committed = std::fs::read(kiln_fixtures().join(format!("{name}.onnx"))).expect("onnx");
        assert!(
            export_model(&artifact).expect("exports") == committed,
            "{name}: export changed; rewrite the fixtures"
        );
        let native = predict(&Model::Native(Box::new(artifact)), &frame).expect("native");
        let ort: Value = serde_json::from_str(
            &std::fs::read_to_string(kiln_fixtures().join(format!("{name}.ort.json")))
                .expect("ort"),
        )
        .expect("json");
        let (labels, values): (Vec<String>, Vec<f64>) = match ort.get("probabilities") {
            Some(p) => (
                serde_json::from_value(ort["label"].clone()).expect("labels"),
                serde_json::from_value::<Vec<Vec<f64>>>(p.clone())
                    .expect("p")
                    .concat(),
            ),
            None => (
                Vec::new(),
                serde_json::from_value::<Vec<Vec<f64>>>(ort["prediction"].clone())
                    .expect("v")
                    .concat(),
            ),
        };
        assert_same(&native, &labels, &values, &format!("onnxruntime {name}"));
    }
}

#[test]
fn models_without_an_export_are_refused_naming_their_kind() {
    for model in ["svm", "gaussian_nb"] {
        let artifact = trained(model, "species", &[]);
        match export_model(&artifact) {
            Err(error @ OnnxError::Unsupported(_)) => {
                assert_eq!(
                    error.to_string(),
                    format!("{model} models cannot be exported to ONNX yet")
                )
            }
            other => panic!("{model}: {other:?}"),
        }
    }
}

#[test]
#[ignore = "writes the committed export fixtures"]
fn write_export_fixtures() {
    if std::env::var_os("KILN_WRITE_ONNX_FIXTURES").is_none() {
        return;
    }
    for (name, model, target, params) in CASES {
        let artifact = trained(model, target, params);
        let dir = kiln_fixtures();
        std::fs::write(
            dir.join(format!("{name}.model.json")),
            serde_json::to_string(&artifact).expect("json"),
        )
        .expect("write");
        std::fs::write(
            dir.join(format!("{name}.onnx")),
            export_model(&artifact).expect("exports"),
        )
        .expect("write");
    }
}
