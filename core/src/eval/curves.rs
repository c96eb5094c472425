//! ROC, precision-recall and calibration curves, point for point as scikit-learn draws them.

use serde::{Deserialize, Serialize};

use super::{MetricError, check_finite, check_not_empty, check_probabilities, check_same_len};

/// A curve as parallel vectors of points.
///
/// What `x`, `y` and `thresholds` hold depends on the curve: see [`roc_curve`],
/// [`precision_recall_curve`] and [`calibration_curve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    /// Horizontal coordinates.
    pub x: Vec<f64>,
    /// Vertical coordinates.
    pub y: Vec<f64>,
    /// The score threshold of each point (empty for calibration curves). JSON has no
    /// infinity: the ROC curve's first threshold (+inf) is written as `null` and read back.
    #[serde(deserialize_with = "nulls_as_infinity")]
    pub thresholds: Vec<f64>,
}

fn nulls_as_infinity<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<f64>, D::Error> {
    let values: Vec<Option<f64>> = Deserialize::deserialize(deserializer)?;
    Ok(values
        .into_iter()
        .map(|v| v.unwrap_or(f64::INFINITY))
        .collect())
}

/// Confusion counts at each distinct score, from the highest score down (scikit-learn's
/// `confusion_matrix_at_thresholds`): `fps[i]` / `tps[i]` count the negatives / positives with
/// `score >= thresholds[i]`. The caller has checked lengths and finiteness.
pub(crate) struct ThresholdCounts {
    /// False positives at each threshold.
    pub fps: Vec<f64>,
    /// True positives at each threshold.
    pub tps: Vec<f64>,
    /// Distinct scores, decreasing.
    pub thresholds: Vec<f64>,
}

pub(crate) fn threshold_counts(y_true: &[bool], scores: &[f64]) -> ThresholdCounts {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Stable and descending; ties keep their order (which does not change the counts).
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut fps = Vec::new();
    let mut tps = Vec::new();
    let mut thresholds = Vec::new();
    let mut tp = 0.0_f64;
    for (i, &idx) in order.iter().enumerate() {
        if y_true[idx] {
            tp += 1.0;
        }
        let last_of_tie = order
            .get(i + 1)
            .is_none_or(|&next| scores[next] != scores[idx]);
        if last_of_tie {
            tps.push(tp);
            // As scikit-learn: fps = 1 + index - tps (exact in f64 for any realistic count).
            fps.push(1.0 + i as f64 - tp);
            thresholds.push(scores[idx]);
        }
    }
    ThresholdCounts {
        fps,
        tps,
        thresholds,
    }
}

/// Checks the inputs of a binary curve or ranking metric.
pub(crate) fn check_binary_scores(
    y_len: usize,
    scores: &[f64],
    scores_name: &'static str,
) -> Result<(), MetricError> {
    check_same_len("y_true", y_len, scores_name, scores.len())?;
    check_not_empty("y_true", y_len)?;
    check_finite(scores_name, scores)
}

/// The receiver operating characteristic curve, equal to scikit-learn's
/// `roc_curve(y_true, scores)` (with its default `drop_intermediate=True`).
///
/// `x` is the false positive rate, `y` the true positive rate and `thresholds` the score at or
/// above which a sample is called positive, decreasing. The curve starts at (0, 0) with threshold
/// `f64::INFINITY`, ends at (1, 1), and points that lie on a straight segment between their
/// neighbours are dropped, as scikit-learn does. Errors when `y_true` holds only one class (a
/// rate would divide by zero) or a score is not finite.
pub fn roc_curve(y_true_binary: &[bool], scores: &[f64]) -> Result<Curve, MetricError> {
    check_binary_scores(y_true_binary.len(), scores, "scores")?;
    if !(y_true_binary.contains(&true) && y_true_binary.contains(&false)) {
        return Err(MetricError::NeedsBothClasses {
            metric: "roc_curve",
        });
    }
    let ThresholdCounts {
        mut fps,
        mut tps,
        mut thresholds,
    } = threshold_counts(y_true_binary, scores);

    if fps.len() > 2 {
        // Keep the ends and every corner (a non-zero second difference in fps or tps).
        let n = fps.len();
        let keep: Vec<usize> = (0..n)
            .filter(|&i| {
                i == 0
                    || i == n - 1
                    || fps[i + 1] - 2.0 * fps[i] + fps[i - 1] != 0.0
                    || tps[i + 1] - 2.0 * tps[i] + tps[i - 1] != 0.0
            })
            .collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
        thresholds = keep.iter().map(|&i| thresholds[i]).collect();
    }

    let total_neg = fps.last().copied().unwrap_or(0.0);
    let total_pos = tps.last().copied().unwrap_or(0.0);
    let mut x = Vec::with_capacity(fps.len() + 1);
    let mut y = Vec::with_capacity(tps.len() + 1);
    let mut t = Vec::with_capacity(thresholds.len() + 1);
    x.push(0.0);
    y.push(0.0);
    t.push(f64::INFINITY);
    x.extend(fps.iter().map(|f| f / total_neg));
    y.extend(tps.iter().map(|p| p / total_pos));
    t.extend(thresholds);
    Ok(Curve {
        x,
        y,
        thresholds: t,
    })
}

