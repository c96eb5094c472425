//! Profiles of a whole table: per-column statistics, correlations, duplicates and alerts,
//! computed in parallel column by column, with progress and cancellation.
//!
//! Numbers follow pandas (see `stats.rs`), so a user can check any of them in a notebook.

pub mod alerts;
pub mod correlation;
mod order;
pub mod spearman;
pub mod stats;

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use alerts::{Alert, AlertThresholds};
pub use correlation::CorrelationMatrix;
pub use stats::Histogram;

use super::error::{DataError, DataResult};

/// How many top values are kept per column.
pub const TOP_VALUES: usize = 10;
/// Numeric columns with at most this many distinct values also get top values.
const NUMERIC_TOP_LIMIT: usize = 20;

/// The broad type of a column, deciding which statistics and plots apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Integers and floats.
    Numeric,
    /// Strings with repeated values.
    Categorical,
    /// true/false.
    Boolean,
    /// Dates and times.
    Datetime,
    /// Mostly-unique free text.
    Text,
}

/// A value and how often it occurs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopValue {
    /// The value as text.
    pub value: String,
    /// Occurrences.
    pub count: u64,
}

/// Lengths of the strings of a text column, in characters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthStats {
    /// Shortest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Longest.
    pub max: u64,
}

/// Everything known about one column. Statistics that do not apply are `None` (JSON `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// polars data type.
    pub dtype: String,
    /// Broad kind.
    pub kind: ColumnKind,
    /// Non-missing values.
    pub count: usize,
    /// Missing values.
    pub nulls: usize,
    /// Distinct non-missing values.
    pub distinct: usize,
    /// Mean.
    pub mean: Option<f64>,
    /// Standard deviation (ddof = 1).
    pub std: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// 5th percentile.
    pub p5: Option<f64>,
    /// 25th percentile.
    pub p25: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// 75th percentile.
    pub p75: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
    /// Skewness (pandas `skew()`).
    pub skewness: Option<f64>,
    /// Excess kurtosis (pandas `kurt()`).
    pub kurtosis: Option<f64>,
    /// Values equal to zero.
    pub zeros: Option<u64>,
    /// Infinite values.
    pub infinities: Option<u64>,
    /// Histogram of finite values.
    pub histogram: Option<Histogram>,
    /// Most frequent values, by count then value.
    pub top: Vec<TopValue>,
    /// String lengths.
    pub length: Option<LengthStats>,
}

/// A whole-table profile (the `kiln profile --json` document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub columns_count: usize,
    /// Rows identical to an earlier row.
    pub duplicate_rows: usize,
    /// sha256 of the file the table came from (empty when not from a file).
    pub fingerprint: String,
    /// In-memory (Arrow) size of the table, in bytes.
    pub memory_bytes: usize,
    /// Missing cells in the whole table.
    pub missing_cells: usize,
    /// Rows with at least one missing cell.
    pub rows_with_missing: usize,
    /// Per-column profiles, in table order.
    pub columns: Vec<ColumnProfile>,
    /// Correlation matrices of the numeric columns.
    pub correlations: Correlations,
    /// Findings, dataset-level first.
    pub alerts: Vec<Alert>,
}

/// Pearson and Spearman matrices.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Correlations {
    /// Linear correlation.
    pub pearson: CorrelationMatrix,
    /// Rank correlation.
    pub spearman: CorrelationMatrix,
}

/// Options of [`profile_frame`].
#[derive(Debug, Clone, Default)]
pub struct ProfileOptions {
    /// Alert thresholds.
    pub thresholds: AlertThresholds,
    /// Kinds the user chose for string columns (categorical or text), by column name.
    pub kinds: std::collections::BTreeMap<String, ColumnKind>,
    /// Leave out the correlation matrices (left empty), as ydata-profiling's `minimal=True`
    /// does: per-column statistics, histograms, top values, duplicates and alerts only.
    pub minimal: bool,
}

/// Numeric column data kept for the correlation phase.
struct NumericData {
    index: usize,
    /// Values by row, `NaN` when missing.
    values: Vec<f64>,
    /// Rows of the non-missing values, sorted by value.
    order: Vec<u32>,
    /// [`correlation::group_starts`] of the values in `order`.
    group_starts: Vec<u64>,
    /// The positions of `order` holding finite values (infinities sort to the ends).
    finite_positions: std::ops::Range<usize>,
}

struct ColumnResult {
    profile: ColumnProfile,
    class_counts: Vec<u64>,
    numeric: Option<NumericData>,
}

