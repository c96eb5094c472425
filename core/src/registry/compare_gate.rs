//! The not-worse-than gate: the candidate and the version that holds a stage are both scored,
//! on the spot, on the same data, and the candidate may trail by at most a margin in the
//! metric's own direction (the metric table says which way is better).

use std::path::Path;

use super::GateResult;
use crate::data::{LoadOptions, load_table};
use crate::eval::{Direction, direction, score_classification, score_regression};
use crate::features::{numeric_column, text_column};
use crate::inference::{Model, predict};
use crate::models::Task;

/// What the gate compares.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NotWorseThan {
    /// The stage whose version is the baseline.
    pub stage: String,
    /// How much worse the candidate may be.
    pub margin: f64,
    /// The metric compared.
    pub metric: String,
    /// The data both are scored on (default: the candidate's training data file).
    pub data: Option<String>,
}

/// `metric` of `model` on the rows of `frame`, or why it cannot be computed.
fn score(
    model: &Model,
    frame: &crate::polars::prelude::DataFrame,
    metric: &str,
) -> Result<f64, String> {
    let predictions = predict(model, frame).map_err(|e| e.to_string())?;
    let target = model.require_target()?;
    let scores = match model.task() {
        Task::Classification => {
            let truth = text_column(frame, target).map_err(|e| e.to_string())?;
            let index = |label: &str| model.classes().iter().position(|c| c == label);
            let mut y_true = Vec::new();
            let mut y_pred = Vec::new();
            for (row, (t, p)) in truth.iter().zip(&predictions.labels).enumerate() {
                let t = t
                    .as_deref()
                    .and_then(index)
                    .ok_or_else(|| format!("row {}: a class the model does not know", row + 1))?;
                y_true.push(t);
                y_pred.push(index(p).unwrap_or(0));
            }
            score_classification(
                &y_true,
                &y_pred,
                predictions.proba.as_deref(),
                model.classes().len(),
            )
        }
        Task::Regression => {
            let truth: Vec<f64> = numeric_column(frame, target)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            let predicted: Vec<f64> = predictions
                .labels
                .iter()
                .map(|p| p.parse().unwrap_or(f64::NAN))
                .collect();
            score_regression(&truth, &predicted)
        }
    };
    match scores.values.get(metric) {
        Some(v) => Ok(*v),
        None => Err(scores
            .absent
            .get(metric)
            .cloned()
            .unwrap_or_else(|| format!("{metric} is not a metric of this model"))),
    }
}

/// Scores candidate and baseline on `data` and applies the margin.
pub(super) fn evaluate(
    gate: &NotWorseThan,
    candidate: &Model,
    baseline: Option<(i64, &Model)>,
    data: &Path,
) -> GateResult {
    let name = format!(
        "not worse than {} by more than {} in {}",
        gate.stage, gate.margin, gate.metric
    );
    let Some((baseline_version, baseline)) = baseline else {
        return GateResult {
            gate: name,
            passed: true,
            detail: format!("no version is in {} yet", gate.stage),
        };
    };
    let result = (|| -> Result<(f64, f64), String> {
        let table =
            load_table(data, &LoadOptions::default(), |_, _| true).map_err(|e| e.to_string())?;
        Ok((
            score(candidate, &table.frame, &gate.metric)?,
            score(baseline, &table.frame, &gate.metric)?,
        ))
    })();
    match result {
        Err(reason) => GateResult {
            gate: name,
            passed: false,
            detail: format!("could not score on {}: {reason}", data.display()),
        },
        Ok((ours, theirs)) => {
            let shortfall = match direction(&gate.metric) {
                Direction::HigherIsBetter => theirs - ours,
                Direction::LowerIsBetter => ours - theirs,
            };
            GateResult {
                gate: name,
                passed: shortfall <= gate.margin,
                detail: format!(
                    "{} {ours} vs {theirs} for version {baseline_version} on {}",
                    gate.metric,
                    data.display()
                ),
            }
        }
    }
}
