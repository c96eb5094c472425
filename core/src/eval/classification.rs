//! Classification metrics: labels are class indices `0..n_classes`, probabilities one row per
//! sample and one column per class, binary scores the score of class 1.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::curves::{check_binary_scores, precision_recall_curve, roc_curve};
use super::{
    MetricError, binary_labels, check_labels, check_not_empty, check_proba, check_same_len, mean,
};

/// How per-class precision, recall and F1 are combined into one number (scikit-learn's
/// `average` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Average {
    /// Unweighted mean over the classes `0..n_classes`.
    Macro,
    /// Mean over the classes weighted by their number of true samples (support).
    Weighted,
    /// From the total true positives, false positives and false negatives over all classes
    /// (for single-label data all three equal accuracy).
    Micro,
    /// The scores of one class against the rest (scikit-learn's `average="binary"` for two
    /// classes).
    Binary {
        /// The class whose scores are reported.
        pos_label: usize,
    },
}

/// Precision, recall and F1 under one [`Average`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrfScores {
    /// Precision: of the samples predicted as a class, the fraction that are that class.
    pub precision: f64,
    /// Recall: of the samples of a class, the fraction predicted as that class.
    pub recall: f64,
    /// F1: the harmonic mean of precision and recall.
    pub f1: f64,
}

/// Checks two label vectors of the same non-zero length.
fn check_pair(y_true: &[usize], y_pred: &[usize]) -> Result<(), MetricError> {
    check_same_len("y_true", y_true.len(), "y_pred", y_pred.len())?;
    check_not_empty("y_true", y_true.len())
}

/// The fraction of samples whose predicted class is the true class (scikit-learn's
/// `accuracy_score`). Errors when the lengths differ or there are no samples.
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64, MetricError> {
    check_pair(y_true, y_pred)?;
    let correct = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(correct as f64 / y_true.len() as f64)
}

/// The mean recall over the classes that occur in `y_true` (scikit-learn's
/// `balanced_accuracy_score`, not adjusted). A class that is only predicted, never true, is left
/// out, as scikit-learn does (with a warning). Errors when the lengths differ or there are no
/// samples.
pub fn balanced_accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64, MetricError> {
    check_pair(y_true, y_pred)?;
    // class → (samples of the class, of which predicted correctly)
    let mut per_class: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
    for (&t, &p) in y_true.iter().zip(y_pred) {
        let entry = per_class.entry(t).or_insert((0, 0));
        entry.0 += 1;
        if t == p {
            entry.1 += 1;
        }
    }
    Ok(mean(
        per_class
            .values()
            .map(|&(total, correct)| correct as f64 / total as f64),
    ))
}

/// The confusion matrix: `m[t][p]` counts the samples of true class `t` predicted as `p`
/// (scikit-learn's `confusion_matrix(y_true, y_pred, labels=range(n_classes))`). Errors when the
/// lengths differ, there are no samples, or a label is not below `n_classes`.
pub fn confusion_matrix(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> Result<Vec<Vec<u64>>, MetricError> {
    check_pair(y_true, y_pred)?;
    check_labels("y_true", y_true, n_classes)?;
    check_labels("y_pred", y_pred, n_classes)?;
    let mut matrix = vec![vec![0_u64; n_classes]; n_classes];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        matrix[t][p] += 1;
    }
    Ok(matrix)
}

