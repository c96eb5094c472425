//! L2-regularised logistic regression, binary and multinomial, solved with L-BFGS on contiguous
//! rows in parallel. Same objective as scikit-learn's `LogisticRegression(penalty="l2", C=C)`:
//! `C * sum(log_loss) + 0.5 * ||W||^2`, intercept not penalised; binary problems fit one
//! coefficient vector (sigmoid), more classes fit the multinomial (softmax) model.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::optim::{Objective, lbfgs};
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
    /// Iterations used.
    pub iterations: usize,
}

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

/// Fits the model to rows `x` with class indices `y` (0..n_classes).
pub fn fit_logistic(
    x: &Matrix,
    y: &[usize],
    n_classes: usize,
    c: f64,
    max_iter: usize,
) -> LogisticModel {
    let outputs = if n_classes <= 2 { 1 } else { n_classes };
    let objective = LogLoss {
        x,
        y,
        outputs,
        penalty: 1.0 / (c * x.rows.max(1) as f64),
    };
    let w = objective.width();
    // Tighter than scikit-learn's tol=1e-4 so both land on the same optimum.
    let minimum = lbfgs(
        &objective,
        vec![0.0; outputs * w],
        max_iter.max(1) * 10,
        1e-9,
    );
    let coef = (0..outputs)
        .map(|c| minimum.x[c * w..c * w + x.cols].to_vec())
        .collect();
    let intercept = (0..outputs).map(|c| minimum.x[c * w + x.cols]).collect();
    LogisticModel {
        coef,
        intercept,
        n_classes,
        converged: minimum.converged,
        iterations: minimum.iterations,
    }
}

impl LogisticModel {
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
        let p = model.predict_proba(&x);
        assert!(p[0][1] < 0.5 && p[3][1] > 0.5);
        assert!(model.coef[0][0] > 0.0);
    }
}
