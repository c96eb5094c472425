//! The one table of metrics: each metric's name, which direction is better, its range, and
//! whether it needs probabilities. Training, run comparison, the sweep's choice of the best
//! trial and the registry's gates all read it, so "better" means the same thing everywhere.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

use super::MetricError;
use super::classification::{
    Average, accuracy, average_precision_ovr_macro, balanced_accuracy, log_loss,
    precision_recall_f1, roc_auc_ovr_macro,
};
use super::regression::{mae, mape, mse, r2, rmse};

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger values are better (accuracy, R², ...).
    HigherIsBetter,
    /// Smaller values are better (losses and errors).
    LowerIsBetter,
}

/// What kind of model a metric scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricTask {
    /// Class labels (and probabilities).
    Classification,
    /// Numbers.
    Regression,
}

/// One row of the metric table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricInfo {
    /// Name, as scikit-learn's scorer names it.
    pub name: &'static str,
    /// The task it scores.
    pub task: MetricTask,
    /// Which way is better.
    pub direction: Direction,
    /// Smallest possible value.
    pub min: f64,
    /// Largest possible value (infinite when unbounded).
    pub max: f64,
    /// Whether it is computed from class probabilities rather than labels.
    pub needs_proba: bool,
}

const fn metric(
    name: &'static str,
    task: MetricTask,
    direction: Direction,
    min: f64,
    max: f64,
    needs_proba: bool,
) -> MetricInfo {
    MetricInfo {
        name,
        task,
        direction,
        min,
        max,
        needs_proba,
    }
}

use Direction::{HigherIsBetter as Higher, LowerIsBetter as Lower};
use MetricTask::{Classification as C, Regression as R};

/// Every metric Kiln computes, in the order it reports them.
pub const METRICS: &[MetricInfo] = &[
    metric("accuracy", C, Higher, 0.0, 1.0, false),
    metric("balanced_accuracy", C, Higher, 0.0, 1.0, false),
    metric("precision_macro", C, Higher, 0.0, 1.0, false),
    metric("recall_macro", C, Higher, 0.0, 1.0, false),
    metric("f1_macro", C, Higher, 0.0, 1.0, false),
    metric("precision_weighted", C, Higher, 0.0, 1.0, false),
    metric("recall_weighted", C, Higher, 0.0, 1.0, false),
    metric("f1_weighted", C, Higher, 0.0, 1.0, false),
    metric("f1_micro", C, Higher, 0.0, 1.0, false),
    metric("roc_auc", C, Higher, 0.0, 1.0, true),
    metric("average_precision", C, Higher, 0.0, 1.0, true),
    metric("log_loss", C, Lower, 0.0, f64::INFINITY, true),
    metric("r2", R, Higher, f64::NEG_INFINITY, 1.0, false),
    metric("rmse", R, Lower, 0.0, f64::INFINITY, false),
    metric("mae", R, Lower, 0.0, f64::INFINITY, false),
    metric("mse", R, Lower, 0.0, f64::INFINITY, false),
    metric("mape", R, Lower, 0.0, f64::INFINITY, false),
];

/// The table row of `name`; a cross-validation summary (`accuracy_std`) or a per-fold series
/// (`fold_accuracy`) has none of its own.
pub fn metric_info(name: &str) -> Option<&'static MetricInfo> {
    METRICS.iter().find(|m| m.name == name)
}

/// The direction of `name`; metrics not in the table (user-logged ones) count as higher is
/// better unless their name says loss or error, as MLflow's UI assumes.
pub fn direction(name: &str) -> Direction {
    match metric_info(name) {
        Some(info) => info.direction,
        None => {
            let lower = name.to_ascii_lowercase();
            if ["loss", "error", "rmse", "mae", "mse", "mape"]
                .iter()
                .any(|w| lower.contains(w))
            {
                Direction::LowerIsBetter
            } else {
                Direction::HigherIsBetter
            }
        }
    }
}

/// How `a` compares with `b` in the direction of `name`: `Greater` when `a` is better.
/// `None` when either is NaN.
pub fn compare_values(name: &str, a: f64, b: f64) -> Option<Ordering> {
    let order = a.partial_cmp(&b)?;
    Some(match direction(name) {
        Direction::HigherIsBetter => order,
        Direction::LowerIsBetter => order.reverse(),
    })
}

/// Whether `a` is strictly better than `b` for metric `name`.
pub fn is_better(name: &str, a: f64, b: f64) -> bool {
    compare_values(name, a, b) == Some(Ordering::Greater)
}

