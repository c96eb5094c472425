//! Pearson and Spearman correlation matrices over pairwise-complete rows, computed as pandas'
//! `DataFrame.corr()` computes them (Welford updates for Pearson; average ranks for Spearman).

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

/// One numeric column prepared for correlation.
pub struct CorrColumn<'a> {
    /// Values; `NaN` marks a missing value.
    pub values: &'a [f64],
    /// Row indices of non-missing values, sorted by value.
    pub order: &'a [u32],
    /// Whether any value is missing.
    pub has_missing: bool,
    /// Bit `p` is set when position `p` of `order` starts a new distinct value, so ties are
    /// found by reading this small bitset in sequence instead of the values at random.
    pub group_starts: &'a [u64],
}

/// Which rows hold a finite value.
pub fn finite_rows(values: &[f64]) -> Vec<bool> {
    values.iter().map(|v| v.is_finite()).collect()
}

/// The `group_starts` bitset of values sorted in `order`.
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

fn starts_group(bits: &[u64], p: usize) -> bool {
    bits[p / 64] & (1 << (p % 64)) != 0
}

/// Calls `visit(rows, rank)` for each tie group among the rows of `order` kept by `keep`,
/// with their average rank (1-based) among the kept rows.
fn for_each_rank_group(
    order: &[u32],
    bits: &[u64],
    keep: impl Fn(usize) -> bool,
    group: &mut Vec<u32>,
    mut visit: impl FnMut(&[u32], f64),
) -> usize {
    let mut position = 0usize;
    let mut pending_start = true;
    group.clear();
    for (p, &row) in order.iter().enumerate() {
        pending_start |= starts_group(bits, p);
        if !keep(row as usize) {
            continue;
        }
        if pending_start && !group.is_empty() {
            let rank = (2 * position + group.len() + 1) as f64 / 2.0;
            position += group.len();
            visit(group, rank);
            group.clear();
        }
        pending_start = false;
        group.push(row);
    }
    if !group.is_empty() {
        let rank = (2 * position + group.len() + 1) as f64 / 2.0;
        position += group.len();
        visit(group, rank);
    }
    position
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

/// Pearson correlations of all pairs.
pub fn pearson(columns: &[CorrColumn<'_>]) -> Vec<Vec<Option<f64>>> {
    let values = pairs(columns.len())
        .into_par_iter()
        .map(|(i, j)| ((i, j), pearson_pair(columns[i].values, columns[j].values)))
        .collect();
    symmetric(columns.len(), values)
}

/// Average ranks (1-based, ties share their mean rank, as scipy's `rankdata`) of small
/// in-memory samples; the profile's Spearman uses its own pre-sorted orders instead.
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

/// Spearman correlations of all pairs.
/// `valid[c][r]` says whether column `c` has a finite value in row `r` (see [`finite_rows`]);
/// the columns' `values` are not read, so the caller may have freed them.
pub fn spearman(
    columns: &[CorrColumn<'_>],
    valid: &[Vec<bool>],
    rows: usize,
) -> Vec<Vec<Option<f64>>> {
    // Ranks over each column's own finite rows: right for every pair where neither column has
    // missing values; other pairs are re-ranked over their common rows (as pandas does).
    let full_ranks: Vec<Vec<f32>> = columns
        .par_iter()
        .zip(valid)
        .map(|(c, own)| {
            let mut ranks = vec![0f32; rows];
            let mut group = Vec::new();
            for_each_rank_group(
                c.order,
                c.group_starts,
                |r| own[r],
                &mut group,
                |g, rank| {
                    for &row in g {
                        ranks[row as usize] = rank as f32;
                    }
                },
            );
            ranks
        })
        .collect();
    let values = pairs(columns.len())
        .into_par_iter()
        .map_init(
            || (vec![0f32; rows], Vec::new()),
            |(rb, group), (i, j)| {
                let (a, b) = (&columns[i], &columns[j]);
                let (va, vb) = (&valid[i], &valid[j]);
                let both = |r: usize| va[r] && vb[r];
                if !a.has_missing && !b.has_missing {
                    return (
                        (i, j),
                        rank_correlation(&full_ranks[i], &full_ranks[j], both),
                    );
                }
                // Rank b over the common rows, then walk a's sorted order over the same rows:
                // a's ranks come out in sequence, so they are never stored.
                let nobs = for_each_rank_group(b.order, b.group_starts, both, group, |g, rank| {
                    for &row in g {
                        rb[row as usize] = rank as f32;
                    }
                });
                if nobs < 2 {
                    return ((i, j), None);
                }
                let mean = (nobs as f64 + 1.0) / 2.0;
                let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
                for_each_rank_group(a.order, a.group_starts, both, group, |g, rank| {
                    let vx = rank - mean;
                    for &row in g {
                        let vy = f64::from(rb[row as usize]) - mean;
                        sxy += vx * vy;
                        sxx += vx * vx;
                        syy += vy * vy;
                    }
                });
                let divisor = (sxx * syy).sqrt();
                ((i, j), (divisor != 0.0).then(|| sxy / divisor))
            },
        )
        .collect();
    symmetric(columns.len(), values)
}

fn rank_correlation(rx: &[f32], ry: &[f32], keep: impl Fn(usize) -> bool) -> Option<f64> {
    let nobs = (0..rx.len()).filter(|&r| keep(r)).count();
    if nobs < 2 {
        return None;
    }
    let mean = (nobs as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (row, (&x, &y)) in rx.iter().zip(ry).enumerate() {
        if !keep(row) {
            continue;
        }
        let (vx, vy) = (f64::from(x) - mean, f64::from(y) - mean);
        sxy += vx * vy;
        sxx += vx * vx;
        syy += vy * vy;
    }
    let divisor = (sxx * syy).sqrt();
    (divisor != 0.0).then(|| sxy / divisor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[f64]) -> (Vec<f64>, Vec<u32>, Vec<u64>) {
        let mut order: Vec<u32> = (0..values.len() as u32)
            .filter(|&i| !values[i as usize].is_nan())
            .collect();
        order.sort_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
        let bits = group_starts(values, &order);
        (values.to_vec(), order, bits)
    }

    /// Spearman and Pearson correlation of two columns, NaN marking a missing value.
    fn correlate(x: &[f64], y: &[f64]) -> (Option<f64>, Option<f64>) {
        let (x, ox, bx) = column(x);
        let (y, oy, by) = column(y);
        let corr_column = |values, order, group_starts, v: &[f64]| CorrColumn {
            values,
            order,
            group_starts,
            has_missing: v.iter().any(|x| x.is_nan()),
        };
        let cols = [corr_column(&x, &ox, &bx, &x), corr_column(&y, &oy, &by, &y)];
        let valid: Vec<Vec<bool>> = [&x, &y].iter().map(|v| finite_rows(v)).collect();
        let s = spearman(&cols, &valid, x.len());
        let p = pearson(&cols);
        (s[0][1], p[0][1])
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
}
