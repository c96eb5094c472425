//! A column as Evidently sees it: its kind, inferred from the current data as
//! `evidently.core.datasets.infer_column_type` does on a frame read by pandas, and its values
//! with missing and infinite ones dropped.

use polars::prelude::*;

use super::ColumnKind;
use super::binning::{LevelCounts, merged_steps, numeric_level_counts};

/// Integer columns with at most this many distinct values are categorical (Evidently's
/// `INTEGER_CARDINALITY_LIMIT`).
const INTEGER_CARDINALITY_LIMIT: usize = 10;

/// What Evidently makes of a column, or why it leaves it out of the preset.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Inferred {
    /// Tested for drift as this kind.
    Kind(ColumnKind),
    /// Left out (text, dates, or no values), with the reason.
    Skipped(String),
}

/// The kind of a column from its current values. pandas reads an integer column with missing
/// values as float, so such a column is numeric whatever its cardinality.
pub(super) fn infer_kind(current: &Series) -> PolarsResult<Inferred> {
    let dtype = current.dtype();
    if dtype.is_float() {
        return Ok(Inferred::Kind(ColumnKind::Numeric));
    }
    if dtype.is_integer() {
        let few = current.null_count() == 0 && current.n_unique()? <= INTEGER_CARDINALITY_LIMIT;
        return Ok(Inferred::Kind(if few {
            ColumnKind::Categorical
        } else {
            ColumnKind::Numeric
        }));
    }
    if dtype.is_bool() {
        return Ok(Inferred::Kind(ColumnKind::Categorical));
    }
    if dtype.is_string() || dtype.is_categorical() || dtype.is_enum() {
        let values = current.drop_nulls();
        // More distinct values than half the rows: Evidently calls it text and tests it with a
        // domain classifier, which Kiln does not do.
        if values.n_unique()? * 2 > values.len() {
            return Ok(Inferred::Skipped(
                "text (more distinct values than half the rows)".into(),
            ));
        }
        return Ok(Inferred::Kind(ColumnKind::Categorical));
    }
    if dtype.is_temporal() {
        return Ok(Inferred::Skipped("date or time".into()));
    }
    Ok(Inferred::Skipped(format!("unsupported type {dtype}")))
}

/// Whether pandas would hold the column as integers (integer dtype, nothing missing), which
/// changes numpy's histogram bin widths.
pub(super) fn is_whole_integer(series: &Series) -> bool {
    series.dtype().is_integer() && series.null_count() == 0
}

/// The finite values of a numeric column, sorted (`-0.0` read as `0.0`, as pandas counts it).
pub(super) fn finite_sorted(series: &Series) -> PolarsResult<Vec<f64>> {
    let floats = series.cast(&DataType::Float64)?;
    let mut values: Vec<f64> = floats
        .f64()?
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .map(|v| if v == 0.0 { 0.0 } else { v })
        .collect();
    use rayon::slice::ParallelSliceMut;
    values.par_sort_unstable_by(f64::total_cmp);
    Ok(values)
}

/// Counts per distinct value of a categorical column in both samples, levels sorted as Python
/// sorts them (numbers by value; strings, and booleans as `false`/`true`, by code point).
pub(super) fn level_counts(reference: &Series, current: &Series) -> PolarsResult<LevelCounts> {
    if reference.dtype().is_primitive_numeric() && current.dtype().is_primitive_numeric() {
        return Ok(numeric_level_counts(
            &finite_sorted(reference)?,
            &finite_sorted(current)?,
        ));
    }
    let (reference, current) = (
        reference.cast(&DataType::String)?,
        current.cast(&DataType::String)?,
    );
    let mut counts: PlHashMap<&str, (u64, u64)> = PlHashMap::default();
    for v in reference.str()?.iter().flatten() {
        counts.entry(v).or_default().0 += 1;
    }
    for v in current.str()?.iter().flatten() {
        counts.entry(v).or_default().1 += 1;
    }
    let mut levels: Vec<(&str, (u64, u64))> = counts.into_iter().collect();
    levels.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Ok(LevelCounts {
        labels: levels.iter().map(|(l, _)| (*l).to_owned()).collect(),
        reference: levels.iter().map(|(_, (r, _))| *r).collect(),
        current: levels.iter().map(|(_, (_, c))| *c).collect(),
    })
}

/// The number of distinct values across two sorted samples.
pub(super) fn distinct_sorted(a: &[f64], b: &[f64]) -> usize {
    merged_steps(a, b).count()
}

/// The number of distinct values in one sorted sample.
pub(super) fn distinct_in(sorted: &[f64]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[0] != w[1]).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(series: Series) -> Inferred {
        infer_kind(&series).unwrap_or(Inferred::Skipped("error".into()))
    }

    #[test]
    fn integers_with_few_values_are_categorical_unless_something_is_missing() {
        let few = Series::new("a".into(), &[1i64, 2, 3, 1]);
        assert_eq!(kind(few), Inferred::Kind(ColumnKind::Categorical));
        let many = Series::new("a".into(), (0..11i64).collect::<Vec<_>>());
        assert_eq!(kind(many), Inferred::Kind(ColumnKind::Numeric));
        let missing = Series::new("a".into(), &[Some(1i64), None, Some(2)]);
        assert_eq!(kind(missing), Inferred::Kind(ColumnKind::Numeric));
    }

    #[test]
    fn strings_are_categorical_unless_mostly_distinct() {
        let cats = Series::new("s".into(), &["a", "b", "a", "b"]);
        assert_eq!(kind(cats), Inferred::Kind(ColumnKind::Categorical));
        let text = Series::new("s".into(), &["a", "b", "c", "a"]);
        assert!(matches!(kind(text), Inferred::Skipped(_)));
    }

    #[test]
    fn level_counts_sort_labels_and_span_both_samples() {
        let r = Series::new("s".into(), &[Some("b"), Some("a"), None]);
        let c = Series::new("s".into(), &["c", "a"]);
        let counts = level_counts(&r, &c).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(counts.labels, ["a", "b", "c"]);
        assert_eq!(counts.reference, [1, 1, 0]);
        assert_eq!(counts.current, [1, 0, 1]);
    }
}
