//! Training one model end to end, as `kiln train` and the Train view do: load, split, fit the
//! pipeline on the training rows, fit the model, evaluate on the held-out rows, and track it all
//! as a run (params, metrics, the model artifact, dataset version, seed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{LoadOptions, OpenedTable, open_table, register_dataset};
use crate::eval;
use crate::features::{FittedPipeline, Matrix, PipelineSpec, numeric_column, text_column};
use crate::jobs::{JobContext, JobError};
use crate::models::{Fitted, ModelSpec, Task};
use crate::rng::SeededRng;
use crate::store::{NewRun, Run, Store};
use crate::tracking::track_run;

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
    let whole = values.iter().flatten().all(|v| v.fract() == 0.0);
    let mut distinct: Vec<i64> = values.iter().flatten().map(|v| *v as i64).collect();
    distinct.sort_unstable();
    distinct.dedup();
    if whole && distinct.len() <= 20 {
        Task::Classification
    } else {
        Task::Regression
    }
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

/// Curves, confusion matrix or residuals, and permutation importance of a fitted model on the
/// held-out rows.
fn evaluation_report(prepared: &Prepared, model: &Fitted, seed: u64) -> eval::EvaluationReport {
    let x = &prepared.x_test;
    let groups = prepared.pipeline.input_groups();
    let as_matrix = |values: &[f64]| Matrix {
        values: values.to_vec(),
        rows: values.len() / x.cols.max(1),
        cols: x.cols,
    };
    match &prepared.labels {
        Labels::Classes { test, .. } => {
            // Models without probabilities (SVM) get their votes as one-hot rows.
            let proba = model.predict_proba(x).unwrap_or_else(|| {
                let k = prepared.classes.len();
                let labels = model.predict_classes(x).unwrap_or_default();
                labels
                    .iter()
                    .map(|&c| (0..k).map(|i| f64::from(u8::from(i == c))).collect())
                    .collect()
            });
            let mut report = eval::classification_report(test, &proba, &prepared.classes);
            let score = |values: &[f64], rows: &[usize]| {
                let predicted = model
                    .predict_classes(&as_matrix(values))
                    .unwrap_or_default();
                let hits = predicted
                    .iter()
                    .zip(rows)
                    .filter(|(p, r)| **p == test[**r])
                    .count();
                hits as f64 / rows.len().max(1) as f64
            };
            report.importance =
                eval::permutation_importance(&x.values, x.cols, &groups, &score, seed);
            report.importance_score = "accuracy".into();
            report
        }
        Labels::Values { test, .. } => {
            let predicted = model.predict_value(x).unwrap_or_default();
            let mut report = eval::regression_report(test, &predicted);
            let score = |values: &[f64], rows: &[usize]| {
                let p = model.predict_value(&as_matrix(values)).unwrap_or_default();
                let truth: Vec<f64> = rows.iter().map(|&r| test[r]).collect();
                eval::r2(&truth, &p).unwrap_or(f64::NAN)
            };
            report.importance =
                eval::permutation_importance(&x.values, x.cols, &groups, &score, seed);
            report.importance_score = "r2".into();
            report
        }
    }
}

/// Name of the model artifact attached to a run.
pub const MODEL_ARTIFACT: &str = "model.json";

/// What to train.
#[derive(Debug, Clone)]
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
}

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
}

fn failed(message: impl Into<String>) -> JobError {
    JobError::Failed(message.into())
}

/// The target as class indices (labels sorted, as scikit-learn's `LabelEncoder` does).
/// A training target needs two classes at least; a test target may hold one.
fn encode_classes(
    frame: &DataFrame,
    target: &str,
    min_classes: usize,
) -> Result<(Vec<usize>, Vec<String>), JobError> {
    let labels = text_column(frame, target).map_err(JobError::failed)?;
    if let Some(row) = labels.iter().position(Option::is_none) {
        return Err(failed(format!(
            "target column '{target}' is missing a value in row {}",
            row + 1
        )));
    }
    let mut classes: Vec<String> = labels.iter().flatten().cloned().collect();
    classes.sort();
    classes.dedup();
    if classes.len() < min_classes {
        return Err(failed(format!(
            "target column '{target}' is constant ({}): there is nothing to learn",
            classes.first().cloned().unwrap_or_default()
        )));
    }
    let index: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let y = labels
        .iter()
        .flatten()
        .map(|l| index.get(l.as_str()).copied().unwrap_or(0))
        .collect();
    Ok((y, classes))
}

