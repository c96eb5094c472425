//! Kiln's entities in MLflow's JSON: the field names and types the 3.x client parses
//! (`experiment_id` and a version number are strings, times are epoch milliseconds, enums
//! are names). Empty lists are left out, as the real server leaves them out.

use serde_json::{Value, json};

use super::error::{MlflowError, MlflowResult};
use crate::store::{
    ExperimentInfo, LoggedModel, ModelMetric, ModelVersion, RegisteredModelInfo, RunDetail,
    RunInput, RunStatus, Stage, Store, VersionSource, rfc3339_to_ms,
};

/// The experiment every MLflow server has, id `"0"`.
pub const DEFAULT_EXPERIMENT: &str = "Default";

/// An experiment's id as MLflow sees it: `"0"` for `Default`, else Kiln's id.
pub fn experiment_wire_id(id: i64, name: &str) -> String {
    if name == DEFAULT_EXPERIMENT {
        "0".into()
    } else {
        id.to_string()
    }
}

/// Kiln's id of an experiment MLflow names by `text` (`"0"` is `Default`, made on first use).
pub fn experiment_id(store: &Store, text: &str) -> MlflowResult<i64> {
    if text == "0" {
        return Ok(store.ensure_experiment(DEFAULT_EXPERIMENT)?.id);
    }
    let id: i64 = text.trim().parse().map_err(|_| {
        MlflowError::invalid(format!(
            "'{text}' is not an experiment id (ids are numbers)"
        ))
    })?;
    store
        .experiment_info(id)
        .map_err(|_| MlflowError::not_found(format!("No Experiment with id={text} exists")))?;
    Ok(id)
}

/// `[{"key", "value"}]`.
pub fn pairs<'a>(items: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|(k, v)| json!({ "key": k, "value": v }))
            .collect(),
    )
}

/// Puts `value` under `key` unless it is an empty list.
fn put_list(object: &mut Value, key: &str, value: Value) {
    if value.as_array().is_some_and(|a| !a.is_empty())
        && let Some(map) = object.as_object_mut()
    {
        map.insert(key.to_owned(), value);
    }
}

/// An experiment.
pub fn experiment(info: &ExperimentInfo) -> Value {
    let id = experiment_wire_id(info.experiment.id, &info.experiment.name);
    let created = rfc3339_to_ms(&info.experiment.created_at);
    let updated = info.updated_at.as_deref().map_or(created, rfc3339_to_ms);
    let mut out = json!({
        "experiment_id": id,
        "name": info.experiment.name,
        "artifact_location": format!("mlflow-artifacts:/{id}"),
        "lifecycle_stage": if info.deleted_at.is_some() { "deleted" } else { "active" },
        "last_update_time": updated,
        "creation_time": created,
    });
    put_list(&mut out, "tags", pairs(&info.tags));
    out
}

/// MLflow's name of a run status.
pub fn status_name(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "RUNNING",
        RunStatus::Finished => "FINISHED",
        RunStatus::Failed => "FAILED",
        RunStatus::Killed => "KILLED",
    }
}

/// A run status from MLflow's name (`SCHEDULED` counts as running).
pub fn parse_status(text: &str) -> MlflowResult<RunStatus> {
    match text.to_ascii_uppercase().as_str() {
        "RUNNING" | "SCHEDULED" => Ok(RunStatus::Running),
        "FINISHED" => Ok(RunStatus::Finished),
        "FAILED" => Ok(RunStatus::Failed),
        "KILLED" => Ok(RunStatus::Killed),
        _ => Err(MlflowError::invalid(format!(
            "Invalid run status '{text}': use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED"
        ))),
    }
}

/// Where a run's artifacts live, as the client resolves it through the artifact proxy.
pub fn run_artifact_uri(experiment: &str, run_id: &str) -> String {
    format!("mlflow-artifacts:/{experiment}/{run_id}/artifacts")
}

/// A run's `info`.
pub fn run_info(detail: &RunDetail) -> Value {
    let run = &detail.run;
    let experiment = experiment_wire_id(run.experiment_id, &run.experiment);
    let mut info = json!({
        "run_uuid": run.id,
        "run_id": run.id,
        "experiment_id": experiment,
        "run_name": run.name,
        "user_id": detail.tags.get("mlflow.user").cloned().unwrap_or_default(),
        "status": status_name(run.status),
        "start_time": rfc3339_to_ms(&run.start_time),
        "artifact_uri": run_artifact_uri(&experiment, &run.id),
        "lifecycle_stage": if run.deleted_at.is_some() { "deleted" } else { "active" },
    });
    if let (Some(end), Some(map)) = (&run.end_time, info.as_object_mut()) {
        map.insert("end_time".into(), json!(rfc3339_to_ms(end)));
    }
    info
}

/// A run in full: info, the latest value of each metric, params, tags, inputs and outputs.
pub fn run(store: &Store, detail: &RunDetail) -> MlflowResult<Value> {
    let run_id = &detail.run.id;
    let points = store.latest_metric_points(run_id)?;
    // A metric Kiln logged without steps was logged once, when the run ended.
    let when = detail
        .run
        .end_time
        .as_deref()
        .map_or_else(|| rfc3339_to_ms(&detail.run.start_time), rfc3339_to_ms);
    let metrics: Vec<Value> = detail
        .metrics
        .iter()
        .map(|(key, value)| {
            let (step, time) = points
                .get(key)
                .map_or((0, when), |(step, wall)| (*step, rfc3339_to_ms(wall)));
            json!({ "key": key, "value": value, "timestamp": time, "step": step })
        })
        .collect();
    let mut data = json!({});
    put_list(&mut data, "metrics", Value::Array(metrics));
    put_list(&mut data, "params", pairs(&detail.params));
    put_list(&mut data, "tags", pairs(&detail.tags));
    let mut inputs = json!({});
    let datasets: Vec<Value> = store
        .run_inputs(run_id)?
        .iter()
        .map(dataset_input)
        .collect();
    put_list(&mut inputs, "dataset_inputs", Value::Array(datasets));
    let mut outputs = json!({});
    let models: Vec<Value> = store
        .run_outputs(run_id)?
        .into_iter()
        .map(|(model_id, step)| json!({ "model_id": model_id, "step": step }))
        .collect();
    put_list(&mut outputs, "model_outputs", Value::Array(models));
    Ok(json!({ "info": run_info(detail), "data": data, "inputs": inputs, "outputs": outputs }))
}

