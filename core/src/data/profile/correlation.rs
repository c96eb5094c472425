//! Pearson correlation matrices over pairwise-complete rows, equal to pandas'
//! `DataFrame.corr()` (two passes around the means), and the row bitsets that Pearson and
//! Spearman ([`super::spearman`]) share.
//!
//! Rows are tracked in bitsets (bit `r` of word `r / 64`), so a pair's complete rows are the
//! AND of two columns' bitsets, read in sequence.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A symmetric matrix of correlations between named columns; `None` where undefined.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CorrelationMatrix {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// `matrix[i][j]` is the correlation of columns `i` and `j`.
    pub matrix: Vec<Vec<Option<f64>>>,
}

/// Bitset of the rows holding a finite value (infinities count as missing, as in pandas).
pub fn finite_bits(values: &[f64]) -> Vec<u64> {
    values
        .chunks(64)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .fold(0u64, |bits, (k, v)| bits | (u64::from(v.is_finite()) << k))
        })
        .collect()
}

/// The bitset marking, for each position `p` of values sorted in `order`, whether a new
/// distinct value starts there.
pub fn group_starts(values: &[f64], order: &[u32]) -> Vec<u64> {
    let mut bits = vec![0u64; order.len().div_ceil(64)];
    let mut previous = None;
    for (p, &row) in order.iter().enumerate() {
        let v = values[row as usize];
        if previous != Some(v) {
            bits[p / 64] |= 1 << (p % 64);
        }
        previous = Some(v);
    }
    bits
}

pub(super) fn bit(bits: &[u64], p: usize) -> bool {
    bits[p / 64] & (1 << (p % 64)) != 0
}

pub(super) fn pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect()
}

pub(super) fn symmetric(
    n: usize,
    values: Vec<((usize, usize), Option<f64>)>,
) -> Vec<Vec<Option<f64>>> {
    let mut matrix = vec![vec![None; n]; n];
    for ((i, j), v) in values {
        matrix[i][j] = v;
        matrix[j][i] = v;
    }
    matrix
}

/// Calls `visit(row)` for every row set in both bitsets, in row order.
#[inline]
pub(super) fn for_each_common_row(a: &[u64], b: &[u64], mut visit: impl FnMut(usize)) {
    for (w, (&x, &y)) in a.iter().zip(b).enumerate() {
        let mut both = x & y;
        while both != 0 {
            visit(w * 64 + both.trailing_zeros() as usize);
            both &= both - 1;
        }
    }
}

/// One numeric column for [`pearson`]: values (`NaN` when missing) and [`finite_bits`].
pub struct PearsonColumn<'a> {
    /// Values by row.
    pub values: &'a [f64],
    /// Rows with a finite value.
    pub finite: &'a [u64],
}

/// Pearson correlations of all pairs, over each pair's rows where both values are finite.
pub fn pearson(columns: &[PearsonColumn<'_>]) -> Vec<Vec<Option<f64>>> {
    let values = pairs(columns.len())
        .into_par_iter()
        .map(|(i, j)| ((i, j), pearson_bits(&columns[i], &columns[j])))
        .collect();
    symmetric(columns.len(), values)
}

fn pearson_bits(a: &PearsonColumn<'_>, b: &PearsonColumn<'_>) -> Option<f64> {
    let (x, y) = (a.values, b.values);
    let (mut n, mut sum_x, mut sum_y) = (0usize, 0.0f64, 0.0f64);
    for_each_common_row(a.finite, b.finite, |r| {
        n += 1;
        sum_x += x[r];
        sum_y += y[r];
    });
    if n < 2 {
        return None;
    }
    let (mean_x, mean_y) = (sum_x / n as f64, sum_y / n as f64);
    let (mut sxx, mut syy, mut sxy) = (0.0f64, 0.0f64, 0.0f64);
    for_each_common_row(a.finite, b.finite, |r| {
        let (dx, dy) = (x[r] - mean_x, y[r] - mean_y);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    });
    let divisor = (sxx * syy).sqrt();
    (divisor != 0.0 && divisor.is_finite()).then(|| sxy / divisor)
}

/// Average ranks (1-based, ties share their mean rank, as scipy's `rankdata`) of small
/// in-memory samples; the profile's Spearman uses [`RankColumn`] instead.
pub(crate) fn average_ranks(xs: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && xs[order[j]] == xs[order[i]] {
            j += 1;
        }
        for &k in &order[i..j] {
            ranks[k] = (i + j + 1) as f64 / 2.0;
        }
        i = j;
    }
    ranks
}

