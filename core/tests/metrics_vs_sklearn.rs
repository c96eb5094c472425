#![allow(clippy::expect_used, clippy::unwrap_used)]
//! Kiln's evaluation metrics equal scikit-learn's on the same inputs, to 1e-9.
//!
//! The fixtures in `tests/fixtures/metrics/` hold the inputs together with what scikit-learn
//! 1.9.1 (and scipy 1.17.1 for the t-test's p-value) computed from them; they are written by
//! `scripts/fixtures/make_metric_fixtures.py` and committed. Functions taking `n_classes` are
//! compared with scikit-learn called with `labels=range(n_classes)`.

use std::path::Path;

use kiln_core::eval::{
    Average, Curve, accuracy, average_precision_binary, average_precision_ovr_macro,
    balanced_accuracy, calibration_curve, classification_metrics, confusion_matrix,
    corrected_resampled_t_test, log_loss, mae, mape, mse, precision_recall_curve,
    precision_recall_f1, r2, regression_metrics, rmse, roc_auc_binary, roc_auc_ovr_macro,
    roc_curve,
};
use serde_json::Value;

/// Agreement required: relative to the expected value, absolute below 1.
const TOL: f64 = 1e-9;

// ---- reading the fixtures --------------------------------------------------------------------

fn fixtures(kind: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/metrics");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/metrics exists")
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
        .filter(|(_, json)| json["kind"] == kind)
        .collect()
}

/// A number, or the strings "inf" / "-inf" the fixture writer uses for infinities.
fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

fn labels(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("class index") as usize)
        .collect()
}

struct Classification {
    name: String,
    n_classes: usize,
    y_true: Vec<usize>,
    y_pred: Vec<usize>,
    proba: Vec<Vec<f64>>,
    expected: Value,
}

impl Classification {
    fn is_binary(&self) -> bool {
        self.n_classes == 2
    }

    /// `proba[:, 1]`, the score of the positive class.
    fn scores(&self) -> Vec<f64> {
        self.proba.iter().map(|row| row[1]).collect()
    }

    fn y_true_binary(&self) -> Vec<bool> {
        self.y_true.iter().map(|&t| t == 1).collect()
    }
}

fn classification_cases() -> Vec<Classification> {
    let cases: Vec<Classification> = fixtures("classification")
        .into_iter()
        .map(|(name, json)| Classification {
            name,
            n_classes: json["n_classes"].as_u64().expect("n_classes") as usize,
            y_true: labels(&json["y_true"]),
            y_pred: labels(&json["y_pred"]),
            proba: json["proba"]
                .as_array()
                .expect("proba")
                .iter()
                .map(nums)
                .collect(),
            expected: json["expected"].clone(),
        })
        .collect();
    assert!(!cases.is_empty(), "classification fixtures are present");
    cases
}

fn binary_cases() -> Vec<Classification> {
    classification_cases()
        .into_iter()
        .filter(Classification::is_binary)
        .collect()
}

struct Regression {
    name: String,
    y_true: Vec<f64>,
    y_pred: Vec<f64>,
    expected: Value,
}

fn regression_cases() -> Vec<Regression> {
    let cases: Vec<Regression> = fixtures("regression")
        .into_iter()
        .map(|(name, json)| Regression {
            name,
            y_true: nums(&json["y_true"]),
            y_pred: nums(&json["y_pred"]),
            expected: json["expected"].clone(),
        })
        .collect();
    assert!(!cases.is_empty(), "regression fixtures are present");
    cases
}

// ---- comparing -------------------------------------------------------------------------------

fn close(actual: f64, expected: f64) -> bool {
    if actual.is_infinite() || expected.is_infinite() {
        return actual == expected;
    }
    (actual - expected).abs() <= TOL * expected.abs().max(1.0)
}

#[track_caller]
fn assert_close(case: &str, what: &str, actual: f64, expected: f64) {
    assert!(
        close(actual, expected),
        "{case}: {what}: kiln {actual:?}, scikit-learn {expected:?}"
    );
}

#[track_caller]
fn assert_all_close(case: &str, what: &str, actual: &[f64], expected: &[f64]) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{case}: {what}: kiln has {} points, scikit-learn {}\nkiln {actual:?}\nsklearn {expected:?}",
        actual.len(),
        expected.len()
    );
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert_close(case, &format!("{what}[{i}]"), a, e);
    }
}

