//! `kiln models import-onnx`: an .onnx file becomes the next version of a registered model
//! once it has loaded and run on one row. Its bytes are stored as a content-addressed
//! artifact; its signature and source (file name and sha256, since there is no run) are
//! recorded on the version.

use std::path::PathBuf;

use tract_onnx::prelude::*;

use super::OnnxError;
use super::runtime::{OnnxModel, decode};
use super::signature::{ElemType, OnnxSource, read_signature};
use crate::registry::{RegistryError, RegistryResult};
use crate::store::{ModelVersion, NewModelVersion, Store, StoreError, sha256_hex};

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The .onnx file.
    pub file: PathBuf,
    /// Registered model name.
    pub name: String,
    /// Data columns that fill the one input tensor, in order (`--columns-from` minus `--drop`);
    /// `None`: each input is the column of its name.
    pub columns: Option<Vec<String>>,
    /// The column the model predicts, when known.
    pub target: Option<String>,
    /// Description of the version.
    pub description: String,
}

/// Checks that the file loads and runs, then registers it.
pub fn import_onnx(store: &Store, request: &ImportRequest) -> RegistryResult<ModelVersion> {
    let shown = request.file.display().to_string();
    let bad = |e: OnnxError| RegistryError::Refused(format!("{shown}: {e}"));
    let bytes = std::fs::read(&request.file)
        .map_err(|e| RegistryError::Refused(format!("cannot read {shown}: {e}")))?;
    let model = check_runs(bytes, request).map_err(bad)?;
    let sha256 = sha256_hex(&model.bytes);
    let mut signature = model.signature.clone();
    let file = request
        .file
        .file_name()
        .map_or(shown.clone(), |f| f.to_string_lossy().into_owned());
    signature.source = Some(OnnxSource {
        file: file.clone(),
        sha256: sha256.clone(),
    });
    let stored = store.put_artifact(&model.bytes)?;
    let new = NewModelVersion {
        name: request.name.clone(),
        run_id: None,
        dataset_version_id: None,
        dataset_fingerprint: None,
        artifact_sha256: stored,
        signature: serde_json::to_value(&signature).map_err(StoreError::from)?,
        metrics: serde_json::json!({}),
        description: request.description.clone(),
        ..NewModelVersion::default()
    };
    Ok(store.register_model_version(
        &new,
        &format!("imported from ONNX file {file} (sha256 {sha256})"),
    )?)
}

/// Loads the model and runs it on one row (zeros, empty strings), so a file tract cannot run
/// is refused at import, not at the first prediction.
pub fn check_runs(bytes: Vec<u8>, request: &ImportRequest) -> Result<OnnxModel, OnnxError> {
    let proto = decode(&bytes)?;
    let signature = read_signature(
        &proto,
        request.columns.as_deref(),
        request.target.as_deref(),
    )?;
    let model = OnnxModel::load(bytes, signature)?;
    let mut inputs = tvec![];
    for input in &model.signature.inputs {
        let width = input.columns.len();
        let shape: Vec<usize> = if input.tensor.shape.len() == 1 {
            vec![1]
        } else {
            vec![1, width]
        };
        let tensor = match input.tensor.elem_type {
            ElemType::String => tensor1(&vec![String::new(); width]),
            ElemType::Double => tensor1(&vec![0f64; width]),
            ElemType::Int64 => tensor1(&vec![0i64; width]),
            ElemType::Int32 => tensor1(&vec![0i32; width]),
            _ => tensor1(&vec![0f32; width]),
        };
        let tensor = tensor
            .into_shape(&shape)
            .map_err(|e| OnnxError::Runtime(format!("{e:#}")))?;
        inputs.push(tensor.into_tvalue());
    }
    model.run(inputs)?;
    Ok(model)
}
