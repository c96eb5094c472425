//! The idempotent writer: a source's experiments, runs and LoggedModels into the Kiln store
//! (registered models are `registry.rs`'s). Runs are keyed by MLflow's id, experiments by
//! name, LoggedModels by id; each item is written in its own transactions, its status last,
//! so an item cut off half-way is `running` (or pending) and completed by the next import.

use std::collections::{BTreeSet, HashMap};

use super::registry::write_registered_model;
use super::summary::{ImportSummary, Problem};
use super::{ImportError, MlflowSource, RunData, RunHead, SourceExperiment, SourceLoggedModel};
use crate::mlflow::DEFAULT_EXPERIMENT;
use crate::store::{ClientRun, NewLoggedModel, RunStatus, Store, StoreError};

/// How many metric values go into one transaction.
const METRIC_CHUNK: usize = 10_000;

/// The progress callback: fraction done and what is being imported; `false` cancels.
pub type OnProgress<'a> = &'a (dyn Fn(f32, &str) -> bool + Sync);

/// Counts units of work for the progress callback and checks for cancellation.
pub(super) struct Progress<'a> {
    on_progress: OnProgress<'a>,
    done: usize,
    total: usize,
}

impl Progress<'_> {
    /// Reports `message` at the current fraction; `Err(Cancelled)` when the caller said stop.
    pub(super) fn report(&self, message: &str) -> Result<(), ImportError> {
        let fraction = if self.total == 0 {
            0.0
        } else {
            self.done as f32 / self.total as f32
        };
        if (self.on_progress)(fraction, message) {
            Ok(())
        } else {
            Err(ImportError::Cancelled)
        }
    }

    /// One unit done.
    pub(super) fn step(&mut self) {
        self.done = (self.done + 1).min(self.total);
    }
}

/// [`import_mlflow`] as the body of a background job: its progress is the job's, its
/// Cancel stops the import (what was written stays), and its errors are the job's failure.
pub fn import_mlflow_job(
    store: &Store,
    source: &dyn MlflowSource,
    ctx: &crate::jobs::JobContext,
) -> Result<ImportSummary, crate::jobs::JobError> {
    let on_progress = |fraction: f32, message: &str| {
        ctx.progress(fraction, message);
        !ctx.is_cancelled()
    };
    import_mlflow(store, source, &on_progress).map_err(|e| match e {
        ImportError::Cancelled => crate::jobs::JobError::Cancelled,
        other => crate::jobs::JobError::failed(other),
    })
}

