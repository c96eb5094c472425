//! Gates: what a version must show before it may be promoted, set per model in a small TOML
//! policy:
//!
//! ```toml
//! [gates]
//! accuracy = ">= 0.9"          # a metric threshold on the version's evaluation
//! log_loss = "<= 0.3"
//! require_description = true   # the version needs a description
//! ```
//!
//! Unknown keys and malformed thresholds are errors that name the line.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{RegistryError, RegistryResult};
use crate::store::{ModelVersion, Store};

/// A model's gate policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Policy {
    /// The gates.
    pub gates: Gates,
}

/// The gates of a policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gates {
    /// The version must have a description.
    pub require_description: bool,
    /// Metric thresholds: `metric = ">= 0.9"`.
    pub thresholds: BTreeMap<String, String>,
}

impl Policy {
    /// Parses a policy; an error names the line and what is wrong there.
    pub fn parse(text: &str) -> RegistryResult<Self> {
        let refuse = |message: String| RegistryError::Refused(format!("gate policy: {message}"));
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| refuse(e.to_string().trim().replace('\n', " ")))?;
        let mut policy = Policy::default();
        for (key, value) in &table {
            if key != "gates" {
                return Err(refuse(format!(
                    "line {}: unknown table '{key}' (a policy has [gates])",
                    line_of(text, key)
                )));
            }
            let Some(gates) = value.as_table() else {
                return Err(refuse(format!(
                    "line {}: 'gates' must be a table",
                    line_of(text, key)
                )));
            };
            for (name, rule) in gates {
                let line = line_of(text, name);
                match (name.as_str(), rule) {
                    ("require_description", toml::Value::Boolean(b)) => {
                        policy.gates.require_description = *b
                    }
                    ("require_description", _) => {
                        return Err(refuse(format!(
                            "line {line}: require_description is true or false"
                        )));
                    }
                    (metric, toml::Value::String(rule)) => {
                        parse_threshold(rule).map_err(|reason| {
                            refuse(format!("line {line}: {metric} = \"{rule}\": {reason}"))
                        })?;
                        policy
                            .gates
                            .thresholds
                            .insert(metric.to_owned(), rule.clone());
                    }
                    (metric, other) => {
                        return Err(refuse(format!(
                            "line {line}: {metric} = {other}: a metric gate is a string such as \">= 0.9\""
                        )));
                    }
                }
            }
        }
        Ok(policy)
    }

    /// The stored policy of a model (no gates when none was set).
    pub fn of_model(store: &Store, name: &str) -> RegistryResult<Self> {
        Self::parse(&store.model_policy(name)?)
    }
}

/// The 1-based line where `key` is defined (1 when not found).
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
                || l.trim() == format!("[{key}]")
        })
        .map_or(1, |i| i + 1)
}

/// `>= 0.9` as an operator and a number.
fn parse_threshold(rule: &str) -> Result<(&'static str, f64), String> {
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

/// One gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// The gate, e.g. `accuracy >= 0.9`.
    pub gate: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// Evaluates every gate of `policy` on a version.
pub fn evaluate_gates(policy: &Policy, version: &ModelVersion) -> Vec<GateResult> {
    let mut out = Vec::new();
    for (metric, rule) in &policy.gates.thresholds {
        let gate = format!("{metric} {}", rule.trim());
        let Ok((op, threshold)) = parse_threshold(rule) else {
            continue;
        };
        let value = version
            .metrics
            .get(metric)
            .and_then(serde_json::Value::as_f64);
        let (passed, detail) = match value {
            None => (false, format!("the version has no {metric}")),
            Some(v) => {
                let passed = match op {
                    ">=" => v >= threshold,
                    "<=" => v <= threshold,
                    ">" => v > threshold,
                    "<" => v < threshold,
                    _ => v == threshold,
                };
                (passed, format!("{metric} = {v}"))
            }
        };
        out.push(GateResult {
            gate,
            passed,
            detail,
        });
    }
    if policy.gates.require_description {
        let passed = !version.description.trim().is_empty();
        out.push(GateResult {
            gate: "description required".into(),
            passed,
            detail: if passed {
                "described".into()
            } else {
                "the version has no description".into()
            },
        });
    }
    out
}
