//! The fairness gate: the candidate's predictions on a dataset, scored with Fairlearn's
//! definitions over a sensitive column, must stay within limits such as
//! `demographic_parity_difference <= 0.1`.

use std::collections::BTreeMap;
use std::path::Path;

use super::GateResult;
use crate::data::{LoadOptions, load_table};
use crate::eval::{SensitiveColumn, fairness_report};
use crate::features::text_column;
use crate::inference::{Model, predict};

/// What the gate checks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FairnessGate {
    /// The sensitive column.
    pub sensitive: String,
    /// Limits by metric name (`demographic_parity_difference`, `..._ratio`,
    /// `equalized_odds_difference`, `..._ratio`), e.g. `"<= 0.1"`.
    pub limits: BTreeMap<String, String>,
    /// The positive label (default as scikit-learn's).
    pub pos_label: Option<String>,
    /// The data to score on (default: the candidate's training data file).
    pub data: Option<String>,
}

/// The metric names a fairness gate may limit.
pub const FAIRNESS_METRICS: [&str; 4] = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
];

/// Evaluates the gate on `data`; one result per limit.
pub(super) fn evaluate(
    gate: &FairnessGate,
    model: &Model,
    data: &Path,
    check: impl Fn(&str, f64) -> Option<bool>,
) -> Vec<GateResult> {
    let computed = (|| -> Result<crate::eval::FeatureFairness, String> {
        let table =
            load_table(data, &LoadOptions::default(), |_, _| true).map_err(|e| e.to_string())?;
        let predictions = predict(model, &table.frame).map_err(|e| e.to_string())?;
        let truth: Vec<String> = text_column(&table.frame, model.require_target()?)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        let values: Vec<String> = text_column(&table.frame, &gate.sensitive)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
        // With a positive label, every other class counts as negative (one-vs-rest), so a
        // multiclass model can be gated on one outcome.
        let (truth, predicted) = match &gate.pos_label {
            Some(pos) => {
                let binary = |labels: &[String]| -> Vec<String> {
                    labels
                        .iter()
                        .map(|l| {
                            if l == pos {
                                pos.clone()
                            } else {
                                format!("not {pos}")
                            }
                        })
                        .collect()
                };
                (binary(&truth), binary(&predictions.labels))
            }
            None => (truth, predictions.labels),
        };
        let report = fairness_report(
            &truth,
            &predicted,
            &[SensitiveColumn {
                name: gate.sensitive.clone(),
                values,
            }],
            gate.pos_label.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        report
            .features
            .into_iter()
            .next()
            .ok_or_else(|| "no groups".to_owned())
    })();
    gate.limits
        .iter()
        .map(|(metric, rule)| {
            let name = format!("fairness: {metric} {} on {}", rule.trim(), gate.sensitive);
            match &computed {
                Err(reason) => GateResult {
                    gate: name,
                    passed: false,
                    detail: format!("could not compute on {}: {reason}", data.display()),
                },
                Ok(f) => {
                    let value = match metric.as_str() {
                        "demographic_parity_difference" => f.demographic_parity_difference,
                        "demographic_parity_ratio" => f.demographic_parity_ratio,
                        "equalized_odds_difference" => f.equalized_odds_difference,
                        _ => f.equalized_odds_ratio,
                    };
                    match value {
                        None => GateResult {
                            gate: name,
                            passed: false,
                            detail: format!("{metric} is undefined here (0/0)"),
                        },
                        Some(v) => GateResult {
                            gate: name,
                            passed: check(rule, v).unwrap_or(false),
                            detail: format!("{metric} = {v} on {}", data.display()),
                        },
                    }
                }
            }
        })
        .collect()
}
