//! What the Explore views need from a table, computed here so the app only draws:
//! cell text, sort orders, scatter samples, grouped box-plot statistics.

use std::collections::HashMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::profile::stats::quantile_sorted;

/// Text of one cell as the data grid shows it (`""` for missing).
pub fn cell_text(frame: &DataFrame, column: usize, row: usize) -> String {
    let Some(col) = frame.columns().get(column) else {
        return String::new();
    };
    match col.get(row) {
        Ok(AnyValue::Null) | Err(_) => String::new(),
        Ok(AnyValue::String(s)) => s.to_owned(),
        Ok(AnyValue::StringOwned(s)) => s.to_string(),
        Ok(AnyValue::Float64(v)) => format_float(v),
        Ok(AnyValue::Float32(v)) => format_float(f64::from(v)),
        Ok(other) => other.to_string(),
    }
}

/// A statistic as Kiln shows it: four decimals, scientific notation for very large or small
/// magnitudes, `inf`, and a dash when it does not apply.
pub fn format_stat(value: Option<f64>) -> String {
    match value {
        None => "—".to_owned(),
        Some(x) if x == f64::INFINITY => "inf".to_owned(),
        Some(x) if x == f64::NEG_INFINITY => "-inf".to_owned(),
        Some(x) if x != 0.0 && (x.abs() >= 1e7 || x.abs() < 1e-4) => format!("{x:.4e}"),
        Some(x) => format!("{x:.4}"),
    }
}

