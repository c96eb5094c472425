//! A model logged through MLflow becomes a version of Kiln's registry: lineage to its run,
//! the run's metrics, and the exact files that were logged. A model in the ONNX flavour is
//! checked by running it once and can then be evaluated and served by Kiln; any other
//! flavour (a pickle) is tracked, registered and downloadable, and marked not runnable.

use std::collections::BTreeMap;

use serde_json::json;

use crate::onnx::ImportRequest;
use crate::store::{ArtifactRef, ModelVersion, NewModelVersion, Store, StoreError};

/// The signature kind of a version Kiln cannot run.
pub const MLFLOW_KIND: &str = "mlflow";

/// What `model-versions/create` asks for.
#[derive(Debug, Clone, Default)]
pub struct MlflowVersion {
    /// Registered model name.
    pub name: String,
    /// `models:/m-…`, `runs:/<run>/<path>`, `mlflow-artifacts:/…`, or anything else.
    pub source: String,
    /// The run it came from.
    pub run_id: Option<String>,
    /// The LoggedModel it came from.
    pub model_id: Option<String>,
    /// Description.
    pub description: String,
}

/// The files a source names: a logged model's, or a run's below a folder.
pub fn source_files(
    store: &Store,
    source: &str,
    model_id: Option<&str>,
) -> Result<(Vec<ArtifactRef>, Option<String>), StoreError> {
    let logged = model_id.map(str::to_owned).or_else(|| {
        source
            .strip_prefix("models:/")
            .filter(|rest| rest.starts_with("m-"))
            .map(|rest| rest.trim_end_matches('/').to_owned())
            .or_else(|| {
                source
                    .split("/models/")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .filter(|id| id.starts_with("m-"))
                    .map(str::to_owned)
            })
    });
    if let Some(id) = logged
        && store.logged_model(&id).is_ok()
    {
        return Ok((store.logged_model_files(&id)?, Some(id)));
    }
    if let Some(rest) = source.strip_prefix("runs:/") {
        let (run, folder) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = format!("{}/", folder.trim_matches('/'));
        if let Ok(detail) = store.run_detail(run) {
            let files = detail
                .artifacts
                .into_iter()
                .filter_map(|mut f| {
                    let inside = f.name.strip_prefix(&prefix)?.to_owned();
                    f.name = inside;
                    Some(f)
                })
                .collect();
            return Ok((files, None));
        }
    }
    Ok((Vec::new(), None))
}

/// The flavours an `MLmodel` file lists (the keys under its top-level `flavors:`).
pub fn flavors(mlmodel: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in mlmodel.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            inside = line.trim_end() == "flavors:";
            continue;
        }
        if inside
            && let Some(rest) = line.strip_prefix("  ")
            && !rest.starts_with(' ')
            && let Some((name, _)) = rest.split_once(':')
        {
            out.push(name.trim().to_owned());
        }
    }
    out
}

/// Registers the next version of `new.name` from what MLflow logged.
pub fn register(
    store: &Store,
    new: &MlflowVersion,
) -> Result<ModelVersion, crate::registry::RegistryError> {
    let (files, logged_model) = source_files(store, &new.source, new.model_id.as_deref())?;
    let run_id = new
        .run_id
        .clone()
        .filter(|r| !r.is_empty())
        .or_else(|| {
            logged_model
                .as_deref()
                .and_then(|id| store.logged_model(id).ok())
                .and_then(|m| m.source_run_id)
        })
        .filter(|r| store.run(r).is_ok());
    let read_text = |name: &str| -> Option<String> {
        let file = files.iter().find(|f| f.name == name)?;
        String::from_utf8(store.read_artifact(&file.sha256).ok()?).ok()
    };
    let flavours = read_text("MLmodel")
        .map(|t| flavors(&t))
        .unwrap_or_default();
    let manifest: BTreeMap<&str, &str> = files
        .iter()
        .map(|f| (f.name.as_str(), f.sha256.as_str()))
        .collect();
    let detail = run_id.as_deref().and_then(|r| store.run_detail(r).ok());
    let metrics = detail
        .as_ref()
        .map(|d| json!(d.metrics))
        .unwrap_or_else(|| json!({}));
    let onnx = files.iter().find(|f| f.name.ends_with(".onnx"));
    let (artifact_sha256, signature, reason) = match onnx.map(|f| runnable_onnx(store, f)) {
        Some(Ok((sha, signature))) => (
            sha,
            signature,
            "registered through the MLflow API (ONNX flavour, runnable in Kiln)".to_owned(),
        ),
        other => {
            let why = match other {
                Some(Err(e)) => format!("its ONNX file does not run in Kiln: {e}"),
                _ => format!(
                    "flavour {} is not runnable in Kiln; log it in the ONNX flavour to evaluate and serve it here",
                    if flavours.is_empty() {
                        "unknown".to_owned()
                    } else {
                        flavours.join(", ")
                    }
                ),
            };
            let sha = store.put_artifact(
                serde_json::to_string(&manifest)
                    .map_err(StoreError::from)?
                    .as_bytes(),
            )?;
            let signature = json!({
                "kind": MLFLOW_KIND,
                "runnable": false,
                "flavors": flavours,
                "source": new.source,
                "files": manifest,
                "why_not_runnable": why,
            });
            (
                sha,
                signature,
                "registered through the MLflow API".to_owned(),
            )
        }
    };
    let version = NewModelVersion {
        name: new.name.clone(),
        run_id: run_id.clone(),
        dataset_version_id: detail.as_ref().and_then(|d| d.run.dataset_version_id),
        dataset_fingerprint: detail
            .as_ref()
            .and_then(|d| d.run.dataset_fingerprint.clone()),
        artifact_sha256,
        signature,
        metrics,
        description: new.description.clone(),
        source: Some(new.source.clone()),
        logged_model_id: logged_model,
    };
    Ok(store.register_model_version(&version, &reason)?)
}

/// The ONNX file of an ONNX-flavoured model, run once; its sha256 and Kiln's signature.
fn runnable_onnx(store: &Store, file: &ArtifactRef) -> Result<(String, serde_json::Value), String> {
    let bytes = store
        .read_artifact(&file.sha256)
        .map_err(|e| e.to_string())?;
    let model =
        crate::onnx::check_runs(bytes, &ImportRequest::default()).map_err(|e| e.to_string())?;
    let signature = serde_json::to_value(&model.signature).map_err(|e| e.to_string())?;
    Ok((file.sha256.clone(), signature))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_flavours_of_an_mlmodel_file_are_its_flavors_keys() {
        let mlmodel = "artifact_path: model\nflavors:\n  python_function:\n    env: x\n  sklearn:\n    pickled_model: model.pkl\nmodel_uuid: 1\n";
        assert_eq!(super::flavors(mlmodel), ["python_function", "sklearn"]);
    }
}
