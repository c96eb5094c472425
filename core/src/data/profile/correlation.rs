//! Pearson and Spearman correlation matrices over pairwise-complete rows, equal to pandas'
//! `DataFrame.corr()` (two passes around the means for Pearson; average ranks for Spearman).
//!
//! Rows are tracked in bitsets (bit `r` of word `r / 64`), so a pair's complete rows are the
//! AND of two columns' bitsets, read in sequence.
//!
//! Spearman ranks every column once. pandas re-ranks each pair over the rows where both columns
//! have a value; here that re-ranking is a correction of the column's own ranks: a row's rank
//! among the pair's rows is its rank among the column's rows minus the column's rows the other
//! column lacks that sort before it (half of those in its own tie group). Those few rows are
//! marked in a bitset by sorted position, with running counts per 64 positions, so each pair
//! is one sequential pass over its rows, in exact integer arithmetic (ranks doubled).

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

fn bit(bits: &[u64], p: usize) -> bool {
    bits[p / 64] & (1 << (p % 64)) != 0
}

fn pairs(n: usize) -> Vec<(usize, usize)> {
    (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect()
}

fn symmetric(n: usize, values: Vec<((usize, usize), Option<f64>)>) -> Vec<Vec<Option<f64>>> {
    let mut matrix = vec![vec![None; n]; n];
    for ((i, j), v) in values {
        matrix[i][j] = v;
        matrix[j][i] = v;
    }
    matrix
}

/// Calls `visit(row)` for every row set in both bitsets, in row order.
#[inline]
fn for_each_common_row(a: &[u64], b: &[u64], mut visit: impl FnMut(usize)) {
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

/// One numeric column ranked once for [`spearman`].
pub struct RankColumn {
    /// Rows with a finite value ([`finite_bits`]).
    finite: Vec<u64>,
    /// How many rows have a finite value.
    count: usize,
    /// By row: the first sorted position of the row's tie group among the finite values, and
    /// one past its last (the row's average rank, 1-based, is their sum plus one, halved).
    bounds: Vec<[u32; 2]>,
    /// By row: its own sorted position among the finite values.
    position: Vec<u32>,
}

impl RankColumn {
    /// Ranks a column from its sort: `order` holds the rows of its non-missing values sorted
    /// by value (ties in any order), of which the positions `finite_positions` hold the finite
    /// ones (infinities sort to the two ends); `group_starts` is [`group_starts`] of `order`;
    /// `finite` is [`finite_bits`] of the column's `rows` values.
    pub fn new(
        rows: usize,
        order: &[u32],
        finite_positions: std::ops::Range<usize>,
        group_starts: &[u64],
        finite: Vec<u64>,
    ) -> Self {
        let (lo, hi) = (finite_positions.start, finite_positions.end);
        let mut bounds = vec![[0u32; 2]; rows];
        let mut position = vec![0u32; rows];
        let mut start = lo;
        for p in lo..=hi {
            if p == hi || (p > lo && bit(group_starts, p)) {
                let group = [(start - lo) as u32, (p - lo) as u32];
                for &row in &order[start..p] {
                    bounds[row as usize] = group;
                }
                start = p;
            }
            if p < hi {
                position[order[p] as usize] = (p - lo) as u32;
            }
        }
        Self {
            finite,
            count: hi - lo,
            bounds,
            position,
        }
    }

    /// Ranks `values` (`NaN` when missing) by sorting them; for small columns and tests.
    pub fn from_values(values: &[f64]) -> Self {
        let mut order: Vec<u32> = (0..values.len() as u32)
            .filter(|&i| !values[i as usize].is_nan())
            .collect();
        order.sort_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
        let lo = order
            .iter()
            .take_while(|&&r| values[r as usize] == f64::NEG_INFINITY)
            .count();
        let hi = order.len()
            - order
                .iter()
                .rev()
                .take_while(|&&r| values[r as usize] == f64::INFINITY)
                .count();
        let starts = group_starts(values, &order);
        Self::new(
            values.len(),
            &order,
            lo..hi.max(lo),
            &starts,
            finite_bits(values),
        )
    }
}

/// Set bits of each byte value (a table: the default x86-64 target has no popcount instruction,
/// and counts are taken for every row of every pair).
const BYTE_ONES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = (i as u32).count_ones() as u8;
        i += 1;
    }
    table
};

/// The sorted positions of one column's rows that the other column of a pair lacks: for each
/// 8 positions, how many lie before them (high bits) and which of the 8 they are (low byte), so
/// a count is one load.
#[derive(Default)]
struct Excluded {
    words: Vec<u64>,
    bytes: Vec<u64>,
    any: bool,
}