fn numeric_target(frame: &DataFrame, target: &str) -> Result<Vec<f64>, JobError> {
    let column = frame
        .column(target)
        .map_err(|_| failed(format!("no target column '{target}'")))?;
    if !column.dtype().is_primitive_numeric() {
        return Err(failed(format!(
            "target column '{target}' holds {} values; regression needs numbers (use a classifier for labels)",
            column.dtype()
        )));
    }
    let values = numeric_column(frame, target).map_err(JobError::failed)?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.filter(|x| x.is_finite()).ok_or_else(|| {
                failed(format!(
                    "target column '{target}' has no usable value in row {}",
                    i + 1
                ))
            })
        })
        .collect()
}

/// Splits rows into train and test, stratified by class for classification.
pub fn split_rows(
    n: usize,
    test_size: f64,
    classes: Option<&[usize]>,
    seed: u64,
) -> (Vec<u32>, Vec<u32>) {
    let mut rng = SeededRng::new(seed);
    let groups: Vec<Vec<u32>> = match classes {
        Some(y) => {
            let k = y.iter().max().map_or(0, |m| m + 1);
            let mut groups = vec![Vec::new(); k];
            for (i, &c) in y.iter().enumerate() {
                groups[c].push(i as u32);
            }
            groups
        }
        None => vec![(0..n as u32).collect()],
    };
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut group in groups {
        rng.shuffle(&mut group);
        let n_test = ((group.len() as f64) * test_size).round() as usize;
        let n_test = n_test.min(group.len().saturating_sub(1));
        test.extend_from_slice(&group[..n_test]);
        train.extend_from_slice(&group[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

fn take(frame: &DataFrame, rows: &[u32]) -> Result<DataFrame, JobError> {
    let idx = IdxCa::from_vec("idx".into(), rows.iter().map(|&r| r as IdxSize).collect());
    frame.take(&idx).map_err(JobError::failed)
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

/// The target of the training and test rows, encoded for the task.
enum Labels {
    Classes { train: Vec<usize>, test: Vec<usize> },
    Values { train: Vec<f64>, test: Vec<f64> },
}

/// A holdout split, or one split per cross-validation fold.
enum PreparedData {
    Holdout(Box<Prepared>),
    /// One split per fold, and all rows (to fit the model that is kept).
    Folds {
        folds: Vec<Prepared>,
        full: Box<Prepared>,
    },
}

impl PreparedData {
    /// The split whose data and pipeline a kept model uses.
    fn main(&self) -> &Prepared {
        match self {
            Self::Holdout(p) => p,
            Self::Folds { full, .. } => full,
        }
    }
}

/// Data prepared once and shared by every trial of a sweep: the split, the fitted pipeline,
/// the matrices and the encoded target.
struct Prepared {
    opened: OpenedTable,
    version_id: i64,
    task: Task,
    features: Vec<String>,
    pipeline: FittedPipeline,
    x_train: Matrix,
    x_test: Matrix,
    labels: Labels,
    classes: Vec<String>,
}

fn prepare(
    store: &Store,
    request: &TrainRequest,
    opened: OpenedTable,
    task: Task,
    ctx: &JobContext,
) -> Result<PreparedData, JobError> {
    let frame = &opened.table.frame;
    for dropped in &request.drop {
        if frame.column(dropped).is_err() {
            return Err(failed(format!("--drop {dropped}: no such column")));
        }
    }
    let features: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| *n != request.target && !request.drop.contains(n))
        .collect();
    if features.is_empty() {
        return Err(failed(
            "no feature columns are left after removing the target and --drop columns",
        ));
    }
    let version =
        register_dataset(store, &dataset_name(&request.data), &opened).map_err(JobError::failed)?;
    ctx.check_cancelled()?;
    if let Some(k) = request.cv {
        let frame = opened.table.frame.clone();
        let folds = cross_validation_folds(
            request,
            opened.clone(),
            version.id,
            task,
            features.clone(),
            &frame,
            k,
        )?;
        let full = prepare_split(request, opened, version.id, task, features, &frame, &frame)?;
        return Ok(PreparedData::Folds {
            folds,
            full: Box::new(full),
        });
    }
    let (train_frame, test_frame) = match &request.test {
        Some(test) => {
            let test = open_table(test, &LoadOptions::default(), &|_, _| !ctx.is_cancelled())?;
            (frame.clone(), test.table.frame.clone())
        }
        None => {
            let classes = match task {
                Task::Classification => {
                    let (y, names) = encode_classes(frame, &request.target, 2)?;
                    // As scikit-learn's stratified split: every class needs a row on each side.
                    for (c, name) in names.iter().enumerate() {
                        if y.iter().filter(|&&v| v == c).count() < 2 {
                            return Err(failed(format!(
                                "class '{name}' of '{}' has only 1 row; a stratified split needs at least 2 (drop it or add rows)",
                                request.target
                            )));
                        }
                    }
                    Some(y)
                }
                Task::Regression => None,
            };
            let (train, test) = split_rows(
                frame.height(),
                request.test_size,
                classes.as_deref(),
                request.seed,
            );
            (take(frame, &train)?, take(frame, &test)?)
        }
    };
    ctx.progress(0.35, "fitting the preprocessing");
    Ok(PreparedData::Holdout(Box::new(prepare_split(
        request,
        opened,
        version.id,
        task,
        features,
        &train_frame,
        &test_frame,
    )?)))
}

/// Fits the pipeline on `train_frame` and encodes both sides.
fn prepare_split(
    request: &TrainRequest,
    opened: OpenedTable,
    version_id: i64,
    task: Task,
    features: Vec<String>,
    train_frame: &DataFrame,
    test_frame: &DataFrame,
) -> Result<Prepared, JobError> {
    let pipeline =
        FittedPipeline::fit(train_frame, &features, &request.steps).map_err(JobError::failed)?;
    let x_train = pipeline.transform(train_frame).map_err(JobError::failed)?;
    let x_test = pipeline.transform(test_frame).map_err(JobError::failed)?;
    let (labels, classes) = match task {
        Task::Classification => {
            let (train, classes) = encode_classes(train_frame, &request.target, 2)?;
            let (test_raw, test_classes) = encode_classes(test_frame, &request.target, 1)?;
            let lookup: BTreeMap<&str, usize> = classes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect();
            let test = test_raw
                .iter()
                .map(|&i| {
                    lookup
                        .get(test_classes[i].as_str())
                        .copied()
                        .ok_or_else(|| {
                            failed(format!(
                                "the test rows hold class '{}' that training never saw",
                                test_classes[i]
                            ))
                        })
                })
                .collect::<Result<_, _>>()?;
            (Labels::Classes { train, test }, classes)
        }
        Task::Regression => (
            Labels::Values {
                train: numeric_target(train_frame, &request.target)?,
                test: numeric_target(test_frame, &request.target)?,
            },
            Vec::new(),
        ),
    };
    Ok(Prepared {
        opened,
        version_id,
        task,
        features,
        pipeline,
        x_train,
        x_test,
        labels,
        classes,
    })
}

/// One prepared split per fold of stratified k-fold cross-validation.
fn cross_validation_folds(
    request: &TrainRequest,
    opened: OpenedTable,
    version_id: i64,
    task: Task,
    features: Vec<String>,
    frame: &DataFrame,
    k: usize,
) -> Result<Vec<Prepared>, JobError> {
    let n = frame.height();
    if k < 2 {
        return Err(failed(format!(
            "--cv {k}: cross-validation needs at least 2 folds"
        )));
    }
    if n < k {
        return Err(failed(format!(
            "--cv {k} needs at least {k} rows, and the data has {n}"
        )));
    }
    let classes = match task {
        Task::Classification => {
            let (y, names) = encode_classes(frame, &request.target, 2)?;
            for (c, name) in names.iter().enumerate() {
                let members = y.iter().filter(|&&v| v == c).count();
                if members < k {
                    return Err(failed(format!(
                        "class '{name}' has {members} rows, fewer than the {k} folds of stratified cross-validation"
                    )));
                }
            }
            Some(y)
        }
        Task::Regression => None,
    };
    let folds = fold_assignment(n, k, classes.as_deref(), request.seed);
    (0..k)
        .map(|fold| {
            let (train, test): (Vec<u32>, Vec<u32>) =
                (0..n as u32).partition(|&r| folds[r as usize] != fold);
            prepare_split(
                request,
                opened.clone(),
                version_id,
                task,
                features.clone(),
                &take(frame, &train)?,
                &take(frame, &test)?,
            )
        })
        .collect()
}

/// The fold of every row: stratified (each class dealt round-robin after a seeded shuffle).
pub fn fold_assignment(n: usize, k: usize, classes: Option<&[usize]>, seed: u64) -> Vec<usize> {
    let mut rng = SeededRng::new(seed);
    let groups: Vec<Vec<usize>> = match classes {
        Some(y) => {
            let mut groups = vec![Vec::new(); y.iter().max().map_or(0, |m| m + 1)];
            for (i, &c) in y.iter().enumerate() {
                groups[c].push(i);
            }
            groups
        }
        None => vec![(0..n).collect()],
    };
    let mut fold = vec![0; n];
    let mut next = 0;
    for mut group in groups {
        rng.shuffle(&mut group);
        for row in group {
            fold[row] = next % k;
            next += 1;
        }
    }
    fold
}

fn dataset_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into())
}

/// Fits `spec` on prepared data as one tracked run (a child of `parent` in a sweep).
fn run_trial(
    store: &Store,
    data: &PreparedData,
    spec: &ModelSpec,
    request: &TrainRequest,
    parent: Option<&str>,
    started: Instant,
    ctx: &JobContext,
) -> Result<TrainOutcome, JobError> {
    let mut params = spec.params();
    params.insert("model".into(), spec.name().into());
    params.insert("target".into(), request.target.clone());
    let prepared = data.main();
    match request.cv {
        Some(k) => {
            params.insert("cv".into(), k.to_string());
        }
        None if request.test.is_none() => {
            params.insert("test_size".into(), request.test_size.to_string());
        }
        None => {}
    }
    let new = NewRun {
        experiment: request.experiment.clone(),
        name: None,
        seed: Some(request.seed as i64),
        dataset_fingerprint: Some(prepared.opened.fingerprint.sha256.clone()),
        dataset_version_id: Some(prepared.version_id),
        parent_run_id: parent.map(str::to_owned),
        git_commit: crate::provenance::current_git_commit(),
        params: params.clone().into_iter().collect(),
        tags: vec![("task".into(), format!("{:?}", prepared.task).to_lowercase())],
    };
    let (run, metrics) = track_run(store, &new, |run| match data {
        PreparedData::Holdout(p) => fit_and_evaluate(store, run, request, spec, p, ctx),
        PreparedData::Folds { folds, full } => {
            cross_validate(store, run, request, spec, folds, full, ctx)
        }
    })?;
    Ok(TrainOutcome {
        run_id: run.id,
        experiment: request.experiment.clone(),
        model: spec.name().into(),
        params,
        metrics,
        duration_s: started.elapsed().as_secs_f64(),
    })
}

/// Fits on the training rows and scores on the held-out rows.
fn fit_and_score(
    spec: &ModelSpec,
    prepared: &Prepared,
    seed: u64,
) -> Result<(Fitted, BTreeMap<String, f64>), JobError> {
    if matches!(spec, ModelSpec::Svm { .. }) && prepared.x_train.rows > crate::models::svm::MAX_ROWS
    {
        return Err(failed(format!(
            "svm keeps an n x n kernel matrix and is limited to {} training rows (this split has {}); use logistic_regression or random_forest, or a sample",
            crate::models::svm::MAX_ROWS,
            prepared.x_train.rows
        )));
    }
    let (x_train, x_test) = (&prepared.x_train, &prepared.x_test);
    match &prepared.labels {
        Labels::Classes { train, test } => {
            let n_classes = prepared.classes.len();
            let model = spec
                .fit_classifier(x_train, train, n_classes, seed)
                .ok_or_else(|| failed(format!("{} is not a classifier", spec.name())))?;
            let proba = model.predict_proba(x_test);
            let y_pred = model.predict_classes(x_test).unwrap_or_default();
            let metrics = eval::classification_metrics(test, &y_pred, proba.as_deref(), n_classes)
                .or_else(|_| eval::classification_metrics(test, &y_pred, None, n_classes))
                .map_err(JobError::failed)?;
            Ok((model, metrics))
        }
        Labels::Values { train, test } => {
            let model = spec
                .fit_regressor(x_train, train, seed)
                .ok_or_else(|| failed(format!("{} is not a regressor", spec.name())))?;
            let predictions = model.predict_value(x_test).unwrap_or_default();
            let metrics = eval::regression_metrics(test, &predictions).map_err(JobError::failed)?;
            Ok((model, metrics))
        }
    }
}

fn fit_and_evaluate(
    store: &Store,
    run: &Run,
    request: &TrainRequest,
    spec: &ModelSpec,
    prepared: &Prepared,
    ctx: &JobContext,
) -> Result<BTreeMap<String, f64>, JobError> {
    ctx.check_cancelled()?;
    ctx.progress(0.45, format!("fitting {}", spec.name()));
    let fitting = Instant::now();
    let (model, metrics) = fit_and_score(spec, prepared, request.seed)?;
    tracing::info!(
        model = spec.name(),
        fit_predict_s = fitting.elapsed().as_secs_f64(),
        "fitted and evaluated"
    );
    ctx.check_cancelled()?;
    ctx.progress(0.8, "curves and feature importance");
    let report = evaluation_report(prepared, &model, request.seed);
    let bytes = serde_json::to_vec(&report).map_err(JobError::failed)?;
    store.log_artifact(&run.id, EVALUATION_ARTIFACT, &bytes)?;
    store_model(store, run, request, spec, prepared, model, &metrics)?;
    Ok(metrics)
}

/// Scores every fold (each fold's value is logged as a step of its metric), records the mean and
/// standard deviation (`<metric>_std`, ddof = 1) and keeps a model fitted on all rows.
fn cross_validate(
    store: &Store,
    run: &Run,
    request: &TrainRequest,
    spec: &ModelSpec,
    folds: &[Prepared],
    full: &Prepared,
    ctx: &JobContext,
) -> Result<BTreeMap<String, f64>, JobError> {
    let mut per_fold: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (i, fold) in folds.iter().enumerate() {
        ctx.check_cancelled()?;
        ctx.progress(
            0.4 + 0.5 * i as f32 / folds.len() as f32,
            format!("fold {} of {}", i + 1, folds.len()),
        );
        let (_, metrics) = fit_and_score(spec, fold, request.seed)?;
        for (name, value) in metrics {
            store.log_metric_steps(&run.id, &format!("fold_{name}"), &[(i as i64, value)])?;
            per_fold.entry(name).or_default().push(value);
        }
    }
    let mut summary = BTreeMap::new();
    for (name, values) in &per_fold {
        let (mean, std) = crate::eval::mean_std(values, 1);
        summary.insert(name.clone(), mean);
        summary.insert(format!("{name}_std"), std);
    }
    ctx.check_cancelled()?;
    let (model, _) = fit_and_score(spec, full, request.seed)?;
    store_model(store, run, request, spec, full, model, &summary)?;
    Ok(summary)
}

/// Saves the model artifact and the metrics of a run.
fn store_model(
    store: &Store,
    run: &Run,
    request: &TrainRequest,
    spec: &ModelSpec,
    prepared: &Prepared,
    model: Fitted,
    metrics: &BTreeMap<String, f64>,
) -> Result<(), JobError> {
    let frame = &prepared.opened.table.frame;
    let inputs = prepared
        .features
        .iter()
        .filter_map(|f| {
            frame
                .column(f)
                .ok()
                .map(|c| (f.clone(), c.dtype().to_string()))
        })
        .collect();
    let artifact = ModelArtifact {
        kiln_version: crate::KILN_VERSION.into(),
        spec: spec.clone(),
        task: prepared.task,
        target: request.target.clone(),
        classes: prepared.classes.clone(),
        inputs,
        pipeline: prepared.pipeline.clone(),
        model,
    };
    let bytes = serde_json::to_vec(&artifact).map_err(JobError::failed)?;
    store.log_artifact(&run.id, MODEL_ARTIFACT, &bytes)?;
    let metric_pairs: Vec<(String, f64)> = metrics.iter().map(|(k, v)| (k.clone(), *v)).collect();
    store.log_metrics(&run.id, &metric_pairs)?;
    Ok(())
}

/// The result of a sweep: every trial and the best one.
#[derive(Debug, Clone, Serialize)]
pub struct SweepOutcome {
    /// The parent run holding the sweep.
    pub sweep_id: String,
    /// The trial with the best value of the chosen metric.
    pub best_run_id: String,
    /// Metric the trials were ranked by.
    pub metric: String,
    /// Every trial, in grid order.
    pub runs: Vec<TrainOutcome>,
}

/// Whether a smaller value of `metric` is better.
pub fn lower_is_better(metric: &str) -> bool {
    matches!(metric, "rmse" | "mae" | "mse" | "mape" | "log_loss")
}

/// Trains one trial per combination of `sweep` values, in parallel, each a child run of one
/// sweep run; the data is read, split and preprocessed once for all trials.
pub fn sweep(
    store: &Store,
    request: &TrainRequest,
    spaces: &BTreeMap<String, crate::tune::Space>,
    n_trials: Option<usize>,
    metric: Option<&str>,
    board: Option<&crate::tune::TrialBoard>,
    ctx: &JobContext,
) -> Result<SweepOutcome, JobError> {
    use rayon::prelude::*;
    let started = Instant::now();
    if spaces.is_empty() {
        return Err(failed(
            "a sweep needs at least one --sweep NAME=V1,V2,... or NAME=LO:HI",
        ));
    }
    let combos = crate::tune::trials(spaces, n_trials, request.seed);
    if let Some(board) = board {
        board.start(&combos);
    }
    // Check every combination before any work.
    let model = if request.model == AUTO_MODEL {
        None
    } else {
        Some(request.model.clone())
    };
    let specs_of = |model: &str| -> Result<Vec<ModelSpec>, JobError> {
        combos
            .iter()
            .map(|combo| {
                let mut params = request.params.clone();
                params.extend(combo.clone());
                ModelSpec::from_params(model, &params).map_err(JobError::failed)
            })
            .collect()
    };
    if let Some(model) = &model {
        specs_of(model)?;
    }
    let (prepared, first) = prepare_with_model(store, request, ctx)?;
    let base = prepared.main();
    let specs = specs_of(first.name())?;
    let metric = metric
        .map(str::to_owned)
        .unwrap_or_else(|| match base.task {
            Task::Classification => "accuracy".into(),
            Task::Regression => "r2".into(),
        });
    let description: Vec<String> = spaces.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let parent = store.start_run(&NewRun {
        experiment: request.experiment.clone(),
        name: Some(format!(
            "sweep {} ({})",
            first.name(),
            description.join(" ")
        )),
        seed: Some(request.seed as i64),
        dataset_fingerprint: Some(base.opened.fingerprint.sha256.clone()),
        dataset_version_id: Some(base.version_id),
        parent_run_id: None,
        git_commit: crate::provenance::current_git_commit(),
        params: vec![
            ("model".into(), first.name().into()),
            ("sweep".into(), description.join(" ")),
            ("metric".into(), metric.clone()),
        ],
        tags: vec![("kind".into(), "sweep".into())],
    })?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<TrainOutcome, JobError>> = specs
        .par_iter()
        .enumerate()
        .map(|(index, spec)| {
            let mark = |state| {
                if let Some(board) = board {
                    board.set(index, state);
                }
            };
            mark(crate::tune::TrialState::Running);
            let outcome = run_trial(
                store,
                &prepared,
                spec,
                request,
                Some(&parent.id),
                Instant::now(),
                ctx,
            );
            mark(match &outcome {
                Ok(run) => crate::tune::TrialState::Finished(run.metrics.get(&metric).copied()),
                Err(JobError::Cancelled) => crate::tune::TrialState::Cancelled,
                Err(JobError::Failed(m)) => crate::tune::TrialState::Failed(m.clone()),
            });
            let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            ctx.progress(
                finished as f32 / specs.len() as f32,
                format!("{finished} of {} trials", specs.len()),
            );
            outcome
        })
        .collect();
    let mut runs = Vec::new();
    let mut first_error = None;
    for result in results {
        match result {
            Ok(run) => runs.push(run),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let score = |r: &TrainOutcome| r.metrics.get(&metric).copied().unwrap_or(f64::NAN);
    // Ties go to the first trial in grid order, as scikit-learn's GridSearchCV ranks them.
    let mut best: Option<(f64, String)> = None;
    for run in &runs {
        let value = score(run);
        if value.is_nan() {
            continue;
        }
        let better = best.as_ref().is_none_or(|(b, _)| {
            if lower_is_better(&metric) {
                value < *b
            } else {
                value > *b
            }
        });
        if better {
            best = Some((value, run.run_id.clone()));
        }
    }
    let best = best.map(|(_, id)| id);
    let (status, error) = match (&first_error, &best) {
        (Some(JobError::Cancelled), _) => (crate::store::RunStatus::Killed, None),
        (Some(JobError::Failed(m)), None) => (crate::store::RunStatus::Failed, Some(m.clone())),
        _ => (crate::store::RunStatus::Finished, None),
    };
    if let Some(best) = &best {
        store.set_tags(&parent.id, &[("best_run_id".into(), best.clone())])?;
        if let Some(run) = runs.iter().find(|r| &r.run_id == best)
            && let Some(value) = run.metrics.get(&metric)
        {
            store.log_metrics(&parent.id, &[(format!("best_{metric}"), *value)])?;
        }
    }
    store.finish_run(&parent.id, status, error.as_deref())?;
    if let Some(e) = first_error
        && (best.is_none() || e == JobError::Cancelled)
    {
        return Err(e);
    }
    tracing::info!(
        trials = runs.len(),
        elapsed_s = started.elapsed().as_secs_f64(),
        "sweep done"
    );
    Ok(SweepOutcome {
        sweep_id: parent.id,
        best_run_id: best.unwrap_or_default(),
        metric,
        runs,
    })
}

/// Loads the model artifact of a run.
pub fn load_artifact(store: &Store, run_id: &str) -> Result<ModelArtifact, JobError> {
    let detail = store.run_detail(run_id)?;
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

/// Predictions of `artifact` for the rows of `frame`.
pub fn predict(artifact: &ModelArtifact, frame: &DataFrame) -> Result<Predictions, JobError> {
    let x = artifact
        .pipeline
        .transform(frame)
        .map_err(JobError::failed)?;
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
                labels: values.iter().map(|v| v.to_string()).collect(),
                proba: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_stratified_and_reproducible() {
        let y: Vec<usize> = (0..100).map(|i| usize::from(i % 4 == 0)).collect();
        let (train, test) = split_rows(100, 0.2, Some(&y), 7);
        assert_eq!(test.len(), 20);
        assert_eq!(train.len(), 80);
        assert_eq!(test.iter().filter(|&&r| y[r as usize] == 1).count(), 5);
        assert_eq!(split_rows(100, 0.2, Some(&y), 7), (train, test));
        assert_ne!(
            split_rows(100, 0.2, Some(&y), 8).1,
            split_rows(100, 0.2, Some(&y), 7).1
        );
    }
}
