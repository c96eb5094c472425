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

/// The bitset marking, for each position `p` of the non-missing values sorted ascending
/// (`sorted`), whether a new distinct value starts there.
pub fn group_starts(sorted: &[f64]) -> Vec<u64> {
    let mut bits = vec![0u64; sorted.len().div_ceil(64)];
    let mut previous = None;
    for (p, &v) in sorted.iter().enumerate() {
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

/// The tie groups of the sorted positions `range`: where each starts, counted from
/// `range.start`, then the range's length, so group `g` is `bounds[g]..bounds[g + 1]`.
/// `starts` is the [`group_starts`] of the sorted values the range is part of.
pub(super) fn group_bounds(starts: &[u64], range: std::ops::Range<usize>) -> Vec<usize> {
    let first = range.start;
    range
        .clone()
        .filter(|&p| p == first || bit(starts, p))
        .map(|p| p - first)
        .chain([range.len()])
        .collect()
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

/// One numeric column for [`pearson`], centred once on the mean of its finite values.
pub struct PearsonColumn<'a> {
    /// By row: the value minus the column's mean, or 0 where it is not finite, so a product
    /// of two columns is 0 on every row either lacks.
    centred: Vec<f64>,
    /// Rows with a finite value ([`finite_bits`]).
    finite: &'a [u64],
    /// The sum and the sum of squares of `centred`.
    sum: f64,
    sum_sq: f64,
}

impl<'a> PearsonColumn<'a> {
    /// Centres `values` (`NaN` when missing) in place; `finite` is their [`finite_bits`].
    pub fn new(mut values: Vec<f64>, finite: &'a [u64]) -> Self {
        let kept = values.iter().copied().filter(|v| v.is_finite());
        let (count, first) = (kept.clone().count(), kept.clone().next());
        // A constant column centres to exact zeros (its computed mean may round off the value).
        let mean = match first {
            Some(v) if kept.clone().all(|x| x == v) => v,
            Some(_) => kept.sum::<f64>() / count as f64,
            None => 0.0,
        };
        for v in &mut values {
            *v = if v.is_finite() { *v - mean } else { 0.0 };
        }
        let (sum, sum_sq) = (lane_sum(&values, |v| v), lane_sum(&values, |v| v * v));
        Self {
            centred: values,
            finite,
            sum,
            sum_sq,
        }
    }
}

/// Pearson correlations of all pairs, over each pair's rows where both values are finite.
pub fn pearson(columns: &[PearsonColumn<'_>]) -> Vec<Vec<Option<f64>>> {
    let pairs = pairs(columns.len());
    let centred: Vec<&[f64]> = columns.iter().map(|c| &c.centred[..]).collect();
    let dots = pair_dots(&centred, &pairs);
    let values = pairs
        .into_par_iter()
        .zip(dots)
        .map(|((i, j), dot)| ((i, j), pearson_bits(&columns[i], &columns[j], dot)))
        .collect();
    symmetric(columns.len(), values)
}

/// Rows per block of [`pair_dots`]: a block of every column stays in the core's L2 cache.
const DOT_BLOCK: usize = 2048;

/// `Σ x y` of each pair of `columns` (all equally long). A pair at a time would stream both
/// columns from memory for each of the pairs, so memory bandwidth would bound it; a block of
/// rows at a time, every pair is summed over rows already in cache. Blocks are summed in
/// order, so the result does not depend on the thread count.
fn pair_dots(columns: &[&[f64]], pairs: &[(usize, usize)]) -> Vec<f64> {
    let rows = columns.first().map_or(0, |c| c.len());
    let blocks: Vec<Vec<f64>> = (0..rows.div_ceil(DOT_BLOCK))
        .into_par_iter()
        .map(|b| {
            let range = b * DOT_BLOCK..((b + 1) * DOT_BLOCK).min(rows);
            pairs
                .iter()
                .map(|&(i, j)| dot(&columns[i][range.clone()], &columns[j][range.clone()]))
                .collect()
        })
        .collect();
    let mut sums = vec![0.0; pairs.len()];
    for block in blocks {
        for (sum, v) in sums.iter_mut().zip(block) {
            *sum += v;
        }
    }
    sums
}

/// Partial sums are kept in this many lanes, so the loops run as SIMD.
const LANES: usize = 8;

/// `Σ f(v)` over `values`, summed in [`LANES`] lanes.
#[inline(always)]
fn lane_sum(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest: f64 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    lanes.iter().sum::<f64>() + rest
}

/// `Σ x y` over two equally long slices, in [`LANES`] lanes.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+sse4.1"))]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let (cx, cy) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let rest: f64 = cx
        .remainder()
        .iter()
        .zip(cy.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in cx.zip(cy) {
        for ((lane, &a), &b) in lanes.iter_mut().zip(a).zip(b) {
            *lane += a * b;
        }
    }
    lanes.iter().sum::<f64>() + rest
}

/// Pearson over the rows where both columns are finite, given `dot`, the [`pair_dots`] of
/// their centred values. The centred products are 0 on every other row, so `Σ x y` is one
/// dense dot product; a pair's `Σ x` and `Σ x²` are the column's totals less its rows that
/// the other column lacks (a few, read from the bitsets). Centring each column on its own
/// mean first keeps the final subtraction of the pair's means well conditioned.
fn pearson_bits(a: &PearsonColumn<'_>, b: &PearsonColumn<'_>, dot: f64) -> Option<f64> {
    let n: u64 = a
        .finite
        .iter()
        .zip(b.finite)
        .map(|(x, y)| u64::from((x & y).count_ones()))
        .sum();
    if n < 2 {
        return None;
    }
    // Σ x and Σ x² of `of` over the rows `other` has too.
    let restricted = |of: &PearsonColumn<'_>, other: &PearsonColumn<'_>| {
        let (mut sum, mut sum_sq) = (of.sum, of.sum_sq);
        for (w, (&mine, &theirs)) in of.finite.iter().zip(other.finite).enumerate() {
            let mut lacking = mine & !theirs;
            while lacking != 0 {
                let v = of.centred[w * 64 + lacking.trailing_zeros() as usize];
                lacking &= lacking - 1;
                sum -= v;
                sum_sq -= v * v;
            }
        }
        (sum, sum_sq)
    };
    let ((sx, sxx), (sy, syy)) = (restricted(a, b), restricted(b, a));
    let nf = n as f64;
    let sxy = dot - sx * sy / nf;
    let (vx, vy) = (sxx - sx * sx / nf, syy - sy * sy / nf);
    // A side constant over the pair's rows leaves only rounding in its variance.
    let constant = |v: f64, sum_sq: f64| v <= sum_sq * 1e-12;
    if constant(vx, sxx) || constant(vy, syy) {
        return None;
    }
    let divisor = (vx * vy).sqrt();
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
            PearsonColumn::new(x.to_vec(), &fx),
            PearsonColumn::new(y.to_vec(), &fy),
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

    /// Columns of `rows` rows with ties, missing values, infinities, long runs of zeros,
    /// constants and no value at all.
    fn awkward_columns(rows: usize) -> Vec<Vec<f64>> {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut columns: Vec<Vec<f64>> = Vec::new();
        for kind in 0..6 {
            let column = (0..rows)
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
        columns.push(vec![3.0; rows]);
        columns.push(vec![0.1; rows]);
        columns.push(vec![f64::NAN; rows]);
        columns
    }

    #[test]
    fn pearson_of_centred_columns_equals_two_passes_over_each_pair() {
        // Within one block of rows, and across several (the last one partial).
        for rows in [700, 2 * DOT_BLOCK + 907] {
            pearson_equals_two_passes(&awkward_columns(rows));
        }
    }

    fn pearson_equals_two_passes(columns: &[Vec<f64>]) {
        let finite: Vec<Vec<u64>> = columns.iter().map(|c| finite_bits(c)).collect();
        let prepared: Vec<PearsonColumn<'_>> = columns
            .iter()
            .zip(&finite)
            .map(|(c, f)| PearsonColumn::new(c.clone(), f))
            .collect();
        let matrix = pearson(&prepared);
        // pandas has no correlation with a constant column; two passes may round its mean.
        let constant = |c: &[f64]| {
            let mut finite = c.iter().filter(|v| v.is_finite());
            finite
                .next()
                .is_some_and(|first| finite.all(|v| v == first))
        };
        for (i, x) in columns.iter().enumerate() {
            for (j, y) in columns.iter().enumerate() {
                let expected = if constant(x) || constant(y) {
                    None
                } else {
                    pearson_pair(x, y)
                };
                match (matrix[i][j], expected) {
                    (Some(a), Some(e)) => assert!((a - e).abs() < 1e-12, "[{i}][{j}] {a} vs {e}"),
                    (a, e) => assert_eq!(a, e, "[{i}][{j}]"),
                }
            }
        }
    }

    #[test]
    fn corrected_ranks_equal_reranking_each_pair() {
        // Rows that fill 64-row words exactly and ones that leave the last word partial.
        for rows in [700, 1280] {
            spearman_equals_reranking(&awkward_columns(rows));
        }
    }

    fn spearman_equals_reranking(columns: &[Vec<f64>]) {
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