/// Metrics of one evaluation: the values that could be computed, and for the others why not.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Scores {
    /// Metric values by name.
    pub values: BTreeMap<String, f64>,
    /// Metrics that could not be computed, with the reason.
    pub absent: BTreeMap<String, String>,
}

impl Scores {
    fn record(&mut self, name: &str, value: Result<f64, MetricError>) {
        match value {
            Ok(v) => {
                self.values.insert(name.to_owned(), v);
            }
            Err(e) => {
                self.absent.insert(name.to_owned(), e.to_string());
            }
        }
    }
}

/// Every classification metric of the table. Label metrics are computed from `y_pred`;
/// probability metrics from `proba`, or recorded absent when the model gives none.
pub fn score_classification(
    y_true: &[usize],
    y_pred: &[usize],
    proba: Option<&[Vec<f64>]>,
    n_classes: usize,
) -> Scores {
    let mut scores = Scores::default();
    scores.record("accuracy", accuracy(y_true, y_pred));
    scores.record("balanced_accuracy", balanced_accuracy(y_true, y_pred));
    for (average, suffix) in [
        (Average::Macro, "macro"),
        (Average::Weighted, "weighted"),
        (Average::Micro, "micro"),
    ] {
        let prf = precision_recall_f1(y_true, y_pred, n_classes, average);
        if average != Average::Micro {
            scores.record(
                &format!("precision_{suffix}"),
                prf.clone().map(|s| s.precision),
            );
            scores.record(&format!("recall_{suffix}"), prf.clone().map(|s| s.recall));
        }
        scores.record(&format!("f1_{suffix}"), prf.map(|s| s.f1));
    }
    match proba {
        Some(proba) => {
            scores.record("roc_auc", roc_auc_ovr_macro(y_true, proba, n_classes));
            scores.record(
                "average_precision",
                average_precision_ovr_macro(y_true, proba, n_classes),
            );
            scores.record("log_loss", log_loss(y_true, proba, n_classes));
        }
        None => {
            for info in METRICS.iter().filter(|m| m.needs_proba) {
                scores.absent.insert(
                    info.name.to_owned(),
                    "the model gives no class probabilities".into(),
                );
            }
        }
    }
    scores
}

/// Every regression metric of the table.
pub fn score_regression(y_true: &[f64], y_pred: &[f64]) -> Scores {
    let mut scores = Scores::default();
    scores.record("r2", r2(y_true, y_pred));
    scores.record("rmse", rmse(y_true, y_pred));
    scores.record("mae", mae(y_true, y_pred));
    scores.record("mse", mse(y_true, y_pred));
    scores.record("mape", mape(y_true, y_pred));
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_and_errors_are_better_when_lower() {
        for name in ["log_loss", "rmse", "mae", "mse", "mape"] {
            assert_eq!(direction(name), Direction::LowerIsBetter, "{name}");
            assert!(is_better(name, 0.1, 0.2), "{name}");
        }
        for name in ["accuracy", "roc_auc", "r2", "f1_macro"] {
            assert_eq!(direction(name), Direction::HigherIsBetter, "{name}");
            assert!(is_better(name, 0.9, 0.8), "{name}");
        }
        assert!(!is_better("accuracy", 0.9, 0.9));
        assert_eq!(compare_values("accuracy", f64::NAN, 0.5), None);
    }

    #[test]
    fn a_metric_that_cannot_be_computed_is_absent_with_its_reason() {
        // One class only in y_true: ROC AUC is undefined; accuracy is fine.
        let proba = vec![vec![0.8, 0.2]; 3];
        let scores = score_classification(&[0, 0, 0], &[0, 0, 1], Some(&proba), 2);
        assert!(scores.values.contains_key("accuracy"));
        assert!(!scores.values.contains_key("roc_auc"));
        assert!(scores.absent["roc_auc"].contains("class"));
        let no_proba = score_classification(&[0, 1], &[0, 1], None, 2);
        assert_eq!(
            no_proba.absent["log_loss"],
            "the model gives no class probabilities"
        );
    }

    #[test]
    fn every_computed_metric_is_in_the_table() {
        let proba = vec![vec![0.8, 0.2], vec![0.3, 0.7]];
        let c = score_classification(&[0, 1], &[0, 1], Some(&proba), 2);
        let r = score_regression(&[1.0, 2.0, 3.0], &[1.0, 2.5, 2.5]);
        for name in c.values.keys().chain(r.values.keys()) {
            assert!(metric_info(name).is_some(), "{name} missing from METRICS");
        }
        assert_eq!(c.values.len() + r.values.len(), METRICS.len());
    }
}
