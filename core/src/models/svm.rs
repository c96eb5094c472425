//! Support vector classification as scikit-learn's `SVC(C, kernel, gamma)` (libsvm): the dual
//! problem solved by SMO with libsvm's second-order working-set selection, one-vs-one for more
//! than two classes with majority voting. Like `SVC()` without `probability=True`, it predicts
//! labels, not probabilities.
//!
//! Kernel values are not held as an `n × n` matrix: as libsvm's `cache_size`, each binary
//! problem keeps a least-recently-used cache of kernel columns, computed when SMO first needs
//! them, within a memory budget. So the number of rows is not limited by memory; a problem
//! whose columns do not all fit recomputes the evicted ones (slower, same result).
//!
//! Memory: the input matrix is borrowed, never copied. While fitting, the kernel caches of the
//! binary problems being solved at once share `cache_size` MB (each gets an equal part, at least
//! two columns); each problem also holds its row indices, labels, alphas, gradient and kernel
//! diagonal (about 40 bytes per row) and an LRU index (about 40 bytes per row). The fitted
//! model stores its support vectors.

use serde::{Deserialize, Serialize};

use crate::features::Matrix;

/// libsvm's (and scikit-learn's `SVC`) default kernel cache, in MB.
pub const DEFAULT_CACHE_MB: f64 = 200.0;

/// SMO steps between two polls of the cancellation check.
const CANCEL_EVERY: usize = 256;

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
    /// What libsvm would have warned about (a binary problem stopping at its iteration cap).
    #[serde(default)]
    pub warnings: Vec<String>,
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

/// Columns of `Q_ij = y_i y_j K(x_i, x_j)` for one binary problem, computed on demand and kept
/// in a least-recently-used cache of at most `capacity` columns.
struct KernelCache<'a> {
    x: &'a Matrix,
    rows: &'a [usize],
    y: &'a [f64],
    kernel: &'a KernelParams,
    /// `Q_ii`.
    diagonal: Vec<f64>,
    /// The cached column of each index, if any.
    columns: Vec<Option<Vec<f64>>>,
    /// Doubly linked LRU list over cached indices: most recent at `head`.
    prev: Vec<usize>,
    next: Vec<usize>,
    head: usize,
    tail: usize,
    cached: usize,
    capacity: usize,
}

const NONE: usize = usize::MAX;

impl<'a> KernelCache<'a> {
    fn new(
        x: &'a Matrix,
        rows: &'a [usize],
        y: &'a [f64],
        kernel: &'a KernelParams,
        budget_bytes: f64,
    ) -> Self {
        let n = rows.len();
        let column_bytes = (n.max(1) * std::mem::size_of::<f64>()) as f64;
        let capacity = ((budget_bytes / column_bytes).floor() as usize).clamp(2, n.max(2));
        let diagonal = rows
            .iter()
            .map(|&r| kernel.eval(x.row(r), x.row(r)))
            .collect();
        Self {
            x,
            rows,
            y,
            kernel,
            diagonal,
            columns: vec![None; n],
            prev: vec![NONE; n],
            next: vec![NONE; n],
            head: NONE,
            tail: NONE,
            cached: 0,
            capacity,
        }
    }

    fn unlink(&mut self, i: usize) {
        let (p, n) = (self.prev[i], self.next[i]);
        if p == NONE {
            self.head = n;
        } else {
            self.next[p] = n;
        }
        if n == NONE {
            self.tail = p;
        } else {
            self.prev[n] = p;
        }
        self.prev[i] = NONE;
        self.next[i] = NONE;
    }

    fn push_front(&mut self, i: usize) {
        self.prev[i] = NONE;
        self.next[i] = self.head;
        if self.head == NONE {
            self.tail = i;
        } else {
            self.prev[self.head] = i;
        }
        self.head = i;
    }

    /// Makes column `i` cached and most recently used.
    fn load(&mut self, i: usize) {
        if self.columns[i].is_some() {
            self.unlink(i);
            self.push_front(i);
            return;
        }
        let mut column = Vec::new();
        if self.cached >= self.capacity && self.tail != NONE {
            let evicted = self.tail;
            self.unlink(evicted);
            column = self.columns[evicted].take().unwrap_or_default();
            self.cached -= 1;
        }
        let xi = self.x.row(self.rows[i]);
        let yi = self.y[i];
        column.clear();
        column.extend(
            self.rows
                .iter()
                .zip(self.y)
                .map(|(&r, &yt)| yi * yt * self.kernel.eval(xi, self.x.row(r))),
        );
        self.columns[i] = Some(column);
        self.cached += 1;
        self.push_front(i);
    }

    /// Column `i` and the diagonal.
    fn column(&mut self, i: usize) -> (&[f64], &[f64]) {
        self.load(i);
        (
            self.columns[i].as_deref().unwrap_or_default(),
            &self.diagonal,
        )
    }

    /// Columns `i` and `j` together (the capacity of at least two keeps both).
    fn pair(&mut self, i: usize, j: usize) -> (&[f64], &[f64]) {
        self.load(i);
        self.load(j);
        (
            self.columns[i].as_deref().unwrap_or_default(),
            self.columns[j].as_deref().unwrap_or_default(),
        )
    }
}

/// What solving one binary problem gives.
struct Solution {
    alpha: Vec<f64>,
    rho: f64,
    /// Stopped at the iteration cap instead of the tolerance.
    capped: bool,
}

