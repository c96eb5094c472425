//! Data drift between a reference and a current frame, following Evidently 0.7's default
//! `DataDriftPreset` rule for rule, so that Kiln's verdicts equal Evidently's on the same files.
//!
//! Per column (kind inferred from the current data, missing and infinite values dropped, the
//! reference size counted after that):
//!
//! | reference rows | kind | distinct values (both) | test | score | drifts when |
//! |---|---|---|---|---|---|
//! | ≤ 1000 | numeric | > 5 | `ks`: two-sample Kolmogorov–Smirnov | p-value | p ≤ 0.05 |
//! | ≤ 1000 | numeric or categorical | 3 – 5 (any for categorical) | `chisquare` | p-value | p < 0.05 |
//! | ≤ 1000 | numeric or categorical | ≤ 2 | `z`: two-proportion Z-test | p-value | p < 0.05 |
//! | > 1000 | numeric | > 5 | `wasserstein`: Wasserstein distance / reference std | distance | ≥ 0.1 |
//! | > 1000 | numeric ≤ 5 values, categorical | | `jensenshannon`: Jensen–Shannon distance | distance | ≥ 0.1 |
//!
//! The dataset drifts when the share of drifted columns is at least `drift_share` (0.5).
//! Every column also gets Evidently's PSI and an effect size; neither takes part in the verdict.
//! The report is a pure function of the two frames, so the deploy monitor can run it on windows
//! of live traffic.

mod alerts;
mod binning;
mod column;
mod kolmogorov;
mod ks;
mod special;
mod stattests;

use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use alerts::drift_alerts;
use binning::{LevelCounts, sturges_histogram};
use column::{Inferred, distinct_in, distinct_sorted, finite_sorted, infer_kind, level_counts};

/// Above this many reference values, distances replace statistical tests (Evidently's rule).
const SMALL_REFERENCE: usize = 1000;
/// Numeric columns with at most this many distinct values are tested like categorical ones.
const FEW_VALUES: usize = 5;
/// PSI bins a numeric column by histogram above this many distinct reference values.
const PSI_HISTOGRAM_ABOVE: usize = 20;
/// Evidently's floor of the Wasserstein norm, so that a constant reference does not divide by 0.
const MIN_NORM: f64 = 0.001;

/// What to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftOptions {
    /// Columns to leave out, e.g. the target and the prediction.
    pub exclude: Vec<String>,
    /// The share of drifted columns at which the dataset drifts (Evidently's `drift_share`).
    pub drift_share: f64,
}

impl Default for DriftOptions {
    fn default() -> Self {
        Self {
            exclude: Vec::new(),
            drift_share: 0.5,
        }
    }
}

/// How a column is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Numbers compared as a distribution.
    Numeric,
    /// Labels compared by their shares.
    Categorical,
}

/// A drift test, named as in Evidently's stattest registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriftMethod {
    /// Two-sample Kolmogorov–Smirnov; the score is the p-value.
    #[serde(rename = "ks")]
    Ks,
    /// Chi-squared goodness of fit of current counts to reference shares; p-value.
    #[serde(rename = "chisquare")]
    ChiSquare,
    /// Two-proportion Z-test; p-value.
    #[serde(rename = "z")]
    Z,
    /// Wasserstein distance divided by the reference's standard deviation; a distance.
    #[serde(rename = "wasserstein")]
    Wasserstein,
    /// Jensen–Shannon distance of the value shares (natural log); a distance.
    #[serde(rename = "jensenshannon")]
    JensenShannon,
}

impl DriftMethod {
    /// Evidently's name of the test (`ks`, `chisquare`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ks => "ks",
            Self::ChiSquare => "chisquare",
            Self::Z => "z",
            Self::Wasserstein => "wasserstein",
            Self::JensenShannon => "jensenshannon",
        }
    }

    /// Evidently's default threshold for the test.
    pub fn default_threshold(self) -> f64 {
        match self {
            Self::Ks | Self::ChiSquare | Self::Z => 0.05,
            Self::Wasserstein | Self::JensenShannon => 0.1,
        }
    }

    /// Whether `score` means drift at `threshold`, with Evidently's comparison for each test
    /// (KS drifts at p ≤ threshold, the other tests below it, distances at or above it).
    pub fn drifts(self, score: f64, threshold: f64) -> bool {
        match self {
            Self::Ks => score <= threshold,
            Self::ChiSquare | Self::Z => score < threshold,
            Self::Wasserstein | Self::JensenShannon => score >= threshold,
        }
    }
}

