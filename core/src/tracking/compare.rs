//! Comparing runs: parameters side by side with their differences, metrics side by side, and —
//! when the runs were cross-validated on the same folds — the corrected resampled t-test that
//! says whether one really beats the other.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::data::profile::correlation::{average_ranks, pearson_pair};
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
    /// The run whose mean is better in the metric's direction (see [`crate::eval::METRICS`]),
    /// `None` when the means are equal.
    pub better: Option<String>,
    /// Whether the difference is significant (p < 0.05).
    pub significant: bool,
}

/// Significance level of the compare verdict.
pub const SIGNIFICANCE: f64 = 0.05;

impl FoldTest {
    /// The verdict in words: "run X is better on log_loss (p = 0.01, significant)".
    pub fn verdict(&self) -> String {
        match &self.better {
            None => format!(
                "{}: no difference over {} folds (p = {:.3})",
                self.metric, self.folds, self.p_value
            ),
            Some(run) => format!(
                "{}: {} is better ({}), p = {:.3}, {}",
                self.metric,
                run,
                match crate::eval::direction(&self.metric) {
                    crate::eval::Direction::HigherIsBetter => "higher is better",
                    crate::eval::Direction::LowerIsBetter => "lower is better",
                },
                self.p_value,
                if self.significant {
                    "significant at 0.05"
                } else {
                    "not significant at 0.05"
                }
            ),
        }
    }
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
            let metric = series.trim_start_matches("fold_").to_owned();
            // mean_diff is first minus second; the table says which way is better.
            let better = match crate::eval::compare_values(&metric, test.mean_diff, 0.0) {
                Some(std::cmp::Ordering::Greater) => Some(a.run.id.clone()),
                Some(std::cmp::Ordering::Less) => Some(b.run.id.clone()),
                _ => None,
            };
            tests.push(FoldTest {
                significant: better.is_some() && test.p_value < SIGNIFICANCE,
                better,
                metric,
                folds: k,
                t: test.t,
                p_value: test.p_value,
                mean_diff: test.mean_diff,
            });
        }
    }
    Ok(tests)
}

/// One vertical axis of a parallel-coordinates chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Axis {
    /// `params.NAME` or `metrics.NAME`.
    pub key: String,
    /// Smallest value (numeric axes) or 0 (categorical).
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// For a categorical parameter: its values, in axis order (positions 0, 1, ...).
    pub categories: Vec<String>,
}

/// Runs as lines across parameter axes and a final metric axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParallelCoordinates {
    /// The axes, parameters first, the metric last.
    pub axes: Vec<Axis>,
    /// Per run: its id and its position on each axis (`None` where it has no value).
    pub lines: Vec<(String, Vec<Option<f64>>)>,
}

fn param_values(runs: &[&RunDetail], param: &str) -> (Vec<Option<f64>>, Vec<String>) {
    let raw: Vec<Option<&String>> = runs.iter().map(|r| r.params.get(param)).collect();
    if raw.iter().flatten().all(|v| v.parse::<f64>().is_ok()) {
        return (
            raw.iter().map(|v| v.and_then(|v| v.parse().ok())).collect(),
            Vec::new(),
        );
    }
    let categories: Vec<String> = raw
        .iter()
        .flatten()
        .map(|v| (*v).clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let values = raw
        .iter()
        .map(|v| {
            v.and_then(|v| categories.iter().position(|c| c == v))
                .map(|i| i as f64)
        })
        .collect();
    (values, categories)
}

/// Parallel coordinates of `runs`: the parameters that vary (at most 12) and `metric`.
pub fn parallel_coordinates(runs: &[&RunDetail], metric: &str) -> ParallelCoordinates {
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    let mut axes = Vec::new();
    let mut columns: Vec<Vec<Option<f64>>> = Vec::new();
    for name in names {
        let (values, categories) = param_values(runs, name);
        let present: Vec<f64> = values.iter().flatten().copied().collect();
        let (min, max) = present
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if present.is_empty() || min == max || axes.len() >= 12 {
            continue;
        }
        axes.push(Axis {
            key: format!("params.{name}"),
            min,
            max,
            categories,
        });
        columns.push(values);
    }
    let metric_values: Vec<Option<f64>> = runs
        .iter()
        .map(|r| r.metrics.get(metric).copied())
        .collect();
    let present: Vec<f64> = metric_values.iter().flatten().copied().collect();
    let (min, max) = present
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    axes.push(Axis {
        key: format!("metrics.{metric}"),
        min: if present.is_empty() { 0.0 } else { min },
        max: if present.is_empty() { 1.0 } else { max },
        categories: Vec::new(),
    });
    columns.push(metric_values);
    let lines = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.run.id.clone(), columns.iter().map(|c| c[i]).collect()))
        .collect();
    ParallelCoordinates { axes, lines }
}

/// How strongly one parameter goes with a metric across runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamImportance {
    /// Parameter name.
    pub param: String,
    /// Spearman rank correlation with the metric (categorical values ranked by their order).
    pub correlation: f64,
    /// Drop in R² of a random forest predicting the metric from all parameters when this one
    /// is shuffled (W&B's importance, by permutation); `None` with too few runs.
    pub forest: Option<f64>,
    /// Runs that have both.
    pub runs: usize,
}

