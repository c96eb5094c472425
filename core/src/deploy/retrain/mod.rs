//! Retraining when a deployment's policy says so ([`RetrainPolicy`], the `[retrain]` table
//! of the model's policy): the served version's spec is trained again on its reference data
//! plus the recent labelled traffic, the new run is registered as the next version, which
//! goes through the gates to Staging as the candidate, and on to Production only when the
//! policy allows auto-promotion and the gates pass. Every step is in the audit trail.

mod policy;

use std::path::PathBuf;

use polars::prelude::*;
use serde::Serialize;

pub use policy::{RetrainPolicy, Trigger};

use crate::deploy::simulate::LiveStats;
use crate::deploy::version_training_data;
use crate::inference::load_artifact;
use crate::jobs::{JobContext, JobError};
use crate::registry::{Policy, Promotion, promote, register_run, resolve};
use crate::store::{AuditEvent, ModelVersion, Stage, Store};
use crate::train::{TrainRequest, train};

/// What a retraining did.
#[derive(Debug, Clone, Serialize)]
pub struct RetrainOutcome {
    /// Why it ran.
    pub trigger: Trigger,
    /// The model.
    pub name: String,
    /// The version it started from.
    pub from_version: i64,
    /// The new run.
    pub run_id: String,
    /// The new version.
    pub version: i64,
    /// Rows trained on: the reference's and the traffic's.
    pub rows: (usize, usize),
    /// Its promotion to Staging (the gates' results, whether it got there).
    pub staged: Promotion,
    /// Its promotion to Production, when the policy allows it and Staging was reached.
    pub promoted: Option<Promotion>,
}

impl RetrainOutcome {
    /// What was trained and registered, in one line.
    pub fn summary(&self) -> String {
        format!(
            "run {} trained on {} reference + {} traffic rows, registered as {} version {}",
            self.run_id.get(..8).unwrap_or(&self.run_id),
            self.rows.0,
            self.rows.1,
            self.name,
            self.version
        )
    }

    /// Where the new version stands in Production, in words.
    pub fn production(&self) -> String {
        match &self.promoted {
            Some(p) => p.verdict(),
            None => "waits for a person (auto_promote is off, or Staging was refused)".into(),
        }
    }
}

/// Every retraining recorded in the audit trail (of one model, or all), newest first.
pub fn retrain_history(
    store: &Store,
    model: Option<&str>,
) -> crate::store::StoreResult<Vec<crate::store::AuditEntry>> {
    let mut entries: Vec<_> = store
        .audit_log(model)?
        .into_iter()
        .filter(|e| e.action == "retrain")
        .collect();
    entries.reverse();
    Ok(entries)
}

/// The registered version `model_ref` names (a run id is not one: it has no policy).
fn registered(store: &Store, model_ref: &str) -> Result<ModelVersion, JobError> {
    resolve(store, model_ref)
        .map_err(JobError::failed)?
        .ok_or_else(|| JobError::failed(format!("{model_ref} is not a registered version")))
}

/// Reads the model's retraining policy and, when `live` fires it, retrains (see
/// [`retrain`]); `None` when there is no policy or it did not fire.
pub fn retrain_if_fired(
    store: &Store,
    model_ref: &str,
    live: &LiveStats,
    traffic: &DataFrame,
    ctx: &JobContext,
) -> Result<Option<RetrainOutcome>, JobError> {
    let version = registered(store, model_ref)?;
    let policy = Policy::of_model(store, &version.name).map_err(JobError::failed)?;
    let Some(retrain_policy) = policy.retrain else {
        return Ok(None);
    };
    let Some(trigger) = retrain_policy.check(live) else {
        return Ok(None);
    };
    tracing::info!("{model_ref}: the retraining policy fired: {trigger}");
    let auto_promote = retrain_policy.auto_promote;
    retrain_version(store, &version, &trigger, traffic, auto_promote, ctx).map(Some)
}

/// Retrains the version `model_ref` names on its training data plus `traffic` (rows with the
/// model's input columns and its target), registers and stages the result.
pub fn retrain(
    store: &Store,
    model_ref: &str,
    trigger: &Trigger,
    traffic: &DataFrame,
    auto_promote: bool,
    ctx: &JobContext,
) -> Result<RetrainOutcome, JobError> {
    let version = registered(store, model_ref)?;
    retrain_version(store, &version, trigger, traffic, auto_promote, ctx)
}

