//! Comparing runs: parameters side by side with their differences, metrics side by side, and —
//! when the runs were cross-validated on the same folds — the corrected resampled t-test that
//! says whether one really beats the other.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::eval::corrected_resampled_t_test;
use crate::store::{RunDetail, Store, StoreResult};

/// The t-test of one metric between the first two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldTest {
    /// Metric compared (per fold).
    pub metric: String,
    /// Folds.
    pub folds: usize,
    /// t statistic: positive when the first run scores higher.
    pub t: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Mean per-fold difference (first minus second).
    pub mean_diff: f64,
}

/// Runs side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Run ids, in the order asked.
    pub run_ids: Vec<String>,
    /// Every parameter: its value in each run (`None` where a run lacks it).
    pub params: BTreeMap<String, Vec<Option<String>>>,
    /// Parameters whose values differ between the runs.
    pub differing_params: Vec<String>,
    /// Every metric: its value in each run.
    pub metrics: BTreeMap<String, Vec<Option<f64>>>,
    /// Corrected resampled t-tests of the first two runs, when both were cross-validated on
    /// the same data, seed and number of folds.
    pub t_tests: Vec<FoldTest>,
}

/// Compares runs (two or more).
pub fn compare_runs(store: &Store, run_ids: &[String]) -> StoreResult<Comparison> {
    let details: Vec<RunDetail> = run_ids
        .iter()
        .map(|id| store.run_detail(id))
        .collect::<Result<_, _>>()?;
    let param_names: BTreeSet<&String> = details.iter().flat_map(|d| d.params.keys()).collect();
    let params: BTreeMap<String, Vec<Option<String>>> = param_names
        .into_iter()
        .map(|name| {
            (
                name.clone(),
                details
                    .iter()
                    .map(|d| d.params.get(name).cloned())
                    .collect(),
            )
        })
        .collect();
    let differing_params = params
        .iter()
        .filter(|(_, values)| values.windows(2).any(|w| w[0] != w[1]))
        .map(|(name, _)| name.clone())
        .collect();
    let metric_names: BTreeSet<&String> = details.iter().flat_map(|d| d.metrics.keys()).collect();
    let metrics = metric_names
        .into_iter()
        .map(|name| {
            (
                name.clone(),
                details
                    .iter()
                    .map(|d| d.metrics.get(name).copied())
                    .collect(),
            )
        })
        .collect();
    let t_tests = match details.as_slice() {
        [a, b, ..] => fold_tests(store, a, b)?,
        _ => Vec::new(),
    };
    Ok(Comparison {
        run_ids: run_ids.to_vec(),
        params,
        differing_params,
        metrics,
        t_tests,
    })
}

fn fold_tests(store: &Store, a: &RunDetail, b: &RunDetail) -> StoreResult<Vec<FoldTest>> {
    let same_folds = a.run.dataset_fingerprint.is_some()
        && a.run.dataset_fingerprint == b.run.dataset_fingerprint
        && a.run.seed == b.run.seed
        && a.params.contains_key("cv")
        && a.params.get("cv") == b.params.get("cv")
        && a.params.get("target") == b.params.get("target");
    let Some(version_id) = a.run.dataset_version_id.filter(|_| same_folds) else {
        return Ok(Vec::new());
    };
    let rows = store.dataset_version(version_id)?.rows.max(0) as usize;
    let mut tests = Vec::new();
    for series in a
        .series
        .iter()
        .filter(|s| s.starts_with("fold_") && b.series.contains(s))
    {
        let values = |run: &RunDetail| -> StoreResult<Vec<f64>> {
            Ok(store
                .metric_history(&run.run.id, series)?
                .into_iter()
                .map(|p| p.value)
                .collect())
        };
        let (va, vb) = (values(a)?, values(b)?);
        let k = va.len();
        if k < 2 || k != vb.len() {
            continue;
        }
        let n_test = rows / k;
        if let Ok(test) = corrected_resampled_t_test(&va, &vb, rows - n_test, n_test.max(1)) {
            tests.push(FoldTest {
                metric: series.trim_start_matches("fold_").to_owned(),
                folds: k,
                t: test.t,
                p_value: test.p_value,
                mean_diff: test.mean_diff,
            });
        }
    }
    Ok(tests)
}