/// Profiles `frame`. `on_progress(fraction, message)` is called as columns finish; returning
/// `false` cancels.
pub fn profile_frame(
    frame: &DataFrame,
    options: &ProfileOptions,
    on_progress: &(dyn Fn(f32, &str) -> bool + Sync),
) -> DataResult<Profile> {
    let started = std::time::Instant::now();
    let rows = frame.height();
    let columns = frame.columns();
    let total_steps = columns.len() as f32 + 2.0;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<ColumnResult> = columns
        .par_iter()
        .enumerate()
        .map(|(index, column)| {
            let forced = options.kinds.get(column.name().as_str()).copied();
            let result = profile_column(index, column.as_materialized_series(), forced);
            let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if !on_progress(
                finished as f32 / total_steps,
                &format!("column {}", column.name()),
            ) {
                return Err(DataError::Cancelled);
            }
            result
        })
        .collect::<DataResult<_>>()?;

    tracing::debug!(
        elapsed_s = started.elapsed().as_secs_f64(),
        "profile: columns done"
    );
    if !on_progress((columns.len() as f32 + 0.5) / total_steps, "correlations") {
        return Err(DataError::Cancelled);
    }
    let mut numeric: Vec<NumericData> = results
        .iter_mut()
        .filter_map(|r| r.numeric.take())
        .collect();
    if options.minimal {
        numeric.clear();
    }
    let names: Vec<String> = numeric
        .iter()
        .map(|n| results[n.index].profile.name.clone())
        .collect();
    let finite: Vec<Vec<u64>> = numeric
        .par_iter()
        .map(|n| correlation::finite_bits(&n.values))
        .collect();
    // Pearson centres each column's values in place, and Spearman needs only the sorted
    // orders: the values are handed over and freed after Pearson (peak memory).
    let pearson_columns: Vec<correlation::PearsonColumn<'_>> = numeric
        .par_iter_mut()
        .zip(&finite)
        .map(|(n, finite)| correlation::PearsonColumn::new(std::mem::take(&mut n.values), finite))
        .collect();
    let pearson = correlation::pearson(&pearson_columns);
    drop(pearson_columns);
    tracing::debug!(
        elapsed_s = started.elapsed().as_secs_f64(),
        "profile: pearson done"
    );
    let ranked: Vec<spearman::RankColumn> = numeric
        .into_par_iter()
        .zip(finite)
        .map(|(n, finite)| {
            spearman::RankColumn::new(
                rows,
                &n.order,
                n.finite_positions.clone(),
                &n.group_starts,
                finite,
            )
        })
        .collect();
    let spearman = spearman::spearman(&ranked);
    drop(ranked);
    let correlations = Correlations {
        pearson: CorrelationMatrix {
            columns: names.clone(),
            matrix: pearson,
        },
        spearman: CorrelationMatrix {
            columns: names,
            matrix: spearman,
        },
    };
    tracing::debug!(
        elapsed_s = started.elapsed().as_secs_f64(),
        "profile: correlations done"
    );
    if !on_progress((columns.len() as f32 + 1.5) / total_steps, "duplicates") {
        return Err(DataError::Cancelled);
    }
    let duplicate_rows = duplicate_rows(frame);
    let rows_with_missing = rows_with_missing(frame);
    tracing::debug!(
        elapsed_s = started.elapsed().as_secs_f64(),
        "profile: duplicates done"
    );

    let mut alerts = Vec::new();
    alerts.extend(alerts::duplicate_alert(duplicate_rows, rows));
    for r in &results {
        alerts.extend(alerts::column_alerts(
            &r.profile,
            &r.class_counts,
            rows,
            &options.thresholds,
        ));
    }
    alerts.extend(alerts::correlation_alerts(
        &[&correlations.pearson, &correlations.spearman],
        &options.thresholds,
    ));
    let profiles: Vec<ColumnProfile> = results.into_iter().map(|r| r.profile).collect();
    on_progress(1.0, "done");
    Ok(Profile {
        rows,
        columns_count: profiles.len(),
        duplicate_rows,
        fingerprint: String::new(),
        memory_bytes: frame.estimated_size(),
        missing_cells: profiles.iter().map(|c| c.nulls).sum(),
        rows_with_missing,
        columns: profiles,
        correlations,
        alerts,
    })
}

fn empty_profile(
    name: &str,
    dtype: &DataType,
    kind: ColumnKind,
    count: usize,
    nulls: usize,
) -> ColumnProfile {
    ColumnProfile {
        name: name.to_owned(),
        dtype: dtype.to_string(),
        kind,
        count,
        nulls,
        distinct: 0,
        mean: None,
        std: None,
        min: None,
        p5: None,
        p25: None,
        median: None,
        p75: None,
        p95: None,
        max: None,
        skewness: None,
        kurtosis: None,
        zeros: None,
        infinities: None,
        histogram: None,
        top: Vec::new(),
        length: None,
    }
}

