//! MLflow's tracking endpoints over the store: experiments, runs, and what is logged to runs.

use serde_json::{Value, json};

use super::args::{Args, key_value, number};
use super::error::{MlflowError, MlflowResult};
use super::wire;
use crate::store::{ClientMetric, ClientRun, ModelMetric, RunInput, Store, StoreError};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn run_not_found(run_id: &str) -> impl FnOnce(StoreError) -> MlflowError + '_ {
    move |e| match e {
        StoreError::NotFound { .. } => {
            MlflowError::not_found(format!("Run with id={run_id} not found"))
        }
        other => other.into(),
    }
}

/// The run a request names (`run_id`, or the deprecated `run_uuid`).
fn run_id(args: &Args, store: &Store) -> MlflowResult<String> {
    let id = args.str_of(&["run_id", "run_uuid"])?;
    store.run(&id).map_err(run_not_found(&id))?;
    Ok(id)
}

/// `GET experiments/get-by-name`.
pub fn experiment_by_name(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("experiment_name")?;
    if name == wire::DEFAULT_EXPERIMENT {
        store.ensure_experiment(&name)?;
    }
    match store.experiment_info_by_name(&name) {
        Ok(info) => Ok(json!({ "experiment": wire::experiment(&info) })),
        Err(StoreError::NotFound { .. }) => Err(MlflowError::not_found(format!(
            "Could not find experiment with name '{name}'"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `GET experiments/get`.
pub fn experiment(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = wire::experiment_id(store, &args.str("experiment_id")?)?;
    Ok(json!({ "experiment": wire::experiment(&store.experiment_info(id)?) }))
}

/// `POST experiments/create`.
pub fn create_experiment(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let tags = args.pairs("tags")?;
    let id = store.create_experiment(&name, &tags).map_err(|e| match e {
        StoreError::AlreadyExists { .. } => {
            MlflowError::exists(format!("Experiment(name={name}) already exists."))
        }
        other => other.into(),
    })?;
    Ok(json!({ "experiment_id": wire::experiment_wire_id(id, &name) }))
}

/// `POST experiments/update` (a new name).
pub fn update_experiment(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = wire::experiment_id(store, &args.str("experiment_id")?)?;
    if let Some(name) = args.opt_str("new_name")?.filter(|n| !n.is_empty()) {
        store.rename_experiment(id, &name)?;
    }
    Ok(json!({}))
}

/// `POST experiments/delete` and `experiments/restore`.
pub fn delete_experiment(store: &Store, args: &Args, deleted: bool) -> MlflowResult<Value> {
    let id = wire::experiment_id(store, &args.str("experiment_id")?)?;
    store.set_experiment_deleted(id, deleted)?;
    Ok(json!({}))
}

/// `POST experiments/set-experiment-tag`.
pub fn set_experiment_tag(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = wire::experiment_id(store, &args.str("experiment_id")?)?;
    let key = args.str("key")?;
    let value = args.opt_str("value")?.unwrap_or_default();
    store.set_experiment_tags(id, &[(key, value)])?;
    Ok(json!({}))
}

/// `POST runs/create`. A run without a name gets one, and the `mlflow.runName` tag with it.
pub fn create_run(store: &Store, args: &Args) -> MlflowResult<Value> {
    let experiment = args.opt_str("experiment_id")?.unwrap_or_else(|| "0".into());
    let experiment_id = wire::experiment_id(store, &experiment)?;
    let mut tags = args.pairs("tags")?;
    let name = args
        .opt_str("run_name")?
        .filter(|n| !n.is_empty())
        .or_else(|| {
            tags.iter()
                .find(|(k, _)| k == "mlflow.runName")
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_else(super::names::run_name);
    tags.retain(|(k, _)| k != "mlflow.runName");
    tags.push(("mlflow.runName".into(), name.clone()));
    if let Some(user) = args.opt_str("user_id")?
        && !tags.iter().any(|(k, _)| k == "mlflow.user")
    {
        tags.push(("mlflow.user".into(), user));
    }
    let id = store.start_client_run(&ClientRun {
        experiment_id,
        name: Some(name),
        start_ms: args.opt_i64("start_time")?.unwrap_or_else(now_ms),
        tags,
        id: None,
    })?;
    Ok(json!({ "run": wire::run(store, &store.run_detail(&id)?)? }))
}

/// `POST runs/update`: status, end time, name.
pub fn update_run(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let status = args
        .opt_str("status")?
        .map(|s| wire::parse_status(&s))
        .transpose()?;
    let end = args.opt_i64("end_time")?;
    let name = args.opt_str("run_name")?;
    store.update_client_run(&id, status, end, name.as_deref())?;
    Ok(json!({ "run_info": wire::run_info(&store.run_detail(&id)?) }))
}

/// `GET runs/get`.
pub fn get_run(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = args.str_of(&["run_id", "run_uuid"])?;
    let detail = store.run_detail(&id).map_err(run_not_found(&id))?;
    Ok(json!({ "run": wire::run(store, &detail)? }))
}

/// `POST runs/delete` and `runs/restore`.
pub fn delete_run(store: &Store, args: &Args, deleted: bool) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    if deleted {
        store.delete_run(&id)?;
    } else {
        store.restore_run(&id)?;
    }
    Ok(json!({}))
}

/// `POST runs/log-parameter`.
pub fn log_param(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let key = args.str("key")?;
    let value = args.opt_str("value")?.unwrap_or_default();
    store.log_client_params(&id, &[(key, value)])?;
    Ok(json!({}))
}

/// One metric of a request: the run's point, and the model's when it names a model.
fn metric_of(
    item: &Value,
    run_id: &str,
) -> MlflowResult<(ClientMetric, Option<(String, ModelMetric)>)> {
    let bad = || {
        MlflowError::invalid(format!(
            "a metric needs a 'key' and a numeric 'value'; got {item}"
        ))
    };
    let key = item
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(bad)?
        .to_owned();
    let value = item.get("value").and_then(number).ok_or_else(bad)?;
    let field = |name: &str| item.get(name).and_then(number).map(|v| v as i64);
    let metric = ClientMetric {
        key,
        value,
        timestamp_ms: field("timestamp").unwrap_or_else(now_ms),
        step: field("step").unwrap_or(0),
    };
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
    let model = text("model_id").map(|model_id| {
        (
            model_id,
            ModelMetric {
                key: metric.key.clone(),
                value: metric.value,
                timestamp_ms: metric.timestamp_ms,
                step: metric.step,
                run_id: Some(run_id.to_owned()),
                dataset_name: text("dataset_name"),
                dataset_digest: text("dataset_digest"),
            },
        )
    });
    Ok((metric, model))
}

fn log_metric_values(store: &Store, run_id: &str, items: &[Value]) -> MlflowResult<()> {
    let mut points = Vec::with_capacity(items.len());
    let mut for_models = Vec::new();
    for item in items {
        let (point, model) = metric_of(item, run_id)?;
        points.push(point);
        for_models.extend(model);
    }
    store.log_client_metrics(run_id, &points)?;
    // A model the client names but this store does not hold keeps the run's metric only.
    for_models.retain(|(id, _)| store.logged_model(id).is_ok());
    store.log_model_metrics(&for_models)?;
    Ok(())
}

/// `POST runs/log-metric`.
pub fn log_metric(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let item = Value::Object(
        [
            "key",
            "value",
            "timestamp",
            "step",
            "model_id",
            "dataset_name",
            "dataset_digest",
        ]
        .into_iter()
        .filter_map(|k| args.value(k).map(|v| (k.to_owned(), v.clone())))
        .collect(),
    );
    log_metric_values(store, &id, &[item])?;
    Ok(json!({}))
}

/// `POST runs/log-batch`: params, metrics and tags, each optional.
pub fn log_batch(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let params = args.pairs("params")?;
    if !params.is_empty() {
        store.log_client_params(&id, &params)?;
    }
    let metrics = args.list("metrics");
    if !metrics.is_empty() {
        log_metric_values(store, &id, &metrics)?;
    }
    let tags = args.pairs("tags")?;
    if !tags.is_empty() {
        set_run_tags(store, &id, &tags)?;
    }
    Ok(json!({}))
}

/// Tags of a run; `mlflow.runName` renames it, as MLflow's server does.
fn set_run_tags(store: &Store, id: &str, tags: &[(String, String)]) -> MlflowResult<()> {
    store.set_tags(id, tags)?;
    if let Some((_, name)) = tags.iter().rev().find(|(k, _)| k == "mlflow.runName") {
        store.update_client_run(id, None, None, Some(name))?;
    }
    Ok(())
}

/// `POST runs/set-tag`.
pub fn set_tag(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let key = args.str("key")?;
    let value = args.opt_str("value")?.unwrap_or_default();
    set_run_tags(store, &id, &[(key, value)])?;
    Ok(json!({}))
}

/// `POST runs/delete-tag`.
pub fn delete_tag(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    store.delete_tag(&id, &args.str("key")?)?;
    Ok(json!({}))
}

/// `POST runs/log-inputs`: datasets (their source, schema and profile kept as sent).
pub fn log_inputs(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let mut inputs = Vec::new();
    for item in args.list("datasets") {
        let dataset = item.get("dataset").cloned().unwrap_or(Value::Null);
        let text = |name: &str| dataset.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(name), Some(digest)) = (text("name"), text("digest")) else {
            return Err(MlflowError::invalid(format!(
                "each dataset input needs a dataset with a 'name' and a 'digest'; got {item}"
            )));
        };
        let tags = item
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| {
                tags.iter()
                    .map(|t| key_value(t, "tags"))
                    .collect::<MlflowResult<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        inputs.push(RunInput {
            name,
            digest,
            source_type: text("source_type").unwrap_or_default(),
            source: text("source").unwrap_or_default(),
            schema: text("schema"),
            profile: text("profile"),
            tags,
        });
    }
    store.log_run_inputs(&id, &inputs)?;
    Ok(json!({}))
}

/// `POST runs/outputs`: the models a run produced.
pub fn log_outputs(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let mut models = Vec::new();
    for item in args.list("models") {
        let model_id = item
            .get("model_id")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                MlflowError::invalid(format!("an output needs a 'model_id'; got {item}"))
            })?;
        let step = item.get("step").and_then(number).unwrap_or(0.0) as i64;
        models.push((model_id.to_owned(), step));
    }
    store.log_run_outputs(&id, &models)?;
    Ok(json!({}))
}

/// `GET metrics/get-history`: every value of one metric, by step.
pub fn metric_history(store: &Store, args: &Args) -> MlflowResult<Value> {
    let id = run_id(args, store)?;
    let key = args.str("metric_key")?;
    let mut points: Vec<Value> = store
        .metric_history(&id, &key)?
        .into_iter()
        .map(|p| {
            json!({
                "key": key, "value": p.value,
                "timestamp": crate::store::rfc3339_to_ms(&p.wall_time), "step": p.step,
            })
        })
        .collect();
    if points.is_empty() {
        // A metric Kiln logged without steps is one point.
        let detail = store.run_detail(&id)?;
        if let Some(value) = detail.metrics.get(&key) {
            let info = wire::run_info(&detail);
            let time = info.get("end_time").or(info.get("start_time")).cloned();
            points.push(json!({ "key": key, "value": value, "timestamp": time, "step": 0 }));
        }
    }
    if points.is_empty() {
        return Ok(json!({}));
    }
    Ok(json!({ "metrics": points }))
}
