//! The per-model gate policy, a small TOML document:
//!
//! ```toml
//! [gates]
//! accuracy = ">= 0.9"          # a metric threshold on the version's evaluation
//! log_loss = "<= 0.3"
//! require_description = true   # the version needs a description
//! require_approval = true      # a second OS user approves the version for the stage
//! # scored on the spot, both on the same data (default: the candidate's training data file)
//! not_worse_than = { stage = "production", margin = 0.01, metric = "accuracy", data = "holdout.csv" }
//! fairness = { sensitive = "sex", demographic_parity_difference = "<= 0.1" }
//!
//! [retrain]                    # when a deployment retrains (deploy::retrain)
//! drift_share = 0.5
//! ```
//!
//! Malformed TOML, unknown keys and malformed thresholds are a [`PolicyError`] with the line
//! and column (from toml's spans) where the problem is, so an editor can point at it.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::Serialize;
use thiserror::Error;

use super::compare_gate::NotWorseThan;
use super::fairness_gate::{FAIRNESS_METRICS, FairnessGate};
use super::{RegistryError, RegistryResult};
use crate::deploy::retrain::RetrainPolicy;
use crate::store::{Stage, Store};

/// A model's gate policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Policy {
    /// The gates.
    pub gates: Gates,
    /// When a deployment of the model retrains (`[retrain]`).
    pub retrain: Option<RetrainPolicy>,
}

/// The gates of a policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gates {
    /// The version must have a description.
    pub require_description: bool,
    /// Metric thresholds: `metric = ">= 0.9"`.
    pub thresholds: BTreeMap<String, String>,
    /// The candidate may not trail the version in a stage by more than a margin.
    pub not_worse_than: Option<NotWorseThan>,
    /// Limits on Fairlearn's disparity metrics over a sensitive column.
    pub fairness: Option<FairnessGate>,
    /// A second OS user must approve the version for the stage (`kiln models approve`).
    pub require_approval: bool,
}

/// Why a policy was refused, and where in its text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("gate policy: line {line}, column {column}: {message}")]
pub struct PolicyError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in characters) of the problem.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
}

/// Where each key of the document is written: its path (`["gates", "accuracy"]`) to the byte
/// range of the key (also how `kiln.toml` errors point at their line).
pub(crate) struct KeySpans(HashMap<Vec<String>, Range<usize>>);

impl KeySpans {
    /// The spans of every key of `text` (none when it does not parse).
    pub(crate) fn of(text: &str) -> Self {
        let mut spans = HashMap::new();
        if let Ok(doc) = toml::de::DeTable::parse(text) {
            collect_spans(doc.get_ref(), &mut Vec::new(), &mut spans);
        }
        Self(spans)
    }

    /// Byte offset of the key at `path` (0 when unknown).
    pub(crate) fn start(&self, path: &[&str]) -> usize {
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        self.0.get(&path).map_or(0, |r| r.start)
    }
}

