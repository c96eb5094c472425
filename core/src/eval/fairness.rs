//! Group fairness of a binary classifier's predictions, defined exactly as Fairlearn (0.15)
//! defines them.
//!
//! For every sensitive column (and, with two or more, for their intersection, keyed `A&B` with
//! levels `a&b`) this computes what `fairlearn.metrics.MetricFrame(...).by_group` gives for
//! `count`, `accuracy_score`, `selection_rate`, `true_positive_rate` and `false_positive_rate`,
//! and the four disparity metrics `demographic_parity_difference` / `_ratio` and
//! `equalized_odds_difference` / `_ratio` (`method="between_groups"`, `agg="worst_case"`).
//! `core/tests/fairness_vs_fairlearn.rs` checks every number against fixtures Fairlearn wrote
//! (`scripts/fixtures/make_fairness_fixtures.py` → `tests/fixtures/fairness/`).
//!
//! Fairlearn's conventions, kept here:
//!
//! * TPR and FPR come from scikit-learn's `confusion_matrix(normalize="true")`, which makes a
//!   rate 0 (not NaN) in a group with no positives (TPR) or no negatives (FPR);
//! * a difference is `max - min` over the groups and a ratio `min / max`; a ratio whose maximum
//!   is 0 is NaN (0/0), reported as `None` (JSON `null`);
//! * the equalized-odds metrics combine the TPR and FPR values with Python's built-in `max` /
//!   `min` over `[tpr, fpr]`, so a NaN TPR ratio makes the equalized-odds ratio NaN while a NaN
//!   FPR ratio leaves the TPR ratio;
//! * the intersection lists every combination of the columns' levels (Fairlearn's
//!   `MultiIndex.from_product`); a combination no row has gets count 0 and `None` metrics
//!   (Fairlearn: NaN) and is left out of the differences and ratios;
//! * labels must be binary (at most two distinct values over truth and predictions). Without
//!   an explicit positive label, the labels must be {0, 1} or {-1, 1} (or one of them) as
//!   numbers, or {false, true}; the positive is then 1 / true. Otherwise the caller must name
//!   the positive label, as scikit-learn and Fairlearn require.
//!
//! Labels are compared as text, except that when every label reads as a number they are
//! compared as numbers (so `1` and `1.0` are the same label, as in numpy).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Why fairness metrics could not be computed, worded for the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FairnessError {
    /// Inputs that must pair up row by row have different lengths.
    #[error("{what} has {len} values but the truth has {expected}")]
    LengthMismatch {
        /// The input, e.g. `the predictions` or `sensitive column 'sex'`.
        what: String,
        /// Its length.
        len: usize,
        /// The truth's length.
        expected: usize,
    },
    /// No rows.
    #[error("there are no rows to evaluate")]
    Empty,
    /// No sensitive column.
    #[error("at least one sensitive column is needed")]
    NoSensitive,
    /// The same sensitive column twice.
    #[error("sensitive column '{0}' is given twice")]
    DuplicateSensitive(String),
    /// More than two labels.
    #[error(
        "fairness metrics need binary labels, but truth and predictions hold {} labels: {}",
        labels.len(),
        list(labels)
    )]
    TooManyLabels {
        /// The labels found (at most the first 20).
        labels: Vec<String>,
    },
    /// The labels are not {0, 1}, {-1, 1} or {false, true} and no positive label was given.
    #[error(
        "the labels are {}; name the positive one (--pos-label), since only {{0, 1}}, {{-1, 1}} and {{false, true}} have a default (1 / true)",
        list(labels)
    )]
    NeedsPosLabel {
        /// The labels found.
        labels: Vec<String>,
    },
    /// The intersection would have too many combinations of levels to list.
    #[error(
        "the intersection {feature} has {combinations} combinations of levels (at most {MAX_COMBINATIONS} can be listed); pass fewer or coarser sensitive columns"
    )]
    TooManyGroups {
        /// The intersection's key, `A&B`.
        feature: String,
        /// Its number of combinations (saturating).
        combinations: usize,
    },
    /// The positive label given is not one of the two labels.
    #[error(
        "the positive label '{pos_label}' is not one of the labels ({})",
        list(labels)
    )]
    PosLabelNotFound {
        /// The positive label asked for.
        pos_label: String,
        /// The labels found.
        labels: Vec<String>,
    },
}

