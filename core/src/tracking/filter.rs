//! The run filter language of `kiln runs --filter` and the Experiments workspace: MLflow's
//! search syntax (`metrics.accuracy > 0.9 and params.model = 'svm'`, `IN (...)`, `LIKE`,
//! `ILIKE`) plus `or`, `not` and parentheses. Keys are `params.*`, `metrics.*`, `tags.*` and the
//! attributes `status`, `model`, `experiment`, `name`, `run_id`, `start_time`, `duration_s`.
//! Values compare as numbers when both sides are numbers, else as text; a missing key never
//! matches (as in MLflow).

use crate::data::expr::{Cursor, parse_bool};
use crate::data::filter::{FilterError, Op, Token};
use crate::store::RunDetail;

/// What a key refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// `params.NAME`
    Param(String),
    /// `metrics.NAME`
    Metric(String),
    /// `tags.NAME`
    Tag(String),
    /// An attribute of the run.
    Attribute(String),
}

/// Attributes a filter or sort may name.
pub const ATTRIBUTES: &[&str] = &[
    "status",
    "model",
    "experiment",
    "name",
    "run_id",
    "start_time",
    "duration_s",
];

/// A parsed run filter.
#[derive(Debug, Clone, PartialEq)]
pub enum RunFilter {
    /// Both hold.
    And(Box<RunFilter>, Box<RunFilter>),
    /// Either holds.
    Or(Box<RunFilter>, Box<RunFilter>),
    /// Does not hold.
    Not(Box<RunFilter>),
    /// `key op value`.
    Compare(Key, Op, String),
    /// `key [NOT] IN (values)`.
    In(Key, Vec<String>, bool),
    /// `key [NOT] LIKE|ILIKE pattern` (`%` any run of characters, `_` one character).
    Like(Key, String, bool, bool),
}

fn error(position: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        position,
        message: message.into(),
    }
}

/// Parses a key such as `metrics.accuracy`, `attributes.status` or `status`.
pub fn parse_key(text: &str) -> Result<Key, String> {
    let (prefix, name) = text.split_once('.').unwrap_or(("", text));
    let name = name.to_owned();
    match prefix.to_ascii_lowercase().as_str() {
        "params" | "param" | "p" => Ok(Key::Param(name)),
        "metrics" | "metric" | "m" => Ok(Key::Metric(name)),
        "tags" | "tag" | "t" => Ok(Key::Tag(name)),
        "attributes" | "attribute" | "attr" | "" if ATTRIBUTES.contains(&name.as_str()) => {
            Ok(Key::Attribute(name))
        }
        _ => Err(format!(
            "unknown key '{text}': use params.NAME, metrics.NAME, tags.NAME or one of {}",
            ATTRIBUTES.join(", ")
        )),
    }
}

crate::data::expr::bool_expr_via_variants!(RunFilter);

/// A literal: a number or quoted text.
fn value(c: &mut Cursor) -> Result<String, FilterError> {
    let at = c.offset();
    let value = match c.tokens.get(c.pos).cloned() {
        Some((_, Token::Num(n))) => format!("{n}"),
        Some((_, Token::Str(s))) => s,
        Some((_, Token::Ident(w))) => {
            return Err(error(
                at,
                format!("'{w}' is not a value: put text in quotes ('{w}')"),
            ));
        }
        _ => return Err(error(at, "expected a value (a number or 'text')")),
    };
    c.pos += 1;
    Ok(value)
}

/// One comparison: `key op value`, `key [NOT] IN (...)` or `key [NOT] LIKE|ILIKE pattern`.
fn comparison(c: &mut Cursor) -> Result<RunFilter, FilterError> {
    let at = c.offset();
    match c.tokens.get(c.pos).cloned() {
        Some((_, Token::Ident(name))) => {
            let key = parse_key(&name).map_err(|m| error(at, m))?;
            c.pos += 1;
            let negated = c.keyword("not");
            if negated {
                c.pos += 1;
            }
            if c.keyword("in") {
                c.pos += 1;
                if !matches!(c.tokens.get(c.pos), Some((_, Token::LParen))) {
                    return Err(error(c.offset(), "expected '(' after IN"));
                }
                c.pos += 1;
                let mut values = vec![value(c)?];
                while matches!(c.tokens.get(c.pos), Some((_, Token::Comma))) {
                    c.pos += 1;
                    values.push(value(c)?);
                }
                if !matches!(c.tokens.get(c.pos), Some((_, Token::RParen))) {
                    return Err(error(c.offset(), "expected ',' or ')' in the IN list"));
                }
                c.pos += 1;
                return Ok(RunFilter::In(key, values, negated));
            }
            for (word, insensitive) in [("like", false), ("ilike", true)] {
                if c.keyword(word) {
                    c.pos += 1;
                    let pattern = value(c)?;
                    return Ok(RunFilter::Like(key, pattern, insensitive, negated));
                }
            }
            if negated {
                return Err(error(c.offset(), "expected IN, LIKE or ILIKE after NOT"));
            }
            let op = match c.tokens.get(c.pos) {
                Some((_, Token::Op(op))) => *op,
                _ => {
                    return Err(error(
                        c.offset(),
                        format!(
                            "expected a comparison (=, !=, <, <=, >, >=, IN, LIKE, ILIKE) after '{name}'"
                        ),
                    ));
                }
            };
            c.pos += 1;
            Ok(RunFilter::Compare(key, op, value(c)?))
        }
        _ => Err(error(
            at,
            "expected a key (params.NAME, metrics.NAME, ...), 'not' or '('",
        )),
    }
}

