//! Linear regression models with scikit-learn's objectives, fitted on centred data so the
//! intercept is never penalised: `LinearRegression` (minimum-norm least squares, like
//! `scipy.linalg.lstsq`), `Ridge(alpha)`, `Lasso(alpha)` and `ElasticNet(alpha, l1_ratio)`
//! (coordinate descent on `1/(2n)||y - Xw||^2 + alpha*l1_ratio*||w||_1 + alpha*(1-l1_ratio)/2*||w||^2`).
//!
//! Coordinate descent stops as scikit-learn's `cd_fast.enet_coordinate_descent`: after an epoch
//! whose largest coefficient change is at most `tol` times the largest coefficient (or the last
//! epoch), the duality gap is computed, and the fit has converged when it is below
//! `tol * ||y - mean(y)||^2`. A fit that uses up `max_iter` epochs says so in
//! [`LinearModel::warnings`], as scikit-learn's `ConvergenceWarning` does.
//!
//! Memory: one centred, column-major copy of the inputs (`n × d` values, what scikit-learn's
//! `copy_X=True` costs) plus the residual (`n`); least squares and ridge add the `d × d` Gram
//! matrix and its eigenvectors.

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
    /// Coordinate descent's epoch budget (0 for closed-form fits and older artifacts).
    #[serde(default)]
    pub max_iter: usize,
    /// Duality gap at the end of coordinate descent (scikit-learn's `dual_gap_`, unscaled).
    #[serde(default)]
    pub dual_gap: f64,
    /// The gap it had to get below: `tol * ||y - mean(y)||^2`.
    #[serde(default)]
    pub gap_tolerance: f64,
}

/// scikit-learn's default `tol` for `Lasso` and `ElasticNet`.
pub const DEFAULT_TOL: f64 = 1e-4;

impl LinearModel {
    /// scikit-learn's `ConvergenceWarning`, worded for Kiln; empty when the solver converged.
    pub fn warnings(&self) -> Vec<String> {
        if self.converged {
            return Vec::new();
        }
        let budget = if self.max_iter > 0 {
            format!(" (max_iter={})", self.max_iter)
        } else {
            String::new()
        };
        vec![format!(
            "coordinate descent failed to converge after {} iterations{budget}: duality gap \
             {:.3e}, tolerance {:.3e}; increase max_iter, scale the data or increase alpha",
            self.iterations, self.dual_gap, self.gap_tolerance
        )]
    }

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
        max_iter: 0,
        dual_gap: 0.0,
        gap_tolerance: 0.0,
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

/// `ElasticNet(alpha, l1_ratio, max_iter, tol)` by cyclic coordinate descent (`Lasso` is
/// `l1_ratio = 1`); `tol` is scikit-learn's (default [`DEFAULT_TOL`]).
pub fn fit_elastic_net(
    x: &Matrix,
    y: &[f64],
    alpha: f64,
    l1_ratio: f64,
    max_iter: usize,
    tol: f64,
) -> LinearModel {
    let fitted = fit_elastic_net_with(x, y, alpha, l1_ratio, max_iter, tol, &|| false);
    fitted.unwrap_or_else(|| finish(&centre(x, y), vec![0.0; x.cols], 0, false))
}

/// [`fit_elastic_net`] that checks `cancelled` every epoch and gives `None` when it returns true.
pub fn fit_elastic_net_with(
    x: &Matrix,
    y: &[f64],
    alpha: f64,
    l1_ratio: f64,
    max_iter: usize,
    tol: f64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<LinearModel> {
    let c = centre(x, y);
    let n = x.rows as f64;
    let d = c.columns.len();
    // scikit-learn's cd_fast works on the unscaled objective 1/2||R||^2 + l1|w| + l2/2 w^2.
    let norms: Vec<f64> = c.columns.iter().map(|col| dot(col, col)).collect();
    let l1 = alpha * l1_ratio * n;
    let l2 = alpha * (1.0 - l1_ratio) * n;
    let gap_tolerance = tol * dot(&c.y, &c.y);
    let mut coef = vec![0.0; d];
    let mut residual = c.y.clone();
    let mut converged = false;
    let mut iterations = 0;
    let mut gap = f64::INFINITY;
    for iteration in 0..max_iter {
        if cancelled() {
            return None;
        }
        iterations = iteration + 1;
        let mut max_change = 0.0f64;
        let mut max_coef = 0.0f64;
        for j in 0..d {
            if norms[j] == 0.0 {
                continue;
            }
            let old = coef[j];
            let rho = dot(&c.columns[j], &residual) + norms[j] * old;
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
        if max_coef == 0.0 || max_change / max_coef <= tol || iteration + 1 == max_iter {
            gap = duality_gap(&c, &coef, &residual, l1, l2);
            if gap < gap_tolerance {
                converged = true;
                break;
            }
        }
    }
    let mut model = finish(&c, coef, iterations, converged);
    model.max_iter = max_iter;
    model.dual_gap = gap;
    model.gap_tolerance = gap_tolerance;
    Some(model)
}

/// The elastic net's duality gap as scikit-learn computes it (`cd_fast.pyx`).
fn duality_gap(c: &Centred, coef: &[f64], residual: &[f64], l1: f64, l2: f64) -> f64 {
    let dual_norm = c
        .columns
        .iter()
        .zip(coef)
        .map(|(col, w)| (dot(col, residual) - l2 * w).abs())
        .fold(0.0f64, f64::max);
    let r_norm2 = dot(residual, residual);
    let w_norm2 = dot(coef, coef);
    let (scale, mut gap) = if dual_norm > l1 {
        let scale = l1 / dual_norm;
        (scale, 0.5 * (r_norm2 + r_norm2 * scale * scale))
    } else {
        (1.0, r_norm2)
    };
    let l1_norm: f64 = coef.iter().map(|w| w.abs()).sum();
    gap += l1 * l1_norm - scale * dot(residual, &c.y) + 0.5 * l2 * (1.0 + scale * scale) * w_norm2;
    gap
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
        assert!(lasso.converged && lasso.warnings().is_empty(), "{lasso:?}");
    }

    #[test]
    fn running_out_of_epochs_is_reported() {
        let (x, y) = data();
        let model = fit_elastic_net(&x, &y, 1e-3, 0.5, 1, 1e-12);
        assert!(!model.converged);
        assert_eq!(model.iterations, 1);
        let warnings = model.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with(
                "coordinate descent failed to converge after 1 iterations (max_iter=1)"
            ),
            "{warnings:?}"
        );
        assert!(fit_ridge(&x, &y, 1.0).warnings().is_empty());
    }

    #[test]
    fn cancelled_descent_gives_nothing() {
        let (x, y) = data();
        assert!(fit_elastic_net_with(&x, &y, 0.1, 0.5, 100, 1e-4, &|| true).is_none());
    }
}
