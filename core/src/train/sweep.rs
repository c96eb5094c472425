//! Sweeps: one trial per combination of hyper-parameter values, in parallel, as child runs.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::trial::run_trial;
use super::{AUTO_MODEL, TrainOutcome, TrainRequest, failed, prepare_with_model};
use crate::jobs::{JobContext, JobError};
use crate::models::{ModelSpec, Task};
use crate::store::{NewRun, Store};

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
        let better = best
            .as_ref()
            .is_none_or(|(b, _)| crate::eval::is_better(&metric, value, *b));
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
