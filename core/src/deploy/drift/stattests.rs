//! Evidently's drift tests on prepared samples, each computed as the scipy function Evidently
//! calls: chi-squared and Z-test p-values on level counts, the normed Wasserstein distance on
//! sorted values, and Jensen–Shannon distance and PSI on bucket shares.

use super::binning::{LevelCounts, fill_zeroes, merged_steps, shares};
use super::special::{chi2_sf, normal_cdf};
use crate::data::profile::stats::pairwise_sum;

/// Evidently's `chisquare`: current counts against reference counts scaled to the current
/// total, `scipy.stats.chisquare(f_obs, f_exp)`, one degree of freedom fewer than levels. A
/// level absent from the reference expects 0 and makes the statistic infinite (p = 0).
pub(super) fn chi_square_p(counts: &LevelCounts) -> f64 {
    let (n_ref, n_cur) = counts.totals();
    let scale = n_cur as f64 / n_ref as f64;
    let terms: Vec<f64> = counts
        .reference
        .iter()
        .zip(&counts.current)
        .map(|(&r, &c)| {
            let expected = r as f64 * scale;
            let diff = c as f64 - expected;
            diff * diff / expected
        })
        .collect();
    let statistic = pairwise_sum(&terms);
    chi2_sf(statistic, (counts.len() - 1) as f64)
}

/// Evidently's `z` test for at most two levels: the two-proportion Z-test of "not the first
/// level in sorted order", two-sided, `2 (1 − Φ(|z|))` as Evidently writes it. One level shared
/// by both samples gives p = 1.
pub(super) fn z_test_p(counts: &LevelCounts) -> f64 {
    let (n1, n2) = counts.totals();
    if counts.len() == 1 {
        return 1.0;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let p1 = (n1 - counts.reference[0]) as f64 / n1f;
    let p2 = (n2 - counts.current[0]) as f64 / n2f;
    let pooled = (p1 * n1f + p2 * n2f) / (n1f + n2f);
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    2.0 * (1.0 - normal_cdf(z.abs()))
}

/// `scipy.stats.wasserstein_distance` of two sorted samples: the area between their empirical
/// CDFs, one merge pass.
pub(super) fn wasserstein(u: &[f64], v: &[f64]) -> f64 {
    let (nu, nv) = (u.len() as f64, v.len() as f64);
    let mut area = Vec::with_capacity(u.len() + v.len());
    let mut previous: Option<(f64, usize, usize)> = None;
    for (value, i, j) in merged_steps(u, v) {
        if let Some((prev, pi, pj)) = previous {
            // The CDFs at `prev` hold on [prev, value).
            let gap = (pi as f64 / nu - pj as f64 / nv).abs();
            area.push(gap * (value - prev));
        }
        previous = Some((value, i, j));
    }
    pairwise_sum(&area)
}

/// `scipy.spatial.distance.jensenshannon(p, q)` (natural logarithm) of two share vectors.
pub(super) fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (pairwise_sum(p), pairwise_sum(q));
    let (mut left, mut right) = (Vec::with_capacity(p.len()), Vec::with_capacity(q.len()));
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        left.push(relative_entropy(a, m));
        right.push(relative_entropy(b, m));
    }
    ((pairwise_sum(&left) + pairwise_sum(&right)) / 2.0).sqrt()
}

/// `scipy.special.rel_entr`: `x ln(x/y)`, 0 for `x = 0`.
fn relative_entropy(x: f64, y: f64) -> f64 {
    if x == 0.0 && y >= 0.0 {
        0.0
    } else if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else {
        f64::INFINITY
    }
}

/// Evidently's PSI: `Σ (ref − cur) ln(ref / cur)` over bucket shares with empty buckets filled.
pub(super) fn psi(reference: &[u64], current: &[u64]) -> f64 {
    let mut r = shares(reference, reference.iter().sum());
    let mut c = shares(current, current.iter().sum());
    fill_zeroes(&mut r);
    fill_zeroes(&mut c);
    let terms: Vec<f64> = r
        .iter()
        .zip(&c)
        .map(|(&a, &b)| (a - b) * (a / b).ln())
        .collect();
    pairwise_sum(&terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::drift::assert_close as close;

    fn counts(reference: &[u64], current: &[u64]) -> LevelCounts {
        LevelCounts {
            labels: (0..reference.len()).map(|i| i.to_string()).collect(),
            reference: reference.to_vec(),
            current: current.to_vec(),
        }
    }

    #[test]
    fn chi_square_matches_scipy() {
        // scipy.stats.chisquare([30, 50, 20], [40*0.5, 60*0.5, 100*0.5]).pvalue
        close(
            chi_square_p(&counts(&[40, 60, 100], &[30, 50, 20])),
            1.289_189_952_435_345e-8,
            1e-9,
        );
    }

    #[test]
    fn a_level_new_in_current_drifts_for_certain() {
        assert_eq!(chi_square_p(&counts(&[10, 10, 0], &[5, 5, 5])), 0.0);
    }

    #[test]
    fn z_test_matches_a_hand_computation() {
        // p1 = 0.3, p2 = 0.5, pooled 0.4, z = -0.2 / sqrt(0.24 * 0.02) = -2.886751...
        let p = z_test_p(&counts(&[70, 30], &[50, 50]));
        close(p, 2.0 * (1.0 - normal_cdf(2.886_751_345_948_129)), 1e-12);
        assert_eq!(z_test_p(&counts(&[5], &[7])), 1.0);
    }

    #[test]
    fn wasserstein_matches_scipy() {
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        assert_eq!(wasserstein(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]), 5.0);
        // wasserstein_distance([0, 0, 1], [0, 1, 1, 1]) == 0.41666666666666663
        close(
            wasserstein(&[0.0, 0.0, 1.0], &[0.0, 1.0, 1.0, 1.0]),
            0.416_666_666_666_666_63,
            1e-15,
        );
    }

    #[test]
    fn jensen_shannon_matches_scipy() {
        // scipy.spatial.distance.jensenshannon([0.5, 0.5, 0], [0.25, 0.25, 0.5])
        close(
            jensen_shannon(&[0.5, 0.5, 0.0], &[0.25, 0.25, 0.5]),
            0.464_501_404_022_459,
            1e-14,
        );
    }
}
