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
    let (mut n, mut mean_x, mut mean_y) = (0.0f64, 0.0f64, 0.0f64);
    let (mut ssx, mut ssy, mut cov) = (0.0f64, 0.0f64, 0.0f64);
    for (&vx, &vy) in x.iter().zip(y) {
        // pandas treats infinities as missing here.
        if !vx.is_finite() || !vy.is_finite() {
            continue;
        }
        n += 1.0;
        let dx = vx - mean_x;
        let dy = vy - mean_y;
        mean_x += dx / n;
        mean_y += dy / n;
        ssx += (vx - mean_x) * dx;
        ssy += (vy - mean_y) * dy;
        cov += (vx - mean_x) * dy;
    }
    let divisor = (ssx * ssy).sqrt();
    (n >= 2.0 && divisor != 0.0 && divisor.is_finite()).then(|| cov / divisor)
}

/// Spearman correlations of all pairs.
pub fn spearman(columns: &[CorrColumn<'_>], rows: usize) -> Vec<Vec<Option<f64>>> {
    // Ranks over each column's own non-missing rows: right for every pair where neither
    // column has missing values; other pairs are re-ranked over their common rows.
    let full_ranks: Vec<Vec<f64>> = columns
        .par_iter()
        .map(|c| ranks_over(c.values, c.order, rows, |r| c.values[r].is_finite()).0)
        .collect();
    let values = pairs(columns.len())
        .into_par_iter()
        .map(|(i, j)| {
            let (a, b) = (&columns[i], &columns[j]);
            // `has_missing` covers infinities too: pandas ignores both.
            if !a.has_missing && !b.has_missing {
                let nobs = a.order.len();
                return (
                    (i, j),
                    rank_correlation(&full_ranks[i], &full_ranks[j], nobs, |_| true),
                );
            }
            let both = |r: usize| a.values[r].is_finite() && b.values[r].is_finite();
            let (ra, nobs) = ranks_over(a.values, a.order, rows, both);
            let (rb, _) = ranks_over(b.values, b.order, rows, both);
            ((i, j), rank_correlation(&ra, &rb, nobs, both))
        })
        .collect();
    symmetric(columns.len(), values)
}

/// Average ranks (1-based, ties share their mean rank) of the rows kept by `keep`, walking the
/// column's sorted order; returns the ranks by row (NaN elsewhere) and how many rows were kept.
fn ranks_over(
    values: &[f64],
    order: &[u32],
    rows: usize,
    keep: impl Fn(usize) -> bool,
) -> (Vec<f64>, usize) {
    let mut ranks = vec![f64::NAN; rows];
    let kept: Vec<usize> = order
        .iter()
        .map(|&r| r as usize)
        .filter(|&r| keep(r))
        .collect();
    let mut start = 0;
    while start < kept.len() {
        let value = values[kept[start]];
        let mut end = start + 1;
        while end < kept.len() && values[kept[end]] == value {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &row in &kept[start..end] {
            ranks[row] = rank;
        }
        start = end;
    }
    (ranks, kept.len())
}

fn rank_correlation(
    rx: &[f64],
    ry: &[f64],
    nobs: usize,
    keep: impl Fn(usize) -> bool,
) -> Option<f64> {
    if nobs < 2 {
        return None;
    }
    let mean = (nobs as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (row, (&x, &y)) in rx.iter().zip(ry).enumerate() {
        if x.is_nan() || y.is_nan() || !keep(row) {
            continue;
        }
        let (vx, vy) = (x - mean, y - mean);
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
