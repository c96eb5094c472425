//! Training one model end to end, as `kiln train` and the Train view do: load, split, fit the
//! pipeline on the training rows, fit the model, evaluate on the held-out rows, and track it all
//! as a run (params, metrics, the model artifact, dataset version, seed).
//!
//! | module | job |
//! |---|---|
//! | `split` | stratified train/test splits and k-fold assignment |
//! | `labels` | the target as class indices (`LabelEncoder` order) or numbers |
//! | `prepare` | load once, apply the user's schema choices, fit the preprocessing, build matrices |
//! | `trial` | fit, evaluate and track one run; cross-validation fold by fold |
//! | `sweep` | trials in parallel as child runs of one sweep run |

mod labels;
mod prepare;
mod split;
mod sweep;
mod trial;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use serde::Serialize;

use crate::data::schema::SchemaOverrides;
use crate::data::{LoadOptions, open_table};
use crate::features::{PipelineSpec, numeric_column};
use crate::jobs::{JobContext, JobError};
use crate::models::{ModelSpec, Task};
use crate::store::Store;
use prepare::{PreparedData, prepare};
pub use split::{fold_assignment, split_rows};
pub use sweep::{SweepOutcome, sweep};
use trial::run_trial;

/// Model name that lets Kiln choose: a classifier for labels and small sets of whole numbers,
/// a regressor otherwise.
pub const AUTO_MODEL: &str = "auto";

/// Classification for labels and small sets of whole numbers, regression otherwise.
pub fn infer_task(frame: &DataFrame, target: &str) -> Task {
    let Ok(column) = frame.column(target) else {
        return Task::Classification;
    };
    if !column.dtype().is_primitive_numeric() {
        return Task::Classification;
    }
    let values = numeric_column(frame, target).unwrap_or_default();
    // One pass that stops at the first fraction or the 21st distinct value.
    let mut distinct = HashSet::new();
    for v in values.iter().flatten() {
        if v.fract() != 0.0 || (distinct.insert(*v as i64) && distinct.len() > 20) {
            return Task::Regression;
        }
    }
    Task::Classification
}

/// The model `auto` stands for, given the target column.
pub fn default_model(frame: &DataFrame, target: &str) -> String {
    match infer_task(frame, target) {
        Task::Classification => "logistic_regression".into(),
        Task::Regression => "ridge".into(),
    }
}

/// Name of the evaluation artifact (curves, confusion matrix, importance) of a run.
pub const EVALUATION_ARTIFACT: &str = "evaluation.json";

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainRequest {
    /// Training data.
    pub data: PathBuf,
    /// Separate test data (else a split of `data`).
    pub test: Option<PathBuf>,
    /// Share of rows held out when there is no test file.
    pub test_size: f64,
    /// Column to predict.
    pub target: String,
    /// Columns left out.
    pub drop: Vec<String>,
    /// Model name.
    pub model: String,
    /// Hyper-parameters by scikit-learn name.
    pub params: BTreeMap<String, String>,
    /// Experiment name.
    pub experiment: String,
    /// Seed of the split.
    pub seed: u64,
    /// Cross-validate with this many stratified folds instead of a holdout split.
    pub cv: Option<usize>,
    /// Per-column preprocessing choices (defaults for the rest).
    pub steps: PipelineSpec,
    /// The user's type and role choices over the inferred schema (as made in Explore, or
    /// `--as COL=KIND`): types are applied before preprocessing; `ignore` and `id` columns
    /// are left out.
    pub schema: SchemaOverrides,
}

/// What a finished training reports.
#[derive(Debug, Clone, Serialize)]
pub struct TrainOutcome {
    /// The tracked run.
    pub run_id: String,
    /// Experiment name.
    pub experiment: String,
    /// Model name.
    pub model: String,
    /// Hyper-parameters.
    pub params: BTreeMap<String, String>,
    /// Test metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Wall time.
    pub duration_s: f64,
    /// What the user should know: a model that did not converge, metrics that could not be
    /// computed, columns left out of the preprocessing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn failed(message: impl Into<String>) -> JobError {
    JobError::Failed(message.into())
}

/// Trains as `request` says and tracks the run in `store`.
pub fn train(
    store: &Store,
    request: &TrainRequest,
    ctx: &JobContext,
) -> Result<TrainOutcome, JobError> {
    let started = Instant::now();
    let (prepared, spec) = prepare_with_model(store, request, ctx)?;
    run_trial(store, &prepared, &spec, request, None, started, ctx)
}

/// Loads, checks and prepares the data, and resolves the model (for `auto`, from the target).
fn prepare_with_model(
    store: &Store,
    request: &TrainRequest,
    ctx: &JobContext,
) -> Result<(PreparedData, ModelSpec), JobError> {
    if request.model != AUTO_MODEL {
        // Check the name and parameters before spending time on loading.
        ModelSpec::from_params(&request.model, &request.params).map_err(JobError::failed)?;
    }
    if !(request.test.is_some() || (0.0 < request.test_size && request.test_size < 1.0)) {
        return Err(failed(format!(
            "--test-size {} must be between 0 and 1",
            request.test_size
        )));
    }
    let progress = |fraction: f32, message: &str| {
        ctx.progress(fraction * 0.3, message);
        !ctx.is_cancelled()
    };
    let opened = open_table(&request.data, &LoadOptions::default(), &progress)?;
    let opened = crate::data::with_overrides(&opened, &request.schema).map_err(JobError::failed)?;
    let frame = &opened.table.frame;
    if frame.column(&request.target).is_err() {
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        return Err(failed(format!(
            "unknown target column '{}' (columns: {})",
            request.target,
            names.join(", ")
        )));
    }
    let model_name = if request.model == AUTO_MODEL {
        default_model(frame, &request.target)
    } else {
        request.model.clone()
    };
    let spec = ModelSpec::from_params(&model_name, &request.params).map_err(JobError::failed)?;
    let task = spec
        .task()
        .unwrap_or_else(|| infer_task(frame, &request.target));
    let prepared = prepare(store, request, opened, task, ctx)?;
    Ok((prepared, spec))
}

fn dataset_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into())
}
