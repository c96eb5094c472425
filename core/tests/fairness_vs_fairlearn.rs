#![allow(clippy::expect_used, clippy::unwrap_used)]
//! Kiln's fairness metrics equal Fairlearn's on the same inputs, to 1e-12.
//!
//! The fixtures in `tests/fixtures/fairness/` hold the inputs together with what Fairlearn
//! 0.15.0 (scikit-learn 1.9.1) computed from them, in the JSON shape `kiln fairness --json`
//! prints; they are written by `scripts/fixtures/make_fairness_fixtures.py` and committed, so
//! this test needs no Python.

use std::path::Path;

use kiln_core::eval::{SensitiveColumn, fairness_report};
use serde_json::Value;

const TOL: f64 = 1e-12;

fn fixtures() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/fairness");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/fairness exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable fixture");
            let json: Value = serde_json::from_str(&text).expect("valid JSON");
            (json["name"].as_str().expect("name").to_string(), json)
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// Same keys, numbers within TOL, null where Fairlearn has NaN.
fn assert_close(path: &str, ours: &Value, theirs: &Value) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut ka: Vec<&String> = a.keys().collect();
            let mut kb: Vec<&String> = b.keys().collect();
            ka.sort();
            kb.sort();
            assert_eq!(ka, kb, "{path}: keys differ");
            for (k, v) in b {
                assert_close(&format!("{path}.{k}"), &a[k], v);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= TOL, "{path}: Kiln {a}, Fairlearn {b}");
        }
        (Value::Null, Value::Null) => {}
        _ => panic!("{path}: Kiln {ours}, Fairlearn {theirs}"),
    }
}

#[test]
fn fairness_metrics_equal_fairlearn() {
    let cases = fixtures();
    assert!(cases.len() >= 8, "expected the fairness fixtures");
    for (name, case) in cases {
        let y_true = strings(&case["y_true"]);
        let y_pred = strings(&case["y_pred"]);
        let sensitive: Vec<SensitiveColumn> = case["sensitive"]
            .as_array()
            .expect("sensitive")
            .iter()
            .map(|s| SensitiveColumn {
                name: s["name"].as_str().expect("name").to_string(),
                values: strings(&s["values"]),
            })
            .collect();
        let pos_label = case["pos_label"].as_str();
        let report = fairness_report(&y_true, &y_pred, &sensitive, pos_label)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(&name, &report.to_json(), &case["expected"]);
        // One entry per column, then the intersection with two or more.
        let expected_features = sensitive.len() + usize::from(sensitive.len() >= 2);
        assert_eq!(report.features.len(), expected_features, "{name}");
    }
}

#[test]
fn nan_ratios_are_null_and_a_nan_fpr_ratio_keeps_the_tpr_ratio() {
    let cases = fixtures();
    let case = |name: &str| {
        cases
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
            .expect("fixture")
    };
    let all_negative = case("all_negative");
    assert!(all_negative["expected"]["demographic_parity_ratio"]["branch"].is_null());
    assert!(all_negative["expected"]["equalized_odds_ratio"]["branch"].is_null());
    let no_fp = case("no_false_positives");
    assert!(no_fp["expected"]["equalized_odds_ratio"]["branch"].is_number());
    let two = case("two_columns");
    assert_eq!(two["expected"]["by_group"]["sex&race"]["M&d"]["count"], 0);
    assert!(two["expected"]["by_group"]["sex&race"]["M&d"]["tpr"].is_null());
}

#[test]
fn text_labels_need_a_positive_label() {
    let cases = fixtures();
    let (_, case) = cases
        .iter()
        .find(|(n, _)| n == "text_labels")
        .expect("text_labels fixture");
    let sensitive = vec![SensitiveColumn {
        name: "region".into(),
        values: strings(&case["sensitive"][0]["values"]),
    }];
    let error = fairness_report(
        &strings(&case["y_true"]),
        &strings(&case["y_pred"]),
        &sensitive,
        None,
    )
    .expect_err("no default positive for text labels")
    .to_string();
    assert!(
        error.contains("'approved'") && error.contains("'denied'") && error.contains("--pos-label"),
        "{error}"
    );
}
