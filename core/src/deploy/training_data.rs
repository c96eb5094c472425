//! The data a model was trained on, found through its lineage: the reference that drift is
//! measured against when traffic goes to a model.

use std::path::PathBuf;

use crate::registry::resolve;
use crate::store::{ModelVersion, Store};

/// The file of the dataset version `model_ref` (`NAME@STAGE_OR_ALIAS`, `NAME:VERSION` or a
/// run id) was trained on. Errors say what is missing and what to pass instead.
pub fn training_data(store: &Store, model_ref: &str) -> Result<PathBuf, String> {
    let dataset_version = match resolve(store, model_ref).map_err(|e| e.to_string())? {
        Some(version) => version.dataset_version_id,
        None => {
            store
                .run(model_ref)
                .map_err(|e| e.to_string())?
                .dataset_version_id
        }
    };
    dataset_file(store, dataset_version, model_ref)
}

/// [`training_data`] of a version already resolved.
pub fn version_training_data(store: &Store, version: &ModelVersion) -> Result<PathBuf, String> {
    let what = format!("{}:{}", version.name, version.version);
    dataset_file(store, version.dataset_version_id, &what)
}

fn dataset_file(store: &Store, id: Option<i64>, what: &str) -> Result<PathBuf, String> {
    let Some(id) = id else {
        return Err(format!(
            "{what} records no training dataset (an imported model?): pass --reference FILE"
        ));
    };
    let version = store.dataset_version(id).map_err(|e| e.to_string())?;
    let path = PathBuf::from(&version.path);
    if !path.is_file() {
        return Err(format!(
            "{what} was trained on {} (dataset '{}' version {}), which is no longer there: pass --reference FILE",
            version.path, version.dataset, version.version
        ));
    }
    Ok(path)
}