/// Parses a run filter.
pub fn parse_run_filter(input: &str) -> Result<RunFilter, FilterError> {
    parse_bool(input, &mut comparison)
}

/// The value of `key` for `run`, as text (numbers formatted as the store holds them).
pub fn key_value(run: &RunDetail, key: &Key) -> Option<String> {
    match key {
        Key::Param(name) => run.params.get(name).cloned(),
        Key::Metric(name) => run.metrics.get(name).map(|v| v.to_string()),
        Key::Tag(name) => run.tags.get(name).cloned(),
        Key::Attribute(name) => match name.as_str() {
            "status" => Some(run.run.status.to_string()),
            "model" => run.params.get("model").cloned(),
            "experiment" => Some(run.run.experiment.clone()),
            "name" => Some(run.run.name.clone()),
            "run_id" => Some(run.run.id.clone()),
            "start_time" => Some(run.run.start_time.clone()),
            "duration_s" => run.run.duration_s().map(|d| d.to_string()),
            "dataset" => run.run.dataset_fingerprint.clone(),
            _ => None,
        },
    }
}

fn compare(actual: &str, op: Op, expected: &str) -> bool {
    let ordering = match (actual.parse::<f64>(), expected.parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b),
        _ => Some(actual.cmp(expected)),
    };
    let Some(ordering) = ordering else {
        return false;
    };
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => ordering == Equal,
        Op::Ne => ordering != Equal,
        Op::Lt => ordering == Less,
        Op::Le => ordering != Greater,
        Op::Gt => ordering == Greater,
        Op::Ge => ordering != Less,
    }
}

fn like(text: &str, pattern: &str) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = (text.chars().collect(), pattern.chars().collect());
    // Dynamic programming over (text position, pattern position).
    let mut matches = vec![vec![false; p.len() + 1]; t.len() + 1];
    matches[0][0] = true;
    for j in 1..=p.len() {
        matches[0][j] = matches[0][j - 1] && p[j - 1] == '%';
    }
    for i in 1..=t.len() {
        for j in 1..=p.len() {
            matches[i][j] = match p[j - 1] {
                '%' => matches[i][j - 1] || matches[i - 1][j],
                '_' => matches[i - 1][j - 1],
                c => matches[i - 1][j - 1] && c == t[i - 1],
            };
        }
    }
    matches[t.len()][p.len()]
}

impl RunFilter {
    /// Whether `run` matches.
    pub fn matches(&self, run: &RunDetail) -> bool {
        match self {
            Self::And(a, b) => a.matches(run) && b.matches(run),
            Self::Or(a, b) => a.matches(run) || b.matches(run),
            Self::Not(a) => !a.matches(run),
            Self::Compare(key, op, value) => {
                key_value(run, key).is_some_and(|v| compare(&v, *op, value))
            }
            Self::In(key, values, negated) => key_value(run, key)
                .is_some_and(|v| values.iter().any(|x| compare(&v, Op::Eq, x)) != *negated),
            Self::Like(key, pattern, insensitive, negated) => {
                key_value(run, key).is_some_and(|v| {
                    let hit = if *insensitive {
                        like(&v.to_lowercase(), &pattern.to_lowercase())
                    } else {
                        like(&v, pattern)
                    };
                    hit != *negated
                })
            }
        }
    }
}

/// Parses a sort spec: `KEY` ascending, `-KEY` descending.
fn parse_sort(spec: &str) -> Result<(Key, bool), String> {
    let (descending, name) = match spec.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, spec.strip_prefix('+').unwrap_or(spec)),
    };
    Ok((parse_key(name.trim())?, descending))
}

