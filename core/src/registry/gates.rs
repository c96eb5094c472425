//! Gates: what a version must show before it may be promoted, as its model's policy
//! ([`Policy`], parsed in `policy.rs`) sets them, evaluated on the version.

use serde::Serialize;

use super::compare_gate::{self, NotWorseThan};
use super::fairness_gate::{self, FairnessGate};
use super::policy::{Policy, parse_threshold};
use super::{approval, load_version_model};
use crate::store::{ModelVersion, Stage, Store};

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
        out.push(approval::gate(store, version, stage));
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