// ---- the fixtures themselves -----------------------------------------------------------------

#[test]
fn fixtures_cover_ties_imbalance_a_never_predicted_class_and_a_zero_target() {
    let cases = classification_cases();
    let binary: Vec<_> = cases.iter().filter(|c| c.is_binary()).collect();
    let multiclass: Vec<_> = cases.iter().filter(|c| !c.is_binary()).collect();
    assert!(binary.len() >= 3, "at least 3 binary cases");
    assert!(multiclass.len() >= 2, "at least 2 multiclass cases");

    let has_ties = |c: &Classification| {
        let mut s = c.scores();
        s.sort_by(f64::total_cmp);
        s.windows(2).any(|w| w[0] == w[1])
    };
    assert!(
        binary.iter().any(|c| has_ties(c)),
        "a binary case with tied scores"
    );
    let positive_rate = |c: &Classification| {
        c.y_true.iter().filter(|&&t| t == 1).count() as f64 / c.y_true.len() as f64
    };
    assert!(
        binary.iter().any(|c| positive_rate(c) < 0.15),
        "an imbalanced binary case"
    );
    let never_predicted = |c: &Classification| {
        (0..c.n_classes).any(|k| c.y_true.contains(&k) && !c.y_pred.contains(&k))
    };
    assert!(
        binary.iter().any(|c| never_predicted(c)),
        "a binary case never predicting a class"
    );
    assert!(
        multiclass.iter().any(|c| never_predicted(c)),
        "a multiclass case never predicting a class"
    );

    let regression = regression_cases();
    assert!(regression.len() >= 3, "at least 3 regression cases");
    assert!(
        regression.iter().any(|r| r.y_true.contains(&0.0)),
        "a regression case with 0 in y_true"
    );
    assert!(!fixtures("ttest").is_empty(), "t-test cases are present");
}

// ---- classification --------------------------------------------------------------------------

#[test]
fn accuracy_equals_sklearn_on_every_fixture() {
    for c in classification_cases() {
        let ours = accuracy(&c.y_true, &c.y_pred).unwrap();
        assert_close(&c.name, "accuracy", ours, num(&c.expected["accuracy"]));
    }
}

#[test]
fn balanced_accuracy_equals_sklearn_on_every_fixture() {
    for c in classification_cases() {
        let ours = balanced_accuracy(&c.y_true, &c.y_pred).unwrap();
        assert_close(
            &c.name,
            "balanced_accuracy",
            ours,
            num(&c.expected["balanced_accuracy"]),
        );
    }
}