/// `numerator / denominator`, or 0.0 when the denominator is 0 (scikit-learn's
/// `zero_division="warn"`).
fn divide(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// Precision, recall and F1 (scikit-learn's `precision_recall_fscore_support` with
/// `labels=range(n_classes)` and the given `average`).
///
/// A 0/0 (a class never predicted has no precision; a class never true has no recall) counts as
/// 0.0, scikit-learn's default. F1 is `2·tp / (2·tp + fp + fn)` per class, as scikit-learn
/// computes it. Errors when the lengths differ, there are no samples, a label is not below
/// `n_classes`, or `pos_label` is not a class.
pub fn precision_recall_f1(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    average: Average,
) -> Result<PrfScores, MetricError> {
    let matrix = confusion_matrix(y_true, y_pred, n_classes)?;
    // Per class: true positives, predicted count, true count.
    let tp: Vec<f64> = (0..n_classes).map(|c| matrix[c][c] as f64).collect();
    let predicted: Vec<f64> = (0..n_classes)
        .map(|c| matrix.iter().map(|row| row[c]).sum::<u64>() as f64)
        .collect();
    let support: Vec<f64> = matrix
        .iter()
        .map(|row| row.iter().sum::<u64>() as f64)
        .collect();
    let scores = |tp: f64, predicted: f64, support: f64| PrfScores {
        precision: divide(tp, predicted),
        recall: divide(tp, support),
        f1: divide(2.0 * tp, support + predicted),
    };
    let per_class: Vec<PrfScores> = (0..n_classes)
        .map(|c| scores(tp[c], predicted[c], support[c]))
        .collect();

    Ok(match average {
        Average::Binary { pos_label } => {
            if pos_label >= n_classes {
                return Err(MetricError::InvalidArgument(format!(
                    "pos_label is class {pos_label}, but there are only {n_classes} classes (0 to {})",
                    n_classes.saturating_sub(1)
                )));
            }
            per_class[pos_label]
        }
        Average::Micro => scores(
            tp.iter().sum(),
            predicted.iter().sum(),
            support.iter().sum(),
        ),
        Average::Macro => PrfScores {
            precision: mean(per_class.iter().map(|s| s.precision)),
            recall: mean(per_class.iter().map(|s| s.recall)),
            f1: mean(per_class.iter().map(|s| s.f1)),
        },
        Average::Weighted => {
            // np.average(values, weights=support); y_true is not empty, so the total is > 0.
            let total: f64 = support.iter().sum();
            let weighted = |value: fn(&PrfScores) -> f64| {
                per_class
                    .iter()
                    .zip(&support)
                    .map(|(s, w)| value(s) * w)
                    .sum::<f64>()
                    / total
            };
            PrfScores {
                precision: weighted(|s| s.precision),
                recall: weighted(|s| s.recall),
                f1: weighted(|s| s.f1),
            }
        }
    })
}

/// Area under the ROC curve of a binary problem (scikit-learn's `roc_auc_score(y_true, scores)`):
/// the trapezoidal area under [`roc_curve`](super::roc_curve). `y_true` holds classes 0 and 1,
/// `scores` the score of class 1 (any finite number, not only probabilities). Errors when
/// `y_true` holds only one class, a label is not 0 or 1, or the lengths differ.
pub fn roc_auc_binary(y_true: &[usize], scores: &[f64]) -> Result<f64, MetricError> {
    check_binary_scores(y_true.len(), scores, "scores")?;
    let y = binary_labels("roc_auc", y_true)?;
    if !(y.contains(&true) && y.contains(&false)) {
        return Err(MetricError::NeedsBothClasses { metric: "roc_auc" });
    }
    let curve = roc_curve(&y, scores)?;
    Ok(trapezoid(&curve.x, &curve.y))
}

/// The trapezoidal area under y(x) for non-decreasing x (`sklearn.metrics.auc`).
fn trapezoid(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
        .sum()
}

/// Checks the inputs of a one-vs-rest metric and returns the count of each class in `y_true`.
fn check_ovr(
    metric: &'static str,
    y_true: &[usize],
    proba: &[Vec<f64>],
    n_classes: usize,
) -> Result<(), MetricError> {
    if n_classes < 2 {
        return Err(MetricError::TooFewClasses {
            metric,
            needed: 2,
            n_classes,
        });
    }
    check_not_empty("y_true", y_true.len())?;
    check_labels("y_true", y_true, n_classes)?;
    check_proba(metric, y_true.len(), proba, n_classes)?;
    if n_classes > 2 {
        let mut counts = vec![0_usize; n_classes];
        for &t in y_true {
            counts[t] += 1;
        }
        if let Some(class) = counts.iter().position(|&c| c == 0) {
            return Err(MetricError::ClassAbsent { metric, class });
        }
    }
    Ok(())
}

/// Column `c` of `proba`, with `y_true == c` as the positive class.
fn one_vs_rest(y_true: &[usize], proba: &[Vec<f64>], c: usize) -> (Vec<bool>, Vec<f64>) {
    (
        y_true.iter().map(|&t| t == c).collect(),
        proba.iter().map(|row| row[c]).collect(),
    )
}

/// One-vs-rest ROC AUC averaged over the classes (scikit-learn's
/// `roc_auc_score(y_true, proba, multi_class="ovr", average="macro")`).
///
/// With two classes it is the binary ROC AUC of `proba[:, 1]`, which is what scikit-learn
/// computes for a binary `y_true`. With more, every class must occur in `y_true` and every row of
/// `proba` must sum to 1 (within `np.allclose`'s tolerance), as scikit-learn requires.
pub fn roc_auc_ovr_macro(
    y_true: &[usize],
    proba: &[Vec<f64>],
    n_classes: usize,
) -> Result<f64, MetricError> {
    check_ovr("roc_auc", y_true, proba, n_classes)?;
    if n_classes == 2 {
        let scores: Vec<f64> = proba.iter().map(|row| row[1]).collect();
        return roc_auc_binary(y_true, &scores);
    }
    for (row, values) in proba.iter().enumerate() {
        let sum: f64 = values.iter().sum();
        // np.allclose(1, sum): |1 - sum| <= atol + rtol * |sum|
        if (1.0 - sum).abs() > 1e-8 + 1e-5 * sum.abs() {
            return Err(MetricError::ProbaRowSum {
                metric: "roc_auc",
                row,
                sum,
            });
        }
    }
    let mut aucs = Vec::with_capacity(n_classes);
    for c in 0..n_classes {
        let (y, scores) = one_vs_rest(y_true, proba, c);
        let curve = roc_curve(&y, &scores)?;
        aucs.push(trapezoid(&curve.x, &curve.y));
    }
    Ok(mean(aucs.into_iter()))
}

/// Average precision of a binary problem (scikit-learn's `average_precision_score`): the
/// step-wise sum `Σ (R_n − R_{n−1}) · P_n` over the thresholds of
/// [`precision_recall_curve`](super::precision_recall_curve), not an interpolated area.
/// `y_true` holds classes 0 and 1, `scores` the score of class 1. Errors when `y_true` has no
/// class-1 sample, a label is not 0 or 1, or the lengths differ.
pub fn average_precision_binary(y_true: &[usize], scores: &[f64]) -> Result<f64, MetricError> {
    check_binary_scores(y_true.len(), scores, "scores")?;
    let y = binary_labels("average_precision", y_true)?;
    if !y.contains(&true) {
        return Err(MetricError::NeedsPositive {
            metric: "average_precision",
        });
    }
    step_average_precision(&y, scores)
}

fn step_average_precision(y: &[bool], scores: &[f64]) -> Result<f64, MetricError> {
    let curve = precision_recall_curve(y, scores)?;
    let sum: f64 = curve
        .x
        .windows(2)
        .zip(&curve.y)
        .map(|(recall, precision)| (recall[1] - recall[0]) * precision)
        .sum();
    // Recall decreases along the curve, so the sum is negative; clip -0.0 as scikit-learn does.
    Ok((-sum).max(0.0))
}

/// One-vs-rest average precision averaged over the classes (scikit-learn's
/// `average_precision_score(y_true, proba, average="macro")`, which binarises a multiclass
/// `y_true`). With two classes it is the binary average precision of `proba[:, 1]`; with more,
/// every class must occur in `y_true`, as scikit-learn requires.
pub fn average_precision_ovr_macro(
    y_true: &[usize],
    proba: &[Vec<f64>],
    n_classes: usize,
) -> Result<f64, MetricError> {
    check_ovr("average_precision", y_true, proba, n_classes)?;
    if n_classes == 2 {
        let scores: Vec<f64> = proba.iter().map(|row| row[1]).collect();
        return average_precision_binary(y_true, &scores);
    }
    let mut aps = Vec::with_capacity(n_classes);
    for c in 0..n_classes {
        let (y, scores) = one_vs_rest(y_true, proba, c);
        aps.push(step_average_precision(&y, &scores)?);
    }
    Ok(mean(aps.into_iter()))
}

/// Mean cross-entropy of the true class (scikit-learn's
/// `log_loss(y_true, proba, labels=range(n_classes))`).
///
/// Probabilities are clipped to `[ε, 1 − ε]` with `ε = f64::EPSILON` (scikit-learn ≥ 1.5 uses the
/// machine epsilon of the dtype), so a true class given probability 0 costs `−ln ε ≈ 36.04`
/// rather than infinity. Rows are not renormalised: scikit-learn 1.9 only warns when a row does
/// not sum to 1, and uses the values as given. Errors when there are fewer than 2 classes, a
/// label is not below `n_classes`, a row has the wrong number of columns, or a value is outside
/// [0, 1].
pub fn log_loss(
    y_true: &[usize],
    proba: &[Vec<f64>],
    n_classes: usize,
) -> Result<f64, MetricError> {
    if n_classes < 2 {
        return Err(MetricError::TooFewClasses {
            metric: "log_loss",
            needed: 2,
            n_classes,
        });
    }
    check_not_empty("y_true", y_true.len())?;
    check_labels("y_true", y_true, n_classes)?;
    check_proba("log_loss", y_true.len(), proba, n_classes)?;
    let eps = f64::EPSILON;
    Ok(mean(
        y_true
            .iter()
            .zip(proba)
            .map(|(&t, row)| -row[t].clamp(eps, 1.0 - eps).ln()),
    ))
}

/// Every classification metric of [`super::METRICS`] by name, or the first that cannot be
/// computed as an error (see [`super::score_classification`] to keep the others).
pub fn classification_metrics(
    y_true: &[usize],
    y_pred: &[usize],
    proba: Option<&[Vec<f64>]>,
    n_classes: usize,
) -> Result<BTreeMap<String, f64>, MetricError> {
    let scores = super::score_classification(y_true, y_pred, proba, n_classes);
    let mut absent = scores.absent.iter().filter(|(name, _)| {
        proba.is_some() || !super::metric_info(name).is_some_and(|m| m.needs_proba)
    });
    match absent.next() {
        Some((name, reason)) => Err(MetricError::InvalidArgument(format!("{name}: {reason}"))),
        None => Ok(scores.values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_mismatch_names_both_inputs_and_lengths() {
        let err = accuracy(&[0; 10], &[0; 9]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y_true and y_pred have different lengths (10 vs 9)"
        );
    }

    #[test]
    fn empty_input_is_an_error_not_nan() {
        let err = balanced_accuracy(&[], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y_true is empty: there is nothing to evaluate"
        );
    }

    #[test]
    fn label_out_of_range_says_which_and_where() {
        let err = confusion_matrix(&[0, 1, 2], &[0, 5, 1], 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y_pred[1] is class 5, but there are only 3 classes (0 to 2)"
        );
    }

    #[test]
    fn roc_auc_needs_both_classes() {
        let err = roc_auc_binary(&[1, 1, 1], &[0.2, 0.5, 0.9]).unwrap_err();
        assert_eq!(err.to_string(), "roc_auc needs both classes in y_true");
        let err = roc_auc_binary(&[0, 2], &[0.2, 0.5]).unwrap_err();
        assert!(err.to_string().contains("binary metric"), "{err}");
    }

    #[test]
    fn ovr_metrics_need_every_class() {
        let proba = vec![vec![0.5, 0.3, 0.2], vec![0.2, 0.5, 0.3]];
        let err = roc_auc_ovr_macro(&[0, 1], &proba, 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "roc_auc needs every class in y_true, but class 2 never occurs"
        );
        assert!(average_precision_ovr_macro(&[0, 1], &proba, 3).is_err());
    }

    #[test]
    fn ovr_roc_auc_needs_rows_summing_to_one() {
        let proba = vec![
            vec![0.5, 0.3, 0.3],
            vec![0.2, 0.5, 0.3],
            vec![0.2, 0.2, 0.6],
        ];
        let err = roc_auc_ovr_macro(&[0, 1, 2], &proba, 3).unwrap_err();
        assert!(err.to_string().starts_with("proba row 0 sums to"), "{err}");
    }

    #[test]
    fn log_loss_clips_zero_probability_to_machine_epsilon() {
        let loss = log_loss(&[0], &[vec![0.0, 1.0]], 2).unwrap();
        assert!((loss + f64::EPSILON.ln()).abs() < 1e-12);
        let err = log_loss(&[0], &[vec![0.5, 0.5, 0.0]], 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "proba row 0 has 3 columns, but there are 2 classes (one column per class)"
        );
        let err = log_loss(&[0], &[vec![-0.1, 1.1]], 2).unwrap_err();
        assert!(err.to_string().contains("outside [0, 1]"), "{err}");
    }

    #[test]
    fn log_loss_does_not_renormalise_rows() {
        // scikit-learn 1.9.1: log_loss([0, 1], [[0.2, 0.2], [0.1, 0.3]], labels=[0, 1]) warns
        // and returns 1.4067053583800182 (renormalised rows would give 0.49).
        let loss = log_loss(&[0, 1], &[vec![0.2, 0.2], vec![0.1, 0.3]], 2).unwrap();
        assert!((loss - 1.406_705_358_380_018_2).abs() < 1e-12, "{loss}");
    }

    #[test]
    fn zero_division_gives_zero() {
        // Class 1 is never predicted: its precision is 0/0.
        let s = precision_recall_f1(&[0, 1, 1], &[0, 0, 0], 2, Average::Binary { pos_label: 1 })
            .unwrap();
        assert_eq!(
            s,
            PrfScores {
                precision: 0.0,
                recall: 0.0,
                f1: 0.0
            }
        );
        assert!(precision_recall_f1(&[0], &[0], 2, Average::Binary { pos_label: 2 }).is_err());
    }

    #[test]
    fn classification_metrics_keys() {
        let m = classification_metrics(&[0, 1, 1], &[0, 1, 0], None, 2).unwrap();
        assert_eq!(m.len(), 9);
        let proba = vec![vec![0.8, 0.2], vec![0.3, 0.7], vec![0.6, 0.4]];
        let m = classification_metrics(&[0, 1, 1], &[0, 1, 0], Some(&proba), 2).unwrap();
        assert_eq!(m.len(), 12);
        assert_eq!(m["roc_auc"], 1.0);
    }
}