fn format_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// `rows` reordered by the values of `column` (missing values last, stable on ties).
pub fn sort_rows(
    frame: &DataFrame,
    column: &str,
    descending: bool,
    rows: &[u32],
) -> PolarsResult<Vec<u32>> {
    let series = frame.column(column)?.as_materialized_series();
    let mut order = rows.to_vec();
    if series.dtype().is_primitive_numeric() || series.dtype().is_bool() {
        let floats = series.cast(&DataType::Float64)?;
        let values: Vec<Option<f64>> = floats.f64()?.iter().collect();
        order.sort_by(|&a, &b| match (values[a as usize], values[b as usize]) {
            (Some(x), Some(y)) => {
                let ord = x.total_cmp(&y);
                if descending { ord.reverse() } else { ord }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    } else {
        let text = series.cast(&DataType::String)?;
        let values: Vec<Option<&str>> = text.str()?.iter().collect();
        order.sort_by(|&a, &b| match (values[a as usize], values[b as usize]) {
            (Some(x), Some(y)) => {
                let ord = x.cmp(y);
                if descending { ord.reverse() } else { ord }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
    }
    Ok(order)
}

/// Points of a scatter plot, grouped by the colour column's values.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScatterData {
    /// (group label, points); one unnamed group without a colour column.
    pub groups: Vec<(String, Vec<[f64; 2]>)>,
    /// Rows with both coordinates present.
    pub total_points: usize,
    /// Points kept (an even sample when there are more than asked for).
    pub shown_points: usize,
}

fn numeric_values(frame: &DataFrame, column: &str) -> PolarsResult<Vec<Option<f64>>> {
    let series = frame.column(column)?.as_materialized_series();
    if !series.dtype().is_primitive_numeric() {
        return Err(PolarsError::InvalidOperation(
            format!("column '{column}' is not numeric").into(),
        ));
    }
    let floats = series.cast(&DataType::Float64)?;
    Ok(floats
        .f64()?
        .iter()
        .map(|v| v.filter(|x| x.is_finite()))
        .collect())
}

fn group_labels(frame: &DataFrame, column: &str) -> PolarsResult<Vec<String>> {
    let series = frame
        .column(column)?
        .as_materialized_series()
        .cast(&DataType::String)?;
    Ok(series
        .str()?
        .iter()
        .map(|v| v.unwrap_or("(missing)").to_owned())
        .collect())
}

/// Most colour groups drawn; the rest are pooled as "(other)".
const MAX_GROUPS: usize = 10;

/// An evenly spaced sample of at most `max_points` (x, y) points, grouped by `color`.
pub fn scatter_sample(
    frame: &DataFrame,
    x: &str,
    y: &str,
    color: Option<&str>,
    max_points: usize,
) -> PolarsResult<ScatterData> {
    let xs = numeric_values(frame, x)?;
    let ys = numeric_values(frame, y)?;
    let complete: Vec<usize> = (0..xs.len())
        .filter(|&i| xs[i].is_some() && ys[i].is_some())
        .collect();
    let step = (complete.len() as f64 / max_points.max(1) as f64).max(1.0);
    let chosen: Vec<usize> = (0..complete.len().min(max_points))
        .map(|k| complete[(k as f64 * step) as usize])
        .collect();
    let labels = match color {
        Some(c) => Some(group_labels(frame, c)?),
        None => None,
    };
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<[f64; 2]>> = HashMap::new();
    if let Some(labels) = &labels {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for &i in &chosen {
            *counts.entry(labels[i].as_str()).or_default() += 1;
        }
        let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        order = ranked
            .iter()
            .take(MAX_GROUPS)
            .map(|(l, _)| (*l).to_owned())
            .collect();
    }
    for &i in &chosen {
        let point = [xs[i].unwrap_or_default(), ys[i].unwrap_or_default()];
        let label = match &labels {
            Some(labels) if order.contains(&labels[i]) => labels[i].clone(),
            Some(_) => "(other)".to_owned(),
            None => String::new(),
        };
        groups.entry(label).or_default().push(point);
    }
    if groups.contains_key("(other)") {
        order.push("(other)".into());
    }
    if labels.is_none() {
        order.push(String::new());
    }
    Ok(ScatterData {
        groups: order
            .into_iter()
            .filter_map(|label| groups.remove(&label).map(|points| (label, points)))
            .collect(),
        total_points: complete.len(),
        shown_points: chosen.len(),
    })
}

/// Tukey box-plot statistics of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxStats {
    /// Group label.
    pub group: String,
    /// Values in the group.
    pub count: usize,
    /// Lowest value within 1.5 IQR of the first quartile.
    pub lower_whisker: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// Highest value within 1.5 IQR of the third quartile.
    pub upper_whisker: f64,
    /// Values outside the whiskers.
    pub outliers: usize,
}

/// Box statistics of numeric `value` per group of `group` (the largest groups first).
pub fn box_stats(
    frame: &DataFrame,
    value: &str,
    group: Option<&str>,
) -> PolarsResult<Vec<BoxStats>> {
    let values = numeric_values(frame, value)?;
    let labels = match group {
        Some(g) => group_labels(frame, g)?,
        None => vec![value.to_owned(); values.len()],
    };
    let mut groups: HashMap<&str, Vec<f64>> = HashMap::new();
    for (v, label) in values.iter().zip(&labels) {
        if let Some(v) = v {
            groups.entry(label.as_str()).or_default().push(*v);
        }
    }
    let mut ranked: Vec<(&str, Vec<f64>)> = groups.into_iter().collect();
    ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    Ok(ranked
        .into_iter()
        .take(MAX_GROUPS * 2)
        .filter_map(|(label, mut v)| {
            v.sort_by(f64::total_cmp);
            let q1 = quantile_sorted(&v, 0.25)?;
            let median = quantile_sorted(&v, 0.5)?;
            let q3 = quantile_sorted(&v, 0.75)?;
            let reach = 1.5 * (q3 - q1);
            let lower_whisker = v.iter().copied().find(|x| *x >= q1 - reach).unwrap_or(q1);
            let upper_whisker = v
                .iter()
                .rev()
                .copied()
                .find(|x| *x <= q3 + reach)
                .unwrap_or(q3);
            let outliers = v
                .iter()
                .filter(|x| **x < lower_whisker || **x > upper_whisker)
                .count();
            Some(BoxStats {
                group: label.to_owned(),
                count: v.len(),
                lower_whisker,
                q1,
                median,
                q3,
                upper_whisker,
                outliers,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        df!(
            "x" => [1.0, 2.0, 3.0, 4.0, 100.0, f64::NAN],
            "g" => ["a", "a", "b", "b", "b", "a"],
        )
        .expect("frame")
    }

    #[test]
    fn sorting_keeps_missing_values_last() {
        let f = df!("v" => [Some(3i64), None, Some(1), Some(2)]).expect("frame");
        assert_eq!(
            sort_rows(&f, "v", false, &[0, 1, 2, 3]).expect("sort"),
            vec![2, 3, 0, 1]
        );
        assert_eq!(
            sort_rows(&f, "v", true, &[0, 1, 2, 3]).expect("sort"),
            vec![0, 3, 2, 1]
        );
    }

    #[test]
    fn box_stats_use_tukey_whiskers() {
        let stats = box_stats(&frame(), "x", Some("g")).expect("stats");
        let b = stats.iter().find(|s| s.group == "b").expect("group b");
        assert_eq!((b.count, b.median), (3, 4.0));
        assert_eq!(b.outliers, 0);
    }

    #[test]
    fn scatter_samples_evenly_and_groups_by_colour() {
        let s = scatter_sample(&frame(), "x", "x", Some("g"), 2).expect("scatter");
        assert_eq!((s.total_points, s.shown_points), (5, 2));
    }
}