#[test]
fn confusion_matrix_equals_sklearn_with_true_rows_and_predicted_columns() {
    for c in classification_cases() {
        let ours = confusion_matrix(&c.y_true, &c.y_pred, c.n_classes).unwrap();
        let theirs: Vec<Vec<u64>> = c.expected["confusion_matrix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(ours, theirs, "{}: confusion matrix", c.name);
    }
}

#[test]
fn precision_recall_f1_equal_sklearn_for_macro_weighted_micro_and_each_binary_class() {
    for c in classification_cases() {
        let prf = &c.expected["precision_recall_f1"];
        let mut averages = vec![
            ("macro".to_string(), Average::Macro, &prf["macro"]),
            ("weighted".to_string(), Average::Weighted, &prf["weighted"]),
            ("micro".to_string(), Average::Micro, &prf["micro"]),
        ];
        for pos_label in 0..c.n_classes {
            averages.push((
                format!("binary pos_label={pos_label}"),
                Average::Binary { pos_label },
                &prf["binary"][pos_label.to_string()],
            ));
        }
        for (what, average, theirs) in averages {
            let ours = precision_recall_f1(&c.y_true, &c.y_pred, c.n_classes, average).unwrap();
            assert_close(
                &c.name,
                &format!("{what} precision"),
                ours.precision,
                num(&theirs["precision"]),
            );
            assert_close(
                &c.name,
                &format!("{what} recall"),
                ours.recall,
                num(&theirs["recall"]),
            );
            assert_close(&c.name, &format!("{what} f1"), ours.f1, num(&theirs["f1"]));
        }
    }
}

#[test]
fn roc_auc_equals_sklearn_binary_and_one_vs_rest_macro() {
    for c in classification_cases() {
        let theirs = num(&c.expected["roc_auc"]);
        if c.is_binary() {
            let ours = roc_auc_binary(&c.y_true, &c.scores()).unwrap();
            assert_close(&c.name, "roc_auc_binary", ours, theirs);
        }
        // For two classes the one-vs-rest function is the binary AUC of proba[:, 1].
        let ours = roc_auc_ovr_macro(&c.y_true, &c.proba, c.n_classes).unwrap();
        assert_close(&c.name, "roc_auc_ovr_macro", ours, theirs);
    }
}

#[test]
fn average_precision_equals_sklearn_step_wise_not_interpolated() {
    for c in classification_cases() {
        let theirs = num(&c.expected["average_precision"]);
        if c.is_binary() {
            let ours = average_precision_binary(&c.y_true, &c.scores()).unwrap();
            assert_close(&c.name, "average_precision_binary", ours, theirs);
        }
        let ours = average_precision_ovr_macro(&c.y_true, &c.proba, c.n_classes).unwrap();
        assert_close(&c.name, "average_precision_ovr_macro", ours, theirs);
    }
}

#[test]
fn log_loss_equals_sklearn_including_probabilities_of_exactly_zero() {
    for c in classification_cases() {
        let ours = log_loss(&c.y_true, &c.proba, c.n_classes).unwrap();
        assert_close(&c.name, "log_loss", ours, num(&c.expected["log_loss"]));
    }
}

#[test]
fn classification_metrics_has_exactly_the_documented_keys_and_sklearn_values() {
    const WITHOUT_PROBA: [&str; 9] = [
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "f1_micro",
        "f1_weighted",
        "precision_macro",
        "precision_weighted",
        "recall_macro",
        "recall_weighted",
    ];
    for c in classification_cases() {
        let theirs = c.expected["classification_metrics"].as_object().unwrap();

        let ours = classification_metrics(&c.y_true, &c.y_pred, None, c.n_classes).unwrap();
        let keys: Vec<&str> = ours.keys().map(String::as_str).collect();
        assert_eq!(keys, WITHOUT_PROBA, "{}: keys without proba", c.name);
        for (key, value) in &ours {
            assert_close(&c.name, key, *value, num(&theirs[key]));
        }

        let ours =
            classification_metrics(&c.y_true, &c.y_pred, Some(&c.proba), c.n_classes).unwrap();
        let mut expected_keys: Vec<&str> = WITHOUT_PROBA.to_vec();
        expected_keys.extend(["average_precision", "log_loss", "roc_auc"]);
        expected_keys.sort_unstable();
        let keys: Vec<&str> = ours.keys().map(String::as_str).collect();
        assert_eq!(keys, expected_keys, "{}: keys with proba", c.name);
        assert_eq!(
            theirs.len(),
            ours.len(),
            "{}: fixture has the same keys",
            c.name
        );
        for (key, value) in &ours {
            assert_close(&c.name, key, *value, num(&theirs[key]));
        }
    }
}

// ---- curves ----------------------------------------------------------------------------------

#[track_caller]
fn assert_curve(case: &str, what: &str, ours: &Curve, x: &Value, y: &Value, thresholds: &Value) {
    assert_all_close(case, &format!("{what} x"), &ours.x, &nums(x));
    assert_all_close(case, &format!("{what} y"), &ours.y, &nums(y));
    assert_all_close(
        case,
        &format!("{what} thresholds"),
        &ours.thresholds,
        &nums(thresholds),
    );
}

#[test]
fn roc_curve_equals_sklearn_point_for_point_with_intermediate_points_dropped() {
    for c in binary_cases() {
        let ours = roc_curve(&c.y_true_binary(), &c.scores()).unwrap();
        let theirs = &c.expected["roc_curve"];
        assert_eq!(
            ours.thresholds[0],
            f64::INFINITY,
            "{}: first threshold",
            c.name
        );
        assert_curve(
            &c.name,
            "roc",
            &ours,
            &theirs["fpr"],
            &theirs["tpr"],
            &theirs["thresholds"],
        );
    }
}

#[test]
fn precision_recall_curve_equals_sklearn_point_for_point_ending_at_recall_0_precision_1() {
    for c in binary_cases() {
        let ours = precision_recall_curve(&c.y_true_binary(), &c.scores()).unwrap();
        let theirs = &c.expected["precision_recall_curve"];
        assert_eq!(
            (ours.x.last().copied(), ours.y.last().copied()),
            (Some(0.0), Some(1.0)),
            "{}: last point",
            c.name
        );
        assert_eq!(
            ours.thresholds.len() + 1,
            ours.x.len(),
            "{}: one threshold fewer",
            c.name
        );
        assert_curve(
            &c.name,
            "precision-recall",
            &ours,
            &theirs["recall"],
            &theirs["precision"],
            &theirs["thresholds"],
        );
    }
}

#[test]
fn calibration_curve_equals_sklearn_uniform_bins_with_edge_values_and_empty_bins() {
    for c in binary_cases() {
        for theirs in c.expected["calibration_curve"].as_array().unwrap() {
            let n_bins = theirs["n_bins"].as_u64().unwrap() as usize;
            let ours = calibration_curve(&c.y_true_binary(), &c.scores(), n_bins).unwrap();
            let what = format!("calibration n_bins={n_bins}");
            assert_all_close(
                &c.name,
                &format!("{what} prob_pred"),
                &ours.x,
                &nums(&theirs["prob_pred"]),
            );
            assert_all_close(
                &c.name,
                &format!("{what} prob_true"),
                &ours.y,
                &nums(&theirs["prob_true"]),
            );
            assert!(ours.thresholds.is_empty());
        }
    }
}

// ---- regression ------------------------------------------------------------------------------

#[test]
fn r2_equals_sklearn_including_constant_y_true() {
    for r in regression_cases() {
        let ours = r2(&r.y_true, &r.y_pred).unwrap();
        assert_close(&r.name, "r2", ours, num(&r.expected["r2"]));
    }
}

#[test]
fn mse_equals_sklearn_on_every_fixture() {
    for r in regression_cases() {
        let ours = mse(&r.y_true, &r.y_pred).unwrap();
        assert_close(&r.name, "mse", ours, num(&r.expected["mse"]));
    }
}

#[test]
fn rmse_equals_sklearn_on_every_fixture() {
    for r in regression_cases() {
        let ours = rmse(&r.y_true, &r.y_pred).unwrap();
        assert_close(&r.name, "rmse", ours, num(&r.expected["rmse"]));
    }
}

#[test]
fn mae_equals_sklearn_on_every_fixture() {
    for r in regression_cases() {
        let ours = mae(&r.y_true, &r.y_pred).unwrap();
        assert_close(&r.name, "mae", ours, num(&r.expected["mae"]));
    }
}

#[test]
fn mape_equals_sklearn_including_zeros_in_y_true() {
    for r in regression_cases() {
        let ours = mape(&r.y_true, &r.y_pred).unwrap();
        assert_close(&r.name, "mape", ours, num(&r.expected["mape"]));
    }
}

#[test]
fn regression_metrics_has_exactly_the_documented_keys_and_sklearn_values() {
    for r in regression_cases() {
        let ours = regression_metrics(&r.y_true, &r.y_pred).unwrap();
        let keys: Vec<&str> = ours.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["mae", "mape", "mse", "r2", "rmse"],
            "{}: keys",
            r.name
        );
        for (key, value) in &ours {
            assert_close(&r.name, key, *value, num(&r.expected[key]));
        }
    }
}