/// One column's drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    /// Column name.
    pub column: String,
    /// How it was tested.
    pub kind: ColumnKind,
    /// The test Evidently's default preset chooses for it.
    pub method: DriftMethod,
    /// Evidently's drift score: the p-value of a test, or the distance.
    pub score: f64,
    /// The threshold the score is compared with.
    pub threshold: f64,
    /// Whether the column drifted.
    pub drifted: bool,
    /// Population stability index (Evidently's `psi`, 30-bucket rule: Sturges bins for numeric
    /// columns with more than 20 reference values, one bucket per value otherwise). Common
    /// reading: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 large shift.
    pub psi: f64,
    /// How far the column moved, in units a person can read: for numeric columns the change in
    /// mean over the reference's standard deviation (ddof 0, at least 0.001, the Wasserstein
    /// norm), signed; for categorical ones the largest change of one value's share (0 to 1).
    pub effect_size: f64,
    /// Reference values tested (missing and infinite values dropped).
    pub reference_rows: usize,
    /// Current values tested.
    pub current_rows: usize,
}

/// A column in both frames that was not tested, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedColumn {
    /// Column name.
    pub column: String,
    /// Why it was left out.
    pub reason: String,
}

/// The drift of a current frame against a reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Whether the share of drifted columns reached `drift_share`.
    pub dataset_drift: bool,
    /// Drifted columns over tested columns.
    pub share: f64,
    /// Number of drifted columns.
    pub drifted: usize,
    /// The dataset-drift threshold used.
    pub drift_share: f64,
    /// Tested columns, in the current frame's order.
    pub columns: Vec<ColumnDrift>,
    /// Columns in both frames that were not tested.
    pub skipped: Vec<SkippedColumn>,
}

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// One of the frames has no rows.
    #[error("the {0} data has no rows")]
    Empty(&'static str),
    /// The frames share no column (after exclusions).
    #[error("the reference and current data have no column in common")]
    NoCommonColumns,
    /// Every common column was skipped.
    #[error("no column can be compared: {0}")]
    NothingToCompare(String),
    /// polars could not read a column.
    #[error("column '{column}': {source}")]
    Column {
        /// The column.
        column: String,
        /// What polars said.
        source: PolarsError,
    },
}

/// Compares `current` with `reference` column by column, as Evidently's default
/// `DataDriftPreset` does.
pub fn drift_report(
    reference: &DataFrame,
    current: &DataFrame,
    options: &DriftOptions,
) -> Result<DriftReport, DriftError> {
    if reference.height() == 0 {
        return Err(DriftError::Empty("reference"));
    }
    if current.height() == 0 {
        return Err(DriftError::Empty("current"));
    }
    let names: Vec<String> = current
        .get_column_names()
        .into_iter()
        .map(|n| n.to_string())
        .filter(|n| reference.column(n).is_ok() && !options.exclude.contains(n))
        .collect();
    if names.is_empty() {
        return Err(DriftError::NoCommonColumns);
    }
    let outcomes: Vec<Result<ColumnDrift, SkippedColumn>> = names
        .par_iter()
        .map(|name| {
            let series = |frame: &DataFrame| {
                frame
                    .column(name)
                    .map(|c| c.as_materialized_series().clone())
            };
            let (r, c) = (series(reference), series(current));
            let error = |source| DriftError::Column {
                column: name.clone(),
                source,
            };
            let (r, c) = (r.map_err(error)?, c.map_err(error)?);
            column_drift(name, &r, &c).map_err(error)
        })
        .collect::<Result<Vec<_>, DriftError>>()?;
    let (mut columns, mut skipped) = (Vec::new(), Vec::new());
    for outcome in outcomes {
        match outcome {
            Ok(c) => columns.push(c),
            Err(s) => skipped.push(s),
        }
    }
    if columns.is_empty() {
        let reasons: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} ({})", s.column, s.reason))
            .collect();
        return Err(DriftError::NothingToCompare(reasons.join(", ")));
    }
    let drifted = columns.iter().filter(|c| c.drifted).count();
    let share = drifted as f64 / columns.len() as f64;
    tracing::debug!(columns = columns.len(), drifted, share, "drift report");
    Ok(DriftReport {
        dataset_drift: share >= options.drift_share,
        share,
        drifted,
        drift_share: options.drift_share,
        columns,
        skipped,
    })
}

type Outcome = Result<ColumnDrift, SkippedColumn>;

fn column_drift(name: &str, reference: &Series, current: &Series) -> PolarsResult<Outcome> {
    let skip = |reason: &str| {
        Ok(Err(SkippedColumn {
            column: name.to_owned(),
            reason: reason.to_owned(),
        }))
    };
    let kind = match infer_kind(current)? {
        Inferred::Kind(kind) => kind,
        Inferred::Skipped(reason) => return skip(&reason),
    };
    if kind == ColumnKind::Numeric && !reference.dtype().is_primitive_numeric() {
        return skip("numeric in the current data but not in the reference");
    }
    let numeric =
        reference.dtype().is_primitive_numeric() && current.dtype().is_primitive_numeric();
    let drift = if numeric {
        let (r, c) = (finite_sorted(reference)?, finite_sorted(current)?);
        if r.is_empty() || c.is_empty() {
            return skip("no values in one of the samples");
        }
        let integer = column::is_whole_integer(reference) && column::is_whole_integer(current);
        numeric_drift(name, kind, &r, &c, integer)
    } else {
        let counts = level_counts(reference, current)?;
        let (n_ref, n_cur) = counts.totals();
        if n_ref == 0 || n_cur == 0 {
            return skip("no values in one of the samples");
        }
        let method = categorical_method(n_ref as usize, counts.len());
        let score = categorical_score(method, &counts);
        finish(
            name,
            kind,
            method,
            score,
            stattests::psi(&counts.reference, &counts.current),
            largest_share_change(&counts),
            (n_ref as usize, n_cur as usize),
        )
    };
    Ok(Ok(drift))
}

