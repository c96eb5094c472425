//! Gates: what a version must show before it may be promoted, set per model in a small TOML
//! policy:
//!
//! ```toml
//! [gates]
//! accuracy = ">= 0.9"          # a metric threshold on the version's evaluation
//! log_loss = "<= 0.3"
//! require_description = true   # the version needs a description
//! # scored on the spot, both on the same data (default: the candidate's training data file)
//! not_worse_than = { stage = "production", margin = 0.01, metric = "accuracy", data = "holdout.csv" }
//! ```
//!
//! Unknown keys and malformed thresholds are errors that name the line.

use std::collections::BTreeMap;

use serde::Serialize;

use super::compare_gate::{self, NotWorseThan};
use super::fairness_gate::{self, FAIRNESS_METRICS, FairnessGate};
use super::{RegistryError, RegistryResult, load_version_model};
use crate::store::{ModelVersion, Stage, Store};

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
    /// The candidate may not trail the version in a stage by more than a margin.
    pub not_worse_than: Option<NotWorseThan>,
    /// Limits on Fairlearn's disparity metrics over a sensitive column.
    pub fairness: Option<FairnessGate>,
    /// A second OS user must approve the version for the stage (`kiln models approve`).
    pub require_approval: bool,
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
                    ("require_approval", toml::Value::Boolean(b)) => {
                        policy.gates.require_approval = *b
                    }
                    ("fairness", toml::Value::Table(t)) => {
                        policy.gates.fairness = Some(parse_fairness(t).map_err(|reason| {
                            refuse(format!("line {line}: fairness: {reason}"))
                        })?);
                    }
                    ("not_worse_than", toml::Value::Table(t)) => {
                        policy.gates.not_worse_than =
                            Some(parse_not_worse_than(t).map_err(|reason| {
                                refuse(format!("line {line}: not_worse_than: {reason}"))
                            })?);
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

fn parse_fairness(t: &toml::Table) -> Result<FairnessGate, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        t.get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or(format!("{key} is text"))
            })
            .transpose()
    };
    let sensitive = text("sensitive")?.ok_or("name the sensitive column: sensitive = \"sex\"")?;
    let mut limits = BTreeMap::new();
    for (key, value) in t {
        match key.as_str() {
            "sensitive" | "pos_label" | "data" => {}
            metric if FAIRNESS_METRICS.contains(&metric) => {
                let rule = value
                    .as_str()
                    .ok_or(format!("{metric} is a string such as \"<= 0.1\""))?;
                parse_threshold(rule)?;
                limits.insert(metric.to_owned(), rule.to_owned());
            }
            other => {
                return Err(format!(
                    "unknown key '{other}' (sensitive, pos_label, data, {})",
                    FAIRNESS_METRICS.join(", ")
                ));
            }
        }
    }
    if limits.is_empty() {
        return Err(format!(
            "give at least one limit: {}",
            FAIRNESS_METRICS.join(", ")
        ));
    }
    Ok(FairnessGate {
        sensitive,
        limits,
        pos_label: text("pos_label")?,
        data: text("data")?,
    })
}