/// The most combinations of levels an intersection may list (Fairlearn lists every one).
pub const MAX_COMBINATIONS: usize = 100_000;

fn list(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| format!("'{l}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One sensitive column: its name and each row's value.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitiveColumn {
    /// Column name.
    pub name: String,
    /// The value of each row.
    pub values: Vec<String>,
}

/// The metrics of one group (one level of a sensitive column, or one combination of levels).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupMetrics {
    /// The level (`a&b` for an intersection).
    pub level: String,
    /// Rows in the group.
    pub count: usize,
    /// Share of rows predicted correctly (`None` for an empty group).
    pub accuracy: Option<f64>,
    /// Share of rows predicted positive.
    pub selection_rate: Option<f64>,
    /// True positive rate (0 when the group has no positives).
    pub tpr: Option<f64>,
    /// False positive rate (0 when the group has no negatives).
    pub fpr: Option<f64>,
}

/// Fairness over one sensitive column, or over the intersection of all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureFairness {
    /// The column name, or `A&B` for the intersection.
    pub feature: String,
    /// The groups, levels sorted as `np.unique` sorts them (numbers numerically).
    pub groups: Vec<GroupMetrics>,
    /// Largest minus smallest selection rate.
    pub demographic_parity_difference: Option<f64>,
    /// Smallest over largest selection rate (`None`: 0/0).
    pub demographic_parity_ratio: Option<f64>,
    /// The larger of the TPR and FPR differences.
    pub equalized_odds_difference: Option<f64>,
    /// The smaller of the TPR and FPR ratios (Python's `min`, see the module notes).
    pub equalized_odds_ratio: Option<f64>,
}

/// Fairness of a set of predictions: one entry per sensitive column, then the intersection.
#[derive(Debug, Clone, PartialEq)]
pub struct FairnessReport {
    /// The positive label.
    pub pos_label: String,
    /// The distinct labels of truth and predictions, sorted.
    pub labels: Vec<String>,
    /// Per sensitive column (in the order given), then their intersection (with two or more).
    pub features: Vec<FeatureFairness>,
}

/// Fairlearn's group metrics and disparities of `y_pred` against `y_true` over `sensitive`.
/// `pos_label` names the positive label; without it the labels must be {0, 1}, {-1, 1} or
/// {false, true} (see the module notes).
pub fn fairness_report(
    y_true: &[String],
    y_pred: &[String],
    sensitive: &[SensitiveColumn],
    pos_label: Option<&str>,
) -> Result<FairnessReport, FairnessError> {
    let n = y_true.len();
    if y_pred.len() != n {
        return Err(FairnessError::LengthMismatch {
            what: "the predictions".to_owned(),
            len: y_pred.len(),
            expected: n,
        });
    }
    if n == 0 {
        return Err(FairnessError::Empty);
    }
    if sensitive.is_empty() {
        return Err(FairnessError::NoSensitive);
    }
    for (i, column) in sensitive.iter().enumerate() {
        if column.values.len() != n {
            return Err(FairnessError::LengthMismatch {
                what: format!("sensitive column '{}'", column.name),
                len: column.values.len(),
                expected: n,
            });
        }
        if sensitive[..i].iter().any(|c| c.name == column.name) {
            return Err(FairnessError::DuplicateSensitive(column.name.clone()));
        }
    }

    let classes = Classes::new(y_true, y_pred)?;
    let (positive, pos_text) = classes.positive(pos_label)?;
    let outcomes: Vec<Outcome> = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| {
            let (t, p) = (classes.id(t), classes.id(p));
            Outcome {
                correct: t == p,
                actual: positive.is_some() && t == positive,
                predicted: positive.is_some() && p == positive,
            }
        })
        .collect();

    let mut features = Vec::with_capacity(sensitive.len() + 1);
    let mut single = Vec::with_capacity(sensitive.len());
    for column in sensitive {
        let grouping = Grouping::of(&column.values);
        features.push(feature_fairness(
            column.name.clone(),
            grouping.levels.clone(),
            &grouping.rows,
            &outcomes,
        ));
        single.push(grouping);
    }
    if single.len() >= 2 {
        let name = sensitive
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join("&");
        let combinations = single
            .iter()
            .fold(1usize, |acc, g| acc.saturating_mul(g.levels.len()));
        if combinations > MAX_COMBINATIONS {
            return Err(FairnessError::TooManyGroups {
                feature: name,
                combinations,
            });
        }
        let (levels, rows) = intersect(&single, n);
        features.push(feature_fairness(name, levels, &rows, &outcomes));
    }
    Ok(FairnessReport {
        pos_label: pos_text,
        labels: classes.names,
        features,
    })
}

