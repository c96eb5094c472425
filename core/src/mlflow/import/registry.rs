//! Registered models, versions, stages and aliases into Kiln's registry. A version goes
//! through [`crate::mlflow::register`], as one registered by an MLflow client does, and
//! records its MLflow number in [`VERSION_TAG`]; a number found there is not imported again.
//! Stages are set on versions as they are imported, and an alias only when Kiln has no
//! alias of that name: an import never undoes a promotion made in Kiln since.

use std::collections::BTreeMap;

use super::summary::ImportSummary;
use super::writer::{Progress, keep_going};
use super::{
    IMPORT_REASON, ImportError, SOURCE_TAG, SourceRegisteredModel, SourceVersion, VERSION_TAG,
};
use crate::mlflow::register::{MlflowVersion, register, source_files};
use crate::store::{Stage, Store, StoreError};

/// Writes one registered model and whichever of its versions are new.
pub(super) fn write_registered_model(
    store: &Store,
    model: &SourceRegisteredModel,
    summary: &mut ImportSummary,
    progress: &mut Progress<'_>,
) -> Result<(), ImportError> {
    let name = &model.name;
    match store.registered_model_info(name) {
        Ok(info) => {
            for (key, value) in &model.tags {
                if !info.tags.contains_key(key) {
                    store.set_registered_model_tag(name, key, Some(value))?;
                }
            }
            summary.registered_models.existing += 1;
        }
        Err(StoreError::NotFound { .. }) => {
            store.create_registered_model(name, &model.description, &model.tags, IMPORT_REASON)?;
            summary.registered_models.new += 1;
        }
        Err(e) => return Err(e.into()),
    }
    let mut kiln_of: BTreeMap<i64, i64> = store
        .versions_by_tag(name, VERSION_TAG)?
        .into_iter()
        .filter_map(|(mlflow, kiln)| Some((mlflow.parse().ok()?, kiln)))
        .collect();
    let mut versions: Vec<&SourceVersion> = model.versions.iter().collect();
    versions.sort_by_key(|v| v.version);
    let mut staged: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for version in versions {
        progress.report(&format!("{name} version {}", version.version))?;
        if kiln_of.contains_key(&version.version) {
            summary.versions.existing += 1;
            progress.step();
            continue;
        }
        let written = write_version(store, name, version, summary);
        let item = format!("version {} of registered model {name}", version.version);
        if let Some(kiln) = keep_going(summary, &item, written)? {
            kiln_of.insert(version.version, kiln);
            if matches!(version.stage, Stage::Staging | Stage::Production) {
                staged
                    .entry(version.stage.as_str())
                    .or_default()
                    .push(version.version);
            }
        }
        progress.step();
    }
    for (stage, numbers) in staged {
        if let [.., newest] = numbers.as_slice()
            && numbers.len() > 1
        {
            summary.notes.push(format!(
                "{name}: versions {numbers:?} are all in {stage} in MLflow; Kiln keeps one \
                 version per stage, version {newest} (the newest)"
            ));
        }
    }
    set_aliases(store, model, &kiln_of, summary)
}

/// Registers one version; returns Kiln's number for it.
fn write_version(
    store: &Store,
    name: &str,
    version: &SourceVersion,
    summary: &mut ImportSummary,
) -> Result<i64, ImportError> {
    let source = kiln_source(store, version);
    let (files, _) = source_files(store, &source, version.model_id.as_deref())?;
    if files.is_empty() {
        summary.notes.push(format!(
            "{name} version {}: no files of {} were imported, so the version has none",
            version.version, version.source
        ));
    }
    let registered = register(
        store,
        &MlflowVersion {
            name: name.to_owned(),
            source: source.clone(),
            run_id: version.run_id.clone(),
            model_id: version.model_id.clone(),
            description: version.description.clone(),
        },
    )?;
    let number = registered.version;
    // The marker first: were the import cut off after it, the version is not registered
    // twice (its tags and stage would be missing, and the summary says so next time).
    store.set_model_version_tag(
        name,
        number,
        VERSION_TAG,
        Some(&version.version.to_string()),
    )?;
    if source != version.source {
        store.set_model_version_tag(name, number, SOURCE_TAG, Some(&version.source))?;
    }
    for (key, value) in &version.tags {
        store.set_model_version_tag(name, number, key, Some(value))?;
    }
    if version.stage != Stage::None {
        store.set_stage(name, number, version.stage, IMPORT_REASON, false, &[])?;
        summary.stages_set += 1;
    }
    if number != version.version {
        summary.notes.push(format!(
            "{name}: MLflow version {} is Kiln version {number} (tag {VERSION_TAG})",
            version.version
        ));
    }
    summary.versions.new += 1;
    Ok(number)
}

fn set_aliases(
    store: &Store,
    model: &SourceRegisteredModel,
    kiln_of: &BTreeMap<i64, i64>,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    let name = &model.name;
    let present = store.registered_model_info(name)?.aliases;
    for (alias, mlflow) in &model.aliases {
        if present.contains_key(alias) {
            continue;
        }
        let Some(&kiln) = kiln_of.get(mlflow) else {
            summary.notes.push(format!(
                "{name}@{alias}: it names MLflow version {mlflow}, which was not imported"
            ));
            continue;
        };
        match store.set_alias(name, kiln, alias, IMPORT_REASON) {
            Ok(()) => summary.aliases_set += 1,
            Err(StoreError::Invalid { reason, .. }) => summary.notes.push(format!(
                "{name}@{alias}: not set, Kiln does not accept the alias {reason}"
            )),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The source Kiln's registry understands for a version: MLflow's own when it is
/// `models:/m-…` or `runs:/…`; a path or URI of a run's or a LoggedModel's artifact folder
/// (what MLflow 2 recorded, and `storage_location`) as `runs:/<run>/<path>` or `models:/m-…`.
pub(super) fn kiln_source(store: &Store, version: &SourceVersion) -> String {
    let source = version.source.trim_end_matches('/');
    if source.starts_with("models:/") || source.starts_with("runs:/") {
        return source.to_owned();
    }
    if let Some((_, rest)) = source.split_once("/models/m-") {
        let id = format!("m-{}", rest.split('/').next().unwrap_or_default());
        if store.logged_model(&id).is_ok() {
            return format!("models:/{id}");
        }
    }
    if let Some(run) = version.run_id.as_deref().filter(|r| !r.is_empty()) {
        let marker = format!("/{run}/artifacts");
        if let Some((_, rest)) = source.split_once(&marker) {
            return format!("runs:/{run}/{}", rest.trim_start_matches('/'));
        }
    }
    source.to_owned()
}
