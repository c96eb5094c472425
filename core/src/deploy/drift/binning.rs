//! Evidently's `get_binned_data`: the shares of reference and current values per bucket, which
//! PSI and Jensen–Shannon compare. Numeric columns with more than 20 distinct reference values
//! get numpy's Sturges histogram of both samples together; anything else gets one bucket per
//! value seen in either sample.

/// Counts per value (levels in sorted order) of the reference and the current sample.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LevelCounts {
    /// The values' names, sorted as Python sorts them (numbers by value, strings by code point).
    pub labels: Vec<String>,
    /// Reference rows per level.
    pub reference: Vec<u64>,
    /// Current rows per level.
    pub current: Vec<u64>,
}

impl LevelCounts {
    /// Levels seen in either sample.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Total reference and current rows.
    pub fn totals(&self) -> (u64, u64) {
        (self.reference.iter().sum(), self.current.iter().sum())
    }
}

/// Walks the distinct values of two sorted samples in order, giving each value with the number
/// of values of each sample at or below it: the steps of both empirical CDFs.
pub(super) fn merged_steps<'a>(
    a: &'a [f64],
    b: &'a [f64],
) -> impl Iterator<Item = (f64, usize, usize)> + 'a {
    let (mut i, mut j) = (0usize, 0usize);
    std::iter::from_fn(move || {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => return None,
        };
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        Some((v, i, j))
    })
}

/// Level counts of two sorted numeric samples (one level per distinct value; `-0.0 == 0.0`).
pub(super) fn numeric_level_counts(reference: &[f64], current: &[f64]) -> LevelCounts {
    let mut out = LevelCounts {
        labels: Vec::new(),
        reference: Vec::new(),
        current: Vec::new(),
    };
    let (mut last_i, mut last_j) = (0, 0);
    for (v, i, j) in merged_steps(reference, current) {
        out.labels.push(format_level(v));
        out.reference.push((i - last_i) as u64);
        out.current.push((j - last_j) as u64);
        (last_i, last_j) = (i, j);
    }
    out
}

fn format_level(v: f64) -> String {
    crate::data::profile::format_number(v, v.fract() == 0.0)
}

/// The reference and current shares per bucket, before Evidently's zero filling.
pub(super) fn shares(counts: &[u64], total: u64) -> Vec<f64> {
    counts.iter().map(|&c| c as f64 / total as f64).collect()
}

/// Evidently's "feel zeroes": an empty bucket gets a millionth of the smallest non-zero share
/// when that is at most 1e-4, else 1e-4, so that PSI's logarithm stays finite.
pub(super) fn fill_zeroes(shares: &mut [f64]) {
    let smallest = shares
        .iter()
        .copied()
        .filter(|&s| s != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return;
    }
    let fill = if smallest <= 1e-4 {
        smallest / 1e6
    } else {
        1e-4
    };
    shares
        .iter_mut()
        .filter(|s| **s == 0.0)
        .for_each(|s| *s = fill);
}

/// Counts per bin of numpy's `histogram_bin_edges(reference ++ current, bins="sturges")`, as
/// `np.histogram` with those edges counts (bins closed on the left, the last on both sides).
/// `integer` says whether pandas would hold the combined column as integers, for which numpy
/// never makes bins narrower than 1. Both samples are sorted and non-empty.
pub(super) fn sturges_histogram(
    reference: &[f64],
    current: &[f64],
    integer: bool,
) -> (Vec<u64>, Vec<u64>) {
    let first = reference[0].min(current[0]);
    let last = reference[reference.len() - 1].max(current[current.len() - 1]);
    let (lo, hi) = if first == last {
        (first - 0.5, last + 0.5)
    } else {
        (first, last)
    };
    let size = (reference.len() + current.len()) as f64;
    let ptp = last - first;
    let mut width = ptp / (size.log2() + 1.0);
    let bins = if width != 0.0 {
        if integer && width < 1.0 {
            width = 1.0;
        }
        ((hi - lo) / width).ceil() as usize
    } else {
        1
    };
    // np.linspace: start + i * step, with the last edge exactly the stop.
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + lo).collect();
    edges[bins] = hi;
    (bin_counts(reference, &edges), bin_counts(current, &edges))
}

fn bin_counts(sorted: &[f64], edges: &[f64]) -> Vec<u64> {
    let below = |e: f64| sorted.partition_point(|&v| v < e);
    let at_most = |e: f64| sorted.partition_point(|&v| v <= e);
    let last = edges.len() - 1;
    (0..last)
        .map(|i| {
            let end = if i + 1 == last {
                at_most(edges[i + 1])
            } else {
                below(edges[i + 1])
            };
            (end - below(edges[i])) as u64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_levels_merge_both_samples() {
        let counts = numeric_level_counts(&[1.0, 1.0, 2.0], &[2.0, 3.0]);
        assert_eq!(counts.labels, ["1", "2", "3"]);
        assert_eq!(counts.reference, [2, 1, 0]);
        assert_eq!(counts.current, [0, 1, 1]);
    }

    #[test]
    fn empty_buckets_get_evidentlys_small_share() {
        let mut s = vec![0.5, 0.0, 0.5];
        fill_zeroes(&mut s);
        assert_eq!(s, [0.5, 1e-4, 0.5]);
        let mut s = vec![0.99999, 0.0, 0.00001];
        fill_zeroes(&mut s);
        assert_eq!(s[1], 0.00001 / 1e6);
    }

    #[test]
    fn sturges_bins_match_numpy() {
        // np.histogram_bin_edges(np.arange(10.0), bins="sturges") has 5 bins (ceil(log2 10) + 1),
        // np.histogram(np.arange(6.0), edges) -> [2, 1, 2, 1, 0]; the last bin holds 9.0.
        let reference: Vec<f64> = (0..6).map(f64::from).collect();
        let current: Vec<f64> = (6..10).map(f64::from).collect();
        let (r, c) = sturges_histogram(&reference, &current, false);
        assert_eq!(r, [2, 2, 2, 0, 0]);
        assert_eq!(c, [0, 0, 0, 2, 2]);
    }
}