fn collect_spans(
    table: &toml::de::DeTable<'_>,
    path: &mut Vec<String>,
    out: &mut HashMap<Vec<String>, Range<usize>>,
) {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        out.insert(path.clone(), key.span());
        if let toml::de::DeValue::Table(inner) = value.get_ref() {
            collect_spans(inner, path, out);
        }
        path.pop();
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A problem inside an inline table: the key at fault (else the table's own key) and why.
type FieldError = (Option<&'static str>, String);

impl Policy {
    /// Parses a policy; an error says where (line and column) and what is wrong there.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let at = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            PolicyError {
                line,
                column,
                message,
            }
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            at(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_owned(),
            )
        })?;
        let spans = KeySpans::of(text);
        let mut policy = Policy::default();
        for (key, value) in &table {
            let here = spans.start(&[key]);
            if key == "retrain" {
                let Some(table) = value.as_table() else {
                    return Err(at(here, "'retrain' must be a table".into()));
                };
                let parsed = RetrainPolicy::parse(table).map_err(|(field, reason)| {
                    let offset = field.map_or(here, |f| spans.start(&["retrain", f]));
                    at(offset, format!("retrain: {reason}"))
                })?;
                policy.retrain = Some(parsed);
                continue;
            }
            if key != "gates" {
                return Err(at(
                    here,
                    format!("unknown table '{key}' (a policy has [gates] and [retrain])"),
                ));
            }
            let Some(gates) = value.as_table() else {
                return Err(at(here, "'gates' must be a table".into()));
            };
            for (name, rule) in gates {
                let here = spans.start(&["gates", name]);
                let inner = |(field, reason): FieldError| {
                    let offset = field.map_or(here, |f| spans.start(&["gates", name, f]));
                    at(offset, format!("{name}: {reason}"))
                };
                match (name.as_str(), rule) {
                    ("require_description", toml::Value::Boolean(b)) => {
                        policy.gates.require_description = *b
                    }
                    ("require_approval", toml::Value::Boolean(b)) => {
                        policy.gates.require_approval = *b
                    }
                    ("fairness", toml::Value::Table(t)) => {
                        policy.gates.fairness = Some(parse_fairness(t).map_err(inner)?);
                    }
                    ("not_worse_than", toml::Value::Table(t)) => {
                        policy.gates.not_worse_than = Some(parse_not_worse_than(t).map_err(inner)?);
                    }
                    ("require_description" | "require_approval", _) => {
                        return Err(at(here, format!("{name} is true or false")));
                    }
                    ("fairness" | "not_worse_than", _) => {
                        return Err(at(here, format!("{name} is a table {{ ... }}")));
                    }
                    (metric, toml::Value::String(rule)) => {
                        parse_threshold(rule).map_err(|reason| {
                            at(here, format!("{metric} = \"{rule}\": {reason}"))
                        })?;
                        policy
                            .gates
                            .thresholds
                            .insert(metric.to_owned(), rule.clone());
                    }
                    (metric, other) => {
                        return Err(at(
                            here,
                            format!(
                                "{metric} = {other}: a metric gate is a string such as \">= 0.9\""
                            ),
                        ));
                    }
                }
            }
        }
        Ok(policy)
    }

    /// One short name per gate the policy sets (`accuracy >= 0.9`, `second-person approval`),
    /// in the order they are evaluated.
    pub fn gate_names(&self) -> Vec<String> {
        let g = &self.gates;
        let mut out: Vec<String> = g
            .thresholds
            .iter()
            .map(|(metric, rule)| format!("{metric} {}", rule.trim()))
            .collect();
        if let Some(n) = &g.not_worse_than {
            out.push(format!("not worse than {}", n.stage));
        }
        if let Some(f) = &g.fairness {
            out.push(format!("fairness on {}", f.sensitive));
        }
        if g.require_approval {
            out.push("second-person approval".into());
        }
        if g.require_description {
            out.push("description required".into());
        }
        out
    }

    /// The stored policy of a model (no gates when none was set).
    pub fn of_model(store: &Store, name: &str) -> RegistryResult<Self> {
        Ok(Self::parse(&store.model_policy(name)?)?)
    }
}

/// Replaces the gate policy of model `name` with `text` once it parses, recording the change
/// (before and after) in the audit trail; nothing is saved when it does not parse. A reason
/// is required, as for every registry change. The CLI's `kiln models policy` and the GUI's
/// policy editor both save through here.
pub fn set_policy(store: &Store, name: &str, text: &str, reason: &str) -> RegistryResult<Policy> {
    if reason.trim().is_empty() {
        return Err(RegistryError::Refused(
            "a policy change needs a reason".into(),
        ));
    }
    let policy = Policy::parse(text)?;
    store.set_model_policy(name, text, reason)?;
    Ok(policy)
}

fn parse_fairness(t: &toml::Table) -> Result<FairnessGate, FieldError> {
    let text = |key: &'static str| -> Result<Option<String>, FieldError> {
        t.get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or((Some(key), format!("{key} is text")))
            })
            .transpose()
    };
    let sensitive = text("sensitive")?.ok_or((
        None,
        "name the sensitive column: sensitive = \"sex\"".to_owned(),
    ))?;
    let mut limits = BTreeMap::new();
    for (key, value) in t {
        match key.as_str() {
            "sensitive" | "pos_label" | "data" => {}
            metric if FAIRNESS_METRICS.contains(&metric) => {
                let field = FAIRNESS_METRICS.iter().copied().find(|m| *m == metric);
                let rule = value
                    .as_str()
                    .ok_or((field, format!("{metric} is a string such as \"<= 0.1\"")))?;
                parse_threshold(rule).map_err(|reason| (field, reason))?;
                limits.insert(metric.to_owned(), rule.to_owned());
            }
            other => {
                return Err((
                    None,
                    format!(
                        "unknown key '{other}' (sensitive, pos_label, data, {})",
                        FAIRNESS_METRICS.join(", ")
                    ),
                ));
            }
        }
    }
    if limits.is_empty() {
        return Err((
            None,
            format!("give at least one limit: {}", FAIRNESS_METRICS.join(", ")),
        ));
    }
    Ok(FairnessGate {
        sensitive,
        limits,
        pos_label: text("pos_label")?,
        data: text("data")?,
    })
}

