//! Evaluation metrics, defined exactly as scikit-learn defines them.
//!
//! Every function here returns what scikit-learn (1.9) returns for the same input, to 1e-9;
//! `core/tests/metrics_vs_sklearn.rs` checks each one against fixtures written by scikit-learn
//! (`scripts/fixtures/make_metric_fixtures.py` → `tests/fixtures/metrics/`).
//!
//! Conventions:
//!
//! * class labels are class indices `0..n_classes` (`&[usize]`); probabilities are one row per
//!   sample with one column per class (`&[Vec<f64>]`), and a binary score is the score of
//!   class 1 (`&[f64]`);
//! * where a metric takes `n_classes`, it is computed as scikit-learn computes it with
//!   `labels=range(n_classes)`: a class that occurs in neither `y_true` nor `y_pred` still counts
//!   (with precision, recall and F1 of 0) in macro averages;
//! * where scikit-learn divides 0 by 0 and warns (`zero_division="warn"`), the result is 0.0;
//! * where scikit-learn would return NaN with a warning (ROC AUC with one class, R² of one
//!   sample), or raise, these functions return a [`MetricError`] that says why in words a user
//!   can act on. Nothing here panics on user data.
//!
//! | module | what |
//! |---|---|
//! | `classification` | accuracy, balanced accuracy, precision/recall/F1, confusion matrix, ROC AUC, average precision, log loss, [`classification_metrics`] |
//! | `regression` | R², MSE, RMSE, MAE, MAPE, [`regression_metrics`] |
//! | `curves` | ROC, precision-recall and calibration curves |
//! | `stats` | the corrected resampled t-test for comparing two models |
//! | `table` | the metric table (name, direction, range, needs probabilities) and [`Scores`] with absent metrics and their reasons |

mod classification;
mod curves;
mod fairness;
mod regression;
mod report;
pub(crate) mod stats;
mod table;

pub use classification::{
    Average, PrfScores, accuracy, average_precision_binary, average_precision_ovr_macro,
    balanced_accuracy, classification_metrics, confusion_matrix, log_loss, precision_recall_f1,
    roc_auc_binary, roc_auc_ovr_macro,
};
pub use curves::{Curve, calibration_curve, precision_recall_curve, roc_curve};
pub use fairness::{
    FairnessError, FairnessReport, FeatureFairness, GroupMetrics, SensitiveColumn, fairness_report,
};
pub use regression::{mae, mape, mse, r2, regression_metrics, rmse};
pub use report::{
    ClassCurves, EvaluationReport, Importance, classification_report, permutation_importance,
    regression_report,
};
pub use stats::{TTest, corrected_resampled_t_test};
pub use table::{
    Direction, METRICS, MetricInfo, MetricTask, Scores, compare_values, direction, is_better,
    metric_info, score_classification, score_regression,
};

/// Why a metric could not be computed, worded for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// Two inputs that must pair up element by element have different lengths.
    #[error("{first} and {second} have different lengths ({first_len} vs {second_len})")]
    LengthMismatch {
        /// Name of the first input, e.g. `y_true`.
        first: &'static str,
        /// Name of the second input, e.g. `y_pred`.
        second: &'static str,
        /// Length of the first input.
        first_len: usize,
        /// Length of the second input.
        second_len: usize,
    },
    /// There are no samples.
    #[error("{what} is empty: there is nothing to evaluate")]
    Empty {
        /// Name of the empty input.
        what: &'static str,
    },
    /// A class label is not one of `0..n_classes`.
    #[error("{what}[{index}] is class {label}, but there are only {n_classes} classes (0 to {})", n_classes.saturating_sub(1))]
    LabelOutOfRange {
        /// Name of the input.
        what: &'static str,
        /// Position of the label.
        index: usize,
        /// The label found.
        label: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// A binary metric got a label other than 0 or 1.
    #[error(
        "{what}[{index}] is class {label}, but {metric} is a binary metric and needs classes 0 and 1 only"
    )]
    NotBinary {
        /// The metric.
        metric: &'static str,
        /// Name of the input.
        what: &'static str,
        /// Position of the label.
        index: usize,
        /// The label found.
        label: usize,
    },
    /// A number is NaN or infinite.
    #[error("{what}[{index}] is {value}; metrics need finite numbers")]
    NotFinite {
        /// Name of the input.
        what: &'static str,
        /// Position of the value.
        index: usize,
        /// The value found.
        value: f64,
    },
    /// A probability is outside [0, 1].
    #[error("{what} has {value} at {position}, outside [0, 1]; {metric} needs probabilities")]
    NotAProbability {
        /// The metric.
        metric: &'static str,
        /// Name of the input.
        what: &'static str,
        /// Where, e.g. `row 3, column 1` or `index 3`.
        position: String,
        /// The value found.
        value: f64,
    },
    /// A row of probabilities has the wrong number of columns.
    #[error(
        "proba row {row} has {len} columns, but there are {n_classes} classes (one column per class)"
    )]
    ProbaColumns {
        /// The row.
        row: usize,
        /// Its number of columns.
        len: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// A row of probabilities does not sum to 1 where the metric requires it.
    #[error(
        "proba row {row} sums to {sum}, not 1; {metric} over several classes needs probabilities"
    )]
    ProbaRowSum {
        /// The metric.
        metric: &'static str,
        /// The row.
        row: usize,
        /// Its sum.
        sum: f64,
    },
    /// A binary metric needs both classes in `y_true`.
    #[error("{metric} needs both classes in y_true")]
    NeedsBothClasses {
        /// The metric.
        metric: &'static str,
    },
    /// A metric needs at least one positive sample.
    #[error("{metric} needs at least one positive (class 1) in y_true")]
    NeedsPositive {
        /// The metric.
        metric: &'static str,
    },
    /// A one-vs-rest metric needs every class in `y_true`.
    #[error("{metric} needs every class in y_true, but class {class} never occurs")]
    ClassAbsent {
        /// The metric.
        metric: &'static str,
        /// The missing class.
        class: usize,
    },
    /// Too few classes for the metric.
    #[error("{metric} needs at least {needed} classes, got {n_classes}")]
    TooFewClasses {
        /// The metric.
        metric: &'static str,
        /// The minimum.
        needed: usize,
        /// What was given.
        n_classes: usize,
    },
    /// Too few samples for the metric.
    #[error("{metric} needs at least {needed} samples, got {got}")]
    TooFewSamples {
        /// The metric.
        metric: &'static str,
        /// The minimum.
        needed: usize,
        /// What was given.
        got: usize,
    },
    /// An argument other than the data is invalid.
    #[error("{0}")]
    InvalidArgument(String),
}