/// The precision-recall curve, equal to scikit-learn's `precision_recall_curve(y_true, scores)`.
///
/// `x` is recall, `y` precision, in scikit-learn's order: from the lowest threshold (recall 1)
/// to the highest, followed by the point (recall 0, precision 1) that has no threshold. So
/// `thresholds` (the distinct scores, increasing) is one shorter than `x` and `y`. Errors when
/// `y_true` has no positive (recall would divide by zero) or a score is not finite.
pub fn precision_recall_curve(
    y_true_binary: &[bool],
    scores: &[f64],
) -> Result<Curve, MetricError> {
    check_binary_scores(y_true_binary.len(), scores, "scores")?;
    if !y_true_binary.contains(&true) {
        return Err(MetricError::NeedsPositive {
            metric: "precision_recall_curve",
        });
    }
    let counts = threshold_counts(y_true_binary, scores);
    let total_pos = counts.tps.last().copied().unwrap_or(0.0);
    let n = counts.tps.len();
    let mut precision = Vec::with_capacity(n + 1);
    let mut recall = Vec::with_capacity(n + 1);
    for i in (0..n).rev() {
        let (tp, fp) = (counts.tps[i], counts.fps[i]);
        let predicted = tp + fp;
        precision.push(if predicted != 0.0 {
            tp / predicted
        } else {
            0.0
        });
        recall.push(tp / total_pos);
    }
    precision.push(1.0);
    recall.push(0.0);
    let mut thresholds = counts.thresholds;
    thresholds.reverse();
    Ok(Curve {
        x: recall,
        y: precision,
        thresholds,
    })
}

/// The calibration (reliability) curve, equal to scikit-learn's
/// `calibration_curve(y_true, prob, n_bins=n_bins, strategy="uniform")`.
///
/// [0, 1] is cut into `n_bins` equal bins (a probability on an inner edge falls into the lower
/// bin, as `np.searchsorted` puts it); for each bin holding at least one sample, `x` is the mean
/// predicted probability and `y` the fraction of positives. Empty bins are left out, so the
/// curve has at most `n_bins` points. `thresholds` is empty. Errors when `n_bins` is 0 or a
/// probability is outside [0, 1].
pub fn calibration_curve(
    y_true_binary: &[bool],
    prob: &[f64],
    n_bins: usize,
) -> Result<Curve, MetricError> {
    check_same_len("y_true", y_true_binary.len(), "prob", prob.len())?;
    check_not_empty("y_true", y_true_binary.len())?;
    check_probabilities("calibration_curve", "prob", prob)?;
    if n_bins == 0 {
        return Err(MetricError::InvalidArgument(
            "calibration_curve needs at least 1 bin, got 0".to_string(),
        ));
    }
    // np.linspace(0, 1, n_bins + 1): edge i is i * (1 / n_bins); the inner edges decide the bin.
    let step = 1.0 / n_bins as f64;
    let inner_edges: Vec<f64> = (1..n_bins).map(|i| i as f64 * step).collect();
    let mut sums = vec![0.0_f64; n_bins];
    let mut positives = vec![0.0_f64; n_bins];
    let mut totals = vec![0_u64; n_bins];
    for (&p, &positive) in prob.iter().zip(y_true_binary) {
        // np.searchsorted(edges, p, side="left") = how many edges are strictly below p.
        let bin = inner_edges.partition_point(|&edge| edge < p);
        sums[bin] += p;
        if positive {
            positives[bin] += 1.0;
        }
        totals[bin] += 1;
    }
    let mut x = Vec::new();
    let mut y = Vec::new();
    for bin in 0..n_bins {
        if totals[bin] > 0 {
            let total = totals[bin] as f64;
            x.push(sums[bin] / total);
            y.push(positives[bin] / total);
        }
    }
    Ok(Curve {
        x,
        y,
        thresholds: Vec::new(),
    })
}

#[cfg(test)]
mod json_tests {
    use super::*;

    #[test]
    fn a_roc_curve_survives_a_json_round_trip() {
        let curve = roc_curve(&[true, false, true], &[0.9, 0.2, 0.6]).expect("curve");
        let back: Curve =
            serde_json::from_str(&serde_json::to_string(&curve).expect("json")).expect("parse");
        assert_eq!(back, curve);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_curve_starts_at_infinity_and_ends_at_one_one() {
        let curve = roc_curve(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert_eq!(curve.x, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(curve.y, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(curve.thresholds, vec![f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
    }

    #[test]
    fn roc_curve_needs_both_classes() {
        let err = roc_curve(&[true, true], &[0.1, 0.2]).unwrap_err();
        assert_eq!(err.to_string(), "roc_curve needs both classes in y_true");
    }

    #[test]
    fn precision_recall_curve_ends_at_recall_zero_precision_one() {
        let curve =
            precision_recall_curve(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        assert_eq!(curve.x, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
        assert_eq!(curve.y, vec![0.5, 2.0 / 3.0, 0.5, 1.0, 1.0]);
        assert_eq!(curve.thresholds, vec![0.1, 0.35, 0.4, 0.8]);
    }

    #[test]
    fn calibration_curve_puts_edge_values_in_the_lower_bin_and_skips_empty_bins() {
        let curve = calibration_curve(&[false, true, true], &[0.0, 0.5, 1.0], 2).unwrap();
        assert_eq!(curve.x, vec![0.25, 1.0]);
        assert_eq!(curve.y, vec![0.5, 1.0]);
    }

    #[test]
    fn calibration_curve_rejects_bad_input() {
        assert!(calibration_curve(&[true], &[0.5], 0).is_err());
        let err = calibration_curve(&[true], &[1.5], 5).unwrap_err();
        assert!(err.to_string().contains("outside [0, 1]"), "{err}");
        let err = calibration_curve(&[true, false], &[0.5], 5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y_true and prob have different lengths (2 vs 1)"
        );
    }

    #[test]
    fn curves_reject_non_finite_scores() {
        let err = roc_curve(&[true, false], &[f64::NAN, 0.2]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "scores[0] is NaN; metrics need finite numbers"
        );
    }
}
