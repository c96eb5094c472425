//! What traffic is sent to: an endpoint someone else runs (a URL), or a model Kiln serves
//! itself on a free loopback port, whose training data is then the drift reference.

use std::path::PathBuf;

use polars::prelude::DataFrame;

use super::Target;
use crate::deploy::serve::{ServeConfig, ServedModel, ServerHandle, serve};
use crate::deploy::training_data;
use crate::features::text_column;
use crate::models::Task;
use crate::store::{Stage, Store};

/// A model served for the traffic, the target to aim at, and its training data.
#[derive(Debug)]
pub struct ServedTarget {
    /// The server (stopped when dropped).
    pub server: ServerHandle,
    /// Where requests go and which columns they carry.
    pub target: Target,
    /// The model's training data.
    pub reference: PathBuf,
    /// The inputs the model reads as numbers (those a shift or scale can act on).
    pub numeric_inputs: Vec<String>,
}

/// Serves `model_ref` on 127.0.0.1 (a free port; following it when it is a stage or an
/// alias) and aims traffic at it: the model's inputs are sent, and its target, when the
/// data has it, is the label (accuracy for a classifier, retraining for both).
pub fn serve_model(store: &Store, model_ref: &str) -> Result<ServedTarget, String> {
    let model = ServedModel::load(store, model_ref).map_err(|e| e.to_string())?;
    let reference = training_data(store, model_ref)?;
    let typed = model.model.inputs();
    // polars' dtypes (`f64`, `i64`, `u8`) and ONNX's element types (`float`, `double`,
    // `int64`) of number inputs; `str` and `string` are text.
    let numeric_inputs = typed
        .iter()
        .filter(|(_, dtype)| dtype.starts_with(['f', 'i', 'u', 'd']))
        .map(|(name, _)| name.clone())
        .collect();
    let inputs = typed.into_iter().map(|(name, _)| name).collect();
    let label = model.model.target().map(str::to_owned);
    let classes = match model.model.task() {
        Task::Classification => model.model.classes().to_vec(),
        Task::Regression => Vec::new(),
    };
    let mut server = serve(model, ServeConfig::default()).map_err(|e| e.to_string())?;
    server.follow(store).map_err(|e| e.to_string())?;
    Ok(ServedTarget {
        target: Target {
            url: server.url(),
            token: None,
            inputs,
            label,
            classes,
        },
        server,
        reference,
        numeric_inputs,
    })
}

/// Traffic to a URL: every column of `data` but `label` is sent; the label's distinct values
/// are the classes it may be flipped to.
pub fn url_target(
    url: &str,
    token: Option<String>,
    data: &DataFrame,
    label: Option<&str>,
) -> Result<Target, String> {
    if let Some(label) = label
        && data.column(label).is_err()
    {
        return Err(format!("the data has no label column '{label}'"));
    }
    let inputs = data
        .get_column_names()
        .into_iter()
        .map(|n| n.to_string())
        .filter(|n| Some(n.as_str()) != label)
        .collect();
    let classes = match label {
        Some(label) => {
            let distinct: std::collections::BTreeSet<String> = text_column(data, label)
                .map_err(|e| e.to_string())?
                .into_iter()
                .flatten()
                .collect();
            distinct.into_iter().collect()
        }
        None => Vec::new(),
    };
    Ok(Target {
        url: url.trim_end_matches('/').to_owned(),
        token,
        inputs,
        label: label.map(str::to_owned),
        classes,
    })
}

/// What can be served, for a picker: each registered model's Production and Staging holders
/// (`NAME@production`), then its versions, newest first (`NAME:3`).
pub fn servable_refs(store: &Store) -> crate::store::StoreResult<Vec<String>> {
    let mut refs = Vec::new();
    for name in store.registered_models()? {
        let versions = store.model_versions(&name)?;
        for stage in [Stage::Production, Stage::Staging] {
            if versions.iter().any(|v| v.stage == stage) {
                refs.push(format!("{name}@{stage}"));
            }
        }
        refs.extend(
            versions
                .iter()
                .rev()
                .map(|v| format!("{name}:{}", v.version)),
        );
    }
    Ok(refs)
}