/// Indices of the `runs` that match `filter`, ordered by `sort` (`KEY` or `-KEY`; runs without
/// the key last). Values compare as numbers when both are numbers, else as text; each run's
/// sort value is computed once, and no run is copied.
pub fn select_runs(
    runs: &[RunDetail],
    filter: Option<&RunFilter>,
    sort: Option<&str>,
) -> Result<Vec<usize>, String> {
    let mut rows: Vec<usize> = (0..runs.len())
        .filter(|&i| filter.is_none_or(|f| f.matches(&runs[i])))
        .collect();
    let Some(spec) = sort else { return Ok(rows) };
    let (key, descending) = parse_sort(spec)?;
    let values: Vec<Option<(String, Option<f64>)>> = runs
        .iter()
        .map(|r| {
            key_value(r, &key).map(|v| {
                let number = v.parse::<f64>().ok();
                (v, number)
            })
        })
        .collect();
    rows.sort_by(|&a, &b| match (&values[a], &values[b]) {
        (Some((x, xn)), Some((y, yn))) => {
            let ord = match (xn, yn) {
                (Some(p), Some(q)) => p.total_cmp(q),
                _ => x.cmp(y),
            };
            if descending { ord.reverse() } else { ord }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(rows)
}

/// Sorts runs by `key` (`-key` for descending); runs without the key go last.
pub fn sort_runs(runs: &mut Vec<RunDetail>, spec: &str) -> Result<(), String> {
    let order = select_runs(runs, None, Some(spec))?;
    let mut taken: Vec<Option<RunDetail>> = runs.drain(..).map(Some).collect();
    runs.extend(order.into_iter().filter_map(|i| taken[i].take()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Run, RunStatus};
    use std::collections::BTreeMap;

    fn run(id: &str, model: &str, accuracy: f64, c: &str, status: RunStatus) -> RunDetail {
        RunDetail {
            run: Run {
                id: id.into(),
                experiment_id: 1,
                experiment: "churn".into(),
                name: format!("run-{id}"),
                status,
                start_time: format!("2026-01-0{id}T00:00:00.000Z"),
                end_time: None,
                seed: None,
                dataset_fingerprint: None,
                dataset_version_id: None,
                parent_run_id: None,
                kiln_version: "0".into(),
                git_commit: None,
                error: None,
                note: String::new(),
                deleted_at: None,
            },
            params: BTreeMap::from([("model".into(), model.into()), ("C".into(), c.into())]),
            metrics: BTreeMap::from([("accuracy".into(), accuracy)]),
            tags: BTreeMap::from([("owner".into(), "Ada".into())]),
            artifacts: Vec::new(),
            series: Vec::new(),
        }
    }

    fn runs() -> Vec<RunDetail> {
        vec![
            run("1", "svm", 0.91, "1.0", RunStatus::Finished),
            run("2", "logistic_regression", 0.85, "0.1", RunStatus::Finished),
            run("3", "random_forest", 0.95, "10", RunStatus::Failed),
        ]
    }

    fn ids(filter: &str) -> Vec<String> {
        let f = parse_run_filter(filter).expect("parses");
        runs()
            .into_iter()
            .filter(|r| f.matches(r))
            .map(|r| r.run.id)
            .collect()
    }

    #[test]
    fn comparisons_in_like_and_or_not_with_precedence() {
        assert_eq!(ids("metrics.accuracy > 0.9"), ["1", "3"]);
        assert_eq!(
            ids("params.C >= 1"),
            ["1", "3"],
            "numbers compare as numbers"
        );
        assert_eq!(ids("params.model = 'svm' or status = 'failed'"), ["1", "3"]);
        assert_eq!(
            ids("params.model IN ('svm', 'random_forest') and not status = 'failed'"),
            ["1"]
        );
        assert_eq!(ids("params.model NOT IN ('svm')"), ["2", "3"]);
        assert_eq!(ids("params.model LIKE '%forest'"), ["3"]);
        assert_eq!(ids("tags.owner ILIKE 'ada'"), ["1", "2", "3"]);
        assert_eq!(
            ids("metrics.accuracy < 0.9 or metrics.accuracy > 0.94 and status = 'finished'"),
            ["2"]
        );
        assert_eq!(
            ids("(metrics.accuracy < 0.9 or metrics.accuracy > 0.94) and status = 'failed'"),
            ["3"]
        );
        assert_eq!(
            ids("metrics.missing > 0"),
            Vec::<String>::new(),
            "a missing key never matches"
        );
        assert_eq!(ids("attributes.model = 'svm'"), ["1"]);
    }

    #[test]
    fn bad_filters_point_at_the_offending_token() {
        let e = parse_run_filter("metrics.accuracy >").expect_err("value");
        assert_eq!(e.position, 18);
        let e = parse_run_filter("accuracy > 0.9").expect_err("key");
        assert!(e.message.contains("unknown key 'accuracy'"), "{e}");
        assert_eq!(e.position, 0);
        let e = parse_run_filter("params.model = svm").expect_err("quotes");
        assert!(e.message.contains("put text in quotes"), "{e}");
        let e = parse_run_filter("params.model IN ('a' 'b')").expect_err("list");
        assert!(e.message.contains("expected ',' or ')'"), "{e}");
        assert_eq!(e.position, 21);
    }

    #[test]
    fn runs_sort_by_any_key_missing_last() {
        let mut r = runs();
        sort_runs(&mut r, "-metrics.accuracy").expect("sort");
        assert_eq!(
            r.iter().map(|r| r.run.id.as_str()).collect::<Vec<_>>(),
            ["3", "1", "2"]
        );
        sort_runs(&mut r, "params.model").expect("sort");
        assert_eq!(r[0].params["model"], "logistic_regression");
        assert!(sort_runs(&mut r, "bogus").is_err());
    }
}

/// Summary of one metric over a group of runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Aggregate {
    /// Mean.
    pub mean: f64,
    /// Standard deviation (ddof = 1; 0 for one run).
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Runs that have the metric.
    pub count: usize,
}

/// Runs sharing one value of the group key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunGroup {
    /// The key's value (`(none)` for runs without it).
    pub value: String,
    /// Runs in the group.
    pub runs: usize,
    /// Aggregates of each metric.
    pub metrics: std::collections::BTreeMap<String, Aggregate>,
}

/// Groups runs by the value of `key` (`params.max_depth`, `tags.owner`, `model`, ...), with
/// every metric aggregated; groups sorted by value (numerically when they are numbers).
pub fn group_runs(runs: &[&RunDetail], key: &str) -> Result<Vec<RunGroup>, String> {
    let key = parse_key(key)?;
    let mut groups: std::collections::BTreeMap<String, Vec<&RunDetail>> =
        std::collections::BTreeMap::new();
    for run in runs {
        groups
            .entry(key_value(run, &key).unwrap_or_else(|| "(none)".into()))
            .or_default()
            .push(run);
    }
    let mut out: Vec<RunGroup> = groups
        .into_iter()
        .map(|(value, members)| {
            let mut values: std::collections::BTreeMap<String, Vec<f64>> =
                std::collections::BTreeMap::new();
            for run in &members {
                for (name, v) in &run.metrics {
                    values.entry(name.clone()).or_default().push(*v);
                }
            }
            let metrics = values
                .into_iter()
                .map(|(name, v)| {
                    let (mean, std) = crate::eval::mean_std(&v, 1);
                    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (
                        name,
                        Aggregate {
                            mean,
                            std,
                            min,
                            max,
                            count: v.len(),
                        },
                    )
                })
                .collect();
            RunGroup {
                value,
                runs: members.len(),
                metrics,
            }
        })
        .collect();
    out.sort_by(
        |a, b| match (a.value.parse::<f64>(), b.value.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => a.value.cmp(&b.value),
        },
    );
    Ok(out)
}

#[cfg(test)]
mod group_tests {
    use super::*;

    #[test]
    fn runs_group_by_a_param_with_mean_and_spread() {
        let mut runs = Vec::new();
        for (i, (model, acc)) in [("svm", 0.9), ("svm", 0.8), ("ridge", 0.5)]
            .iter()
            .enumerate()
        {
            let mut r = tests_support::run(&i.to_string(), model, *acc);
            r.params.insert("model".into(), (*model).into());
            runs.push(r);
        }
        let refs: Vec<&RunDetail> = runs.iter().collect();
        let groups = group_runs(&refs, "params.model").expect("groups");
        assert_eq!(groups.len(), 2);
        let svm = groups.iter().find(|g| g.value == "svm").expect("svm");
        assert_eq!(svm.runs, 2);
        let acc = &svm.metrics["accuracy"];
        assert!((acc.mean - 0.85).abs() < 1e-12);
        assert!((acc.std - 0.070_710_678_118_654_76).abs() < 1e-12);
        assert!(group_runs(&refs, "bogus").is_err());
    }

    mod tests_support {
        use crate::store::{Run, RunDetail, RunStatus};
        use std::collections::BTreeMap;

        pub fn run(id: &str, model: &str, accuracy: f64) -> RunDetail {
            RunDetail {
                run: Run {
                    id: id.into(),
                    experiment_id: 1,
                    experiment: "e".into(),
                    name: id.into(),
                    status: RunStatus::Finished,
                    ..Run::default()
                },
                params: BTreeMap::from([("model".into(), model.into())]),
                metrics: BTreeMap::from([("accuracy".into(), accuracy)]),
                ..RunDetail::default()
            }
        }
    }
}
