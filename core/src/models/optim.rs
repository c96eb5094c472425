//! L-BFGS for smooth convex objectives (logistic regression), with a backtracking line search.
//!
//! Stopping follows scipy's L-BFGS-B as scikit-learn calls it (`maxiter=max_iter`, `gtol=tol`,
//! `ftol=64 * eps`, `maxls=50`): converged when the largest gradient component is at most
//! `gtol` or the relative decrease of the objective is at most `ftol`; not converged when
//! `max_iter` iterations are used up (checked before the convergence tests of the last step, as
//! scipy does) or when the line search cannot decrease the objective.
//!
//! Extra memory: the iterate, gradient and direction plus 2 × 10 correction pairs, all of the
//! parameter vector's length; nothing proportional to the rows.

/// A differentiable objective: returns the value and writes the gradient.
pub trait Objective {
    /// Value at `x`, gradient into `grad`.
    fn evaluate(&self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// Why the minimisation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The largest gradient component is at most `gtol` (converged).
    Gradient,
    /// The relative decrease of the objective is at most `ftol` (converged).
    RelativeReduction,
    /// `max_iter` iterations used (scipy's status 1).
    MaxIter,
    /// The line search found no decrease (scipy's status 2, ABNORMAL_TERMINATION_IN_LNSRCH).
    LineSearch,
    /// The caller cancelled.
    Cancelled,
}

/// Result of a minimisation.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// The minimiser.
    pub x: Vec<f64>,
    /// Objective there.
    pub value: f64,
    /// Iterations used.
    pub iterations: usize,
    /// Whether a convergence test was met.
    pub converged: bool,
    /// Why it stopped.
    pub stop: Stop,
}

/// scipy's default `ftol` as scikit-learn passes it: `64 * np.finfo(float).eps`.
pub const FTOL: f64 = 64.0 * f64::EPSILON;

/// Most halvings of the step in one line search (scipy's `maxls`).
const MAX_LINE_SEARCH: usize = 50;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, g| m.max(g.abs()))
}

/// Minimises `f` from `x0` until the largest gradient component is at most `gtol` (or the
/// relative decrease is at most [`FTOL`]), for at most `max_iter` iterations.
pub fn lbfgs(f: &impl Objective, x0: Vec<f64>, max_iter: usize, gtol: f64) -> Minimum {
    lbfgs_with(f, x0, max_iter, gtol, FTOL, &|| false)
}

/// [`lbfgs`] with an explicit `ftol` and a cancellation check before every iteration (a
/// cancelled run stops with [`Stop::Cancelled`]).
pub fn lbfgs_with(
    f: &impl Objective,
    x0: Vec<f64>,
    max_iter: usize,
    gtol: f64,
    ftol: f64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Minimum {
    const MEMORY: usize = 10;
    let n = x0.len();
    let mut x = x0;
    let mut grad = vec![0.0; n];
    let mut value = f.evaluate(&x, &mut grad);
    let done = |x: Vec<f64>, value: f64, iterations: usize, stop: Stop| Minimum {
        x,
        value,
        iterations,
        converged: matches!(stop, Stop::Gradient | Stop::RelativeReduction),
        stop,
    };
    if max_abs(&grad) <= gtol {
        return done(x, value, 0, Stop::Gradient);
    }
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut direction = vec![0.0; n];
    let mut new_x = vec![0.0; n];
    let mut new_grad = vec![0.0; n];
    let mut iterations = 0;
    loop {
        if iterations >= max_iter {
            return done(x, value, iterations, Stop::MaxIter);
        }
        if cancelled() {
            return done(x, value, iterations, Stop::Cancelled);
        }
        // Two-loop recursion: direction = -H * grad.
        direction.copy_from_slice(&grad);
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let alpha = rho * dot(s, &direction);
            for (d, yi) in direction.iter_mut().zip(y) {
                *d -= alpha * yi;
            }
            alphas.push((alpha, rho));
        }
        if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            let gamma = dot(s, y) / dot(y, y);
            direction.iter_mut().for_each(|d| *d *= gamma);
        }
        for ((s, y), (alpha, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let beta = rho * dot(y, &direction);
            for (d, si) in direction.iter_mut().zip(s) {
                *d += (alpha - beta) * si;
            }
        }
        direction.iter_mut().for_each(|d| *d = -*d);
        let mut slope = dot(&grad, &direction);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart with steepest descent.
            s_hist.clear();
            y_hist.clear();
            direction.iter_mut().zip(&grad).for_each(|(d, g)| *d = -g);
            slope = dot(&grad, &direction);
        }
        // Backtracking line search with the Armijo condition; the first step is scaled to
        // 1/||g|| as in L-BFGS-B.
        let mut step = if s_hist.is_empty() {
            1.0 / dot(&grad, &grad).sqrt().max(f64::MIN_POSITIVE)
        } else {
            1.0
        };
        let mut new_value;
        let mut tries = 0;
        loop {
            for ((nx, xi), d) in new_x.iter_mut().zip(&x).zip(&direction) {
                *nx = xi + step * d;
            }
            new_value = f.evaluate(&new_x, &mut new_grad);
            if new_value <= value + 1e-4 * step * slope {
                break;
            }
            tries += 1;
            if tries >= MAX_LINE_SEARCH {
                return done(x, value, iterations, Stop::LineSearch);
            }
            step *= 0.5;
        }
        let s: Vec<f64> = new_x.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = new_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let old_value = value;
        x.copy_from_slice(&new_x);
        grad.copy_from_slice(&new_grad);
        value = new_value;
        iterations += 1;
        if dot(&s, &y) > 1e-12 * dot(&y, &y).max(f64::MIN_POSITIVE) {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        // scipy counts the iteration and stops at max_iter before testing convergence.
        if iterations >= max_iter {
            return done(x, value, iterations, Stop::MaxIter);
        }
        if max_abs(&grad) <= gtol {
            return done(x, value, iterations, Stop::Gradient);
        }
        if old_value - value <= ftol * old_value.abs().max(value.abs()).max(1.0) {
            return done(x, value, iterations, Stop::RelativeReduction);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quadratic;
    impl Objective for Quadratic {
        fn evaluate(&self, x: &[f64], grad: &mut [f64]) -> f64 {
            grad[0] = 2.0 * (x[0] - 3.0);
            grad[1] = 20.0 * (x[1] + 1.0);
            (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2)
        }
    }

    #[test]
    fn finds_the_minimum_of_a_quadratic() {
        let m = lbfgs(&Quadratic, vec![0.0, 0.0], 100, 1e-10);
        assert!(m.converged);
        assert!(
            (m.x[0] - 3.0).abs() < 1e-8 && (m.x[1] + 1.0).abs() < 1e-8,
            "{:?}",
            m.x
        );
    }

    #[test]
    fn max_iter_counts_iterations_and_is_not_convergence() {
        let m = lbfgs(&Quadratic, vec![0.0, 0.0], 2, 1e-12);
        assert_eq!(
            (m.iterations, m.converged, m.stop),
            (2, false, Stop::MaxIter)
        );
    }

    #[test]
    fn a_start_at_the_minimum_takes_no_iteration() {
        let m = lbfgs(&Quadratic, vec![3.0, -1.0], 100, 1e-4);
        assert_eq!((m.iterations, m.stop), (0, Stop::Gradient));
    }

    #[test]
    fn cancellation_stops_before_the_next_iteration() {
        let m = lbfgs_with(&Quadratic, vec![0.0, 0.0], 100, 1e-12, FTOL, &|| true);
        assert_eq!(
            (m.iterations, m.converged, m.stop),
            (0, false, Stop::Cancelled)
        );
    }
}
