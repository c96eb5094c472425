//! L-BFGS for smooth convex objectives (logistic regression), with a backtracking line search.

/// A differentiable objective: returns the value and writes the gradient.
pub trait Objective {
    /// Value at `x`, gradient into `grad`.
    fn evaluate(&self, x: &[f64], grad: &mut [f64]) -> f64;
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
    /// Whether the gradient tolerance was reached.
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` from `x0` until the largest gradient component is below `gtol`.
pub fn lbfgs(f: &impl Objective, x0: Vec<f64>, max_iter: usize, gtol: f64) -> Minimum {
    const MEMORY: usize = 10;
    let n = x0.len();
    let mut x = x0;
    let mut grad = vec![0.0; n];
    let mut value = f.evaluate(&x, &mut grad);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut direction = vec![0.0; n];
    let mut new_x = vec![0.0; n];
    let mut new_grad = vec![0.0; n];
    for iteration in 0..max_iter {
        if grad.iter().fold(0.0f64, |m, g| m.max(g.abs())) < gtol {
            return Minimum {
                x,
                value,
                iterations: iteration,
                converged: true,
            };
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
        // Backtracking line search with the Armijo condition.
        let mut step = if s_hist.is_empty() {
            1.0 / grad.iter().map(|g| g.abs()).sum::<f64>().max(1.0)
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
            if new_value <= value + 1e-4 * step * slope || tries > 50 {
                break;
            }
            step *= 0.5;
            tries += 1;
        }
        if tries > 50 {
            return Minimum {
                x,
                value,
                iterations: iteration,
                converged: false,
            };
        }
        let s: Vec<f64> = new_x.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = new_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let improvement = value - new_value;
        x.copy_from_slice(&new_x);
        grad.copy_from_slice(&new_grad);
        value = new_value;
        if dot(&s, &y) > 1e-12 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        if improvement.abs() <= 1e-15 * value.abs().max(1.0) {
            return Minimum {
                x,
                value,
                iterations: iteration + 1,
                converged: true,
            };
        }
    }
    Minimum {
        x,
        value,
        iterations: max_iter,
        converged: false,
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
}