impl FairnessReport {
    /// The report as JSON: `{"by_group": {COL: {LEVEL: {"count", "accuracy",
    /// "selection_rate", "tpr", "fpr"}}}, "demographic_parity_difference": {COL: x},
    /// "demographic_parity_ratio": {..}, "equalized_odds_difference": {..},
    /// "equalized_odds_ratio": {..}}`, NaN as `null`.
    pub fn to_json(&self) -> Value {
        let number = |v: Option<f64>| match v.and_then(serde_json::Number::from_f64) {
            Some(n) => Value::Number(n),
            None => Value::Null,
        };
        let mut by_group = Map::new();
        let mut dpd = Map::new();
        let mut dpr = Map::new();
        let mut eod = Map::new();
        let mut eor = Map::new();
        for feature in &self.features {
            let mut groups = Map::new();
            for g in &feature.groups {
                let mut metrics = Map::new();
                metrics.insert("count".into(), Value::from(g.count));
                metrics.insert("accuracy".into(), number(g.accuracy));
                metrics.insert("selection_rate".into(), number(g.selection_rate));
                metrics.insert("tpr".into(), number(g.tpr));
                metrics.insert("fpr".into(), number(g.fpr));
                groups.insert(g.level.clone(), Value::Object(metrics));
            }
            let key = feature.feature.clone();
            by_group.insert(key.clone(), Value::Object(groups));
            dpd.insert(key.clone(), number(feature.demographic_parity_difference));
            dpr.insert(key.clone(), number(feature.demographic_parity_ratio));
            eod.insert(key.clone(), number(feature.equalized_odds_difference));
            eor.insert(key, number(feature.equalized_odds_ratio));
        }
        let mut out = Map::new();
        out.insert("by_group".into(), Value::Object(by_group));
        out.insert("demographic_parity_difference".into(), Value::Object(dpd));
        out.insert("demographic_parity_ratio".into(), Value::Object(dpr));
        out.insert("equalized_odds_difference".into(), Value::Object(eod));
        out.insert("equalized_odds_ratio".into(), Value::Object(eor));
        Value::Object(out)
    }
}

// ---- labels ----------------------------------------------------------------------------------

/// The distinct labels of truth and predictions.
struct Classes {
    /// Sorted as `np.unique` sorts them.
    names: Vec<String>,
    /// The number each label reads as, when all of them read as numbers.
    numbers: Option<Vec<f64>>,
    /// Label text → class index.
    index: BTreeMap<String, usize>,
}

fn as_number(text: &str) -> Option<f64> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| if v == 0.0 { 0.0 } else { v })
}

