//! Statistical comparison of two models evaluated on the same resamples.

use serde::{Deserialize, Serialize};

use super::{MetricError, check_finite, check_same_len, mean};

/// The result of a paired t-test of `scores_a − scores_b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TTest {
    /// The t statistic: positive when model A scores higher on average.
    pub t: f64,
    /// Two-sided p-value: the probability of a |t| at least this large if both models were
    /// equally good.
    pub p_value: f64,
    /// Mean of `scores_a[i] − scores_b[i]`.
    pub mean_diff: f64,
}

/// Nadeau and Bengio's corrected resampled t-test, as Weka computes it
/// (`PairedStatsCorrected`), for two models scored on the same `k` train/test splits.
///
/// With `d = scores_a − scores_b`, `t = mean(d) / sqrt((1/k + n_test/n_train) · var(d))`, where
/// `var` is the sample variance (k − 1 denominator); the correction `n_test/n_train` accounts for
/// the overlap of training sets between resamples, which makes the plain paired t-test far too
/// confident. The p-value is two-sided, from Student's t with `k − 1` degrees of freedom.
/// `n_train` and `n_test` are the sizes of one split's training and test sets.
///
/// When every difference is equal (variance 0) the test degenerates as in Weka: `t = 0` and
/// `p = 1` if the models tie on every split, otherwise `t = ±∞` and `p = 0`. Errors when the
/// score vectors differ in length, hold fewer than 2 scores or a non-finite one, or `n_train` is 0.
pub fn corrected_resampled_t_test(
    scores_a: &[f64],
    scores_b: &[f64],
    n_train: usize,
    n_test: usize,
) -> Result<TTest, MetricError> {
    check_same_len("scores_a", scores_a.len(), "scores_b", scores_b.len())?;
    check_finite("scores_a", scores_a)?;
    check_finite("scores_b", scores_b)?;
    let k = scores_a.len();
    if k < 2 {
        return Err(MetricError::TooFewSamples {
            metric: "the corrected resampled t-test",
            needed: 2,
            got: k,
        });
    }
    if n_train == 0 {
        return Err(MetricError::InvalidArgument(
            "the corrected resampled t-test needs the training set size (n_train), got 0"
                .to_string(),
        ));
    }
    let diffs: Vec<f64> = scores_a.iter().zip(scores_b).map(|(a, b)| a - b).collect();
    let mean_diff = mean(diffs.iter().copied());
    let variance = diffs.iter().map(|d| (d - mean_diff).powi(2)).sum::<f64>() / (k - 1) as f64;
    let kf = k as f64;
    if variance == 0.0 {
        let (t, p_value) = if mean_diff == 0.0 {
            (0.0, 1.0)
        } else {
            (f64::INFINITY.copysign(mean_diff), 0.0)
        };
        return Ok(TTest {
            t,
            p_value,
            mean_diff,
        });
    }
    let t = mean_diff / ((1.0 / kf + n_test as f64 / n_train as f64) * variance).sqrt();
    Ok(TTest {
        t,
        p_value: student_t_two_sided_p(t, kf - 1.0),
        mean_diff,
    })
}

/// `P(|T| ≥ |t|)` for Student's t with `dof` degrees of freedom:
/// `I_x(dof/2, 1/2)` with `x = dof / (dof + t²)`.
fn student_t_two_sided_p(t: f64, dof: f64) -> f64 {
    let t2 = t * t;
    let denom = dof + t2;
    regularized_incomplete_beta(dof / 2.0, 0.5, dof / denom, t2 / denom)
}

/// The regularised incomplete beta function `I_x(a, b)`, with `y = 1 − x` passed separately so
/// that it keeps full precision when `x` is close to 1 (Numerical Recipes, `betai`).
fn regularized_incomplete_beta(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * y.ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, y) / b
    }
}

/// The continued fraction of the incomplete beta function, by the modified Lentz method
/// (Numerical Recipes, `betacf`). Converges quickly for `x < (a + 1) / (a + b + 2)`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const MAX_ITERATIONS: usize = 10_000;
    const TINY: f64 = 1e-300;
    let eps = f64::EPSILON;
    let not_tiny = |v: f64| if v.abs() < TINY { TINY } else { v };

    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 / not_tiny(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=MAX_ITERATIONS {
        let m = m as f64;
        let m2 = 2.0 * m;
        // Even step.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / not_tiny(1.0 + aa * d);
        c = not_tiny(1.0 + aa / c);
        h *= d * c;
        // Odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / not_tiny(1.0 + aa * d);
        c = not_tiny(1.0 + aa / c);
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < eps {
            break;
        }
    }
    h
}

/// `ln Γ(x)` for `x > 0`, by the Lanczos approximation (g = 7, 9 terms; ~15 significant digits).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, &c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_rel(actual: f64, expected: f64, tol: f64) {
        assert!(
            (actual - expected).abs() <= tol * expected.abs(),
            "{actual} vs {expected}"
        );
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!(ln_gamma(2.0).abs() < 1e-14);
        assert_rel(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln(), 1e-14);
        // ln(10!) = ln Γ(11)
        assert_rel(ln_gamma(11.0), 3_628_800_f64.ln(), 1e-14);
    }

    #[test]
    fn student_t_p_matches_closed_forms() {
        // dof 1 (Cauchy): p = 1 − 2 atan(|t|) / π; dof 2: p = 1 − |t| / sqrt(2 + t²).
        for t in [0.1, 0.7, 1.0, 3.0, 25.0] {
            let cauchy = 1.0 - 2.0 * f64::atan(t) / std::f64::consts::PI;
            assert_rel(student_t_two_sided_p(t, 1.0), cauchy, 1e-12);
            let two = 1.0 - t / (2.0 + t * t).sqrt();
            assert_rel(student_t_two_sided_p(-t, 2.0), two, 1e-12);
        }
    }

    #[test]
    fn student_t_p_matches_scipy() {
        // 2 * scipy.stats.t.sf(t, dof), scipy 1.17.1
        let cases = [
            (2.0, 10.0, 0.073_388_034_770_740_37),
            (0.5, 3.0, 0.651_447_964_848_151),
            (8.0, 50.0, 1.663_296_602_832_136_8e-10),
            (1e-3, 7.0, 0.999_230_017_244_998_8),
            (40.0, 4.0, 2.334_016_322_601_267_8e-6),
        ];
        for (t, dof, p) in cases {
            assert_rel(student_t_two_sided_p(t, dof), p, 1e-11);
        }
    }

    #[test]
    fn zero_variance_degenerates_like_weka() {
        let tie = corrected_resampled_t_test(&[0.8, 0.7], &[0.8, 0.7], 90, 10).unwrap();
        assert_eq!((tie.t, tie.p_value, tie.mean_diff), (0.0, 1.0, 0.0));
        let worse = corrected_resampled_t_test(&[0.5, 0.5], &[0.75, 0.75], 90, 10).unwrap();
        assert_eq!(worse.t, f64::NEG_INFINITY);
        assert_eq!(worse.p_value, 0.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let err = corrected_resampled_t_test(&[0.8], &[0.7], 90, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the corrected resampled t-test needs at least 2 samples, got 1"
        );
        assert!(corrected_resampled_t_test(&[0.8, 0.9], &[0.7], 90, 10).is_err());
        assert!(corrected_resampled_t_test(&[0.8, 0.9], &[0.7, 0.6], 0, 10).is_err());
        assert!(corrected_resampled_t_test(&[0.8, f64::NAN], &[0.7, 0.6], 9, 1).is_err());
    }
}
