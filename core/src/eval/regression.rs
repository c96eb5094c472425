//! Regression metrics over `&[f64]`, equal to scikit-learn's.

use std::collections::BTreeMap;

use super::{MetricError, check_finite, check_not_empty, check_same_len, mean};

/// Checks two finite value vectors of the same non-zero length.
fn check(y_true: &[f64], y_pred: &[f64]) -> Result<(), MetricError> {
    check_same_len("y_true", y_true.len(), "y_pred", y_pred.len())?;
    check_not_empty("y_true", y_true.len())?;
    check_finite("y_true", y_true)?;
    check_finite("y_pred", y_pred)
}

/// The coefficient of determination R² (scikit-learn's `r2_score`, with its default
/// `force_finite=True`): `1 − Σ(y − ŷ)² / Σ(y − ȳ)²`.
///
/// When `y_true` is constant the ratio is undefined; like scikit-learn this returns 1.0 for
/// perfect predictions and 0.0 otherwise. Errors with fewer than 2 samples (scikit-learn returns
/// NaN with a warning), different lengths, or a non-finite value.
pub fn r2(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    check(y_true, y_pred)?;
    if y_true.len() < 2 {
        return Err(MetricError::TooFewSamples {
            metric: "r2",
            needed: 2,
            got: y_true.len(),
        });
    }
    let numerator: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p).powi(2))
        .sum();
    let y_mean = mean(y_true.iter().copied());
    let denominator: f64 = y_true.iter().map(|t| (t - y_mean).powi(2)).sum();
    Ok(if numerator == 0.0 {
        1.0
    } else if denominator == 0.0 {
        0.0
    } else {
        1.0 - numerator / denominator
    })
}

/// Mean squared error (scikit-learn's `mean_squared_error`). Errors on different lengths, no
/// samples, or a non-finite value.
pub fn mse(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    check(y_true, y_pred)?;
    Ok(mean(
        y_true.iter().zip(y_pred).map(|(t, p)| (t - p).powi(2)),
    ))
}

/// Root mean squared error, the square root of [`mse`] (scikit-learn's
/// `root_mean_squared_error`), in the units of the target.
pub fn rmse(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    Ok(mse(y_true, y_pred)?.sqrt())
}

/// Mean absolute error (scikit-learn's `mean_absolute_error`). Errors on different lengths, no
/// samples, or a non-finite value.
pub fn mae(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    check(y_true, y_pred)?;
    Ok(mean(y_true.iter().zip(y_pred).map(|(t, p)| (t - p).abs())))
}

/// Mean absolute percentage error as a fraction, not a percentage (scikit-learn's
/// `mean_absolute_percentage_error`): the mean of `|ŷ − y| / max(|y|, ε)` with
/// `ε = f64::EPSILON`. A true value of 0 therefore gives a huge (but finite) error, exactly as
/// in scikit-learn. Errors on different lengths, no samples, or a non-finite value.
pub fn mape(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    check(y_true, y_pred)?;
    Ok(mean(
        y_true
            .iter()
            .zip(y_pred)
            .map(|(t, p)| (p - t).abs() / t.abs().max(f64::EPSILON)),
    ))
}

/// Every regression metric of [`super::METRICS`] by name, or the first that cannot be
/// computed as an error.
pub fn regression_metrics(
    y_true: &[f64],
    y_pred: &[f64],
) -> Result<BTreeMap<String, f64>, MetricError> {
    let scores = super::score_regression(y_true, y_pred);
    match scores.absent.iter().next() {
        Some((name, reason)) => Err(MetricError::InvalidArgument(format!("{name}: {reason}"))),
        None => Ok(scores.values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r2_of_constant_truth_follows_force_finite() {
        assert_eq!(r2(&[2.0, 2.0], &[2.0, 2.0]).unwrap(), 1.0);
        assert_eq!(r2(&[2.0, 2.0], &[2.0, 3.0]).unwrap(), 0.0);
    }

    #[test]
    fn r2_needs_two_samples() {
        let err = r2(&[1.0], &[1.0]).unwrap_err();
        assert_eq!(err.to_string(), "r2 needs at least 2 samples, got 1");
    }

    #[test]
    fn mape_divides_by_epsilon_at_zero() {
        let v = mape(&[0.0], &[1.0]).unwrap();
        assert_eq!(v, 1.0 / f64::EPSILON);
    }

    #[test]
    fn non_finite_and_mismatched_inputs_are_errors() {
        let err = mse(&[1.0, f64::INFINITY], &[1.0, 2.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y_true[1] is inf; metrics need finite numbers"
        );
        let err = mae(&[1.0], &[1.0, 2.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y_true and y_pred have different lengths (1 vs 2)"
        );
        assert!(regression_metrics(&[], &[]).is_err());
    }

    #[test]
    fn regression_metrics_keys() {
        let m = regression_metrics(&[1.0, 2.0, 3.0], &[1.0, 2.5, 2.0]).unwrap();
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["mae", "mape", "mse", "r2", "rmse"]);
    }
}