/// Permutation importance of each parameter in a random forest that predicts `metric` from the
/// varying parameters (at least 8 runs with the metric are needed).
fn forest_importance(
    runs: &[&RunDetail],
    metric: &str,
    params: &[String],
) -> BTreeMap<String, f64> {
    use crate::models::tree::{MaxFeatures, Target, TreeParams, fit_forest};
    let rows: Vec<&RunDetail> = runs
        .iter()
        .copied()
        .filter(|r| r.metrics.get(metric).is_some_and(|v| v.is_finite()))
        .collect();
    if rows.len() < 8 || params.is_empty() {
        return BTreeMap::new();
    }
    let columns: Vec<Vec<f64>> = params
        .iter()
        .map(|p| {
            param_values(&rows, p)
                .0
                .into_iter()
                .map(|v| v.unwrap_or(-1.0))
                .collect()
        })
        .collect();
    let y: Vec<f64> = rows.iter().map(|r| r.metrics[metric]).collect();
    let cols = params.len();
    let values: Vec<f64> = (0..rows.len())
        .flat_map(|i| columns.iter().map(move |c| c[i]))
        .collect();
    let x = crate::features::Matrix {
        values: values.clone(),
        rows: rows.len(),
        cols,
    };
    let tree = TreeParams {
        max_depth: Some(8),
        min_samples_split: 2,
        min_samples_leaf: 1,
        max_features: MaxFeatures::All,
    };
    let forest = fit_forest(&x, Target::Values(&y), 50, true, tree, 7);
    let score = |v: &[f64], used: &[usize]| {
        let m = crate::features::Matrix {
            values: v.to_vec(),
            rows: used.len(),
            cols,
        };
        let predicted: Vec<f64> = forest.predict(&m).into_iter().map(|p| p[0]).collect();
        let truth: Vec<f64> = used.iter().map(|&i| y[i]).collect();
        crate::eval::r2(&truth, &predicted).unwrap_or(f64::NAN)
    };
    let groups: Vec<(String, Vec<usize>)> = params
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), vec![i]))
        .collect();
    crate::eval::permutation_importance(&values, cols, &groups, &score, 7)
        .into_iter()
        .map(|imp| (imp.feature, imp.mean))
        .collect()
}

/// `(x, metric)` points of the runs that have numbers for both: `x_key` is a parameter or a
/// metric (`params.C`, `metrics.rmse`), for the scatter of runs against a metric.
pub fn scatter_points(
    runs: &[&RunDetail],
    x_key: &str,
    metric: &str,
) -> Result<Vec<[f64; 2]>, String> {
    use crate::tracking::filter::{Key, key_value, parse_key};
    let x = parse_key(x_key)?;
    let y = Key::Metric(metric.to_owned());
    Ok(runs
        .iter()
        .filter_map(|r| {
            let xv = key_value(r, &x)?.parse::<f64>().ok()?;
            let yv = key_value(r, &y)?.parse::<f64>().ok()?;
            Some([xv, yv])
        })
        .collect())
}

/// Least-squares line `y = slope * x + intercept` through `points` (`None` for fewer than two
/// distinct x).
pub fn trend_line(points: &[[f64; 2]]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let (mx, my) = (
        points.iter().map(|p| p[0]).sum::<f64>() / n,
        points.iter().map(|p| p[1]).sum::<f64>() / n,
    );
    let sxx: f64 = points.iter().map(|p| (p[0] - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p[0] - mx) * (p[1] - my)).sum();
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}

/// Rank correlation of every varying numeric parameter with `metric`, strongest first (the
/// correlation half of W&B's parameter importance).
pub fn param_importance(runs: &[&RunDetail], metric: &str) -> Vec<ParamImportance> {
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    let varying: Vec<String> = names
        .iter()
        .filter(|name| {
            let (values, _) = param_values(runs, name);
            let present: Vec<f64> = values.into_iter().flatten().collect();
            present.iter().any(|v| Some(v) != present.first())
        })
        .map(|n| (*n).clone())
        .collect();
    let forest = forest_importance(runs, metric, &varying);
    let mut out = Vec::new();
    for name in names {
        let (values, _) = param_values(runs, name);
        let pairs: Vec<(f64, f64)> = values
            .iter()
            .zip(runs)
            .filter_map(|(v, r)| Some(((*v)?, *r.metrics.get(metric)?)))
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .collect();
        if pairs.len() < 3 {
            continue;
        }
        // Spearman: Pearson on average ranks.
        let rx = average_ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
        let ry = average_ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
        let Some(correlation) = pearson_pair(&rx, &ry) else {
            continue;
        };
        out.push(ParamImportance {
            param: name.clone(),
            correlation,
            forest: forest.get(name.as_str()).copied(),
            runs: pairs.len(),
        });
    }
    out.sort_by(|a, b| b.correlation.abs().total_cmp(&a.correlation.abs()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewRun, RunQuery, RunStatus};

    #[test]
    fn varying_params_become_axes_and_importance_follows_the_metric() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        for depth in 1..=6 {
            let new = NewRun {
                experiment: "e".into(),
                params: vec![
                    ("max_depth".into(), depth.to_string()),
                    (
                        "model".into(),
                        if depth % 2 == 0 { "a" } else { "b" }.into(),
                    ),
                    ("fixed".into(), "1".into()),
                ],
                ..NewRun::default()
            };
            store
                .record_run(
                    &new,
                    &[("accuracy".into(), 0.5 + depth as f64 / 20.0)],
                    RunStatus::Finished,
                )
                .expect("run");
        }
        let all = store.run_details(&RunQuery::default()).expect("runs");
        let runs: Vec<&RunDetail> = all.iter().collect();
        let chart = parallel_coordinates(&runs, "accuracy");
        let keys: Vec<&str> = chart.axes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            ["params.max_depth", "params.model", "metrics.accuracy"]
        );
        assert_eq!(chart.axes[1].categories, ["a", "b"]);
        let importance = param_importance(&runs, "accuracy");
        assert_eq!(importance[0].param, "max_depth");
        assert!((importance[0].correlation - 1.0).abs() < 1e-12);
        assert_eq!(
            trend_line(&[[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]]),
            Some((2.0, 1.0))
        );
    }
}