/// A column of numbers: tested as a distribution, or by value counts when it has few values.
fn numeric_drift(
    name: &str,
    kind: ColumnKind,
    reference: &[f64],
    current: &[f64],
    integer: bool,
) -> ColumnDrift {
    let distinct = distinct_sorted(reference, current);
    let small = reference.len() <= SMALL_REFERENCE;
    let counts = || binning::numeric_level_counts(reference, current);
    let (method, score) = if kind == ColumnKind::Categorical || distinct <= FEW_VALUES {
        let counts = counts();
        let method = categorical_method(reference.len(), distinct);
        (method, categorical_score(method, &counts))
    } else if small {
        (DriftMethod::Ks, ks::ks_two_sample(reference, current).1)
    } else {
        let norm = population_std(reference).max(MIN_NORM);
        (
            DriftMethod::Wasserstein,
            stattests::wasserstein(reference, current) / norm,
        )
    };
    let psi = if distinct_in(reference) > PSI_HISTOGRAM_ABOVE && kind == ColumnKind::Numeric {
        let (r, c) = sturges_histogram(reference, current, integer);
        stattests::psi(&r, &c)
    } else {
        let counts = counts();
        stattests::psi(&counts.reference, &counts.current)
    };
    let effect = if kind == ColumnKind::Numeric {
        (mean(current) - mean(reference)) / population_std(reference).max(MIN_NORM)
    } else {
        largest_share_change(&counts())
    };
    finish(
        name,
        kind,
        method,
        score,
        psi,
        effect,
        (reference.len(), current.len()),
    )
}

fn categorical_method(reference_rows: usize, levels: usize) -> DriftMethod {
    match (reference_rows <= SMALL_REFERENCE, levels > 2) {
        (true, true) => DriftMethod::ChiSquare,
        (true, false) => DriftMethod::Z,
        (false, _) => DriftMethod::JensenShannon,
    }
}

fn categorical_score(method: DriftMethod, counts: &LevelCounts) -> f64 {
    let (n_ref, n_cur) = counts.totals();
    match method {
        DriftMethod::ChiSquare => stattests::chi_square_p(counts),
        DriftMethod::Z => stattests::z_test_p(counts),
        _ => stattests::jensen_shannon(
            &binning::shares(&counts.reference, n_ref),
            &binning::shares(&counts.current, n_cur),
        ),
    }
}

fn finish(
    name: &str,
    kind: ColumnKind,
    method: DriftMethod,
    score: f64,
    psi: f64,
    effect_size: f64,
    (reference_rows, current_rows): (usize, usize),
) -> ColumnDrift {
    let threshold = method.default_threshold();
    ColumnDrift {
        column: name.to_owned(),
        kind,
        method,
        score,
        threshold,
        drifted: method.drifts(score, threshold),
        psi,
        effect_size,
        reference_rows,
        current_rows,
    }
}

fn mean(values: &[f64]) -> f64 {
    crate::data::profile::stats::pairwise_sum(values) / values.len() as f64
}

/// numpy's `std` (ddof 0), as Evidently norms the Wasserstein distance with it.
fn population_std(values: &[f64]) -> f64 {
    let m = mean(values);
    let squares: Vec<f64> = values.iter().map(|v| (v - m) * (v - m)).collect();
    (crate::data::profile::stats::pairwise_sum(&squares) / values.len() as f64).sqrt()
}

/// The largest change of one value's share between reference and current.
fn largest_share_change(counts: &LevelCounts) -> f64 {
    let (n_ref, n_cur) = counts.totals();
    counts
        .reference
        .iter()
        .zip(&counts.current)
        .map(|(&r, &c)| (c as f64 / n_cur as f64 - r as f64 / n_ref as f64).abs())
        .fold(0.0, f64::max)
}

/// Test helper: `actual` within `rel` of `expected`, relative.
#[cfg(test)]
pub(crate) fn assert_close(actual: f64, expected: f64, rel: f64) {
    assert!(
        (actual - expected).abs() <= rel * expected.abs(),
        "{actual} vs {expected}"
    );
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vs_evidently;
