//! The two distributions drift's p-values need: chi-squared (through the regularised upper
//! incomplete gamma function) and the standard normal, computed as scipy computes them.

use crate::eval::stats::ln_gamma;

/// `P(X ≥ x)` for chi-squared with `dof` degrees of freedom: scipy's `chi2.sf`, i.e.
/// `Q(dof/2, x/2)`. `x = ∞` gives 0.
pub(super) fn chi2_sf(x: f64, dof: f64) -> f64 {
    if x.is_infinite() && x > 0.0 {
        return 0.0;
    }
    gamma_q(dof / 2.0, x / 2.0)
}

/// The regularised upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a)`, by the series
/// for `x < a + 1` and Lentz's continued fraction otherwise (Numerical Recipes `gammq`), which
/// keeps full relative precision in the upper tail where p-values are small.
pub(super) fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_p_series(a, x)
    } else {
        gamma_q_fraction(a, x)
    }
}

const MAX_ITERATIONS: usize = 100_000;

fn gamma_p_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut term = 1.0 / a;
    let mut sum = term;
    for _ in 0..MAX_ITERATIONS {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if term.abs() < sum.abs() * f64::EPSILON {
            break;
        }
    }
    sum * (-x + a * x.ln() - ln_gamma(a)).exp()
}

fn gamma_q_fraction(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_ITERATIONS {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < f64::EPSILON {
            break;
        }
    }
    (-x + a * x.ln() - ln_gamma(a)).exp() * h
}

/// The standard normal CDF, as cephes' `ndtr` (scipy's `norm.cdf`) evaluates it: `erf` near 0,
/// `erfc` in the tails.
pub(super) fn normal_cdf(a: f64) -> f64 {
    let x = a * std::f64::consts::FRAC_1_SQRT_2;
    let z = x.abs();
    if z < std::f64::consts::FRAC_1_SQRT_2 {
        return 0.5 + 0.5 * libm::erf(x);
    }
    let y = 0.5 * libm::erfc(z);
    if x > 0.0 { 1.0 - y } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::drift::assert_close as close;

    #[test]
    fn chi2_survival_matches_scipy() {
        // scipy.stats.chi2.sf(x, dof), scipy 1.16.3
        close(chi2_sf(3.0, 2.0), 0.22313016014842982, 1e-13);
        close(chi2_sf(10.0, 3.0), 0.01856613546304325, 1e-12);
        close(chi2_sf(0.5, 5.0), 0.9921232932326296, 1e-13);
        close(chi2_sf(80.0, 4.0), 1.7418252446695558e-16, 1e-10);
        assert_eq!(chi2_sf(f64::INFINITY, 3.0), 0.0);
    }

    #[test]
    fn normal_cdf_matches_scipy() {
        // scipy.stats.norm.cdf(x)
        close(normal_cdf(0.3), 0.6179114221889526, 1e-15);
        close(normal_cdf(-2.5), 0.006209665325776132, 1e-14);
        close(normal_cdf(1.96), 0.9750021048517795, 1e-15);
    }
}
