//! Kiln's models fitted on the same preprocessed matrix give scikit-learn's coefficients and
//! probabilities (fixtures made by `scripts/fixtures/make_model_fixtures.py`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use kiln_core::features::Matrix;
use kiln_core::models::{Fitted, ModelSpec};
use serde_json::Value;

fn fixture(name: &str) -> (Matrix, Value) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/fixtures/models/{name}.json"));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let rows: Vec<Vec<f64>> = serde_json::from_value(doc["x"].clone()).expect("x");
    let cols = rows[0].len();
    let x = Matrix {
        rows: rows.len(),
        cols,
        values: rows.into_iter().flatten().collect(),
    };
    (x, doc)
}

fn spec(doc: &Value) -> ModelSpec {
    let params: BTreeMap<String, String> = doc["params"]
        .as_object()
        .expect("params")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    ModelSpec::from_params(doc["model"].as_str().expect("model"), &params).expect("spec")
}

fn assert_close(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol * expected.abs().max(1.0),
        "{what}: kiln {actual}, scikit-learn {expected}"
    );
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("number")],
    }
}

#[test]
fn logistic_regression_equals_scikit_learn() {
    for name in [
        "logistic_binary_C1",
        "logistic_binary_C0.05",
        "logistic_multinomial_C1",
    ] {
        let (x, doc) = fixture(name);
        let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
        let n_classes = y.iter().max().unwrap() + 1;
        let fitted = spec(&doc)
            .fit_classifier(&x, &y, n_classes, 0)
            .expect("classifier");
        let Fitted::Logistic(model) = &fitted else {
            panic!("logistic")
        };
        assert!(model.converged, "{name} converged");
        let coef: Vec<f64> = model.coef.iter().flatten().copied().collect();
        for (i, (a, e)) in coef.iter().zip(flat(&doc["coef"])).enumerate() {
            assert_close(&format!("{name} coef[{i}]"), *a, e, 1e-4);
        }
        for (i, (a, e)) in model
            .intercept
            .iter()
            .zip(flat(&doc["intercept"]))
            .enumerate()
        {
            assert_close(&format!("{name} intercept[{i}]"), *a, e, 1e-4);
        }
        let head = Matrix {
            rows: 10,
            cols: x.cols,
            values: x.values[..10 * x.cols].to_vec(),
        };
        let proba: Vec<f64> = fitted
            .predict_proba(&head)
            .expect("proba")
            .into_iter()
            .flatten()
            .collect();
        for (a, e) in proba.iter().zip(flat(&doc["proba_head"])) {
            assert_close(&format!("{name} proba"), *a, e, 1e-5);
        }
    }
}

#[test]
fn gaussian_naive_bayes_equals_scikit_learn() {
    let (x, doc) = fixture("gaussian_nb_iris");
    let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
    let fitted = spec(&doc).fit_classifier(&x, &y, 3, 0).expect("classifier");
    let Fitted::GaussianNb(model) = &fitted else {
        panic!("nb")
    };
    for (a, e) in model.theta.iter().flatten().zip(flat(&doc["theta"])) {
        assert_close("theta", *a, e, 1e-12);
    }
    for (a, e) in model.var.iter().flatten().zip(flat(&doc["var"])) {
        assert_close("var", *a, e, 1e-12);
    }
}

#[test]
fn linear_models_equal_scikit_learn() {
    for name in [
        "linear_regression",
        "ridge_alpha10",
        "lasso_alpha0.5",
        "elastic_net_alpha0.5_l1_0.3",
    ] {
        let (x, doc) = fixture(name);
        let y = flat(&doc["y"]);
        let fitted = spec(&doc).fit_regressor(&x, &y, 0).expect("regressor");
        let Fitted::Linear(model) = &fitted else {
            panic!("linear")
        };
        for (i, (a, e)) in model.coef.iter().zip(flat(&doc["coef"])).enumerate() {
            assert_close(&format!("{name} coef[{i}]"), *a, e, 1e-6);
        }
        assert_close(
            &format!("{name} intercept"),
            model.intercept,
            doc["intercept"].as_f64().unwrap(),
            1e-9,
        );
    }
}

fn matrix(v: &Value) -> Matrix {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).expect("matrix");
    let cols = rows[0].len();
    Matrix {
        rows: rows.len(),
        cols,
        values: rows.into_iter().flatten().collect(),
    }
}

#[test]
fn support_vector_classification_predicts_as_scikit_learn() {
    for name in ["svm_rbf_iris", "svm_linear_breast", "svm_poly_iris"] {
        let (x, doc) = fixture(name);
        let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
        let n_classes = y.iter().max().unwrap() + 1;
        let fitted = spec(&doc)
            .fit_classifier(&x, &y, n_classes, 0)
            .expect("classifier");
        let predicted = fitted.predict_classes(&x).expect("labels");
        let expected: Vec<usize> = flat(&doc["predictions"])
            .into_iter()
            .map(|v| v as usize)
            .collect();
        let agree = predicted
            .iter()
            .zip(&expected)
            .filter(|(a, b)| a == b)
            .count();
        // Both stop at libsvm's tolerance (1e-3): points right on the margin may differ.
        assert!(
            agree as f64 >= 0.99 * expected.len() as f64,
            "{name}: {agree} of {} predictions agree",
            expected.len()
        );
    }
}

#[test]
fn trees_and_forests_are_as_accurate_as_scikit_learn() {
    for name in ["decision_tree_breast", "random_forest_breast"] {
        let (x, doc) = fixture(name);
        let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
        let fitted = spec(&doc).fit_classifier(&x, &y, 2, 0).expect("classifier");
        let x_test = matrix(&doc["x_test"]);
        let y_test: Vec<usize> = flat(&doc["y_test"])
            .into_iter()
            .map(|v| v as usize)
            .collect();
        let predicted = fitted.predict_classes(&x_test).expect("labels");
        let accuracy = predicted
            .iter()
            .zip(&y_test)
            .filter(|(a, b)| a == b)
            .count() as f64
            / y_test.len() as f64;
        let theirs = doc["accuracy"].as_f64().unwrap();
        assert!(
            accuracy >= theirs - 0.03,
            "{name}: kiln {accuracy:.4}, scikit-learn {theirs:.4}"
        );
    }
}
