//! L2-regularised logistic regression, binary and multinomial, solved with L-BFGS on contiguous
//! rows in parallel. Same objective as scikit-learn's `LogisticRegression(penalty="l2", C=C)`:
//! `C * sum(log_loss) + 0.5 * ||W||^2`, intercept not penalised; binary problems fit one
//! coefficient vector (sigmoid), more classes fit the multinomial (softmax) model.
//!
//! `max_iter` and `tol` mean what they mean for scikit-learn's `lbfgs` solver: at most
//! `max_iter` L-BFGS iterations, converged when the largest gradient component of the mean loss
//! is at most `tol` (or the loss stops decreasing, scipy's `ftol`); a fit that runs out of
//! iterations keeps its last iterate and says so in [`LogisticModel::warnings`], as scikit-learn's
//! `ConvergenceWarning` does.
//!
//! Memory: the input matrix is borrowed, never copied; extra memory is one gradient vector per
//! rayon chunk of 4096 rows plus L-BFGS's 20 correction vectors, each `n_classes × (n_features + 1)`.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::optim::{FTOL, Objective, Stop, lbfgs_with};
use crate::features::Matrix;

/// Rows per parallel chunk.
const CHUNK: usize = 4096;

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// Coefficients: one row for binary problems, one per class otherwise.
    pub coef: Vec<Vec<f64>>,
    /// Intercepts, matching `coef`.
    pub intercept: Vec<f64>,
    /// Number of classes.
    pub n_classes: usize,
    /// Whether the solver met its tolerance within `max_iter`.
    pub converged: bool,
    /// L-BFGS iterations used (scikit-learn's `n_iter_`).
    pub iterations: usize,
    /// The iteration budget it had (0 in artifacts written before it was recorded).
    #[serde(default)]
    pub max_iter: usize,
    /// Whether it stopped because the line search found no decrease (scipy's status 2).
    #[serde(default)]
    pub line_search_failed: bool,
}

/// scikit-learn's default `tol` for `LogisticRegression`.
pub const DEFAULT_TOL: f64 = 1e-4;

struct LogLoss<'a> {
    x: &'a Matrix,
    y: &'a [usize],
    /// 1 for binary (sigmoid), else the number of classes.
    outputs: usize,
    /// 1 / (C * n): penalty weight on the mean loss.
    penalty: f64,
}

impl LogLoss<'_> {
    fn width(&self) -> usize {
        self.x.cols + 1
    }
}

fn sigmoid_log_loss(z: f64, positive: bool) -> (f64, f64) {
    // log(1 + exp(-z)) computed stably; derivative w.r.t. z is p - y.
    let p = 1.0 / (1.0 + (-z).exp());
    let loss = if positive {
        if z > 0.0 {
            (-z).exp().ln_1p()
        } else {
            -z + z.exp().ln_1p()
        }
    } else if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    };
    (loss, p - if positive { 1.0 } else { 0.0 })
}

impl Objective for LogLoss<'_> {
    fn evaluate(&self, params: &[f64], grad: &mut [f64]) -> f64 {
        let (d, w, k) = (self.x.cols, self.width(), self.outputs);
        let n = self.x.rows;
        let (loss, mut g) = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let mut g = vec![0.0; params.len()];
                let mut loss = 0.0;
                let mut z = vec![0.0; k];
                for i in chunk * CHUNK..((chunk + 1) * CHUNK).min(n) {
                    let row = self.x.row(i);
                    for (c, zc) in z.iter_mut().enumerate() {
                        let p = &params[c * w..(c + 1) * w];
                        *zc = p[d] + row.iter().zip(&p[..d]).map(|(a, b)| a * b).sum::<f64>();
                    }
                    if k == 1 {
                        let (l, dz) = sigmoid_log_loss(z[0], self.y[i] == 1);
                        loss += l;
                        for (gj, xj) in g[..d].iter_mut().zip(row) {
                            *gj += dz * xj;
                        }
                        g[d] += dz;
                    } else {
                        let max = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
                        let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                        let log_sum = max + sum.ln();
                        loss += log_sum - z[self.y[i]];
                        for c in 0..k {
                            let dz =
                                (z[c] - log_sum).exp() - if self.y[i] == c { 1.0 } else { 0.0 };
                            let gc = &mut g[c * w..(c + 1) * w];
                            for (gj, xj) in gc[..d].iter_mut().zip(row) {
                                *gj += dz * xj;
                            }
                            gc[d] += dz;
                        }
                    }
                }
                (loss, g)
            })
            .reduce(
                || (0.0, vec![0.0; params.len()]),
                |(la, mut ga), (lb, gb)| {
                    ga.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
                    (la + lb, ga)
                },
            );
        let inv_n = 1.0 / n as f64;
        let mut value = loss * inv_n;
        g.iter_mut().for_each(|v| *v *= inv_n);
        for c in 0..k {
            for j in 0..d {
                let wj = params[c * w + j];
                value += 0.5 * self.penalty * wj * wj;
                g[c * w + j] += self.penalty * wj;
            }
        }
        grad.copy_from_slice(&g);
        value
    }
}