/// Sorts as `np.unique` would: numerically when every value reads as a number, else as text.
fn sort_levels(levels: &mut [String]) {
    if levels.iter().all(|l| as_number(l).is_some()) {
        levels.sort_by(|a, b| {
            let (x, y) = (as_number(a).unwrap_or(0.0), as_number(b).unwrap_or(0.0));
            x.total_cmp(&y).then_with(|| a.cmp(b))
        });
    } else {
        levels.sort();
    }
}

impl Classes {
    fn new(y_true: &[String], y_pred: &[String]) -> Result<Self, FairnessError> {
        let mut texts: Vec<&String> = y_true.iter().chain(y_pred).collect();
        texts.sort();
        texts.dedup();
        let all_numbers: Option<Vec<f64>> = texts.iter().map(|t| as_number(t)).collect();
        let mut names: Vec<String> = Vec::new();
        let mut numbers: Vec<f64> = Vec::new();
        let mut index = BTreeMap::new();
        match &all_numbers {
            Some(values) => {
                // Texts that read as the same number are one label (shown as the first text).
                let mut order: Vec<usize> = (0..texts.len()).collect();
                order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
                for i in order {
                    if numbers.last() != Some(&values[i]) {
                        numbers.push(values[i]);
                        names.push(texts[i].clone());
                    }
                    index.insert(texts[i].clone(), numbers.len() - 1);
                }
            }
            None => {
                for (i, text) in texts.iter().enumerate() {
                    names.push((*text).clone());
                    index.insert((*text).clone(), i);
                }
            }
        }
        if names.len() > 2 {
            names.truncate(20);
            return Err(FairnessError::TooManyLabels { labels: names });
        }
        Ok(Classes {
            names,
            numbers: all_numbers.map(|_| numbers),
            index,
        })
    }

    fn id(&self, text: &str) -> Option<usize> {
        self.index.get(text).copied()
    }

    /// The positive class (`None` when no row holds it) and its text.
    fn positive(&self, pos_label: Option<&str>) -> Result<(Option<usize>, String), FairnessError> {
        match pos_label {
            Some(wanted) => {
                let found = self.names.iter().position(|n| n == wanted).or_else(|| {
                    let value = as_number(wanted)?;
                    self.numbers.as_ref()?.iter().position(|&v| v == value)
                });
                match found {
                    Some(i) => Ok((Some(i), self.names[i].clone())),
                    None if self.names.len() == 2 => Err(FairnessError::PosLabelNotFound {
                        pos_label: wanted.to_owned(),
                        labels: self.names.clone(),
                    }),
                    None => Ok((None, wanted.to_owned())),
                }
            }
            None => {
                if let Some(values) = &self.numbers {
                    let within = |allowed: &[f64]| values.iter().all(|v| allowed.contains(v));
                    if within(&[0.0, 1.0]) || within(&[-1.0, 1.0]) {
                        let i = values.iter().position(|&v| v == 1.0);
                        let text = i.map_or_else(|| "1".to_owned(), |i| self.names[i].clone());
                        return Ok((i, text));
                    }
                } else if self
                    .names
                    .iter()
                    .all(|n| n.eq_ignore_ascii_case("true") || n.eq_ignore_ascii_case("false"))
                {
                    let i = self
                        .names
                        .iter()
                        .position(|n| n.eq_ignore_ascii_case("true"));
                    let text = i.map_or_else(|| "true".to_owned(), |i| self.names[i].clone());
                    return Ok((i, text));
                }
                Err(FairnessError::NeedsPosLabel {
                    labels: self.names.clone(),
                })
            }
        }
    }
}

// ---- groups ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Outcome {
    correct: bool,
    actual: bool,
    predicted: bool,
}

/// The levels of one column and each row's level index.
struct Grouping {
    levels: Vec<String>,
    rows: Vec<usize>,
}

impl Grouping {
    fn of(values: &[String]) -> Self {
        let mut levels: Vec<String> = values.to_vec();
        levels.sort();
        levels.dedup();
        sort_levels(&mut levels);
        let index: BTreeMap<&str, usize> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i))
            .collect();
        let rows = values
            .iter()
            .map(|v| index.get(v.as_str()).copied().unwrap_or(0))
            .collect();
        Grouping { levels, rows }
    }
}

