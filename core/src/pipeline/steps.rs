//! The work of each stage, through the same core functions `kiln profile`, `kiln train` and
//! `kiln models` use. Each returns `Ok(Ok(..))` when the stage passed, `Ok(Err(why))` when it
//! failed (the run stops there), and `Err` when the run cannot go on at all (cancelled, the
//! store failed).

use std::collections::BTreeMap;

use super::PipelineError;
use super::config::PipelineFile;
use super::expect;
use crate::data::profile::{ProfileOptions, profile_frame};
use crate::data::schema::SchemaOverrides;
use crate::data::{DataError, LoadOptions, open_table};
use crate::features::PipelineSpec;
use crate::jobs::{JobContext, JobError};
use crate::registry::{self, GateResult, RegistryError};
use crate::store::{Stage, Store};
use crate::train::{TrainRequest, sweep, train};

/// A stage's verdict: passed with a summary / a value, or failed with why.
pub(super) type Step<T> = Result<Result<T, String>, PipelineError>;

/// The tag naming the pipeline on the runs it trains.
pub const PIPELINE_TAG: &str = "kiln.pipeline";

fn job_error(error: JobError) -> Step<String> {
    match error {
        JobError::Cancelled => Err(PipelineError::Cancelled),
        JobError::Failed(message) => Ok(Err(message)),
    }
}

fn data_error<T>(error: DataError) -> Step<T> {
    match error {
        DataError::Cancelled => Err(PipelineError::Cancelled),
        other => Ok(Err(other.to_string())),
    }
}

fn registry_error<T>(error: RegistryError) -> Step<T> {
    match error {
        RegistryError::Store(e) => Err(PipelineError::Store(e)),
        other => Ok(Err(other.to_string())),
    }
}

/// One input checked against its expectations: what the GUI shows next to the data's profile.
#[derive(Debug, Clone)]
pub struct InputCheck {
    /// Rows read.
    pub rows: usize,
    /// The minimal profile the rules were checked on (`None` without expectations).
    pub profile: Option<crate::data::profile::Profile>,
    /// Every broken rule, naming column and rule (empty when all hold).
    pub violations: Vec<expect::Violation>,
}

/// Loads input `name` of `file` and checks its `[data.NAME.expect]`: the profile's columns,
/// rows, missing shares, ranges and kinds, and drift against the reference. `on_progress(fraction,
/// message) -> keep going`. `Err(DataError)` when a file cannot be read (or on cancellation).
pub fn check_input(
    file: &PipelineFile,
    name: &str,
    on_progress: &(dyn Fn(f32, &str) -> bool + Sync),
) -> Result<InputCheck, DataError> {
    let input = file.data.get(name).ok_or_else(|| {
        DataError::malformed(&file.path, format!("kiln.toml has no input '{name}'"))
    })?;
    let opened = open_table(
        &file.resolve(&input.path),
        &LoadOptions::default(),
        on_progress,
    )?;
    let frame = &opened.table.frame;
    let Some(expect) = &input.expect else {
        return Ok(InputCheck {
            rows: frame.height(),
            profile: None,
            violations: Vec::new(),
        });
    };
    let options = ProfileOptions {
        minimal: true,
        ..ProfileOptions::default()
    };
    let profile = profile_frame(frame, &options, on_progress)?;
    let reference = match &expect.drift {
        None => None,
        Some(drift) => Some(open_table(
            &file.resolve(&drift.reference),
            &LoadOptions::default(),
            on_progress,
        )?),
    };
    let drift = reference.as_ref().map(|r| (frame, &r.table.frame));
    let violations = expect::check(expect, &profile, drift);
    Ok(InputCheck {
        rows: frame.height(),
        profile: Some(profile),
        violations,
    })
}

/// `validate:NAME`: the input loads, and its profile (and drift against the reference)
/// meets its expectations; every broken rule is named.
pub(super) fn validate(file: &PipelineFile, name: &str, ctx: &JobContext) -> Step<String> {
    let label = file
        .data
        .get(name)
        .map(|d| d.path.display().to_string())
        .unwrap_or_default();
    let progress = |fraction: f32, message: &str| {
        ctx.progress(fraction, format!("validating {label}: {message}"));
        !ctx.is_cancelled()
    };
    let checked = match check_input(file, name, &progress) {
        Ok(checked) => checked,
        Err(e) => return data_error(e),
    };
    if checked.profile.is_none() {
        return Ok(Ok(format!("{} rows, no expectations", checked.rows)));
    }
    if checked.violations.is_empty() {
        Ok(Ok(format!("{} rows, every expectation met", checked.rows)))
    } else {
        let all: Vec<String> = checked.violations.iter().map(ToString::to_string).collect();
        Ok(Err(all.join("; ")))
    }
}

