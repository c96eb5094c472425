//! The two-sample Kolmogorov–Smirnov test, two-sided, as scipy's `ks_2samp(method="auto")`
//! computes it: the exact null distribution when both samples have at most 10,000 values,
//! otherwise the Kolmogorov distribution of `round(n·m / (n + m))` (scipy's `kstwo`).

use super::binning::merged_steps;
use super::kolmogorov::kolmogorov_sf;

/// scipy's `MAX_AUTO_N`: above this sample size 'auto' switches to the asymptotic p-value.
const MAX_EXACT_N: usize = 10_000;

/// The KS statistic and its two-sided p-value for two sorted, non-empty samples.
pub(super) fn ks_two_sample(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (n1, n2) = (a.len(), b.len());
    let d = statistic(a, b);
    let g = gcd(n1, n2);
    let exact = (n1.max(n2) <= MAX_EXACT_N)
        .then(|| exact_p(n1, n2, g, d))
        .flatten();
    let p = match exact {
        Some(p) => p,
        None => {
            let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
            // numpy rounds half to even.
            kolmogorov_sf((m * n / (m + n)).round_ties_even(), d)
        }
    };
    (d, p.clamp(0.0, 1.0))
}

/// `max |F_a − F_b|` over all values, with the empirical CDFs evaluated just as scipy does
/// (`searchsorted(..., 'right') / n` in floating point), so that `d · lcm` rounds to scipy's h.
fn statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut max_diff, mut min_diff) = (f64::NEG_INFINITY, f64::INFINITY);
    for (_, i, j) in merged_steps(a, b) {
        let diff = i as f64 / n1 - j as f64 / n2;
        max_diff = max_diff.max(diff);
        min_diff = min_diff.min(diff);
    }
    let min_s = (-min_diff).clamp(0.0, 1.0);
    if min_s > max_diff { min_s } else { max_diff }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// scipy's `_attempt_exact_2kssamp`: `None` where scipy gives up on the exact value (a
/// non-finite or out-of-range result) and falls back to the asymptotic one.
fn exact_p(n1: usize, n2: usize, g: usize, d: f64) -> Option<f64> {
    let lcm = (n1 / g) as f64 * n2 as f64;
    let h = (d * lcm).round_ties_even() as u64;
    if h == 0 {
        return Some(1.0);
    }
    let p = if n1 == n2 {
        prob_outside_square(n1 as u64, h)
    } else {
        prob_outside_inside_method(n1 as u64, n2 as u64, g as u64, h)
    };
    (p.is_finite() && (0.0..=1.0).contains(&p)).then_some(p)
}

/// `P(D ≥ h/n)` for equal sample sizes: scipy's `_compute_prob_outside_square`, an alternating
/// binomial sum evaluated Horner-style to avoid cancellation.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let mut p = 0.0;
    let mut k = (n / h) as i64;
    let (n, h) = (n as f64, h as f64);
    while k >= 0 {
        let kf = k as f64;
        let mut p1 = 1.0;
        for j in 0..h as u64 {
            let j = j as f64;
            p1 = (n - kf * h - j) * p1 / (n + kf * h + j + 1.0);
        }
        p = p1 * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// The share of lattice paths from (0, 0) to (m, n) that leave the band `|x/m − y/n| < h/lcm`:
/// scipy's `_compute_outer_prob_inside_method` (Hodges' inside method with Viehmann's recursion
/// for 1 − p, one sliding column at a time).
fn prob_outside_inside_method(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (m, n, h) = (m as i64, n as i64, h as i64);
    let ceil_div = |a: i64, b: i64| (a as f64 / b as f64).ceil() as i64;
    let floor_div = |a: i64, b: i64| (a as f64 / b as f64).floor() as i64;
    let mut minj = 0i64;
    let mut maxj = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len = (2 * maxj + 2).min(n + 1) as usize;
    let mut column = vec![1.0f64; len];
    for v in column.iter_mut().take(maxj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = (floor_div(ng * i - h, mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        let fi = i as f64;
        for jj in 0..(maxj - minj) {
            let j = (jj + minj) as f64;
            val = (column[(jj + minj - lastminj) as usize] * fi + val * j) / (fi + j);
            column[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = (maxj - minj) as usize;
            let end = (start + (lastlen - curlen) as usize).min(column.len());
            for v in &mut column[start..end] {
                *v = 1.0;
            }
        }
    }
    column[(maxj - minj - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::drift::assert_close as close;

    #[test]
    fn identical_samples_have_p_one() {
        let a = [1.0, 2.0, 3.0];
        assert_eq!(ks_two_sample(&a, &a), (0.0, 1.0));
    }

    #[test]
    fn small_samples_match_scipy_exact() {
        // scipy.stats.ks_2samp([1,2,3,4,5], [3,4,5,6,7,8,9]) -> (0.5714285714285714, 0.23737373737373738)
        let (d, p) = ks_two_sample(
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        );
        close(d, 0.571_428_571_428_571_4, 1e-15);
        close(p, 0.237_373_737_373_737_38, 1e-12);
        // Equal sizes take the square-lattice formula:
        // ks_2samp([1,2,3,4], [3,4,5,6]) -> (0.5, 0.7714285714285716)
        let (d, p) = ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]);
        close(d, 0.5, 1e-15);
        close(p, 0.771_428_571_428_571_6, 1e-12);
    }

    #[test]
    fn ties_count_once_per_value() {
        // ks_2samp([0,0,0,1], [0,1,1,1,1]) -> statistic 0.55
        let (d, _) = ks_two_sample(&[0.0, 0.0, 0.0, 1.0], &[0.0, 1.0, 1.0, 1.0, 1.0]);
        close(d, 0.55, 1e-15);
    }
}
