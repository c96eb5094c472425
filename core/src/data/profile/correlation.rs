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

fn pearson_pair(x: &[f64], y: &[f64]) -> Option<f64> {
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
pub fn spearman(columns: &[CorrColumn<'_>], rows: usize) -> Vec<Vec<Option<f64>>> {
    let valid: Vec<Vec<bool>> = columns
        .par_iter()
        .map(|c| c.values.iter().map(|v| v.is_finite()).collect())
        .collect();
    // Ranks over each column's own finite rows: right for every pair where neither column has
    // missing values; other pairs are re-ranked over their common rows (as pandas does).
    let full_ranks: Vec<Vec<f32>> = columns
        .par_iter()
        .zip(&valid)
        .map(|(c, own)| {
            let mut ranks = vec![0f32; rows];
            let mut kept = Vec::new();
            fill_ranks(&mut ranks, c.values, c.order, |r| own[r], &mut kept);
            ranks
        })
        .collect();
    let values = pairs(columns.len())
        .into_par_iter()
        .map_init(
            || (vec![0f32; rows], vec![0f32; rows], Vec::new()),
            |(ra, rb, kept), (i, j)| {
                let (a, b) = (&columns[i], &columns[j]);
                let (va, vb) = (&valid[i], &valid[j]);
                let both = |r: usize| va[r] && vb[r];
                if !a.has_missing && !b.has_missing {
                    return (
                        (i, j),
                        rank_correlation(&full_ranks[i], &full_ranks[j], both),
                    );
                }
                fill_ranks(ra, a.values, a.order, both, kept);
                fill_ranks(rb, b.values, b.order, both, kept);
                ((i, j), rank_correlation(ra, rb, both))
            },
        )
        .collect();
    symmetric(columns.len(), values)
}

/// Writes average ranks (1-based; ties share their mean rank) of the rows kept by `keep` into
/// `ranks`, walking the column's sorted order; other rows are left untouched.
/// Ranks are `f32`: exact for whole and half ranks up to 16 million rows.
fn fill_ranks(
    ranks: &mut [f32],
    values: &[f64],
    order: &[u32],
    keep: impl Fn(usize) -> bool,
    kept: &mut Vec<u32>,
) {
    kept.clear();
    kept.extend(order.iter().copied().filter(|&r| keep(r as usize)));
    let mut start = 0;
    while start < kept.len() {
        let value = values[kept[start] as usize];
        let mut end = start + 1;
        while end < kept.len() && values[kept[end] as usize] == value {
            end += 1;
        }
        let rank = (start + end + 1) as f32 / 2.0;
        for &row in &kept[start..end] {
            ranks[row as usize] = rank;
        }
        start = end;
    }
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

    fn column(values: &[f64]) -> (Vec<f64>, Vec<u32>) {
        let mut order: Vec<u32> = (0..values.len() as u32)
            .filter(|&i| !values[i as usize].is_nan())
            .collect();
        order.sort_by(|&a, &b| values[a as usize].total_cmp(&values[b as usize]));
        (values.to_vec(), order)
    }

    #[test]
    fn perfectly_related_columns_correlate_fully() {
        let (x, ox) = column(&[1.0, 2.0, 3.0, 4.0]);
        let (y, oy) = column(&[1.0, 4.0, 9.0, 16.0]);
        let cols = [
            CorrColumn {
                values: &x,
                order: &ox,
                has_missing: false,
            },
            CorrColumn {
                values: &y,
                order: &oy,
                has_missing: false,
            },
        ];
        let s = spearman(&cols, 4);
        assert!((s[0][1].unwrap_or_default() - 1.0).abs() < 1e-12);
        let p = pearson(&cols);
        assert!(p[0][1].unwrap_or_default() > 0.98);
    }

    #[test]
    fn missing_values_use_pairwise_complete_rows() {
        let (x, ox) = column(&[1.0, 2.0, f64::NAN, 4.0, 5.0]);
        let (y, oy) = column(&[5.0, 3.0, 100.0, 2.0, 1.0]);
        let cols = [
            CorrColumn {
                values: &x,
                order: &ox,
                has_missing: true,
            },
            CorrColumn {
                values: &y,
                order: &oy,
                has_missing: false,
            },
        ];
        let s = spearman(&cols, 5);
        assert!((s[0][1].unwrap_or_default() + 1.0).abs() < 1e-12);
    }
}
