//! Gaussian naive Bayes, as scikit-learn's `GaussianNB(var_smoothing)`: per-class means and
//! variances, with `var_smoothing * max(feature variance)` added to every variance.
//!
//! Memory: the input matrix is borrowed, never copied; extra memory is the per-class means and
//! variances (`n_classes × d`), whatever the number of rows.

use serde::{Deserialize, Serialize};

use crate::features::Matrix;

/// A fitted Gaussian naive Bayes model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GaussianNbModel {
    /// Per class, per feature mean.
    pub theta: Vec<Vec<f64>>,
    /// Per class, per feature variance (smoothed).
    pub var: Vec<Vec<f64>>,
    /// Class priors (training frequencies).
    pub prior: Vec<f64>,
}

/// Fits the model.
pub fn fit_gaussian_nb(
    x: &Matrix,
    y: &[usize],
    n_classes: usize,
    var_smoothing: f64,
) -> GaussianNbModel {
    let d = x.cols;
    let mut counts = vec![0usize; n_classes];
    let mut theta = vec![vec![0.0; d]; n_classes];
    for (i, &c) in y.iter().enumerate() {
        counts[c] += 1;
        for (t, v) in theta[c].iter_mut().zip(x.row(i)) {
            *t += v;
        }
    }
    for (c, t) in theta.iter_mut().enumerate() {
        t.iter_mut().for_each(|v| *v /= counts[c].max(1) as f64);
    }
    let mut var = vec![vec![0.0; d]; n_classes];
    for (i, &c) in y.iter().enumerate() {
        for ((s, v), m) in var[c].iter_mut().zip(x.row(i)).zip(&theta[c]) {
            *s += (v - m) * (v - m);
        }
    }
    for (c, s) in var.iter_mut().enumerate() {
        s.iter_mut().for_each(|v| *v /= counts[c].max(1) as f64);
    }
    // epsilon = var_smoothing * largest variance of any feature over all rows.
    let n = x.rows as f64;
    let largest = (0..d)
        .map(|j| {
            let mean = (0..x.rows).map(|i| x.row(i)[j]).sum::<f64>() / n;
            (0..x.rows)
                .map(|i| (x.row(i)[j] - mean).powi(2))
                .sum::<f64>()
                / n
        })
        .fold(0.0f64, f64::max);
    let epsilon = var_smoothing * largest;
    var.iter_mut()
        .for_each(|row| row.iter_mut().for_each(|v| *v += epsilon));
    let prior = counts.iter().map(|&c| c as f64 / n).collect();
    GaussianNbModel { theta, var, prior }
}

impl GaussianNbModel {
    /// Class probabilities of each row.
    pub fn predict_proba(&self, x: &Matrix) -> Vec<Vec<f64>> {
        (0..x.rows)
            .map(|i| {
                let row = x.row(i);
                let joint: Vec<f64> = (0..self.prior.len())
                    .map(|c| {
                        let log_prior = self.prior[c].ln();
                        let ll: f64 = row
                            .iter()
                            .zip(&self.theta[c])
                            .zip(&self.var[c])
                            .map(|((v, m), s)| {
                                -0.5 * (2.0 * std::f64::consts::PI * s).ln()
                                    - 0.5 * (v - m).powi(2) / s
                            })
                            .sum();
                        log_prior + ll
                    })
                    .collect();
                let max = joint.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
                let e: Vec<f64> = joint.iter().map(|v| (v - max).exp()).collect();
                let sum: f64 = e.iter().sum();
                e.into_iter().map(|v| v / sum).collect()
            })
            .collect()
    }
}