/// Fits the model to rows `x` with class indices `y` (0..n_classes), with scikit-learn's
/// default `tol` (1e-4).
pub fn fit_logistic(
    x: &Matrix,
    y: &[usize],
    n_classes: usize,
    c: f64,
    max_iter: usize,
) -> LogisticModel {
    let fitted = fit_logistic_with(x, y, n_classes, c, max_iter, DEFAULT_TOL, &|| false);
    fitted.unwrap_or_else(|| LogisticModel {
        coef: vec![vec![0.0; x.cols]; if n_classes <= 2 { 1 } else { n_classes }],
        intercept: vec![0.0; if n_classes <= 2 { 1 } else { n_classes }],
        n_classes,
        converged: false,
        iterations: 0,
        max_iter,
        line_search_failed: false,
    })
}

/// Fits as `LogisticRegression(C=c, max_iter=max_iter, tol=tol)`; `None` when `cancelled`
/// returns true (checked before every L-BFGS iteration).
pub fn fit_logistic_with(
    x: &Matrix,
    y: &[usize],
    n_classes: usize,
    c: f64,
    max_iter: usize,
    tol: f64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<LogisticModel> {
    let outputs = if n_classes <= 2 { 1 } else { n_classes };
    let objective = LogLoss {
        x,
        y,
        outputs,
        penalty: 1.0 / (c * x.rows.max(1) as f64),
    };
    let w = objective.width();
    let minimum = lbfgs_with(
        &objective,
        vec![0.0; outputs * w],
        max_iter,
        tol,
        FTOL,
        cancelled,
    );
    if minimum.stop == Stop::Cancelled {
        return None;
    }
    let coef = (0..outputs)
        .map(|c| minimum.x[c * w..c * w + x.cols].to_vec())
        .collect();
    let intercept = (0..outputs).map(|c| minimum.x[c * w + x.cols]).collect();
    Some(LogisticModel {
        coef,
        intercept,
        n_classes,
        converged: minimum.converged,
        iterations: minimum.iterations,
        max_iter,
        line_search_failed: minimum.stop == Stop::LineSearch,
    })
}

impl LogisticModel {
    /// scikit-learn's `ConvergenceWarning`, worded for Kiln; empty when the solver converged.
    pub fn warnings(&self) -> Vec<String> {
        if self.converged {
            return Vec::new();
        }
        vec![if self.line_search_failed {
            format!(
                "lbfgs failed to converge after {} iterations: the line search found no decrease \
                 (ABNORMAL_TERMINATION_IN_LNSRCH); scale the data",
                self.iterations
            )
        } else if self.max_iter > 0 {
            format!(
                "lbfgs failed to converge after {} iterations (max_iter={}); increase max_iter \
                 or scale the data",
                self.iterations, self.max_iter
            )
        } else {
            format!(
                "lbfgs failed to converge after {} iterations; increase max_iter or scale the data",
                self.iterations
            )
        }]
    }

    /// Class probabilities of each row (`n_classes` columns).
    pub fn predict_proba(&self, x: &Matrix) -> Vec<Vec<f64>> {
        (0..x.rows)
            .into_par_iter()
            .map(|i| {
                let row = x.row(i);
                let z: Vec<f64> = self
                    .coef
                    .iter()
                    .zip(&self.intercept)
                    .map(|(w, b)| b + row.iter().zip(w).map(|(a, c)| a * c).sum::<f64>())
                    .collect();
                if self.coef.len() == 1 {
                    let p = 1.0 / (1.0 + (-z[0]).exp());
                    vec![1.0 - p, p]
                } else {
                    let max = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
                    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
                    let sum: f64 = e.iter().sum();
                    e.into_iter().map(|v| v / sum).collect()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_classes_are_learned() {
        let x = Matrix {
            values: vec![-2.0, -1.0, 1.0, 2.0],
            rows: 4,
            cols: 1,
        };
        let model = fit_logistic(&x, &[0, 0, 1, 1], 2, 1.0, 100);
        assert!(model.converged);
        assert!(model.warnings().is_empty());
        let p = model.predict_proba(&x);
        assert!(p[0][1] < 0.5 && p[3][1] > 0.5);
        assert!(model.coef[0][0] > 0.0);
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn data() -> Matrix {
        Matrix {
            values: vec![
                -2.0, 1.0, -1.0, 3.0, 1.0, -2.0, 2.0, 0.5, 0.5, 0.1, -0.3, 2.0,
            ],
            rows: 6,
            cols: 2,
        }
    }

    #[test]
    fn max_iter_is_the_number_of_lbfgs_iterations() {
        let model = fit_logistic_with(&data(), &[0, 0, 1, 1, 0, 1], 2, 1.0, 2, 1e-12, &|| false)
            .unwrap_or_else(|| panic!("not cancelled"));
        assert_eq!(model.iterations, 2);
        assert!(!model.converged);
        assert_eq!(
            model.warnings(),
            vec![
                "lbfgs failed to converge after 2 iterations (max_iter=2); increase max_iter or \
                 scale the data"
                    .to_owned()
            ]
        );
    }

    #[test]
    fn cancelled_fits_give_nothing() {
        assert!(
            fit_logistic_with(&data(), &[0, 0, 1, 1, 0, 1], 2, 1.0, 100, 1e-4, &|| true).is_none()
        );
    }

    #[test]
    fn old_artifacts_still_load() {
        let old =
            r#"{"coef":[[1.0]],"intercept":[0.5],"n_classes":2,"converged":true,"iterations":7}"#;
        let model: LogisticModel = serde_json::from_str(old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((model.max_iter, model.iterations), (0, 7));
        assert!(model.warnings().is_empty());
    }
}
