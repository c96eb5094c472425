//! MLflow 3's LoggedModel endpoints: what `log_model` and autolog create, finalise, tag and
//! search, and what `runs:/<run>/model` resolves through.

use serde_json::{Value, json};

use super::args::Args;
use super::error::{MlflowError, MlflowResult};
use super::search::{named_view, page_answer, select_named};
use super::wire;
use crate::store::{NewLoggedModel, Store, StoreError};
use crate::tracking::filter::Key;

fn model_not_found(id: &str) -> impl FnOnce(StoreError) -> MlflowError + '_ {
    move |e| match e {
        StoreError::NotFound { .. } => {
            MlflowError::not_found(format!("Logged model with ID '{id}' not found."))
        }
        other => other.into(),
    }
}

fn answer(store: &Store, id: &str) -> MlflowResult<Value> {
    let model = store.logged_model(id).map_err(model_not_found(id))?;
    Ok(json!({ "model": wire::logged_model(store, &model)? }))
}

/// `POST logged-models`: a new model, pending until its files are uploaded.
pub fn create(store: &Store, args: &Args) -> MlflowResult<Value> {
    let experiment_id = wire::experiment_id(store, &args.str("experiment_id")?)?;
    let source_run_id = args.opt_str("source_run_id")?.filter(|s| !s.is_empty());
    if let Some(run) = &source_run_id {
        store
            .run(run)
            .map_err(|_| MlflowError::not_found(format!("Run with id={run} not found")))?;
    }
    let model = store.create_logged_model(&NewLoggedModel {
        experiment_id,
        name: args.opt_str("name")?.unwrap_or_else(|| "model".into()),
        source_run_id,
        model_type: args.opt_str("model_type")?.unwrap_or_default(),
        params: args.pairs("params")?,
        tags: args.pairs("tags")?,
        id: None,
    })?;
    Ok(json!({ "model": wire::logged_model(store, &model)? }))
}

/// `GET logged-models/{id}`.
pub fn get(store: &Store, id: &str) -> MlflowResult<Value> {
    answer(store, id)
}

/// `PATCH logged-models/{id}`: the status (`LOGGED_MODEL_READY` once uploaded).
pub fn finalize(store: &Store, id: &str, args: &Args) -> MlflowResult<Value> {
    store.logged_model(id).map_err(model_not_found(id))?;
    if let Some(status) = args.opt_str("status")? {
        let known = [
            "LOGGED_MODEL_PENDING",
            "LOGGED_MODEL_READY",
            "LOGGED_MODEL_UPLOAD_FAILED",
        ];
        if !known.contains(&status.as_str()) {
            return Err(MlflowError::invalid(format!(
                "Invalid logged model status '{status}': use one of {}",
                known.join(", ")
            )));
        }
        store.set_logged_model_status(id, &status)?;
    }
    answer(store, id)
}

/// `PATCH logged-models/{id}/tags`.
pub fn set_tags(store: &Store, id: &str, args: &Args) -> MlflowResult<Value> {
    store.logged_model(id).map_err(model_not_found(id))?;
    let tags: Vec<(String, Option<String>)> = args
        .pairs("tags")?
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect();
    store.set_logged_model_tags(id, &tags)?;
    Ok(json!({}))
}

/// `DELETE logged-models/{id}/tags/{key}`.
pub fn delete_tag(store: &Store, id: &str, key: &str) -> MlflowResult<Value> {
    store.logged_model(id).map_err(model_not_found(id))?;
    store.set_logged_model_tags(id, &[(key.to_owned(), None)])?;
    Ok(json!({}))
}

/// `DELETE logged-models/{id}`.
pub fn delete(store: &Store, id: &str) -> MlflowResult<Value> {
    store.delete_logged_model(id).map_err(model_not_found(id))?;
    Ok(json!({}))
}

/// `POST logged-models/search`: by experiment, with a filter on name and tags.
pub fn search(store: &Store, args: &Args) -> MlflowResult<Value> {
    let experiments = args
        .str_list("experiment_ids")?
        .iter()
        .map(|e| wire::experiment_id(store, e))
        .collect::<MlflowResult<Vec<_>>>()?;
    let models = store.logged_models(&experiments)?;
    let views: Vec<_> = models
        .iter()
        .map(|m| {
            let mut view = named_view(&m.id, &m.name, &m.tags, m.created_ms, false);
            view.params = m.params.iter().cloned().collect();
            if let Some(run) = &m.source_run_id {
                view.tags.insert("source_run_id".into(), run.clone());
            }
            view
        })
        .collect();
    let order = [(Key::Attribute("start_time".into()), true)];
    // MLflow sends logged models' order_by as objects ({"field_name", "ascending"}).
    let mut plain = args.clone();
    if args.list("order_by").iter().any(|v| !v.is_string()) {
        let entries: Vec<Value> = args
            .list("order_by")
            .iter()
            .map(order_entry)
            .collect::<MlflowResult<_>>()?;
        plain = plain.with("order_by", Value::Array(entries));
    }
    let (page, next) = select_named(&views, &plain, &order, 100)?;
    let found = page
        .into_iter()
        .map(|i| wire::logged_model(store, &models[i]))
        .collect::<MlflowResult<Vec<_>>>()?;
    Ok(page_answer("models", found, next))
}

/// One of MLflow's `{"field_name": "metrics.x", "ascending": false}` order objects as an
/// `order_by` string.
fn order_entry(entry: &Value) -> MlflowResult<Value> {
    if entry.is_string() {
        return Ok(entry.clone());
    }
    let field = entry
        .get("field_name")
        .and_then(Value::as_str)
        .ok_or_else(|| MlflowError::invalid(format!("Invalid order_by entry {entry}")))?;
    let ascending = entry
        .get("ascending")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let direction = if ascending { "ASC" } else { "DESC" };
    Ok(Value::String(format!("`{field}` {direction}")))
}
