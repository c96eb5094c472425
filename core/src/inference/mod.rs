//! The prediction path: the model artifact a run stores, and the schema-checked predictor
//! that `kiln predict`, the gates, the HTTP server and ONNX share. A [`Model`] is either
//! Kiln's own (`Native`) or an imported ONNX graph run by tract (`Onnx`); every caller
//! predicts through [`predict`] and never needs to know which.
//!
//! Inputs are checked strictly: every column the model reads must be there, and a value
//! that does not parse as its column's training type is an error naming the column, the row
//! and the value (never silently imputed). Columns the model does not read are ignored.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureError, FittedPipeline};
use crate::jobs::JobError;
use crate::models::{Fitted, ModelSpec, Task};
use crate::onnx::{OnnxError, OnnxModel};
use crate::store::Store;
use crate::tracking::export::{csv_line, format_float};

fn failed(message: impl Into<String>) -> JobError {
    JobError::Failed(message.into())
}

/// Name of the model artifact attached to a run.
pub const MODEL_ARTIFACT: &str = "model.json";

/// A trained model with everything needed to predict on new rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    /// Kiln version that trained it.
    pub kiln_version: String,
    /// The specification.
    pub spec: ModelSpec,
    /// Classification or regression.
    pub task: Task,
    /// The target column.
    pub target: String,
    /// Class labels in index order (classification).
    pub classes: Vec<String>,
    /// Input columns and their types, in order.
    pub inputs: Vec<(String, String)>,
    /// The fitted preprocessing.
    pub pipeline: FittedPipeline,
    /// The fitted model.
    pub model: Fitted,
}

/// Loads the model artifact of a run.
pub fn load_artifact(store: &Store, run_id: &str) -> Result<ModelArtifact, JobError> {
    let detail = store.run_detail(run_id)?;
    if detail.run.status != crate::store::RunStatus::Finished {
        return Err(failed(format!(
            "run {run_id} is {}, not finished: only a finished run has a model to predict with",
            detail.run.status
        )));
    }
    let artifact = detail
        .artifacts
        .iter()
        .find(|a| a.name == MODEL_ARTIFACT)
        .ok_or_else(|| failed(format!("run {run_id} has no model artifact")))?;
    let bytes = store.read_artifact(&artifact.sha256)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        failed(format!(
            "the model artifact of run {run_id} is damaged: {e}"
        ))
    })
}

/// Predictions for a table: one label (or number, as text) per row, and class probabilities
/// for classifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Predicted label or value of each row.
    pub labels: Vec<String>,
    /// Class probabilities of each row (classifiers only).
    pub proba: Option<Vec<Vec<f64>>>,
}

/// A model Kiln can predict with, whatever made it.
#[derive(Debug, Clone)]
pub enum Model {
    /// Trained by Kiln: pipeline and model in one artifact.
    Native(Box<ModelArtifact>),
    /// An imported ONNX graph, run by tract.
    Onnx(Box<OnnxModel>),
}

impl Model {
    /// Classification or regression.
    pub fn task(&self) -> Task {
        match self {
            Self::Native(m) => m.task,
            Self::Onnx(m) => m.signature.task,
        }
    }

    /// The column it predicts, when known (an ONNX import may not name it).
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::Native(m) => Some(&m.target),
            Self::Onnx(m) => m.signature.target.as_deref(),
        }
    }

    /// The target column, or an error saying how to name it.
    pub fn require_target(&self) -> Result<&str, String> {
        self.target().ok_or_else(|| {
            "the imported ONNX model names no target column (import it with --target COL)".into()
        })
    }

    /// Class labels in probability-column order (empty for regressors).
    pub fn classes(&self) -> &[String] {
        match self {
            Self::Native(m) => &m.classes,
            Self::Onnx(m) => &m.signature.classes,
        }
    }

    /// What the model is, for people: Kiln's model name, or `onnx`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Native(m) => m.spec.name(),
            Self::Onnx(_) => "onnx",
        }
    }

    /// The data columns it reads, with their types.
    pub fn inputs(&self) -> Vec<(String, String)> {
        match self {
            Self::Native(m) => m.inputs.clone(),
            Self::Onnx(m) => m
                .signature
                .inputs
                .iter()
                .flat_map(|i| {
                    let dtype = format!("{:?}", i.tensor.elem_type).to_lowercase();
                    i.columns.iter().map(move |c| (c.clone(), dtype.clone()))
                })
                .collect(),
        }
    }
}

/// Why a prediction failed: the data did not fit the model (the caller's to fix, e.g. an
/// HTTP 400), or the model itself could not run (Kiln's or the artifact's fault).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    /// A column the model reads is missing, or a value does not fit its column's type; the
    /// message names the column (and the row and value when there is one).
    #[error(transparent)]
    Input(#[from] FeatureError),
    /// The model could not run on inputs that were valid.
    #[error("{0}")]
    Model(String),
}

impl From<OnnxError> for PredictError {
    fn from(error: OnnxError) -> Self {
        match error {
            OnnxError::Feature(e) => Self::Input(e),
            other => Self::Model(other.to_string()),
        }
    }
}

/// Predictions of `model` for the rows of `frame`.
pub fn predict(model: &Model, frame: &DataFrame) -> Result<Predictions, PredictError> {
    match model {
        Model::Native(artifact) => predict_native(artifact, frame),
        Model::Onnx(onnx) => Ok(onnx.predict(frame)?),
    }
}

/// Predictions of a native model for the rows of `frame`.
fn predict_native(
    artifact: &ModelArtifact,
    frame: &DataFrame,
) -> Result<Predictions, PredictError> {
    let x = artifact.pipeline.transform(frame)?;
    match artifact.task {
        Task::Classification => {
            let proba = artifact.model.predict_proba(&x);
            let labels = artifact
                .model
                .predict_classes(&x)
                .unwrap_or_default()
                .iter()
                .map(|&c| artifact.classes.get(c).cloned().unwrap_or_default())
                .collect();
            Ok(Predictions { labels, proba })
        }
        Task::Regression => {
            let values = artifact.model.predict_value(&x).unwrap_or_default();
            Ok(Predictions {
                labels: values.iter().map(|v| format_float(*v)).collect(),
                proba: None,
            })
        }
    }
}

/// The name of a class's probability, in `kiln predict --proba`'s CSV and the server's
/// `predict_proba` answers alike: `proba_<class>`.
pub fn proba_column(class: &str) -> String {
    format!("proba_{class}")
}

impl Predictions {
    /// The predictions as CSV, one row per input row in input order: a `prediction` column,
    /// then with `with_proba` one `proba_<class>` column per class (numbers in shortest
    /// round-trip form).
    pub fn to_csv(&self, classes: &[String], with_proba: bool) -> String {
        let proba = self.proba.as_ref().filter(|_| with_proba);
        let mut header = vec!["prediction".to_string()];
        if proba.is_some() {
            header.extend(classes.iter().map(|c| proba_column(c)));
        }
        let mut out = csv_line(&header);
        for (i, label) in self.labels.iter().enumerate() {
            let mut row = vec![label.clone()];
            if let Some(p) = proba.and_then(|p| p.get(i)) {
                row.extend(p.iter().map(|v| format_float(*v)));
            }
            out.push_str(&csv_line(&row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_probabilities_are_short_in_csv() {
        let predictions = Predictions {
            labels: vec!["a".into()],
            proba: Some(vec![vec![1.0 - 1e-300, 1e-300]]),
        };
        let csv = predictions.to_csv(&["a".into(), "b".into()], true);
        assert_eq!(csv, "prediction,proba_a,proba_b\na,1.0,1e-300\n");
    }
}
