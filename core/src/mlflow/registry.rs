//! MLflow's model-registry endpoints over Kiln's registry. Stage transitions go through
//! Kiln's gates, and aliases and stages are audited with the reason "set through the MLflow
//! API". Renaming and deleting models or versions are refused: the audit trail names them.

use serde_json::{Value, json};

use super::args::Args;
use super::error::{MlflowError, MlflowResult};
use super::register::{MlflowVersion, register};
use super::search::{named_view, page_answer, select_named};
use super::wire;
use crate::registry::{RegistryError, promote};
use crate::store::{ModelVersion, Stage, Store, StoreError, rfc3339_to_ms};
use crate::tracking::filter::Key;

/// The reason recorded for changes made by MLflow clients.
pub const API_REASON: &str = "set through the MLflow API";

fn model_missing(name: &str) -> impl FnOnce(StoreError) -> MlflowError + '_ {
    move |e| match e {
        StoreError::NotFound { .. } => {
            MlflowError::not_found(format!("Registered Model with name={name} not found"))
        }
        other => other.into(),
    }
}

fn registry_error(e: RegistryError) -> MlflowError {
    match e {
        RegistryError::Store(s) => s.into(),
        RegistryError::Policy(p) => MlflowError::invalid(p.to_string()),
        RegistryError::Refused(r) => MlflowError::invalid(r),
    }
}

fn version_number(args: &Args) -> MlflowResult<i64> {
    args.opt_i64("version")?
        .ok_or_else(|| MlflowError::invalid("Missing value for required parameter 'version'."))
}

fn version_json(store: &Store, version: &ModelVersion) -> MlflowResult<Value> {
    let sources = store.version_sources(&version.name)?;
    let tags = store.model_version_tags(&version.name, version.version)?;
    let source = sources.get(&version.version).cloned().unwrap_or_default();
    Ok(wire::model_version(version, &source, &tags))
}

fn get_version(store: &Store, name: &str, version: i64) -> MlflowResult<ModelVersion> {
    store
        .registered_model_info(name)
        .map_err(model_missing(name))?;
    store.model_version(name, version).map_err(|e| match e {
        StoreError::NotFound { .. } => MlflowError::not_found(format!(
            "Model Version (name={name}, version={version}) not found"
        )),
        other => other.into(),
    })
}

fn model_json(store: &Store, name: &str) -> MlflowResult<Value> {
    let info = store
        .registered_model_info(name)
        .map_err(model_missing(name))?;
    let versions = store.model_versions(name)?;
    // The newest version of each stage, listed by version number as MLflow does.
    let mut newest: Vec<&ModelVersion> = Stage::ALL
        .iter()
        .filter_map(|stage| versions.iter().rev().find(|v| v.stage == *stage))
        .collect();
    newest.sort_by_key(|v| v.version);
    let latest = newest
        .into_iter()
        .map(|v| version_json(store, v))
        .collect::<MlflowResult<Vec<_>>>()?;
    let updated = versions
        .iter()
        .map(|v| rfc3339_to_ms(&v.created_at))
        .max()
        .unwrap_or(0);
    Ok(wire::registered_model(&info, latest, updated))
}

/// `POST registered-models/create`.
pub fn create_model(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let description = args.opt_str("description")?.unwrap_or_default();
    store
        .create_registered_model(&name, &description, &args.pairs("tags")?, API_REASON)
        .map_err(|e| match e {
            StoreError::AlreadyExists { .. } => {
                MlflowError::exists(format!("Registered Model (name={name}) already exists."))
            }
            other => other.into(),
        })?;
    Ok(json!({ "registered_model": model_json(store, &name)? }))
}

/// `GET registered-models/get`.
pub fn get_model(store: &Store, args: &Args) -> MlflowResult<Value> {
    Ok(json!({ "registered_model": model_json(store, &args.str("name")?)? }))
}

/// `PATCH registered-models/update`.
pub fn update_model(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    store
        .registered_model_info(&name)
        .map_err(model_missing(&name))?;
    if let Some(description) = args.opt_str("description")? {
        store.set_registry_description(&name, None, &description)?;
    }
    Ok(json!({ "registered_model": model_json(store, &name)? }))
}

