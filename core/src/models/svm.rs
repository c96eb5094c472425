//! Support vector classification as scikit-learn's `SVC(C, kernel, gamma)` (libsvm): the dual
//! problem solved by SMO with libsvm's second-order working-set selection, one-vs-one for more
//! than two classes with majority voting. Like `SVC()` without `probability=True`, it predicts
//! labels, not probabilities.

use serde::{Deserialize, Serialize};

use crate::features::Matrix;

/// Most training rows (the kernel matrix is held in memory, n² entries).
pub const MAX_ROWS: usize = 10_000;

/// Kernel function.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// `x·z`.
    Linear,
    /// `exp(-gamma |x - z|²)`.
    Rbf,
    /// `(gamma x·z + coef0)^degree`.
    Poly,
    /// `tanh(gamma x·z + coef0)`.
    Sigmoid,
}

/// Fitted kernel parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KernelParams {
    /// Kernel.
    pub kernel: Kernel,
    /// Resolved gamma (`scale` = 1 / (n_features · var(X)), `auto` = 1 / n_features).
    pub gamma: f64,
    /// Polynomial degree.
    pub degree: i32,
    /// Independent term of poly and sigmoid.
    pub coef0: f64,
}

impl KernelParams {
    fn eval(&self, a: &[f64], b: &[f64]) -> f64 {
        let dot = || a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        match self.kernel {
            Kernel::Linear => dot(),
            Kernel::Rbf => {
                (-self.gamma * a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>()).exp()
            }
            Kernel::Poly => (self.gamma * dot() + self.coef0).powi(self.degree),
            Kernel::Sigmoid => (self.gamma * dot() + self.coef0).tanh(),
        }
    }
}

/// One binary machine between classes `positive` and `negative`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinarySvm {
    /// Class predicted when the decision value is positive.
    pub positive: usize,
    /// Class predicted otherwise.
    pub negative: usize,
    /// Support vectors.
    pub vectors: Vec<Vec<f64>>,
    /// `alpha_i * y_i` of each support vector.
    pub coef: Vec<f64>,
    /// Offset: decision = sum(coef · K) - rho.
    pub rho: f64,
}

/// A fitted support vector classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmModel {
    /// Kernel.
    pub kernel: KernelParams,
    /// Number of classes.
    pub n_classes: usize,
    /// One machine per pair of classes.
    pub machines: Vec<BinarySvm>,
}

/// Resolves `gamma` as scikit-learn does: a number, `scale` or `auto`.
pub fn resolve_gamma(gamma: &str, x: &Matrix) -> Option<f64> {
    match gamma {
        "scale" => {
            let n = x.values.len() as f64;
            let mean = x.values.iter().sum::<f64>() / n;
            let var = x.values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            Some(if var > 0.0 {
                1.0 / (x.cols as f64 * var)
            } else {
                1.0
            })
        }
        "auto" => Some(1.0 / x.cols.max(1) as f64),
        other => other.parse::<f64>().ok().filter(|g| *g > 0.0),
    }
}

/// Solves one binary problem with labels `y` (+1/-1) on `rows` of `x`.
fn solve(
    x: &Matrix,
    rows: &[usize],
    y: &[f64],
    c: f64,
    kernel: &KernelParams,
    tol: f64,
) -> (Vec<f64>, f64) {
    let n = rows.len();
    let k: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| kernel.eval(x.row(rows[i]), x.row(rows[j])))
                .collect()
        })
        .collect();
    let q = |i: usize, j: usize| y[i] * y[j] * k[i][j];
    let mut alpha = vec![0.0; n];
    let mut grad = vec![-1.0; n];
    let is_up = |a: f64, yi: f64| (yi > 0.0 && a < c) || (yi < 0.0 && a > 0.0);
    let is_low = |a: f64, yi: f64| (yi > 0.0 && a > 0.0) || (yi < 0.0 && a < c);
    let max_iter = 10_000_000usize.min(100 * n * n.max(100));
    for _ in 0..max_iter {
        // Working set selection (libsvm WSS2).
        let mut i = usize::MAX;
        let mut g_max = f64::NEG_INFINITY;
        for t in 0..n {
            if is_up(alpha[t], y[t]) && -y[t] * grad[t] >= g_max {
                g_max = -y[t] * grad[t];
                i = t;
            }
        }
        if i == usize::MAX {
            break;
        }
        let mut j = usize::MAX;
        let mut g_min = f64::INFINITY;
        let mut obj_min = f64::INFINITY;
        for t in 0..n {
            if !is_low(alpha[t], y[t]) {
                continue;
            }
            let value = -y[t] * grad[t];
            g_min = g_min.min(value);
            let b = g_max - value;
            if b > 0.0 {
                let a = (k[i][i] + k[t][t] - 2.0 * k[i][t]).max(1e-12);
                let obj = -(b * b) / a;
                if obj <= obj_min {
                    obj_min = obj;
                    j = t;
                }
            }
        }
        if g_max - g_min < tol || j == usize::MAX {
            break;
        }
        // Update alpha_i and alpha_j (libsvm's analytic step with clipping).
        let (old_i, old_j) = (alpha[i], alpha[j]);
        if y[i] != y[j] {
            let quad = (q(i, i) + q(j, j) + 2.0 * q(i, j)).max(1e-12);
            let delta = (-grad[i] - grad[j]) / quad;
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 && alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = diff;
            } else if diff <= 0.0 && alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > 0.0 && alpha[i] > c {
                alpha[i] = c;
                alpha[j] = c - diff;
            } else if diff <= 0.0 && alpha[j] > c {
                alpha[j] = c;
                alpha[i] = c + diff;
            }
        } else {
            let quad = (q(i, i) + q(j, j) - 2.0 * q(i, j)).max(1e-12);
            let delta = (grad[i] - grad[j]) / quad;
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c && alpha[i] > c {
                alpha[i] = c;
                alpha[j] = sum - c;
            } else if sum <= c && alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > c && alpha[j] > c {
                alpha[j] = c;
                alpha[i] = sum - c;
            } else if sum <= c && alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (di, dj) = (alpha[i] - old_i, alpha[j] - old_j);
        for (t, g) in grad.iter_mut().enumerate() {
            *g += q(t, i) * di + q(t, j) * dj;
        }
    }
    // rho: average of y·grad over free vectors, else the middle of the feasible interval.
    let (mut sum, mut count) = (0.0, 0usize);
    let (mut ub, mut lb) = (f64::INFINITY, f64::NEG_INFINITY);
    for t in 0..n {
        let yg = y[t] * grad[t];
        if alpha[t] > 0.0 && alpha[t] < c {
            sum += yg;
            count += 1;
        } else if (alpha[t] >= c && y[t] < 0.0) || (alpha[t] <= 0.0 && y[t] > 0.0) {
            ub = ub.min(yg);
        } else {
            lb = lb.max(yg);
        }
    }
    let rho = if count > 0 {
        sum / count as f64
    } else {
        (ub + lb) / 2.0
    };
    (alpha, rho)
}