// ---- statistics ------------------------------------------------------------------------------

#[test]
fn corrected_resampled_t_test_equals_the_weka_formula_and_scipy_p_value() {
    for (name, json) in fixtures("ttest") {
        let cases = json["cases"].as_array().unwrap();
        assert!(cases.len() >= 3, "{name}: several t-test cases");
        for (i, case) in cases.iter().enumerate() {
            let label = format!(
                "{name}[{i}] ({})",
                case["description"].as_str().unwrap_or("")
            );
            let ours = corrected_resampled_t_test(
                &nums(&case["scores_a"]),
                &nums(&case["scores_b"]),
                case["n_train"].as_u64().unwrap() as usize,
                case["n_test"].as_u64().unwrap() as usize,
            )
            .unwrap();
            let theirs = &case["expected"];
            assert_close(&label, "t", ours.t, num(&theirs["t"]));
            assert_close(
                &label,
                "mean_diff",
                ours.mean_diff,
                num(&theirs["mean_diff"]),
            );
            // p-values are compared relatively, however small they are.
            let p = num(&theirs["p_value"]);
            assert!(
                (ours.p_value - p).abs() <= TOL * p,
                "{label}: p_value: kiln {:?}, scipy {p:?}",
                ours.p_value
            );
        }
    }
}
