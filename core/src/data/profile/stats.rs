//! Statistics of one numeric column, defined exactly as pandas defines them: std with
//! ddof = 1, linearly interpolated quantiles, `skew()` (adjusted Fisher–Pearson) and `kurt()`
//! (unbiased excess kurtosis), including pandas' rounding of tiny moments to zero.

/// Moments below this are floating-point noise (pandas' `_zero_out_fperr`).
const FP_NOISE: f64 = 1e-14;

fn zero_out_noise(x: f64) -> f64 {
    if x.abs() < FP_NOISE { 0.0 } else { x }
}

/// Mean, standard deviation, skewness and excess kurtosis of `values` (no missing values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Arithmetic mean.
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof = 1).
    pub std: Option<f64>,
    /// pandas `skew()`.
    pub skewness: Option<f64>,
    /// pandas `kurt()`.
    pub kurtosis: Option<f64>,
}

/// Computes [`Moments`] the way pandas' `nanops` does (two passes around the mean).
pub fn moments(values: &[f64]) -> Moments {
    let n = values.len();
    if n == 0 {
        return Moments {
            mean: None,
            std: None,
            skewness: None,
            kurtosis: None,
        };
    }
    let count = n as f64;
    let mean = pairwise_sum(values) / count;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for &x in values {
        let d = x - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    let std = (n > 1).then(|| (m2 / (count - 1.0)).sqrt());
    let m2z = zero_out_noise(m2);
    let skewness = (n >= 3)
        .then(|| {
            let m3z = zero_out_noise(m3);
            // pandas 3 leaves the skewness of a constant column undefined.
            (m2z != 0.0)
                .then(|| (count * (count - 1.0).sqrt() / (count - 2.0)) * (m3z / m2z.powf(1.5)))
        })
        .flatten()
        .filter(|v| v.is_finite());
    let kurtosis = (n >= 4)
        .then(|| {
            let numerator = zero_out_noise(count * (count + 1.0) * (count - 1.0) * m4);
            let denominator = zero_out_noise((count - 2.0) * (count - 3.0) * m2 * m2);
            let adjust = 3.0 * (count - 1.0) * (count - 1.0) / ((count - 2.0) * (count - 3.0));
            (denominator != 0.0).then(|| numerator / denominator - adjust)
        })
        .flatten()
        .filter(|v| v.is_finite());
    Moments {
        mean: Some(mean).filter(|v| !v.is_nan()),
        std: std.filter(|v| v.is_finite()),
        skewness,
        kurtosis,
    }
}

/// Pairwise summation, as numpy sums, so means agree with pandas to the last bits.
pub fn pairwise_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    if values.len() <= BLOCK {
        // numpy unrolls eight partial sums inside a block.
        let mut partial = [0.0f64; 8];
        let chunks = values.chunks_exact(8);
        let rest = chunks.remainder();
        for chunk in chunks {
            for (p, v) in partial.iter_mut().zip(chunk) {
                *p += v;
            }
        }
        let mut sum = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
            + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        for v in rest {
            sum += v;
        }
        sum
    } else {
        let half = (values.len() / 2) / 8 * 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// The `q` quantile (0..=1) of sorted values with linear interpolation (numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    if t == 0.0 || a == b {
        return Some(a);
    }
    // numpy's lerp: exact at both ends, symmetric rounding.
    let diff = b - a;
    Some(if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    })
}

/// Equal-width histogram of sorted finite values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Histogram {
    /// Bin edges, one more than counts.
    pub edges: Vec<f64>,
    /// Values per bin; the last bin includes its right edge.
    pub counts: Vec<u64>,
}

/// Most bins a histogram gets (ydata-profiling's default).
pub const MAX_BINS: usize = 50;

/// Histogram with numpy's "auto" rule (the larger of Sturges and Freedman–Diaconis), capped at
/// [`MAX_BINS`]; integer data with a small range gets one bin per integer.
pub fn histogram_sorted(sorted_finite: &[f64]) -> Option<Histogram> {
    let (&min, &max) = (sorted_finite.first()?, sorted_finite.last()?);
    let n = sorted_finite.len();
    let range = max - min;
    let all_integers = sorted_finite.iter().all(|v| v.fract() == 0.0);
    let bins = if range == 0.0 {
        1
    } else if all_integers && range < MAX_BINS as f64 {
        range as usize + 1
    } else {
        let sturges = (n as f64).log2().ceil() as usize + 1;
        let iqr = quantile_sorted(sorted_finite, 0.75).unwrap_or(max)
            - quantile_sorted(sorted_finite, 0.25).unwrap_or(min);
        let fd = if iqr > 0.0 {
            let width = 2.0 * iqr / (n as f64).cbrt();
            (range / width).ceil() as usize
        } else {
            0
        };
        sturges.max(fd).clamp(1, MAX_BINS)
    };
    // Integers get bins centred on each value.
    let (lo, hi) = if range == 0.0 || (all_integers && range < MAX_BINS as f64) {
        (min - 0.5, max + 0.5)
    } else {
        (min, max)
    };
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
    let mut counts = vec![0u64; bins];
    for &v in sorted_finite {
        let index = (((v - lo) / width) as usize).min(bins - 1);
        counts[index] += 1;
    }
    Some(Histogram { edges, counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_linearly_like_pandas() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&v, 0.25), Some(1.75));
        assert_eq!(quantile_sorted(&v, 0.0), Some(1.0));
        assert_eq!(quantile_sorted(&v, 1.0), Some(4.0));
    }

    #[test]
    fn moments_match_pandas_on_a_small_example() {
        // pandas: s = pd.Series([1, 2, 3, 4, 10]); s.std(), s.skew(), s.kurt()
        let m = moments(&[1.0, 2.0, 3.0, 4.0, 10.0]);
        assert_eq!(m.mean, Some(4.0));
        assert!((m.std.unwrap_or_default() - 3.535_533_905_932_737_6).abs() < 1e-12);
        assert!((m.skewness.unwrap_or_default() - 1.697_056_274_847_714).abs() < 1e-12);
        assert!((m.kurtosis.unwrap_or_default() - 3.151_999_999_999_998_4).abs() < 1e-9);
    }

    #[test]
    fn a_constant_column_has_no_skew_or_kurtosis() {
        let m = moments(&[2.0; 10]);
        assert_eq!(m.std, Some(0.0));
        assert_eq!(m.skewness, None);
        assert_eq!(m.kurtosis, None);
    }

    #[test]
    fn small_integer_ranges_get_one_bin_per_value() {
        let h = histogram_sorted(&[0.0, 0.0, 1.0, 2.0, 2.0, 2.0]).expect("hist");
        assert_eq!(h.counts, vec![2, 1, 3]);
        assert_eq!(h.edges.len(), 4);
    }
}