/// Every combination of the columns' levels (the last column varying fastest, as
/// `MultiIndex.from_product`) and each row's combination.
fn intersect(columns: &[Grouping], n: usize) -> (Vec<String>, Vec<usize>) {
    let mut levels = vec![String::new()];
    let mut rows = vec![0usize; n];
    for (k, column) in columns.iter().enumerate() {
        let mut next = Vec::with_capacity(levels.len() * column.levels.len());
        for prefix in &levels {
            for level in &column.levels {
                next.push(if k == 0 {
                    level.clone()
                } else {
                    format!("{prefix}&{level}")
                });
            }
        }
        levels = next;
        let width = column.levels.len();
        for (row, &level) in rows.iter_mut().zip(&column.rows) {
            *row = *row * width + level;
        }
    }
    (levels, rows)
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    n: usize,
    correct: usize,
    selected: usize,
    positives: usize,
    true_positives: usize,
    negatives: usize,
    false_positives: usize,
}

/// `a / b`, or 0 when `b` is 0 (scikit-learn's `normalize="true"` confusion matrix).
fn rate(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn feature_fairness(
    feature: String,
    levels: Vec<String>,
    rows: &[usize],
    outcomes: &[Outcome],
) -> FeatureFairness {
    let mut counts = vec![Counts::default(); levels.len()];
    for (&group, outcome) in rows.iter().zip(outcomes) {
        if let Some(c) = counts.get_mut(group) {
            c.n += 1;
            c.correct += usize::from(outcome.correct);
            c.selected += usize::from(outcome.predicted);
            if outcome.actual {
                c.positives += 1;
                c.true_positives += usize::from(outcome.predicted);
            } else {
                c.negatives += 1;
                c.false_positives += usize::from(outcome.predicted);
            }
        }
    }
    let groups: Vec<GroupMetrics> = levels
        .into_iter()
        .zip(&counts)
        .map(|(level, c)| {
            let observed = c.n > 0;
            let value = |v: f64| observed.then_some(v);
            GroupMetrics {
                level,
                count: c.n,
                accuracy: value(rate(c.correct, c.n)),
                selection_rate: value(rate(c.selected, c.n)),
                tpr: value(rate(c.true_positives, c.positives)),
                fpr: value(rate(c.false_positives, c.negatives)),
            }
        })
        .collect();
    let spread = |metric: fn(&GroupMetrics) -> Option<f64>| -> (f64, f64) {
        let values: Vec<f64> = groups.iter().filter_map(metric).collect();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (max - min, min / max)
    };
    let finite = |v: f64| v.is_finite().then_some(v);
    let (dp_difference, dp_ratio) = spread(|g| g.selection_rate);
    let (tpr_difference, tpr_ratio) = spread(|g| g.tpr);
    let (fpr_difference, fpr_ratio) = spread(|g| g.fpr);
    FeatureFairness {
        feature,
        demographic_parity_difference: finite(dp_difference),
        demographic_parity_ratio: finite(dp_ratio),
        equalized_odds_difference: finite(python_max(tpr_difference, fpr_difference)),
        equalized_odds_ratio: finite(python_min(tpr_ratio, fpr_ratio)),
        groups,
    }
}

/// Python's built-in `max([a, b])`: `b` only when `b > a` (so a NaN `a` wins).
fn python_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

/// Python's built-in `min([a, b])`: `b` only when `b < a` (so a NaN `a` wins).
fn python_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    fn column(name: &str, values: &[&str]) -> SensitiveColumn {
        SensitiveColumn {
            name: name.to_owned(),
            values: strings(values),
        }
    }

    #[test]
    fn default_positive_label_follows_scikit_learn() {
        let sex = [column("sex", &["a", "b"])];
        let report = fairness_report(&strings(&["0", "1"]), &strings(&["1", "1"]), &sex, None);
        assert_eq!(report.map(|r| r.pos_label).ok().as_deref(), Some("1"));
        let report = fairness_report(&strings(&["-1", "1"]), &strings(&["1", "-1"]), &sex, None);
        assert_eq!(report.map(|r| r.pos_label).ok().as_deref(), Some("1"));
        let report = fairness_report(
            &strings(&["false", "true"]),
            &strings(&["true", "true"]),
            &sex,
            None,
        );
        assert_eq!(report.map(|r| r.pos_label).ok().as_deref(), Some("true"));
        let error = fairness_report(
            &strings(&["no", "yes"]),
            &strings(&["no", "no"]),
            &sex,
            None,
        );
        assert!(matches!(error, Err(FairnessError::NeedsPosLabel { .. })));
        let error = fairness_report(&strings(&["0", "2"]), &strings(&["0", "2"]), &sex, None);
        assert!(matches!(error, Err(FairnessError::NeedsPosLabel { .. })));
        let error = fairness_report(
            &strings(&["no", "yes"]),
            &strings(&["no", "no"]),
            &sex,
            Some("maybe"),
        );
        assert!(matches!(error, Err(FairnessError::PosLabelNotFound { .. })));
        let error = fairness_report(
            &strings(&["a", "b"]),
            &strings(&["c", "a"]),
            &sex,
            Some("a"),
        );
        assert!(matches!(error, Err(FairnessError::TooManyLabels { .. })));
    }

    #[test]
    fn numbers_written_differently_are_one_label() {
        let sex = [column("sex", &["a", "a"])];
        let report = fairness_report(&strings(&["1", "0"]), &strings(&["1.0", "0.0"]), &sex, None);
        let accuracy = report
            .ok()
            .and_then(|r| r.features.first().and_then(|f| f.groups[0].accuracy));
        assert_eq!(accuracy, Some(1.0));
    }

    #[test]
    fn intersection_lists_every_combination_and_ignores_empty_ones() {
        let y_true = strings(&["1", "0", "1", "0"]);
        let y_pred = strings(&["1", "0", "0", "1"]);
        let a = column("A", &["x", "x", "y", "y"]);
        let b = column("B", &["p", "p", "q", "q"]);
        let report = fairness_report(&y_true, &y_pred, &[a, b], None).ok();
        let features = report.map(|r| r.features).unwrap_or_default();
        assert_eq!(features.len(), 3);
        let both = &features[2];
        assert_eq!(both.feature, "A&B");
        let levels: Vec<&str> = both.groups.iter().map(|g| g.level.as_str()).collect();
        assert_eq!(levels, ["x&p", "x&q", "y&p", "y&q"]);
        assert_eq!(both.groups[1].count, 0);
        assert_eq!(both.groups[1].accuracy, None);
        assert_eq!(both.demographic_parity_difference, Some(0.0));
        assert_eq!(both.equalized_odds_difference, Some(1.0));
    }

    #[test]
    fn an_intersection_too_large_to_list_is_refused() {
        let ids: Vec<String> = (0..400).map(|i| i.to_string()).collect();
        let y = vec!["1".to_owned(); 400];
        let a = SensitiveColumn {
            name: "a".into(),
            values: ids.clone(),
        };
        let b = SensitiveColumn {
            name: "b".into(),
            values: ids,
        };
        let error = fairness_report(&y, &y, &[a, b], None);
        assert!(matches!(
            error,
            Err(FairnessError::TooManyGroups {
                combinations: 160_000,
                ..
            })
        ));
    }

    #[test]
    fn python_min_and_max_keep_a_leading_nan() {
        assert!(python_min(f64::NAN, 0.5).is_nan());
        assert_eq!(python_min(0.5, f64::NAN), 0.5);
        assert!(python_max(f64::NAN, 0.5).is_nan());
        assert_eq!(python_max(0.5, f64::NAN), 0.5);
    }
}