/// Solves one binary problem with labels `y` (+1/-1) on `rows` of `x`, with a kernel cache of
/// `cache_bytes`; `None` when `cancelled` returned true.
#[allow(clippy::too_many_arguments)]
fn solve(
    x: &Matrix,
    rows: &[usize],
    y: &[f64],
    c: f64,
    kernel: &KernelParams,
    tol: f64,
    cache_bytes: f64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Solution> {
    let n = rows.len();
    let mut cache = KernelCache::new(x, rows, y, kernel, cache_bytes);
    let mut alpha = vec![0.0; n];
    let mut grad = vec![-1.0; n];
    let is_up = |a: f64, yi: f64| (yi > 0.0 && a < c) || (yi < 0.0 && a > 0.0);
    let is_low = |a: f64, yi: f64| (yi > 0.0 && a > 0.0) || (yi < 0.0 && a < c);
    // libsvm's cap: max(10^7, 100 n).
    let max_iter = 10_000_000usize.max(n.saturating_mul(100));
    let mut capped = true;
    for iteration in 0..max_iter {
        if iteration % CANCEL_EVERY == 0 && cancelled() {
            return None;
        }
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
            capped = false;
            break;
        }
        let q_ii = cache.diagonal[i];
        let mut j = usize::MAX;
        let mut g_min = f64::INFINITY;
        let mut obj_min = f64::INFINITY;
        {
            let (q_i, diagonal) = cache.column(i);
            for t in 0..n {
                if !is_low(alpha[t], y[t]) {
                    continue;
                }
                let value = -y[t] * grad[t];
                g_min = g_min.min(value);
                let b = g_max - value;
                if b > 0.0 {
                    // K_ii + K_tt - 2 K_it, with K_it = y_i y_t Q_it.
                    let a = (q_ii + diagonal[t] - 2.0 * y[i] * y[t] * q_i[t]).max(1e-12);
                    let obj = -(b * b) / a;
                    if obj <= obj_min {
                        obj_min = obj;
                        j = t;
                    }
                }
            }
        }
        if g_max - g_min < tol || j == usize::MAX {
            capped = false;
            break;
        }
        let q_jj = cache.diagonal[j];
        let (q_i, q_j) = cache.pair(i, j);
        let q_ij = q_i[j];
        // Update alpha_i and alpha_j (libsvm's analytic step with clipping).
        let (old_i, old_j) = (alpha[i], alpha[j]);
        if y[i] != y[j] {
            let quad = (q_ii + q_jj + 2.0 * q_ij).max(1e-12);
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
            let quad = (q_ii + q_jj - 2.0 * q_ij).max(1e-12);
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
        for ((g, qi), qj) in grad.iter_mut().zip(q_i).zip(q_j) {
            *g += qi * di + qj * dj;
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
    Some(Solution { alpha, rho, capped })
}

/// Fits `SVC(C, kernel, gamma, degree, coef0)` to class indices `y`, with libsvm's default
/// 200 MB kernel cache.
pub fn fit_svm(
    x: &Matrix,
    y: &[usize],
    n_classes: usize,
    c: f64,
    kernel: KernelParams,
) -> SvmModel {
    let fitted = fit_svm_with(x, y, n_classes, c, kernel, DEFAULT_CACHE_MB, &|| false);
    fitted.unwrap_or(SvmModel {
        kernel,
        n_classes,
        machines: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Fits `SVC(C, kernel, gamma, degree, coef0, cache_size)`: `cache_size` MB of kernel columns
/// shared by the binary problems solved at once. `cancelled` is polled every 256 SMO steps;
/// `None` when it returned true.
pub fn fit_svm_with(
    x: &Matrix,
    y: &[usize],
    n_classes: usize,
    c: f64,
    kernel: KernelParams,
    cache_size: f64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<SvmModel> {
    use rayon::prelude::*;
    let pairs: Vec<(usize, usize)> = (0..n_classes)
        .flat_map(|a| (a + 1..n_classes).map(move |b| (a, b)))
        .collect();
    let at_once = pairs.len().min(rayon::current_num_threads()).max(1);
    let cache_bytes = cache_size.max(0.0) * 1024.0 * 1024.0 / at_once as f64;
    let solved = pairs
        .into_par_iter()
        .map(|(a, b)| {
            let rows: Vec<usize> = (0..x.rows).filter(|&r| y[r] == a || y[r] == b).collect();
            // libsvm orders the pair so the first class seen is +1; scikit-learn passes the
            // lower class index first.
            let labels: Vec<f64> = rows
                .iter()
                .map(|&r| if y[r] == a { 1.0 } else { -1.0 })
                .collect();
            let solution = solve(x, &rows, &labels, c, &kernel, 1e-3, cache_bytes, cancelled)?;
            let alpha = &solution.alpha;
            let support: Vec<usize> = (0..rows.len()).filter(|&i| alpha[i] > 0.0).collect();
            let machine = BinarySvm {
                positive: a,
                negative: b,
                vectors: support.iter().map(|&i| x.row(rows[i]).to_vec()).collect(),
                coef: support.iter().map(|&i| alpha[i] * labels[i]).collect(),
                rho: solution.rho,
            };
            Some((machine, solution.capped))
        })
        .collect::<Option<Vec<(BinarySvm, bool)>>>()?;
    let mut warnings = Vec::new();
    let mut machines = Vec::with_capacity(solved.len());
    for (machine, capped) in solved {
        if capped {
            warnings.push(format!(
                "svm: the solver for classes {} and {} reached libsvm's iteration cap before \
                 its tolerance; scale the data (StandardScaler) or lower C",
                machine.positive, machine.negative
            ));
        }
        machines.push(machine);
    }
    Some(SvmModel {
        kernel,
        n_classes,
        machines,
        warnings,
    })
}

impl SvmModel {
    /// What libsvm would have warned about while fitting; empty for a clean fit.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

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