/// `POST registered-models/set-tag` and `DELETE registered-models/delete-tag`.
pub fn model_tag(store: &Store, args: &Args, set: bool) -> MlflowResult<Value> {
    let name = args.str("name")?;
    store
        .registered_model_info(&name)
        .map_err(model_missing(&name))?;
    let value = if set {
        Some(args.opt_str("value")?.unwrap_or_default())
    } else {
        None
    };
    store.set_registered_model_tag(&name, &args.str("key")?, value.as_deref())?;
    Ok(json!({}))
}

/// `GET registered-models/search`.
pub fn search_models(store: &Store, args: &Args) -> MlflowResult<Value> {
    let names = store.registered_models()?;
    let infos = names
        .iter()
        .map(|n| store.registered_model_info(n))
        .collect::<Result<Vec<_>, _>>()?;
    let views: Vec<_> = infos
        .iter()
        .map(|i| {
            named_view(
                &i.name,
                &i.name,
                &i.tags,
                rfc3339_to_ms(&i.created_at),
                false,
            )
        })
        .collect();
    let order = [(Key::Attribute("name".into()), false)];
    let (page, next) = select_named(&views, args, &order, 100)?;
    let models = page
        .into_iter()
        .map(|i| model_json(store, &infos[i].name))
        .collect::<MlflowResult<Vec<_>>>()?;
    Ok(page_answer("registered_models", models, next))
}

/// `POST registered-models/get-latest-versions`.
pub fn latest_versions(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    store
        .registered_model_info(&name)
        .map_err(model_missing(&name))?;
    let wanted = args
        .str_list("stages")?
        .iter()
        .map(|s| Stage::parse(s).map_err(MlflowError::from))
        .collect::<MlflowResult<Vec<_>>>()?;
    let versions = store.model_versions(&name)?;
    let mut out = Vec::new();
    for stage in Stage::ALL {
        if !wanted.is_empty() && !wanted.contains(&stage) {
            continue;
        }
        if let Some(v) = versions.iter().rev().find(|v| v.stage == stage) {
            out.push(version_json(store, v)?);
        }
    }
    Ok(if out.is_empty() {
        json!({})
    } else {
        json!({ "model_versions": out })
    })
}

/// `POST registered-models/alias`.
pub fn set_alias(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let alias = args.str("alias")?;
    let version = get_version(store, &name, version_number(args)?)?;
    store.set_alias(&name, version.version, &alias, API_REASON)?;
    Ok(json!({}))
}

/// `DELETE registered-models/alias`.
pub fn delete_alias(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    store
        .registered_model_info(&name)
        .map_err(model_missing(&name))?;
    store
        .delete_alias(&name, &args.str("alias")?, API_REASON)
        .map_err(|e| match e {
            StoreError::NotFound { .. } => MlflowError::invalid(e.to_string()),
            other => other.into(),
        })?;
    Ok(json!({}))
}

/// `GET registered-models/alias`: a missing alias is a 400, as MLflow answers it.
pub fn version_by_alias(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let alias = args.str("alias")?;
    let info = store
        .registered_model_info(&name)
        .map_err(model_missing(&name))?;
    let version = info.aliases.get(&alias).copied().ok_or_else(|| {
        MlflowError::invalid(format!("Registered model alias {alias} not found."))
    })?;
    let version = get_version(store, &name, version)?;
    Ok(json!({ "model_version": version_json(store, &version)? }))
}

/// `POST model-versions/create`.
pub fn create_version(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let new = MlflowVersion {
        name: name.clone(),
        source: args.opt_str("source")?.unwrap_or_default(),
        run_id: args.opt_str("run_id")?,
        model_id: args.opt_str("model_id")?.filter(|m| !m.is_empty()),
        description: args.opt_str("description")?.unwrap_or_default(),
    };
    let version = register(store, &new).map_err(registry_error)?;
    for (key, value) in args.pairs("tags")? {
        store.set_model_version_tag(&name, version.version, &key, Some(&value))?;
    }
    Ok(json!({ "model_version": version_json(store, &version)? }))
}

/// `GET model-versions/get`.
pub fn get_version_answer(store: &Store, args: &Args) -> MlflowResult<Value> {
    let version = get_version(store, &args.str("name")?, version_number(args)?)?;
    Ok(json!({ "model_version": version_json(store, &version)? }))
}