// ---- validation shared by the submodules -----------------------------------------------------

/// `a` and `b` pair up element by element.
fn check_same_len(
    first: &'static str,
    first_len: usize,
    second: &'static str,
    second_len: usize,
) -> Result<(), MetricError> {
    if first_len == second_len {
        Ok(())
    } else {
        Err(MetricError::LengthMismatch {
            first,
            second,
            first_len,
            second_len,
        })
    }
}

/// There is at least one sample.
fn check_not_empty(what: &'static str, len: usize) -> Result<(), MetricError> {
    if len == 0 {
        Err(MetricError::Empty { what })
    } else {
        Ok(())
    }
}

/// Every value is finite.
fn check_finite(what: &'static str, values: &[f64]) -> Result<(), MetricError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricError::NotFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Every label is in `0..n_classes`.
fn check_labels(what: &'static str, labels: &[usize], n_classes: usize) -> Result<(), MetricError> {
    match labels.iter().position(|&l| l >= n_classes) {
        Some(index) => Err(MetricError::LabelOutOfRange {
            what,
            index,
            label: labels[index],
            n_classes,
        }),
        None => Ok(()),
    }
}

/// Every label is 0 or 1; returns them as booleans (class 1 = `true`).
fn binary_labels(metric: &'static str, y_true: &[usize]) -> Result<Vec<bool>, MetricError> {
    y_true
        .iter()
        .enumerate()
        .map(|(index, &label)| match label {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(MetricError::NotBinary {
                metric,
                what: "y_true",
                index,
                label,
            }),
        })
        .collect()
}

/// Every value is a finite probability in [0, 1].
fn check_probabilities(
    metric: &'static str,
    what: &'static str,
    values: &[f64],
) -> Result<(), MetricError> {
    check_finite(what, values)?;
    match values.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(index) => Err(MetricError::NotAProbability {
            metric,
            what,
            position: format!("index {index}"),
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// `proba` has one row per sample of `n_classes` finite probabilities in [0, 1].
fn check_proba(
    metric: &'static str,
    y_true_len: usize,
    proba: &[Vec<f64>],
    n_classes: usize,
) -> Result<(), MetricError> {
    check_same_len("y_true", y_true_len, "proba", proba.len())?;
    for (row, values) in proba.iter().enumerate() {
        if values.len() != n_classes {
            return Err(MetricError::ProbaColumns {
                row,
                len: values.len(),
                n_classes,
            });
        }
        for (column, &value) in values.iter().enumerate() {
            if !value.is_finite() {
                return Err(MetricError::NotFinite {
                    what: "proba",
                    index: row,
                    value,
                });
            }
            if !(0.0..=1.0).contains(&value) {
                return Err(MetricError::NotAProbability {
                    metric,
                    what: "proba",
                    position: format!("row {row}, column {column}"),
                    value,
                });
            }
        }
    }
    Ok(())
}

/// Mean and standard deviation with `ddof` delta degrees of freedom (1: the sample
/// standard deviation, as pandas' `std()`; 0: the population one, as numpy's `std()`).
/// The deviation is 0 when there are no more values than `ddof`; both are NaN when empty.
pub fn mean_std(values: &[f64], ddof: usize) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = mean(values.iter().copied());
    if values.len() <= ddof {
        return (mean, 0.0);
    }
    let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (mean, (squares / (values.len() - ddof) as f64).sqrt())
}

/// Arithmetic mean (the caller guarantees `values` is not empty).
fn mean(values: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = values.len() as f64;
    values.sum::<f64>() / n
}

#[cfg(test)]
mod mean_std_tests {
    use super::mean_std;

    #[test]
    fn sample_and_population_deviation_match_pandas_and_numpy() {
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        // pandas Series(values).std() = 2.138089935299395, numpy std = 2.0
        let (mean, sample) = mean_std(&values, 1);
        assert_eq!(mean, 5.0);
        assert!((sample - 2.138_089_935_299_395).abs() < 1e-12);
        assert_eq!(mean_std(&values, 0).1, 2.0);
        assert_eq!(mean_std(&[3.0], 1), (3.0, 0.0));
    }
}
