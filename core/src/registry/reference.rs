//! `MODEL_REF`: `NAME@ALIAS_OR_STAGE`, `NAME:VERSION`, or a run id — the one way a model is
//! named everywhere (`predict`, `serve`, `export-onnx`, `fairness`).

use super::{RegistryError, RegistryResult};
use crate::inference::{Model, load_artifact};
use crate::onnx::{ONNX_KIND, OnnxModel, OnnxSignature};
use crate::store::{ModelVersion, Stage, Store};

/// A parsed model reference.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelRef {
    /// `NAME:VERSION`.
    Version(String, i64),
    /// `NAME@ALIAS`.
    Alias(String, String),
    /// `NAME@STAGE`.
    Stage(String, Stage),
    /// A run id.
    Run(String),
}

impl ModelRef {
    /// Parses a reference.
    pub fn parse(text: &str) -> RegistryResult<Self> {
        let text = text.trim();
        if let Some((name, tail)) = text.split_once('@') {
            return Ok(match Stage::parse(tail) {
                Ok(stage) => Self::Stage(name.to_owned(), stage),
                Err(_) => Self::Alias(name.to_owned(), tail.to_owned()),
            });
        }
        if let Some((name, version)) = text.rsplit_once(':') {
            let version = version.parse::<i64>().map_err(|_| {
                RegistryError::Refused(format!(
                    "'{text}': after ':' comes a version number (NAME:VERSION)"
                ))
            })?;
            return Ok(Self::Version(name.to_owned(), version));
        }
        Ok(Self::Run(text.to_owned()))
    }
}

/// The registered version a reference names (`None` for a run id).
pub fn resolve(store: &Store, text: &str) -> RegistryResult<Option<ModelVersion>> {
    let missing = |what: String| RegistryError::Refused(what);
    Ok(match ModelRef::parse(text)? {
        ModelRef::Run(_) => None,
        ModelRef::Version(name, v) => Some(store.model_version(&name, v)?),
        ModelRef::Alias(name, alias) => Some(
            store
                .model_versions(&name)?
                .into_iter()
                .find(|v| v.aliases.contains(&alias))
                .ok_or_else(|| missing(format!("model '{name}' has no alias '{alias}'")))?,
        ),
        ModelRef::Stage(name, stage) => Some(
            store
                .model_versions(&name)?
                .into_iter()
                .rev()
                .find(|v| v.stage == stage)
                .ok_or_else(|| missing(format!("model '{name}' has no version in {stage}")))?,
        ),
    })
}

/// The model artifact a reference names.
pub fn load_model(store: &Store, text: &str) -> RegistryResult<Model> {
    let refused = |e: crate::jobs::JobError| RegistryError::Refused(e.to_string());
    match resolve(store, text)? {
        None => load_artifact(store, text.trim())
            .map(|m| Model::Native(Box::new(m)))
            .map_err(refused),
        Some(version) => load_version_model(store, &version),
    }
}

/// The model of a version already in hand (no second lookup by reference): native, or ONNX
/// when its signature says so.
pub fn load_version_model(store: &Store, version: &ModelVersion) -> RegistryResult<Model> {
    if version.signature.get("kind").and_then(|k| k.as_str()) == Some(crate::mlflow::MLFLOW_KIND) {
        let why = version
            .signature
            .get("why_not_runnable")
            .and_then(|w| w.as_str())
            .unwrap_or("it was logged in a flavour Kiln cannot run");
        return Err(RegistryError::Refused(format!(
            "{}:{} is not runnable in Kiln: {why}",
            version.name, version.version
        )));
    }
    let bytes = store.read_artifact(&version.artifact_sha256)?;
    let damaged = |e: String| {
        RegistryError::Refused(format!(
            "the model of {}:{} is damaged: {e}",
            version.name, version.version
        ))
    };
    if version.signature.get("kind").and_then(|k| k.as_str()) == Some(ONNX_KIND) {
        let signature: OnnxSignature = serde_json::from_value(version.signature.clone())
            .map_err(|e| damaged(e.to_string()))?;
        let model = OnnxModel::load(bytes, signature).map_err(|e| damaged(e.to_string()))?;
        return Ok(Model::Onnx(Box::new(model)));
    }
    serde_json::from_slice(&bytes)
        .map(|m| Model::Native(Box::new(m)))
        .map_err(|e| damaged(e.to_string()))
}