/// Pearson correlation over the rows where both values are finite; `None` when fewer than
/// two such rows or either side is constant.
pub(crate) fn pearson_pair(x: &[f64], y: &[f64]) -> Option<f64> {
    // Two passes over the pairwise-complete rows (infinities count as missing, as in pandas):
    // means first, then centred sums. Agrees with pandas' Welford updates to ~1e-15.
    let complete = |(&vx, &vy): (&f64, &f64)| vx.is_finite() && vy.is_finite();
    let (mut n, mut sum_x, mut sum_y) = (0usize, 0.0f64, 0.0f64);
    for (vx, vy) in x.iter().zip(y).filter(|p| complete(*p)) {
        n += 1;
        sum_x += vx;
        sum_y += vy;
    }
    if n < 2 {
        return None;
    }
    let (mean_x, mean_y) = (sum_x / n as f64, sum_y / n as f64);
    let (mut sxx, mut syy, mut sxy) = (0.0f64, 0.0f64, 0.0f64);
    for (vx, vy) in x.iter().zip(y).filter(|p| complete(*p)) {
        let (dx, dy) = (vx - mean_x, vy - mean_y);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    let divisor = (sxx * syy).sqrt();
    (divisor != 0.0 && divisor.is_finite()).then(|| sxy / divisor)
}

#[cfg(test)]
mod tests {
    use super::super::spearman::{RankColumn, rank_with_max_groups, spearman};
    use super::*;

    /// Spearman and Pearson correlation of two columns, NaN marking a missing value.
    fn correlate(x: &[f64], y: &[f64]) -> (Option<f64>, Option<f64>) {
        let ranked = [RankColumn::from_values(x), RankColumn::from_values(y)];
        let (fx, fy) = (finite_bits(x), finite_bits(y));
        let p = pearson(&[
            PearsonColumn {
                values: x,
                finite: &fx,
            },
            PearsonColumn {
                values: y,
                finite: &fy,
            },
        ]);
        (spearman(&ranked)[0][1], p[0][1])
    }

    /// pandas' way: keep the complete rows, rank them, correlate the ranks.
    fn spearman_by_reranking(x: &[f64], y: &[f64]) -> Option<f64> {
        let (cx, cy): (Vec<f64>, Vec<f64>) = x
            .iter()
            .zip(y)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| (*a, *b))
            .unzip();
        if cx.len() < 2 {
            return None;
        }
        pearson_pair(&average_ranks(&cx), &average_ranks(&cy))
    }

    #[test]
    fn perfectly_related_columns_correlate_fully() {
        let (s, p) = correlate(&[1.0, 2.0, 3.0, 4.0], &[1.0, 4.0, 9.0, 16.0]);
        assert!((s.unwrap_or_default() - 1.0).abs() < 1e-12);
        assert!(p.unwrap_or_default() > 0.98);
    }

    #[test]
    fn missing_values_use_pairwise_complete_rows() {
        let (s, _) = correlate(
            &[1.0, 2.0, f64::NAN, 4.0, 5.0],
            &[5.0, 3.0, 100.0, 2.0, 1.0],
        );
        assert!((s.unwrap_or_default() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn corrected_ranks_equal_reranking_each_pair() {
        // Ties, missing values, infinities and long runs of zeros, over more than 64 rows.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut columns: Vec<Vec<f64>> = Vec::new();
        for kind in 0..6 {
            let column = (0..700)
                .map(|_| {
                    let r = next();
                    match (kind, r % 23) {
                        (_, 0) => f64::NAN,
                        (1, 1) => f64::INFINITY,
                        (1, 2) => f64::NEG_INFINITY,
                        (2, _) => (r % 5) as f64,
                        (3, m) if m < 15 => 0.0,
                        (4, _) => ((r >> 8) % 1000) as f64 / 7.0,
                        _ => (r >> 11) as f64 / (1u64 << 53) as f64,
                    }
                })
                .collect();
            columns.push(column);
        }
        columns.push(vec![3.0; 700]);
        columns.push(vec![f64::NAN; 700]);
        // Every column ranked by tie group, none, and only those with few distinct values.
        for max_groups in [usize::MAX, 0, 8] {
            let ranked: Vec<RankColumn> = columns
                .iter()
                .map(|c| rank_with_max_groups(c, max_groups))
                .collect();
            let matrix = spearman(&ranked);
            for (i, x) in columns.iter().enumerate() {
                for (j, y) in columns.iter().enumerate() {
                    let expected = spearman_by_reranking(x, y);
                    match (matrix[i][j], expected) {
                        (Some(a), Some(e)) => assert!(
                            (a - e).abs() < 1e-12,
                            "max_groups {max_groups} [{i}][{j}] {a} vs {e}"
                        ),
                        (a, e) => assert_eq!(a, e, "max_groups {max_groups} [{i}][{j}]"),
                    }
                }
            }
        }
    }
}