fn profile_column(
    index: usize,
    series: &Series,
    forced: Option<ColumnKind>,
) -> DataResult<ColumnResult> {
    let dtype = series.dtype();
    let nulls = series.null_count();
    let count = series.len() - nulls;
    let polars_err = |e: PolarsError| DataError::Malformed {
        path: Default::default(),
        location: format!("column '{}': ", series.name()),
        reason: e.to_string(),
    };
    // An all-missing column has no type of its own; pandas reads it as float, so it takes
    // part in correlations (as undefined) like any numeric column.
    let all_missing = count == 0 && (dtype.is_string() || dtype.is_null());
    if dtype.is_primitive_numeric() || all_missing {
        let values = float_values(series).map_err(polars_err)?;
        return Ok(numeric_column(index, series.name(), dtype, values, nulls));
    }
    if dtype.is_bool() {
        let ca = series.bool().map_err(polars_err)?;
        let (mut t, mut f) = (0u64, 0u64);
        for v in ca.iter().flatten() {
            if v { t += 1 } else { f += 1 }
        }
        let mut counts: Vec<(String, u64)> = vec![("true".into(), t), ("false".into(), f)];
        counts.retain(|(_, c)| *c > 0);
        let mut profile = empty_profile(series.name(), dtype, ColumnKind::Boolean, count, nulls);
        let class_counts = finish_top(&mut profile, counts);
        return Ok(ColumnResult {
            profile,
            class_counts,
            numeric: None,
        });
    }
    if dtype.is_string() {
        let ca = series.str().map_err(polars_err)?;
        let mut counts: PlHashMap<&str, u64> = PlHashMap::default();
        let (mut min_len, mut max_len, mut total_len) = (u64::MAX, 0u64, 0u64);
        for v in ca.iter().flatten() {
            *counts.entry(v).or_default() += 1;
            let len = v.chars().count() as u64;
            min_len = min_len.min(len);
            max_len = max_len.max(len);
            total_len += len;
        }
        let mean_len = if count > 0 {
            total_len as f64 / count as f64
        } else {
            0.0
        };
        let distinct = counts.len();
        let is_text = count > 0 && distinct * 2 > count && mean_len >= 20.0;
        let kind = match forced {
            Some(kind @ (ColumnKind::Text | ColumnKind::Categorical)) => kind,
            _ if is_text => ColumnKind::Text,
            _ => ColumnKind::Categorical,
        };
        let mut profile = empty_profile(series.name(), dtype, kind, count, nulls);
        profile.length = (count > 0).then_some(LengthStats {
            min: min_len,
            mean: mean_len,
            max: max_len,
        });
        let counts = counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let class_counts = finish_top(&mut profile, counts);
        return Ok(ColumnResult {
            profile,
            class_counts,
            numeric: None,
        });
    }
    let kind = if dtype.is_temporal() {
        ColumnKind::Datetime
    } else {
        ColumnKind::Text
    };
    let mut profile = empty_profile(series.name(), dtype, kind, count, nulls);
    profile.distinct = series.drop_nulls().n_unique().map_err(polars_err)?;
    Ok(ColumnResult {
        profile,
        class_counts: Vec::new(),
        numeric: None,
    })
}

/// A numeric column as floats by row, `NaN` where missing, copied chunk by chunk.
fn float_values(series: &Series) -> PolarsResult<Vec<f64>> {
    let floats = series.cast(&DataType::Float64)?;
    let mut values = Vec::with_capacity(floats.len());
    for array in floats.f64()?.downcast_iter() {
        let start = values.len();
        values.extend_from_slice(array.values());
        if let Some(validity) = array.validity().filter(|v| v.unset_bits() > 0) {
            for (v, valid) in values[start..].iter_mut().zip(validity.iter()) {
                if !valid {
                    *v = f64::NAN;
                }
            }
        }
    }
    Ok(values)
}

/// Sorts value counts (count descending, then value), keeps the top ones, returns all counts.
fn finish_top(profile: &mut ColumnProfile, mut counts: Vec<(String, u64)>) -> Vec<u64> {
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    profile.distinct = counts.len();
    let class_counts = counts.iter().map(|(_, c)| *c).collect();
    profile.top = counts
        .into_iter()
        .take(TOP_VALUES)
        .map(|(value, count)| TopValue { value, count })
        .collect();
    class_counts
}