fn parse_not_worse_than(t: &toml::Table) -> Result<NotWorseThan, String> {
    for key in t.keys() {
        if !["stage", "margin", "metric", "data"].contains(&key.as_str()) {
            return Err(format!("unknown key '{key}' (stage, margin, metric, data)"));
        }
    }
    let stage = t
        .get("stage")
        .and_then(toml::Value::as_str)
        .unwrap_or("production");
    Stage::parse(stage).map_err(|e| e.to_string())?;
    let margin = match t.get("margin") {
        None => 0.0,
        Some(v) => v
            .as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .ok_or("margin is a number")?,
    };
    let metric = t
        .get("metric")
        .map(|v| v.as_str().ok_or("metric is a name such as \"accuracy\""))
        .transpose()?
        .unwrap_or("accuracy");
    if crate::eval::metric_info(metric).is_none() {
        return Err(format!("unknown metric '{metric}'"));
    }
    let data = t
        .get("data")
        .map(|v| v.as_str().map(str::to_owned).ok_or("data is a file path"))
        .transpose()?;
    Ok(NotWorseThan {
        stage: stage.to_ascii_lowercase(),
        margin,
        metric: metric.to_owned(),
        data,
    })
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

/// Evaluates every gate of `policy` on a version (scoring models on the spot where a gate
/// compares with another version).
pub fn evaluate_gates(
    store: &Store,
    policy: &Policy,
    version: &ModelVersion,
    stage: Stage,
) -> Vec<GateResult> {
    let mut out = Vec::new();
    for (metric, rule) in &policy.gates.thresholds {
        let gate = format!("{metric} {}", rule.trim());
        if parse_threshold(rule).is_err() {
            continue;
        }
        let value = version
            .metrics
            .get(metric)
            .and_then(serde_json::Value::as_f64);
        let (passed, detail) = match value {
            None => (false, format!("the version has no {metric}")),
            Some(v) => (
                satisfies(rule, v).unwrap_or(false),
                format!("{metric} = {v}"),
            ),
        };
        out.push(GateResult {
            gate,
            passed,
            detail,
        });
    }
    if let Some(gate) = &policy.gates.not_worse_than {
        out.push(not_worse_than(store, gate, version));
    }
    if let Some(gate) = &policy.gates.fairness {
        out.extend(fairness(store, gate, version));
    }
    if policy.gates.require_approval {
        out.push(approval(store, version, stage));
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

fn not_worse_than(store: &Store, gate: &NotWorseThan, version: &ModelVersion) -> GateResult {
    let failed = |detail: String| GateResult {
        gate: format!("not worse than {}", gate.stage),
        passed: false,
        detail,
    };
    let candidate = match load_version_model(store, version) {
        Ok(m) => m,
        Err(e) => return failed(e.to_string()),
    };
    let baseline_version = store.model_versions(&version.name).ok().and_then(|vs| {
        vs.into_iter()
            .rev()
            .find(|v| v.stage.as_str() == gate.stage && v.version != version.version)
    });
    let baseline = match &baseline_version {
        None => None,
        Some(v) => match load_version_model(store, v) {
            Ok(m) => Some((v.version, m)),
            Err(e) => return failed(e.to_string()),
        },
    };
    let data = match gate_data(store, gate.data.as_ref(), version) {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    compare_gate::evaluate(
        gate,
        &candidate,
        baseline.as_ref().map(|(v, m)| (*v, m)),
        &data,
    )
}

/// Whether someone other than the current user approved this version for `stage`.
fn approval(store: &Store, version: &ModelVersion, stage: Stage) -> GateResult {
    let me = crate::store::os_user();
    let approvers: Vec<String> = store
        .audit_log(Some(&version.name))
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            e.action == "approve"
                && e.version == Some(version.version)
                && e.after.get("to").and_then(serde_json::Value::as_str) == Some(stage.as_str())
        })
        .map(|e| e.user)
        .collect();
    let others: Vec<&String> = approvers.iter().filter(|u| **u != me).collect();
    GateResult {
        gate: format!("approved for {stage} by a second person"),
        passed: !others.is_empty(),
        detail: match (others.first(), approvers.is_empty()) {
            (Some(user), _) => format!("approved by {user}"),
            (None, true) => "no approval yet (kiln models approve)".into(),
            (None, false) => format!("only approved by {me}, who is promoting"),
        },
    }
}

/// Whether `value` satisfies `rule` (`">= 0.9"`); `None` for a malformed rule.
fn satisfies(rule: &str, value: f64) -> Option<bool> {
    let (op, threshold) = parse_threshold(rule).ok()?;
    Some(match op {
        ">=" => value >= threshold,
        "<=" => value <= threshold,
        ">" => value > threshold,
        "<" => value < threshold,
        _ => value == threshold,
    })
}

/// The data a gate scores on: its own `data`, else the version's training data file.
fn gate_data(
    store: &Store,
    data: Option<&String>,
    version: &ModelVersion,
) -> Result<std::path::PathBuf, String> {
    match data {
        Some(path) => Ok(std::path::PathBuf::from(path)),
        None => match version
            .dataset_version_id
            .map(|id| store.dataset_version(id))
        {
            Some(Ok(d)) => Ok(std::path::PathBuf::from(d.path)),
            _ => Err("the version has no dataset to score on; set data in the gate".into()),
        },
    }
}

fn fairness(store: &Store, gate: &FairnessGate, version: &ModelVersion) -> Vec<GateResult> {
    let failed = |detail: String| {
        vec![GateResult {
            gate: format!("fairness on {}", gate.sensitive),
            passed: false,
            detail,
        }]
    };
    let model = match load_version_model(store, version) {
        Ok(m) => m,
        Err(e) => return failed(e.to_string()),
    };
    match gate_data(store, gate.data.as_ref(), version) {
        Ok(data) => fairness_gate::evaluate(gate, &model, &data, satisfies),
        Err(e) => failed(e),
    }
}