/// Copies everything `source` holds into `store` that is not there yet, and says what it did.
///
/// `on_progress(fraction, message)` is called between items; returning `false` stops the
/// import with [`ImportError::Cancelled`] (what was written stays). Items that cannot be
/// read are listed in [`ImportSummary::problems`] and the import goes on; an error of the
/// source as a whole or of the Kiln store ends it.
pub fn import_mlflow(
    store: &Store,
    source: &dyn MlflowSource,
    on_progress: OnProgress<'_>,
) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary {
        source: source.describe(),
        ..Default::default()
    };
    let mut progress = Progress {
        on_progress,
        done: 0,
        total: 0,
    };
    progress.report("reading experiments")?;
    let mut listed = Vec::new();
    for item in source.experiments()? {
        if let Some(experiment) = keep_going(&mut summary, "an experiment", item)? {
            listed.push(experiment);
        }
    }
    // List everything first, so the progress bar knows the whole.
    let mut runs = Vec::new();
    let mut models = Vec::new();
    let mut experiments: Vec<(SourceExperiment, i64)> = Vec::new();
    for experiment in listed {
        progress.report(&format!("listing runs of {}", experiment.name))?;
        let mut own_runs = Vec::new();
        for head in source.runs(&experiment)? {
            if let Some(head) = keep_going(&mut summary, "a run", head)? {
                own_runs.push(head);
            }
        }
        let mut own_models = Vec::new();
        for model in source.logged_models(&experiment)? {
            if let Some(model) = keep_going(&mut summary, "a logged model", model)? {
                own_models.push(model);
            }
        }
        // Every MLflow store has an empty `Default`; copying it would only add noise.
        if experiment.name == DEFAULT_EXPERIMENT && own_runs.is_empty() && own_models.is_empty() {
            continue;
        }
        let written = ensure_experiment(store, &experiment, &mut summary);
        let item = format!("experiment {}", experiment.name);
        if let Some(id) = keep_going(&mut summary, &item, written)? {
            experiments.push((experiment, id));
            runs.extend(own_runs);
            models.extend(own_models);
        }
    }
    let kiln_ids: HashMap<String, i64> = experiments
        .iter()
        .map(|(e, id)| (e.id.clone(), *id))
        .collect();
    progress.report("listing registered models")?;
    let mut registered = Vec::new();
    for model in source.registered_models()? {
        if let Some(model) = keep_going(&mut summary, "a registered model", model)? {
            registered.push(model);
        }
    }
    progress.total = runs.len()
        + models.len()
        + registered
            .iter()
            .map(|m| m.versions.len() + 1)
            .sum::<usize>();

    for head in parents_first(runs) {
        progress.report(&format!("run {}", head.name.as_deref().unwrap_or(&head.id)))?;
        let Some(&experiment) = kiln_ids.get(&head.experiment_id) else {
            summary.notes.push(format!(
                "run {} belongs to experiment {}, which the source does not list; skipped",
                head.id, head.experiment_id
            ));
            progress.step();
            continue;
        };
        let written = write_run(store, source, &head, experiment, &mut summary);
        keep_going(&mut summary, &format!("run {}", head.id), written)?;
        progress.step();
    }
    for model in &models {
        progress.report(&format!("logged model {}", model.id))?;
        let written = match kiln_ids.get(&model.experiment_id) {
            Some(&experiment) => write_logged_model(store, source, model, experiment, &mut summary),
            None => Ok(()),
        };
        keep_going(&mut summary, &format!("logged model {}", model.id), written)?;
        progress.step();
    }
    for model in &registered {
        progress.report(&format!("registered model {}", model.name))?;
        let written = write_registered_model(store, model, &mut summary, &mut progress);
        keep_going(
            &mut summary,
            &format!("registered model {}", model.name),
            written,
        )?;
        progress.step();
    }
    summary.notes.extend(source.notes());
    progress.done = progress.total;
    progress.report("done")?;
    Ok(summary)
}