fn numeric_column(
    index: usize,
    name: &str,
    dtype: &DataType,
    values: Vec<f64>,
    nulls: usize,
) -> ColumnResult {
    let (order, sorted) = order::sort_rows(&values);
    let count = sorted.len();
    let mut profile = empty_profile(name, dtype, ColumnKind::Numeric, count, nulls);
    let group_starts = correlation::group_starts(&sorted);
    profile.distinct = group_starts.iter().map(|w| w.count_ones() as usize).sum();
    if profile.distinct <= NUMERIC_TOP_LIMIT {
        let is_integer = dtype.is_integer();
        let counts = correlation::group_bounds(&group_starts, 0..count)
            .windows(2)
            .map(|w| {
                (
                    format_number(sorted[w[0]], is_integer),
                    (w[1] - w[0]) as u64,
                )
            })
            .collect();
        finish_top(&mut profile, counts);
    }
    let moments = stats::moments(&sorted);
    profile.mean = moments.mean;
    profile.std = moments.std;
    profile.skewness = moments.skewness;
    profile.kurtosis = moments.kurtosis;
    profile.min = sorted.first().copied();
    profile.max = sorted.last().copied();
    profile.p5 = stats::quantile_sorted(&sorted, 0.05);
    profile.p25 = stats::quantile_sorted(&sorted, 0.25);
    profile.median = stats::quantile_sorted(&sorted, 0.5);
    profile.p75 = stats::quantile_sorted(&sorted, 0.75);
    profile.p95 = stats::quantile_sorted(&sorted, 0.95);
    profile.zeros = Some(sorted.iter().filter(|v| **v == 0.0).count() as u64);
    profile.infinities = Some(sorted.iter().filter(|v| v.is_infinite()).count() as u64);
    // Infinities sort to the two ends: the finite values are the run between them.
    let below = sorted.partition_point(|&v| v == f64::NEG_INFINITY);
    let above = sorted.partition_point(|&v| v < f64::INFINITY);
    profile.histogram = stats::histogram_sorted(&sorted[below..above]);
    ColumnResult {
        profile,
        class_counts: Vec::new(),
        numeric: Some(NumericData {
            index,
            group_starts,
            values,
            order,
            finite_positions: below..above,
        }),
    }
}

/// A number as pandas prints it in value counts (`5.1`, `3`).
pub fn format_number(v: f64, integer: bool) -> String {
    if integer && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.fract() == 0.0 && v.is_finite() && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

/// Rows equal to an earlier row (pandas `duplicated().sum()`), by 128-bit row hashes.
fn duplicate_rows(frame: &DataFrame) -> usize {
    /// Rows hashed together: each block reads every column's slice, in parallel with the
    /// other blocks, and needs no column-long temporary.
    const BLOCK: usize = 1 << 16;
    let rows = frame.height();
    let mut hashes: Vec<(u64, u64)> = (0..rows.div_ceil(BLOCK))
        .into_par_iter()
        .flat_map_iter(|block| {
            let (start, len) = (block * BLOCK, BLOCK.min(rows - block * BLOCK));
            let mut hashes = vec![(0x9E37_79B9_7F4A_7C15u64, 0xC2B2_AE3D_27D4_EB4Fu64); len];
            for column in frame.columns() {
                let slice = column.as_materialized_series().slice(start as i64, len);
                for ((a, b), k) in hashes.iter_mut().zip(column_keys(&slice)) {
                    *a = mix(*a ^ k);
                    *b = mix(b.rotate_left(17) ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                }
            }
            hashes
        })
        .collect();
    // Equal rows have equal hashes: sorted, every hash equal to the one before is a duplicate.
    hashes.par_sort_unstable();
    hashes.windows(2).filter(|w| w[0] == w[1]).count()
}

/// One 64-bit key per row of a column (nulls share one key).
fn column_keys(series: &Series) -> Vec<u64> {
    const NULL_KEY: u64 = 0x6A09_E667_F3BC_C908;
    let dtype = series.dtype();
    // A missing number and NaN are one value, as in pandas.
    if dtype.is_primitive_numeric()
        && let Ok(values) = float_values(series)
    {
        return values
            .into_iter()
            .map(|v| {
                if v.is_nan() {
                    NULL_KEY
                } else {
                    normalise_float(v)
                }
            })
            .collect();
    }
    if let Ok(ca) = series.str() {
        return ca
            .iter()
            .map(|v| v.map_or(NULL_KEY, |s| fnv1a(s.as_bytes())))
            .collect();
    }
    if let Ok(ca) = series.bool() {
        return ca.iter().map(|v| v.map_or(NULL_KEY, u64::from)).collect();
    }
    match series.cast(&DataType::String) {
        Ok(strings) => match strings.str() {
            Ok(ca) => ca
                .iter()
                .map(|v| v.map_or(NULL_KEY, |s| fnv1a(s.as_bytes())))
                .collect(),
            Err(_) => vec![NULL_KEY; series.len()],
        },
        Err(_) => vec![NULL_KEY; series.len()],
    }
}

fn normalise_float(v: f64) -> u64 {
    if v == 0.0 { 0 } else { v.to_bits() }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn rows_with_missing(frame: &DataFrame) -> usize {
    let mut any: Option<BooleanChunked> = None;
    for column in frame.columns() {
        if column.null_count() == 0 {
            continue;
        }
        let mask = column.as_materialized_series().is_null();
        any = Some(match any {
            Some(any) => &any | &mask,
            None => mask,
        });
    }
    any.map_or(0, |any| any.num_trues())
}