/// `PATCH model-versions/update`.
pub fn update_version(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let number = version_number(args)?;
    get_version(store, &name, number)?;
    if let Some(description) = args.opt_str("description")? {
        store.set_registry_description(&name, Some(number), &description)?;
    }
    get_version_answer(store, args)
}

/// `POST model-versions/set-tag` and `DELETE model-versions/delete-tag`.
pub fn version_tag(store: &Store, args: &Args, set: bool) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let number = version_number(args)?;
    get_version(store, &name, number)?;
    let value = if set {
        Some(args.opt_str("value")?.unwrap_or_default())
    } else {
        None
    };
    store.set_model_version_tag(&name, number, &args.str("key")?, value.as_deref())?;
    Ok(json!({}))
}

/// `POST model-versions/transition-stage`: through Kiln's gates; a failing gate is a 400
/// that names it, and nothing moves.
pub fn transition(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let number = version_number(args)?;
    get_version(store, &name, number)?;
    let stage = Stage::parse(&args.str("stage")?)?;
    let archive = args.opt_bool("archive_existing_versions")?.unwrap_or(false);
    let outcome =
        promote(store, &name, number, stage, API_REASON, false, archive).map_err(registry_error)?;
    if !outcome.promoted {
        return Err(MlflowError::invalid(format!(
            "{name}:{number} {}",
            outcome.verdict()
        )));
    }
    get_version_answer(store, args)
}

/// `GET model-versions/search`: by model name, run id and tags.
pub fn search_versions(store: &Store, args: &Args) -> MlflowResult<Value> {
    let mut versions = Vec::new();
    for name in store.registered_models()? {
        versions.extend(store.model_versions(&name)?);
    }
    let mut views = Vec::with_capacity(versions.len());
    for v in &versions {
        let tags = store.model_version_tags(&v.name, v.version)?;
        let mut view = named_view(
            v.run_id.as_deref().unwrap_or(""),
            &v.name,
            &tags,
            rfc3339_to_ms(&v.created_at),
            false,
        );
        view.params
            .insert("version_number".into(), v.version.to_string());
        views.push(view);
    }
    let order = [
        (Key::Attribute("name".into()), false),
        (Key::Param("version_number".into()), true),
    ];
    let (page, next) = select_named(&views, args, &order, 10_000)?;
    let found = page
        .into_iter()
        .map(|i| version_json(store, &versions[i]))
        .collect::<MlflowResult<Vec<_>>>()?;
    Ok(page_answer("model_versions", found, next))
}

/// `GET model-versions/get-download-uri`: the logged model's folder, or the run's.
pub fn download_uri(store: &Store, args: &Args) -> MlflowResult<Value> {
    let name = args.str("name")?;
    let version = get_version(store, &name, version_number(args)?)?;
    let source = store
        .version_sources(&name)?
        .remove(&version.version)
        .unwrap_or_default();
    let uri = match (&source.logged_model_id, &source.source) {
        (Some(id), _) => {
            let model = store.logged_model(id)?;
            let info = store.experiment_info(model.experiment_id)?;
            let experiment = wire::experiment_wire_id(model.experiment_id, &info.experiment.name);
            wire::model_artifact_uri(&experiment, id)
        }
        (None, Some(src)) if src.starts_with("runs:/") => {
            let rest = src.trim_start_matches("runs:/");
            let (run, folder) = rest.split_once('/').unwrap_or((rest, ""));
            let detail = store.run_detail(run)?;
            let info = wire::run_info(&detail);
            let root = info
                .get("artifact_uri")
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("{root}/{}", folder.trim_matches('/'))
        }
        (None, Some(src)) => src.clone(),
        (None, None) => String::new(),
    };
    Ok(json!({ "artifact_uri": uri }))
}

/// Renaming or deleting registry entries: refused, because the audit trail names them.
pub fn refuse_rewrite(what: &str) -> MlflowResult<Value> {
    Err(MlflowError::invalid(format!(
        "Kiln does not {what}: its tamper-evident audit trail refers to models and versions by \
         name and number. Archive the version instead (transition it to 'Archived')."
    )))
}