fn dataset_input(input: &RunInput) -> Value {
    let mut dataset = json!({
        "name": input.name,
        "digest": input.digest,
        "source_type": input.source_type,
        "source": input.source,
    });
    if let Some(map) = dataset.as_object_mut() {
        if let Some(schema) = &input.schema {
            map.insert("schema".into(), json!(schema));
        }
        if let Some(profile) = &input.profile {
            map.insert("profile".into(), json!(profile));
        }
    }
    let mut out = json!({ "dataset": dataset });
    put_list(
        &mut out,
        "tags",
        Value::Array(
            input
                .tags
                .iter()
                .map(|(k, v)| json!({ "key": k, "value": v }))
                .collect(),
        ),
    );
    out
}

/// Where a logged model's files live.
pub fn model_artifact_uri(experiment: &str, model_id: &str) -> String {
    format!("mlflow-artifacts:/{experiment}/models/{model_id}/artifacts")
}

/// A logged model (`{"info", "data"}`).
pub fn logged_model(store: &Store, model: &LoggedModel) -> MlflowResult<Value> {
    let info = store.experiment_info(model.experiment_id)?;
    let experiment = experiment_wire_id(model.experiment_id, &info.experiment.name);
    let mut out_info = json!({
        "model_id": model.id,
        "experiment_id": experiment,
        "name": model.name,
        "creation_timestamp_ms": model.created_ms,
        "last_updated_timestamp_ms": model.updated_ms,
        "artifact_uri": model_artifact_uri(&experiment, &model.id),
        "status": model.status,
        "model_type": model.model_type,
    });
    if let (Some(run), Some(map)) = (&model.source_run_id, out_info.as_object_mut()) {
        map.insert("source_run_id".into(), json!(run));
    }
    put_list(&mut out_info, "tags", pairs(&model.tags));
    let mut data = json!({});
    put_list(
        &mut data,
        "params",
        pairs(model.params.iter().map(|(k, v)| (k, v))),
    );
    let metrics: Vec<Value> = store
        .model_metrics(&model.id)?
        .iter()
        .map(|m| model_metric(m, &model.id))
        .collect();
    put_list(&mut data, "metrics", Value::Array(metrics));
    Ok(json!({ "info": out_info, "data": data }))
}

fn model_metric(m: &ModelMetric, model_id: &str) -> Value {
    let mut out = json!({
        "key": m.key, "value": m.value, "timestamp": m.timestamp_ms, "step": m.step,
        "model_id": model_id,
    });
    if let Some(map) = out.as_object_mut() {
        for (key, value) in [
            ("run_id", &m.run_id),
            ("dataset_name", &m.dataset_name),
            ("dataset_digest", &m.dataset_digest),
        ] {
            if let Some(v) = value {
                map.insert(key.into(), json!(v));
            }
        }
    }
    out
}

/// MLflow's name of a stage.
pub fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::None => "None",
        Stage::Staging => "Staging",
        Stage::Production => "Production",
        Stage::Archived => "Archived",
    }
}

/// A model version; `tags` and `source` come from the registry's MLflow columns.
pub fn model_version(
    version: &ModelVersion,
    source: &VersionSource,
    tags: &std::collections::BTreeMap<String, String>,
) -> Value {
    let created = rfc3339_to_ms(&version.created_at);
    let source_text = source
        .source
        .clone()
        .unwrap_or_else(|| match &version.run_id {
            Some(run) => format!("runs:/{run}/model"),
            None => format!("kiln:/{}/{}", version.name, version.version),
        });
    let mut out = json!({
        "name": version.name,
        "version": version.version.to_string(),
        "creation_timestamp": created,
        "last_updated_timestamp": created,
        "current_stage": stage_name(version.stage),
        "description": version.description,
        "source": source_text,
        "status": "READY",
        "run_link": "",
    });
    if let Some(map) = out.as_object_mut() {
        if let Some(run) = &version.run_id {
            map.insert("run_id".into(), json!(run));
        }
        if let Some(model_id) = &source.logged_model_id {
            map.insert("model_id".into(), json!(model_id));
        }
    }
    put_list(&mut out, "tags", pairs(tags));
    put_list(&mut out, "aliases", json!(version.aliases));
    out
}

/// A registered model with the latest version of each stage.
pub fn registered_model(info: &RegisteredModelInfo, latest: Vec<Value>, updated_ms: i64) -> Value {
    let created = rfc3339_to_ms(&info.created_at);
    let mut out = json!({
        "name": info.name,
        "creation_timestamp": created,
        "last_updated_timestamp": updated_ms.max(created),
        "description": info.description,
    });
    put_list(&mut out, "latest_versions", Value::Array(latest));
    put_list(&mut out, "tags", pairs(&info.tags));
    put_list(
        &mut out,
        "aliases",
        Value::Array(
            info.aliases
                .iter()
                .map(|(alias, v)| json!({ "alias": alias, "version": v.to_string() }))
                .collect(),
        ),
    );
    out
}
