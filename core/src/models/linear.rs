//! Linear regression models with scikit-learn's objectives, fitted on centred data so the
//! intercept is never penalised: `LinearRegression` (minimum-norm least squares, like
//! `scipy.linalg.lstsq`), `Ridge(alpha)`, `Lasso(alpha)` and `ElasticNet(alpha, l1_ratio)`
//! (coordinate descent on `1/(2n)||y - Xw||^2 + alpha*l1_ratio*||w||_1 + alpha*(1-l1_ratio)/2*||w||^2`).

use serde::{Deserialize, Serialize};

use crate::features::Matrix;

/// A fitted linear model: `y = x . coef + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// Coefficients, one per input.
    pub coef: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
    /// Iterations (coordinate descent) or 0 for closed-form fits.
    pub iterations: usize,
    /// Whether the solver met its tolerance.
    pub converged: bool,
}

impl LinearModel {
    /// Predictions for each row.
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        (0..x.rows)
            .map(|i| {
                self.intercept
                    + x.row(i)
                        .iter()
                        .zip(&self.coef)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
            })
            .collect()
    }
}

struct Centred {
    means: Vec<f64>,
    y_mean: f64,
    /// Columns of the centred inputs.
    columns: Vec<Vec<f64>>,
    y: Vec<f64>,
}

fn centre(x: &Matrix, y: &[f64]) -> Centred {
    let n = x.rows as f64;
    let means: Vec<f64> = (0..x.cols)
        .map(|j| (0..x.rows).map(|i| x.row(i)[j]).sum::<f64>() / n)
        .collect();
    let y_mean = y.iter().sum::<f64>() / n;
    let columns = (0..x.cols)
        .map(|j| (0..x.rows).map(|i| x.row(i)[j] - means[j]).collect())
        .collect();
    Centred {
        means,
        y_mean,
        columns,
        y: y.iter().map(|v| v - y_mean).collect(),
    }
}

fn finish(c: &Centred, coef: Vec<f64>, iterations: usize, converged: bool) -> LinearModel {
    let intercept = c.y_mean - c.means.iter().zip(&coef).map(|(m, w)| m * w).sum::<f64>();
    LinearModel {
        coef,
        intercept,
        iterations,
        converged,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: (values, vectors as columns).
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let scale: f64 = (0..n)
            .map(|i| a[i][i] * a[i][i])
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q].abs() < f64::MIN_POSITIVE {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                let (row_p, row_q) = (a[p].clone(), a[q].clone());
                for (k, (apk, aqk)) in row_p.into_iter().zip(row_q).enumerate() {
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

/// Least squares with an L2 penalty `alpha` (0 for ordinary least squares, where a singular
/// system gets the minimum-norm solution, as `lstsq` gives).
fn solve_l2(c: &Centred, alpha: f64) -> Vec<f64> {
    let d = c.columns.len();
    let gram: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| dot(&c.columns[i], &c.columns[j])).collect())
        .collect();
    let xty: Vec<f64> = c.columns.iter().map(|col| dot(col, &c.y)).collect();
    let (values, vectors) = symmetric_eigen(gram);
    let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let cutoff = largest * d.max(c.y.len()) as f64 * f64::EPSILON;
    let mut coef = vec![0.0; d];
    for (k, &lambda) in values.iter().enumerate() {
        let shifted = lambda + alpha;
        if alpha == 0.0 && lambda.abs() <= cutoff {
            continue;
        }
        let projection: f64 = (0..d).map(|i| vectors[i][k] * xty[i]).sum::<f64>() / shifted;
        for (i, w) in coef.iter_mut().enumerate() {
            *w += projection * vectors[i][k];
        }
    }
    coef
}

/// Ordinary least squares (`LinearRegression()`).
pub fn fit_linear(x: &Matrix, y: &[f64]) -> LinearModel {
    let c = centre(x, y);
    let coef = solve_l2(&c, 0.0);
    finish(&c, coef, 0, true)
}

/// `Ridge(alpha)`: least squares + `alpha * ||w||^2`.
pub fn fit_ridge(x: &Matrix, y: &[f64], alpha: f64) -> LinearModel {
    let c = centre(x, y);
    let coef = solve_l2(&c, alpha);
    finish(&c, coef, 0, true)
}

/// `ElasticNet(alpha, l1_ratio)` by cyclic coordinate descent (`Lasso` is `l1_ratio = 1`).
pub fn fit_elastic_net(
    x: &Matrix,
    y: &[f64],
    alpha: f64,
    l1_ratio: f64,
    max_iter: usize,
    tol: f64,
) -> LinearModel {
    let c = centre(x, y);
    let n = x.rows as f64;
    let d = c.columns.len();
    let norms: Vec<f64> = c.columns.iter().map(|col| dot(col, col) / n).collect();
    let l1 = alpha * l1_ratio;
    let l2 = alpha * (1.0 - l1_ratio);
    let mut coef = vec![0.0; d];
    let mut residual = c.y.clone();
    let mut converged = false;
    let mut iterations = 0;
    for iteration in 0..max_iter {
        iterations = iteration + 1;
        let mut max_change = 0.0f64;
        let mut max_coef = 0.0f64;
        for j in 0..d {
            if norms[j] == 0.0 {
                continue;
            }
            let old = coef[j];
            let rho = dot(&c.columns[j], &residual) / n + norms[j] * old;
            let new = soft_threshold(rho, l1) / (norms[j] + l2);
            if new != old {
                let delta = new - old;
                for (r, xij) in residual.iter_mut().zip(&c.columns[j]) {
                    *r -= delta * xij;
                }
                coef[j] = new;
            }
            max_change = max_change.max((new - old).abs());
            max_coef = max_coef.max(new.abs());
        }
        if max_change <= tol * max_coef.max(f64::MIN_POSITIVE) || max_coef == 0.0 {
            converged = true;
            break;
        }
    }
    finish(&c, coef, iterations, converged)
}

fn soft_threshold(x: f64, threshold: f64) -> f64 {
    if x > threshold {
        x - threshold
    } else if x < -threshold {
        x + threshold
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Matrix, Vec<f64>) {
        let x = Matrix {
            values: vec![1.0, 0.0, 2.0, 1.0, 3.0, 0.0, 4.0, 1.0, 5.0, 0.5],
            rows: 5,
            cols: 2,
        };
        let y: Vec<f64> = (0..5)
            .map(|i| 3.0 * x.row(i)[0] - 2.0 * x.row(i)[1] + 1.0)
            .collect();
        (x, y)
    }

    #[test]
    fn least_squares_recovers_an_exact_linear_relation() {
        let (x, y) = data();
        let m = fit_linear(&x, &y);
        assert!(
            (m.coef[0] - 3.0).abs() < 1e-9 && (m.coef[1] + 2.0).abs() < 1e-9,
            "{m:?}"
        );
        assert!((m.intercept - 1.0).abs() < 1e-9);
    }

    #[test]
    fn penalties_shrink_coefficients() {
        let (x, y) = data();
        let ridge = fit_ridge(&x, &y, 10.0);
        assert!(ridge.coef[0].abs() < 3.0);
        let lasso = fit_elastic_net(&x, &y, 5.0, 1.0, 1000, 1e-10);
        assert!(lasso.coef.contains(&0.0), "{lasso:?}");
    }
}
