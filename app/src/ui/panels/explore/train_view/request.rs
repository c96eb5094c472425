//! The Train tab's choices as a training request: what "Start training" sends to the
//! trainer, and what "Save as pipeline…" writes into a new `kiln.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kiln_core::data::schema::SchemaOverrides;
use kiln_core::pipeline::scaffold::ScaffoldOptions;
use kiln_core::train::TrainRequest;
use kiln_core::tune::Space;

use super::TrainForm;
use crate::ui::panels::pipelines::PipelineDraft;

fn parse_sweep(text: &str) -> Result<BTreeMap<String, Space>, String> {
    text.split_whitespace()
        .map(|part| kiln_core::tune::parse_axis(part).map_err(|e| format!("sweep '{part}': {e}")))
        .collect()
}

/// The form as a request on `data` with Explore's type and role choices, and the sweep's
/// axes (empty: one run); the error names the field the user has to fix.
pub(super) fn request_of(
    form: &TrainForm,
    data: PathBuf,
    schema: SchemaOverrides,
) -> Result<(TrainRequest, BTreeMap<String, Space>), String> {
    let params: BTreeMap<String, String> = form
        .params
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    let cv = match form.cv.trim() {
        "" => None,
        k => Some(
            k.parse::<usize>()
                .map_err(|_| format!("cv folds '{k}' is not a whole number"))?,
        ),
    };
    let test_size = form
        .test_size
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("test size '{}' is not a number", form.test_size))?;
    let seed = form
        .seed
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("seed '{}' is not a whole number", form.seed))?;
    let request = TrainRequest {
        data,
        test: None,
        test_size,
        target: form.target.clone().unwrap_or_default(),
        drop: Vec::new(),
        model: form.model.clone(),
        params,
        experiment: if form.experiment.trim().is_empty() {
            "Default".into()
        } else {
            form.experiment.trim().to_owned()
        },
        seed,
        cv,
        steps: Default::default(),
        schema,
    };
    Ok((request, parse_sweep(&form.sweep)?))
}

/// What "Save as pipeline…" writes: the same training, named, registered and staged after
/// the data file (core's scaffold turns Explore's ignore / id roles into `drop`).
pub(super) fn draft_of(
    form: &TrainForm,
    data: &Path,
    schema: &SchemaOverrides,
) -> Result<PipelineDraft, String> {
    let (request, sweep) = request_of(form, data.to_path_buf(), schema.clone())?;
    Ok(PipelineDraft {
        request,
        options: ScaffoldOptions::for_data(data, sweep),
    })
}