/// Fits `SVC(C, kernel, gamma, degree, coef0)` to class indices `y`.
pub fn fit_svm(
    x: &Matrix,
    y: &[usize],
    n_classes: usize,
    c: f64,
    kernel: KernelParams,
) -> SvmModel {
    use rayon::prelude::*;
    let pairs: Vec<(usize, usize)> = (0..n_classes)
        .flat_map(|a| (a + 1..n_classes).map(move |b| (a, b)))
        .collect();
    let machines = pairs
        .into_par_iter()
        .map(|(a, b)| {
            let rows: Vec<usize> = (0..x.rows).filter(|&r| y[r] == a || y[r] == b).collect();
            // libsvm orders the pair so the first class seen is +1; scikit-learn passes the
            // lower class index first.
            let labels: Vec<f64> = rows
                .iter()
                .map(|&r| if y[r] == a { 1.0 } else { -1.0 })
                .collect();
            let (alpha, rho) = solve(x, &rows, &labels, c, &kernel, 1e-3);
            let support: Vec<usize> = (0..rows.len()).filter(|&i| alpha[i] > 0.0).collect();
            BinarySvm {
                positive: a,
                negative: b,
                vectors: support.iter().map(|&i| x.row(rows[i]).to_vec()).collect(),
                coef: support.iter().map(|&i| alpha[i] * labels[i]).collect(),
                rho,
            }
        })
        .collect();
    SvmModel {
        kernel,
        n_classes,
        machines,
    }
}

impl SvmModel {
    /// Predicted class of each row (one-vs-one votes; ties to the lowest class, as libsvm).
    pub fn predict(&self, x: &Matrix) -> Vec<usize> {
        use rayon::prelude::*;
        (0..x.rows)
            .into_par_iter()
            .map(|r| {
                let row = x.row(r);
                let mut votes = vec![0usize; self.n_classes];
                for m in &self.machines {
                    let decision: f64 = m
                        .vectors
                        .iter()
                        .zip(&m.coef)
                        .map(|(v, c)| c * self.kernel.eval(v, row))
                        .sum::<f64>()
                        - m.rho;
                    votes[if decision > 0.0 {
                        m.positive
                    } else {
                        m.negative
                    }] += 1;
                }
                let mut best = 0;
                for (class, &v) in votes.iter().enumerate() {
                    if v > votes[best] {
                        best = class;
                    }
                }
                best
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_clusters() {
        let values = vec![0.0, 0.0, 0.2, 0.1, 0.1, 0.3, 3.0, 3.0, 3.2, 2.9, 2.8, 3.1];
        let x = Matrix {
            values,
            rows: 6,
            cols: 2,
        };
        let y = [0, 0, 0, 1, 1, 1];
        let kernel = KernelParams {
            kernel: Kernel::Rbf,
            gamma: resolve_gamma("scale", &x).unwrap_or(1.0),
            degree: 3,
            coef0: 0.0,
        };
        let model = fit_svm(&x, &y, 2, 1.0, kernel);
        assert_eq!(model.predict(&x), y.to_vec());
    }
}