impl Excluded {
    fn mark(&mut self, own: &RankColumn, other_finite: &[u64]) {
        self.words.clear();
        self.words.resize(own.count / 64 + 1, 0);
        self.any = false;
        for (w, (&mine, &theirs)) in own.finite.iter().zip(other_finite).enumerate() {
            let mut lacking = mine & !theirs;
            while lacking != 0 {
                let row = w * 64 + lacking.trailing_zeros() as usize;
                lacking &= lacking - 1;
                let p = own.position[row] as usize;
                self.words[p / 64] |= 1 << (p % 64);
                self.any = true;
            }
        }
        self.bytes.clear();
        if self.any {
            let mut total = 0u64;
            for &word in &self.words {
                for byte in word.to_le_bytes() {
                    self.bytes.push((total << 8) | u64::from(byte));
                    total += u64::from(BYTE_ONES[usize::from(byte)]);
                }
            }
        }
    }

    /// Marked positions before position `q`.
    #[inline]
    fn before(&self, q: u32) -> u64 {
        let entry = self.bytes[q as usize / 8];
        let below = (entry as usize & 0xFF) & ((1 << (q & 7)) - 1);
        (entry >> 8) + u64::from(BYTE_ONES[below])
    }

    /// Twice the average rank, among the pair's rows, of a row of the pair with tie group
    /// `[gs, ge)`.
    #[inline]
    fn doubled_rank(&self, [gs, ge]: [u32; 2]) -> u64 {
        let full = u64::from(gs) + u64::from(ge) + 1;
        if !self.any {
            return full;
        }
        let below = self.before(gs);
        if ge == gs + 1 {
            // A group of one: the row itself is not marked, so as many lie before its end.
            full - 2 * below
        } else {
            full - below - self.before(ge)
        }
    }
}

fn spearman_pair(
    a: &RankColumn,
    b: &RankColumn,
    excluded_a: &mut Excluded,
    excluded_b: &mut Excluded,
) -> Option<f64> {
    excluded_a.mark(a, &b.finite);
    excluded_b.mark(b, &a.finite);
    // Doubled ranks are at most 2 n + 1: below 2^27, 64 products fit in a u64.
    let narrow = a.count.max(b.count) < (1 << 26);
    let (mut n, mut sxx, mut syy, mut sxy) = (0u64, 0u128, 0u128, 0u128);
    for (w, (&fa, &fb)) in a.finite.iter().zip(&b.finite).enumerate() {
        let mut both = fa & fb;
        if both == 0 {
            continue;
        }
        n += u64::from(both.count_ones());
        let (mut wxx, mut wyy, mut wxy) = (0u64, 0u64, 0u64);
        while both != 0 {
            let r = w * 64 + both.trailing_zeros() as usize;
            both &= both - 1;
            let x = excluded_a.doubled_rank(a.bounds[r]);
            let y = excluded_b.doubled_rank(b.bounds[r]);
            if narrow {
                wxx += x * x;
                wyy += y * y;
                wxy += x * y;
            } else {
                sxx += u128::from(x) * u128::from(x);
                syy += u128::from(y) * u128::from(y);
                sxy += u128::from(x) * u128::from(y);
            }
        }
        sxx += u128::from(wxx);
        syy += u128::from(wyy);
        sxy += u128::from(wxy);
    }
    if n < 2 {
        return None;
    }
    // Doubled average ranks of n rows sum to n (n + 1): their mean is n + 1, so the centred
    // sums are exact integers.
    let centre = u128::from(n) * u128::from(n + 1) * u128::from(n + 1);
    let centred = |s: u128| s as i128 - centre as i128;
    let (vx, vy) = (centred(sxx) as f64, centred(syy) as f64);
    if vx <= 0.0 || vy <= 0.0 {
        return None;
    }
    Some(centred(sxy) as f64 / (vx * vy).sqrt())
}

/// Spearman correlations of all pairs, over each pair's rows where both values are finite,
/// ranked among those rows (as pandas' `corr(method="spearman")`).
pub fn spearman(columns: &[RankColumn]) -> Vec<Vec<Option<f64>>> {
    let values = pairs(columns.len())
        .into_par_iter()
        .map_init(
            || (Excluded::default(), Excluded::default()),
            |(excluded_a, excluded_b), (i, j)| {
                let (a, b) = (&columns[i], &columns[j]);
                ((i, j), spearman_pair(a, b, excluded_a, excluded_b))
            },
        )
        .collect();
    symmetric(columns.len(), values)
}

#[cfg(test)]
mod tests {
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
        let ranked: Vec<RankColumn> = columns.iter().map(|c| RankColumn::from_values(c)).collect();
        let matrix = spearman(&ranked);
        for (i, x) in columns.iter().enumerate() {
            for (j, y) in columns.iter().enumerate() {
                let expected = spearman_by_reranking(x, y);
                match (matrix[i][j], expected) {
                    (Some(a), Some(e)) => assert!((a - e).abs() < 1e-12, "[{i}][{j}] {a} vs {e}"),
                    (a, e) => assert_eq!(a, e, "[{i}][{j}]"),
                }
            }
        }
    }
}