fn parse_not_worse_than(t: &toml::Table) -> Result<NotWorseThan, FieldError> {
    for key in t.keys() {
        if !["stage", "margin", "metric", "data"].contains(&key.as_str()) {
            return Err((
                None,
                format!("unknown key '{key}' (stage, margin, metric, data)"),
            ));
        }
    }
    let stage = t
        .get("stage")
        .and_then(toml::Value::as_str)
        .unwrap_or("production");
    Stage::parse(stage).map_err(|e| (Some("stage"), e.to_string()))?;
    let margin = match t.get("margin") {
        None => 0.0,
        Some(v) => v
            .as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .ok_or((Some("margin"), "margin is a number".to_owned()))?,
    };
    let metric = t
        .get("metric")
        .map(|v| {
            v.as_str().ok_or((
                Some("metric"),
                "metric is a name such as \"accuracy\"".to_owned(),
            ))
        })
        .transpose()?
        .unwrap_or("accuracy");
    if crate::eval::metric_info(metric).is_none() {
        return Err((Some("metric"), format!("unknown metric '{metric}'")));
    }
    let data = t
        .get("data")
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or((Some("data"), "data is a file path".to_owned()))
        })
        .transpose()?;
    Ok(NotWorseThan {
        stage: stage.to_ascii_lowercase(),
        margin,
        metric: metric.to_owned(),
        data,
    })
}

/// `>= 0.9` as an operator and a number.
pub(super) fn parse_threshold(rule: &str) -> Result<(&'static str, f64), String> {
    let rule = rule.trim();
    for op in [">=", "<=", ">", "<", "=="] {
        if let Some(rest) = rule.strip_prefix(op) {
            let value = rest
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("'{}' is not a number", rest.trim()))?;
            return Ok((op, value));
        }
    }
    Err("expected an operator (>=, <=, >, <, ==) and a number, e.g. \">= 0.9\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> PolicyError {
        Policy::parse(text).expect_err("refused")
    }

    #[test]
    fn malformed_toml_is_refused_at_its_line_and_column() {
        // The string is not closed: toml points at the end of its line, where `"` is missing.
        let e = error("[gates]\naccuracy = \">= 0.9\n");
        assert_eq!((e.line, e.column), (2, 19), "{e}");
        assert!(e.message.contains("expected `\"`"), "{e}");
    }

    #[test]
    fn an_unknown_key_or_bad_threshold_points_at_its_key() {
        let e = error("[gatez]\n");
        assert_eq!((e.line, e.column), (1, 2), "{e}");
        assert!(e.message.contains("gatez"), "{e}");
        let e = error("[gates]\n  accuracy = \"at least 0.9\"\n");
        assert_eq!((e.line, e.column), (2, 3), "{e}");
        let e = error("[gates]\nnot_worse_than = { stage = \"prod\" }\n");
        assert_eq!((e.line, e.column), (2, 20), "{e}");
        assert!(
            e.to_string()
                .starts_with("gate policy: line 2, column 20: not_worse_than")
        );
    }

    #[test]
    fn a_good_policy_reads_every_gate() {
        let policy = Policy::parse(
            "[gates]\naccuracy = \">= 0.9\"\nrequire_approval = true\nrequire_description = true\n",
        )
        .expect("policy");
        assert!(policy.gates.require_approval && policy.gates.require_description);
        assert_eq!(
            policy.gate_names(),
            [
                "accuracy >= 0.9",
                "second-person approval",
                "description required"
            ]
        );
        assert_eq!(policy.gates.thresholds["accuracy"], ">= 0.9");
        assert_eq!(Policy::parse("").expect("empty"), Policy::default());
    }
}
