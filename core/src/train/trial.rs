//! One trial: fit a model on prepared data, evaluate it, and track it as a run whose results
//! (metrics, model, evaluation, warnings) are committed together when it finishes.

use std::collections::BTreeMap;
use std::time::Instant;

use super::labels::Labels;
use super::prepare::{Prepared, PreparedData};
use super::{EVALUATION_ARTIFACT, TrainOutcome, TrainRequest, failed};
use crate::eval::{self, Scores};
use crate::features::Matrix;
use crate::inference::{MODEL_ARTIFACT, ModelArtifact};
use crate::jobs::{JobContext, JobError};
use crate::models::{Fitted, ModelError, ModelSpec};
use crate::store::{NewRun, Run, RunResults, Store};
use crate::tracking::track_run;

/// Fits `spec` on prepared data as one tracked run (a child of `parent` in a sweep).
pub(super) fn run_trial(
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
    if !request.schema.columns.is_empty() {
        params.insert(
            "schema".into(),
            serde_json::to_string(&request.schema).map_err(JobError::failed)?,
        );
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
    let (run, (metrics, warnings)) = track_run(store, &new, |run| {
        let (scores, mut results, model_warnings) = match data {
            PreparedData::Holdout(p) => fit_and_evaluate(request, spec, p, ctx)?,
            PreparedData::Folds { k, .. } => {
                cross_validate(store, run, request, spec, data, *k, ctx)?
            }
        };
        let warnings = record_notes(&mut results, &scores, &model_warnings, prepared);
        results.metrics = scores.values.iter().map(|(k, v)| (k.clone(), *v)).collect();
        Ok(((scores.values, warnings), results))
    })?;
    Ok(TrainOutcome {
        run_id: run.id,
        experiment: request.experiment.clone(),
        model: spec.name().into(),
        params,
        metrics,
        duration_s: started.elapsed().as_secs_f64(),
        warnings,
    })
}

/// Tags the run with what the user should know, and returns the same as sentences: model
/// warnings (`warning.model`), metrics that could not be computed (`absent.<metric>`), and
/// columns the preprocessing left out (`left_out.<column>`).
fn record_notes(
    results: &mut RunResults,
    scores: &Scores,
    model_warnings: &[String],
    prepared: &Prepared,
) -> Vec<String> {
    let mut sentences = Vec::new();
    if !model_warnings.is_empty() {
        results
            .tags
            .push(("warning.model".into(), model_warnings.join("\n")));
        sentences.extend(model_warnings.iter().cloned());
    }
    for (metric, reason) in &scores.absent {
        results
            .tags
            .push((format!("absent.{metric}"), reason.clone()));
        sentences.push(format!("{metric} was not computed: {reason}"));
    }
    for left in &prepared.pipeline.left_out {
        results
            .tags
            .push((format!("left_out.{}", left.column), left.reason.clone()));
        sentences.push(format!(
            "column '{}' left out: {}",
            left.column, left.reason
        ));
    }
    sentences
}

/// Fits a model to the training rows of `prepared`, stopping when the job is cancelled.
fn fit_model(
    spec: &ModelSpec,
    prepared: &Prepared,
    seed: u64,
    ctx: &JobContext,
) -> Result<Fitted, JobError> {
    let cancelled = || ctx.is_cancelled();
    let fitted = match &prepared.labels {
        Labels::Classes { train, .. } => spec.fit_classifier_with(
            &prepared.x_train,
            train,
            prepared.classes.len(),
            seed,
            &cancelled,
        ),
        Labels::Values { train, .. } => {
            spec.fit_regressor_with(&prepared.x_train, train, seed, &cancelled)
        }
    };
    fitted.map_err(|e| match e {
        ModelError::Cancelled => JobError::Cancelled,
        other => failed(other.to_string()),
    })
}

/// Every metric of the table on the held-out rows; those that cannot be computed are absent,
/// with the reason.
fn score(model: &Fitted, prepared: &Prepared) -> Scores {
    let x_test = &prepared.x_test;
    match &prepared.labels {
        Labels::Classes { test, .. } => {
            let proba = model.predict_proba(x_test);
            let y_pred = model.predict_classes(x_test).unwrap_or_default();
            eval::score_classification(test, &y_pred, proba.as_deref(), prepared.classes.len())
        }
        Labels::Values { test, .. } => {
            let predictions = model.predict_value(x_test).unwrap_or_default();
            eval::score_regression(test, &predictions)
        }
    }
}

/// A holdout trial: fit, score, evaluation report, model artifact.
fn fit_and_evaluate(
    request: &TrainRequest,
    spec: &ModelSpec,
    prepared: &Prepared,
    ctx: &JobContext,
) -> Result<(Scores, RunResults, Vec<String>), JobError> {
    ctx.check_cancelled()?;
    ctx.progress(0.45, format!("fitting {}", spec.name()));
    let fitting = Instant::now();
    let model = fit_model(spec, prepared, request.seed, ctx)?;
    let scores = score(&model, prepared);
    tracing::info!(
        model = spec.name(),
        fit_predict_s = fitting.elapsed().as_secs_f64(),
        "fitted and evaluated"
    );
    ctx.check_cancelled()?;
    ctx.progress(0.8, "curves and feature importance");
    let report = evaluation_report(prepared, &model, request.seed);
    let warnings = model.warnings();
    let mut results = RunResults::default();
    results.artifacts.push((
        EVALUATION_ARTIFACT.into(),
        serde_json::to_vec(&report).map_err(JobError::failed)?,
    ));
    results
        .artifacts
        .push(model_artifact(request, spec, prepared, model)?);
    Ok((scores, results, warnings))
}

/// Scores every fold (each fold's value is logged as a step of its metric), records the mean
/// and standard deviation (`<metric>_std`, ddof = 1) of each metric, tags how many folds each
/// mean covers (`folds.<metric>`), and keeps a model fitted on all rows.
fn cross_validate(
    store: &Store,
    run: &Run,
    request: &TrainRequest,
    spec: &ModelSpec,
    data: &PreparedData,
    k: usize,
    ctx: &JobContext,
) -> Result<(Scores, RunResults, Vec<String>), JobError> {
    let mut per_fold: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut absent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..k {
        ctx.check_cancelled()?;
        ctx.progress(
            0.4 + 0.5 * i as f32 / k as f32,
            format!("fold {} of {k}", i + 1),
        );
        // Built for this fold only and dropped after it is scored.
        let fold = data.fold(request, i)?;
        let model = fit_model(spec, &fold, request.seed, ctx)?;
        let scores = score(&model, &fold);
        for (name, value) in scores.values {
            store.log_metric_steps(&run.id, &format!("fold_{name}"), &[(i as i64, value)])?;
            per_fold.entry(name).or_default().push(value);
        }
        for (name, reason) in scores.absent {
            absent
                .entry(name)
                .or_default()
                .push(format!("fold {}: {reason}", i + 1));
        }
    }
    let mut summary = Scores::default();
    let mut results = RunResults::default();
    for (name, values) in &per_fold {
        let (mean, std) = crate::eval::mean_std(values, 1);
        summary.values.insert(name.clone(), mean);
        summary.values.insert(format!("{name}_std"), std);
        results.tags.push((
            format!("folds.{name}"),
            format!("{} of {k} folds", values.len()),
        ));
    }
    for (name, reasons) in absent {
        let covered = per_fold.get(&name).map_or(0, Vec::len);
        let reason = if covered == 0 {
            reasons.join("; ")
        } else {
            format!(
                "the mean covers {covered} of {k} folds; {}",
                reasons.join("; ")
            )
        };
        summary.absent.insert(name, reason);
    }
    ctx.check_cancelled()?;
    let full = data.main();
    let model = fit_model(spec, full, request.seed, ctx)?;
    let warnings = model.warnings();
    results
        .artifacts
        .push(model_artifact(request, spec, full, model)?);
    Ok((summary, results, warnings))
}

/// The model artifact of a run, serialised.
fn model_artifact(
    request: &TrainRequest,
    spec: &ModelSpec,
    prepared: &Prepared,
    model: Fitted,
) -> Result<(String, Vec<u8>), JobError> {
    let frame = &prepared.opened.table.frame;
    let inputs = prepared
        .pipeline
        .input_names()
        .into_iter()
        .filter_map(|f| {
            frame
                .column(&f)
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
    Ok((
        MODEL_ARTIFACT.into(),
        serde_json::to_vec(&artifact).map_err(JobError::failed)?,
    ))
}

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