/// `train`: `kiln train` (or a sweep) on the inputs; the run is tagged with the pipeline.
pub(super) fn train_model(store: &Store, file: &PipelineFile, ctx: &JobContext) -> Step<String> {
    let t = &file.train;
    let Some(data) = file.input_path(&t.data) else {
        return Ok(Err(format!("no input '{}'", t.data)));
    };
    let request = TrainRequest {
        data,
        test: t.test.as_ref().and_then(|name| file.input_path(name)),
        test_size: t.test_size.unwrap_or(0.25),
        target: t.target.clone(),
        drop: t.drop.clone(),
        model: t.model.clone(),
        params: file.params(),
        experiment: t.experiment.clone().unwrap_or_else(|| file.name.clone()),
        seed: t.seed,
        cv: t.cv,
        steps: PipelineSpec::default(),
        schema: SchemaOverrides::default(),
    };
    let run_id = match &file.sweep {
        Some(s) => {
            match sweep(
                store,
                &request,
                &s.spaces,
                s.trials,
                s.metric.as_deref(),
                None,
                ctx,
            ) {
                Ok(outcome) => outcome.best_run_id,
                Err(e) => return job_error(e),
            }
        }
        None => match train(store, &request, ctx) {
            Ok(outcome) => outcome.run_id,
            Err(e) => return job_error(e),
        },
    };
    store.set_tags(&run_id, &[(PIPELINE_TAG.to_owned(), file.name.clone())])?;
    Ok(Ok(run_id))
}

/// `evaluate`: the held-out scores of the run (the metric table `kiln train` computes on the
/// test input, the split or the folds).
pub(super) fn evaluate(store: &Store, run_id: &str) -> Step<BTreeMap<String, f64>> {
    let detail = store.run_detail(run_id)?;
    if detail.metrics.is_empty() {
        return Ok(Err(format!("run {run_id} has no test metrics")));
    }
    Ok(Ok(detail.metrics))
}

/// The metrics in a line: `accuracy 0.9712, f1_macro 0.9650`.
pub(super) fn metrics_line(metrics: &BTreeMap<String, f64>) -> String {
    let shown: Vec<String> = metrics
        .iter()
        .take(4)
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect();
    shown.join(", ")
}

/// What the versions of this pipeline are described as.
pub(super) fn description(file: &PipelineFile) -> String {
    file.register
        .as_ref()
        .and_then(|r| r.description.clone())
        .unwrap_or_else(|| {
            format!(
                "trained by pipeline '{}' ({})",
                file.name,
                file.path.display()
            )
        })
}

/// The stage gates are evaluated for: `promote_to`, else staging.
pub(super) fn gate_stage(file: &PipelineFile) -> Stage {
    file.promote_to.unwrap_or(Stage::Staging)
}

/// `gates`: the registry's gates on the run's model before anything is registered (a
/// second-person approval cannot be given to an unregistered version: it is left to the
/// promotion).
pub(super) fn gates(store: &Store, file: &PipelineFile, run_id: &str) -> Step<Vec<GateResult>> {
    let Some(policy) = &file.gates else {
        return Ok(Ok(Vec::new()));
    };
    let candidate =
        match registry::candidate_of_run(store, run_id, file.model_name(), &description(file)) {
            Ok(c) => c,
            Err(e) => return registry_error(e),
        };
    let mut policy = policy.clone();
    policy.gates.require_approval = false;
    Ok(Ok(registry::evaluate_gates(
        store,
        &policy,
        &candidate,
        gate_stage(file),
    )))
}

/// `register`: the run as the next version of the model (or the version it already is), and
/// the pipeline's gates as the model's policy, so a promotion by hand checks the same gates.
pub(super) fn register(store: &Store, file: &PipelineFile, run_id: &str) -> Step<(i64, bool)> {
    let model = file.model_name();
    let existing = store
        .versions_of_run(run_id)?
        .into_iter()
        .find(|v| v.name == model);
    let (version, new) = match existing {
        Some(v) => (v.version, false),
        None => match registry::register_run(store, run_id, model, &description(file)) {
            Ok(v) => (v.version, true),
            Err(e) => return registry_error(e),
        },
    };
    if file.gates.is_some() && store.model_policy(model)? != file.policy_text {
        let reason = format!(
            "the [gates] of pipeline '{}' ({})",
            file.name,
            file.path.display()
        );
        if let Err(e) = registry::set_policy(store, model, &file.policy_text, &reason) {
            return registry_error(e);
        }
    }
    Ok(Ok((version, new)))
}

/// `promote`: the version to `promote_to` through the registry's promotion (gates evaluated
/// and audited with the reason); the caller looks at `promoted`: a failing gate refuses it.
pub(super) fn promote(
    store: &Store,
    file: &PipelineFile,
    version: i64,
    stage: Stage,
) -> Step<registry::Promotion> {
    let reason = format!(
        "pipeline '{}': every gate passed ({})",
        file.name,
        file.path.display()
    );
    match registry::promote(
        store,
        file.model_name(),
        version,
        stage,
        &reason,
        false,
        false,
    ) {
        Ok(p) => Ok(Ok(p)),
        Err(e) => registry_error(e),
    }
}