/// `Ok(Some)` on success; `Ok(None)` with a recorded problem when only this item failed;
/// `Err` when the import cannot go on.
pub(super) fn keep_going<T>(
    summary: &mut ImportSummary,
    item: &str,
    result: Result<T, ImportError>,
) -> Result<Option<T>, ImportError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_item_error() => {
            // The summary carries it to the user; the log only for debugging.
            tracing::debug!("{item}: {e}");
            summary.problems.push(Problem::new(item, &e));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The Kiln experiment of the same name, created (with the source's tags, times and
/// deletion) when there is none.
fn ensure_experiment(
    store: &Store,
    experiment: &SourceExperiment,
    summary: &mut ImportSummary,
) -> Result<i64, ImportError> {
    match store.experiment_info_by_name(&experiment.name) {
        Ok(info) => {
            let missing: Vec<(String, String)> = experiment
                .tags
                .iter()
                .filter(|(k, _)| !info.tags.contains_key(k))
                .cloned()
                .collect();
            if !missing.is_empty() {
                store.set_experiment_tags(info.experiment.id, &missing)?;
            }
            summary.experiments.existing += 1;
            Ok(info.experiment.id)
        }
        Err(StoreError::NotFound { .. }) => {
            let id = store.create_experiment(&experiment.name, &experiment.tags)?;
            store.set_experiment_times(id, experiment.created_ms, experiment.updated_ms)?;
            if experiment.deleted {
                store.set_experiment_deleted(id, true)?;
            }
            summary.experiments.new += 1;
            Ok(id)
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs ordered so that a parent comes before its children (the store links a child to
/// its parent only when the parent is there); otherwise in the source's order.
fn parents_first(runs: Vec<RunHead>) -> Vec<RunHead> {
    let index: HashMap<String, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    let mut placed = vec![false; runs.len()];
    let mut order = Vec::with_capacity(runs.len());
    for start in 0..runs.len() {
        // Walk up to the oldest unplaced ancestor, then place the chain downwards.
        let mut chain = vec![start];
        let mut seen = BTreeSet::from([start]);
        while let Some(parent) = runs[chain[chain.len() - 1]]
            .parent_id
            .as_ref()
            .and_then(|p| index.get(p))
            .copied()
            .filter(|p| !placed[*p])
        {
            if !seen.insert(parent) {
                break; // a cycle of parent tags: place them as they come
            }
            chain.push(parent);
        }
        for &i in chain.iter().rev() {
            if !placed[i] {
                placed[i] = true;
                order.push(i);
            }
        }
    }
    let mut slots: Vec<Option<RunHead>> = runs.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn write_run(
    store: &Store,
    source: &dyn MlflowSource,
    head: &RunHead,
    experiment: i64,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    let existing = match store.run(&head.id) {
        Ok(run) => Some(run),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let (points_before, files_before) = match &existing {
        Some(_) => store.run_content_counts(&head.id)?,
        None => (0, 0),
    };
    if existing
        .as_ref()
        .is_some_and(|run| run.status != RunStatus::Running)
    {
        summary.runs.existing += 1;
        summary.metric_points.existing += points_before;
        summary.artifacts.existing += files_before;
        return Ok(());
    }
    let mut data = source.run_data(head)?;
    let notes = clean_metrics(&mut data);
    let name = head.name.clone().or_else(|| {
        data.tags
            .iter()
            .find(|(k, _)| k == "mlflow.runName")
            .map(|(_, v)| v.clone())
    });
    if existing.is_none() {
        store.start_client_run(&ClientRun {
            experiment_id: experiment,
            name: name.clone(),
            start_ms: head.start_ms,
            tags: data.tags.clone(),
            id: Some(head.id.clone()),
        })?;
    } else if !data.tags.is_empty() {
        store.set_tags(&head.id, &data.tags)?;
    }
    for chunk in data.params.chunks(1_000) {
        store.log_client_params(&head.id, chunk)?;
    }
    for chunk in data.metrics.chunks(METRIC_CHUNK) {
        store.log_client_metrics(&head.id, chunk)?;
    }
    if !data.inputs.is_empty() {
        store.log_run_inputs(&head.id, &data.inputs)?;
    }
    if !data.outputs.is_empty() {
        store.log_run_outputs(&head.id, &data.outputs)?;
    }
    for file in &data.artifacts {
        let bytes = source.read(file)?;
        store.log_artifact(&head.id, &file.name, &bytes)?;
    }
    // The status goes last: until it is written the run is `running`, and the next import
    // writes it again.
    store.update_client_run(&head.id, Some(head.status), head.end_ms, None)?;
    if head.deleted {
        store.delete_run(&head.id)?;
    }
    let (points_after, files_after) = store.run_content_counts(&head.id)?;
    if existing.is_some() {
        summary.runs_completed += 1;
    } else {
        summary.runs.new += 1;
    }
    summary.metric_points.existing += points_before;
    summary.metric_points.new += points_after.saturating_sub(points_before);
    summary.artifacts.existing += files_before;
    summary.artifacts.new += files_after.saturating_sub(files_before);
    for note in data.notes.iter().chain(&notes) {
        summary.notes.push(format!("run {}: {note}", head.id));
    }
    Ok(())
}

/// Drops values Kiln cannot store (NaN) and orders each history by time, so that of two
/// values at one step the later one is kept, as MLflow's latest value is; says what changed.
fn clean_metrics(data: &mut RunData) -> Vec<String> {
    let mut notes = Vec::new();
    let before = data.metrics.len();
    data.metrics.retain(|m| !m.value.is_nan());
    let nan = before - data.metrics.len();
    if nan > 0 {
        notes.push(format!(
            "{nan} NaN metric value(s) left out (Kiln stores numbers only)"
        ));
    }
    data.metrics.sort_by_key(|m| m.timestamp_ms);
    let steps: BTreeSet<(&str, i64)> = data
        .metrics
        .iter()
        .map(|m| (m.key.as_str(), m.step))
        .collect();
    let shared = data.metrics.len() - steps.len();
    if shared > 0 {
        notes.push(format!(
            "{shared} metric value(s) share a step with a later value; Kiln keeps one value per \
             step (the latest)"
        ));
    }
    notes
}

fn write_logged_model(
    store: &Store,
    source: &dyn MlflowSource,
    model: &SourceLoggedModel,
    experiment: i64,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    let existing = match store.logged_model(&model.id) {
        Ok(m) => Some(m),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    if existing.as_ref().is_some_and(|m| m.status == model.status) {
        summary.logged_models.existing += 1;
        return Ok(());
    }
    if existing.is_none() {
        store.create_logged_model(&NewLoggedModel {
            experiment_id: experiment,
            name: model.name.clone(),
            source_run_id: model.source_run_id.clone(),
            model_type: model.model_type.clone(),
            params: model.params.clone(),
            tags: model.tags.clone(),
            id: Some(model.id.clone()),
        })?;
    } else {
        let tags: Vec<(String, Option<String>)> = model
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        store.set_logged_model_tags(&model.id, &tags)?;
    }
    for file in &model.files {
        let bytes = source.read(file)?;
        store.put_logged_model_file(&model.id, &file.name, &bytes)?;
    }
    let logged = store.model_metrics(&model.id)?;
    let key =
        |m: &crate::store::ModelMetric| (m.key.clone(), m.step, m.timestamp_ms, m.run_id.clone());
    let have: BTreeSet<_> = logged.iter().map(key).collect();
    let new: Vec<(String, crate::store::ModelMetric)> = model
        .metrics
        .iter()
        .filter(|m| !m.value.is_nan() && !have.contains(&key(m)))
        .map(|m| (model.id.clone(), m.clone()))
        .collect();
    if !new.is_empty() {
        store.log_model_metrics(&new)?;
    }
    // The status last, as for runs: a model cut off half-way is still pending.
    store.set_logged_model_status(&model.id, &model.status)?;
    store.set_logged_model_times(&model.id, model.created_ms, model.updated_ms)?;
    summary.logged_models.new += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mlflow::import::PathOrUrl;

    fn head(id: &str, parent: Option<&str>) -> RunHead {
        RunHead {
            id: id.into(),
            experiment_id: "1".into(),
            name: None,
            status: RunStatus::Finished,
            start_ms: 0,
            end_ms: None,
            deleted: false,
            parent_id: parent.map(str::to_owned),
            artifact_uri: None,
            place: PathOrUrl::Url(String::new()),
        }
    }

    #[test]
    fn parents_are_written_before_their_children() {
        let runs = vec![
            head("grandchild", Some("child")),
            head("child", Some("parent")),
            head("other", Some("not-in-the-source")),
            head("parent", None),
        ];
        let order: Vec<String> = parents_first(runs).into_iter().map(|r| r.id).collect();
        assert_eq!(order, ["parent", "child", "grandchild", "other"]);
    }

    #[test]
    fn a_cycle_of_parent_tags_still_places_every_run_once() {
        let runs = vec![head("a", Some("b")), head("b", Some("a"))];
        assert_eq!(parents_first(runs).len(), 2);
    }

    #[test]
    fn nan_values_are_left_out_and_the_later_value_of_a_step_is_last() {
        let point = |value: f64, step, timestamp_ms| crate::store::ClientMetric {
            key: "loss".into(),
            value,
            timestamp_ms,
            step,
        };
        let mut data = RunData {
            metrics: vec![point(2.0, 0, 20), point(f64::NAN, 1, 5), point(1.0, 0, 10)],
            ..Default::default()
        };
        let notes = clean_metrics(&mut data);
        let values: Vec<f64> = data.metrics.iter().map(|m| m.value).collect();
        assert_eq!(values, [1.0, 2.0]);
        assert_eq!(notes.len(), 2, "{notes:?}");
    }
}
