//! Everything a run's evaluation shows beyond its scalar metrics: confusion matrix, ROC,
//! precision-recall and calibration curves, residuals, and permutation feature importance.

use serde::{Deserialize, Serialize};

use super::curves::{Curve, calibration_curve, precision_recall_curve, roc_curve};
use crate::rng::SeededRng;

/// Test rows used for permutation importance (it re-predicts once per feature and repeat).
const IMPORTANCE_ROWS: usize = 5_000;
/// Shuffles per feature.
const IMPORTANCE_REPEATS: usize = 3;

/// One class's one-vs-rest curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCurves {
    /// The class label.
    pub class: String,
    /// ROC curve (x = false positive rate, y = true positive rate).
    pub roc: Option<Curve>,
    /// Precision-recall curve (x = recall, y = precision).
    pub precision_recall: Option<Curve>,
    /// Calibration curve, 10 uniform bins (x = mean predicted, y = observed frequency).
    pub calibration: Option<Curve>,
}

/// Drop in a score when one input column is shuffled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// Input column.
    pub feature: String,
    /// Mean decrease of the score over the repeats.
    pub mean: f64,
    /// Standard deviation of the decrease.
    pub std: f64,
}

/// The evaluation stored with a run (`evaluation.json`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EvaluationReport {
    /// Class labels (classification).
    pub classes: Vec<String>,
    /// Rows true class, columns predicted class.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// Curves per class (binary: the positive class only).
    pub curves: Vec<ClassCurves>,
    /// Up to 2,000 (predicted, residual) pairs (regression).
    pub residuals: Vec<[f64; 2]>,
    /// Permutation importance, largest first.
    pub importance: Vec<Importance>,
    /// The score importance is measured with.
    pub importance_score: String,
}

/// Curves and confusion matrix of a classifier's test predictions.
pub fn classification_report(
    y_true: &[usize],
    proba: &[Vec<f64>],
    classes: &[String],
) -> EvaluationReport {
    let y_pred: Vec<usize> = proba.iter().map(|p| crate::models::argmax(p)).collect();
    let confusion_matrix =
        super::confusion_matrix(y_true, &y_pred, classes.len()).unwrap_or_default();
    let shown: Vec<usize> = if classes.len() == 2 {
        vec![1]
    } else {
        (0..classes.len()).collect()
    };
    let curves = shown
        .into_iter()
        .map(|c| {
            let truth: Vec<bool> = y_true.iter().map(|&y| y == c).collect();
            let scores: Vec<f64> = proba
                .iter()
                .map(|p| p.get(c).copied().unwrap_or(0.0))
                .collect();
            ClassCurves {
                class: classes.get(c).cloned().unwrap_or_default(),
                roc: roc_curve(&truth, &scores).ok(),
                precision_recall: precision_recall_curve(&truth, &scores).ok(),
                calibration: calibration_curve(&truth, &scores, 10).ok(),
            }
        })
        .collect();
    EvaluationReport {
        classes: classes.to_vec(),
        confusion_matrix,
        curves,
        ..EvaluationReport::default()
    }
}

/// Residuals of a regressor's test predictions (an even sample of at most 2,000).
pub fn regression_report(y_true: &[f64], predicted: &[f64]) -> EvaluationReport {
    let step = (y_true.len() / 2000).max(1);
    let residuals = y_true
        .iter()
        .zip(predicted)
        .step_by(step)
        .map(|(t, p)| [*p, t - p])
        .collect();
    EvaluationReport {
        residuals,
        ..EvaluationReport::default()
    }
}

/// Permutation importance of input-column `groups` (each a set of model-input indices that
/// come from one original column) on row-major `x` with `cols` columns: how much `score` drops
/// when a group's values are shuffled across rows, on at most 5,000 rows.
pub fn permutation_importance(
    x: &[f64],
    cols: usize,
    groups: &[(String, Vec<usize>)],
    score: &(dyn Fn(&[f64], &[usize]) -> f64 + Sync),
    seed: u64,
) -> Vec<Importance> {
    use rayon::prelude::*;
    let rows = x.len().checked_div(cols).unwrap_or(0);
    let used: Vec<usize> = (0..rows.min(IMPORTANCE_ROWS))
        .map(|i| i * rows / rows.clamp(1, IMPORTANCE_ROWS))
        .collect();
    let base_x: Vec<f64> = used
        .iter()
        .flat_map(|&r| x[r * cols..(r + 1) * cols].iter().copied())
        .collect();
    let baseline = score(&base_x, &used);
    let mut out: Vec<Importance> = groups
        .par_iter()
        .enumerate()
        .map(|(g, (name, columns))| {
            let mut rng = SeededRng::new(seed ^ (g as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let drops: Vec<f64> = (0..IMPORTANCE_REPEATS)
                .map(|_| {
                    let mut order: Vec<usize> = (0..used.len()).collect();
                    rng.shuffle(&mut order);
                    let mut shuffled = base_x.clone();
                    for (i, &from) in order.iter().enumerate() {
                        for &c in columns {
                            shuffled[i * cols + c] = base_x[from * cols + c];
                        }
                    }
                    baseline - score(&shuffled, &used)
                })
                .collect();
            let (mean, std) = super::mean_std(&drops, 0);
            Importance {
                feature: name.clone(),
                mean,
                std,
            }
        })
        .collect();
    out.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    out
}