fn retrain_version(
    store: &Store,
    version: &ModelVersion,
    trigger: &Trigger,
    traffic: &DataFrame,
    auto_promote: bool,
    ctx: &JobContext,
) -> Result<RetrainOutcome, JobError> {
    let run_id = version.run_id.clone().ok_or_else(|| {
        JobError::failed(format!(
            "{}:{} was imported, not trained by Kiln: it cannot be retrained here",
            version.name, version.version
        ))
    })?;
    let artifact = load_artifact(store, &run_id)?;
    let run = store.run_detail(&run_id)?;
    ctx.progress(0.05, "joining the training data and the labelled traffic");
    let reference_path = version_training_data(store, version).map_err(JobError::failed)?;
    let reference = crate::data::open_table(&reference_path, &Default::default(), &|_, _| {
        !ctx.is_cancelled()
    })?
    .table
    .frame;
    let mut columns: Vec<String> = artifact.inputs.iter().map(|(n, _)| n.clone()).collect();
    columns.push(artifact.target.clone());
    let (data, rows) = combined(&reference, traffic, &columns).map_err(JobError::failed)?;
    let path = write_data(store, &version.name, version.version, data)?;

    let params = |key: &str| run.params.get(key).cloned();
    let request = TrainRequest {
        data: path,
        test: None,
        test_size: params("test_size")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.25),
        target: artifact.target.clone(),
        drop: Vec::new(),
        model: artifact.spec.name().into(),
        params: artifact.spec.params(),
        experiment: run.run.experiment.clone(),
        seed: run.run.seed.unwrap_or(42).max(0) as u64,
        cv: None,
        steps: Default::default(),
        schema: params("schema")
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default(),
    };
    ctx.progress(0.15, "training");
    let trained = train(store, &request, ctx)?;
    ctx.check_cancelled()?;
    ctx.progress(0.8, "registering and staging");
    let description = format!(
        "retrained from version {} on its training data and {} rows of labelled traffic ({trigger})",
        version.version, rows.1
    );
    let new = register_run(store, &trained.run_id, &version.name, &description)
        .map_err(JobError::failed)?;
    let reason = format!("retrained: {trigger}");
    store.append_audit_event(&AuditEvent {
        model: &version.name,
        version: Some(new.version),
        action: "retrain",
        reason: &reason,
        before: serde_json::json!({ "version": version.version, "run": run_id }),
        after: serde_json::json!({
            "version": new.version,
            "run": trained.run_id,
            "reference_rows": rows.0,
            "traffic_rows": rows.1,
            "trigger": trigger,
        }),
    })?;
    let staged = promote(
        store,
        &version.name,
        new.version,
        Stage::Staging,
        &reason,
        false,
        false,
    )
    .map_err(JobError::failed)?;
    let promoted = if auto_promote && staged.promoted {
        let why = format!("auto-promoted by the retraining policy: {trigger}");
        Some(
            promote(
                store,
                &version.name,
                new.version,
                Stage::Production,
                &why,
                false,
                true,
            )
            .map_err(JobError::failed)?,
        )
    } else {
        None
    };
    Ok(RetrainOutcome {
        trigger: trigger.clone(),
        name: version.name.clone(),
        from_version: version.version,
        run_id: trained.run_id,
        version: new.version,
        rows,
        staged,
        promoted,
    })
}

/// `reference` and `traffic` stacked on `columns`, the traffic's columns cast to the
/// reference's types.
fn combined(
    reference: &DataFrame,
    traffic: &DataFrame,
    columns: &[String],
) -> Result<(DataFrame, (usize, usize)), String> {
    let base = reference
        .select(columns.iter().map(|c| c.as_str()))
        .map_err(|e| format!("the training data lacks a model column: {e}"))?;
    let mut recent = Vec::with_capacity(columns.len());
    for name in columns {
        let dtype = base
            .column(name)
            .map_err(|e| e.to_string())?
            .dtype()
            .clone();
        let column = traffic
            .column(name)
            .map_err(|_| format!("the traffic has no column '{name}'"))?
            .cast(&dtype)
            .map_err(|e| format!("column '{name}' of the traffic: {e}"))?;
        recent.push(column);
    }
    let recent = DataFrame::new_infer_height(recent).map_err(|e| e.to_string())?;
    let rows = (base.height(), recent.height());
    let stacked = base.vstack(&recent).map_err(|e| e.to_string())?;
    Ok((stacked, rows))
}

/// Writes the retraining data under the store (`retrain/NAME-vN-TIME.csv`), so the new run's
/// dataset version points at a file that stays.
fn write_data(
    store: &Store,
    name: &str,
    version: i64,
    mut data: DataFrame,
) -> Result<PathBuf, JobError> {
    let folder = store.home().join("retrain");
    let io =
        |e: std::io::Error| JobError::failed(format!("cannot write {}: {e}", folder.display()));
    std::fs::create_dir_all(&folder).map_err(io)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f");
    let path = folder.join(format!("{name}-v{version}-{stamp}.csv"));
    let mut file = std::fs::File::create(&path).map_err(io)?;
    CsvWriter::new(&mut file)
        .finish(&mut data)
        .map_err(|e| JobError::failed(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}
