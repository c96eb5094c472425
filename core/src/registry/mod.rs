//! The model registry: versions of named models with lineage to their run and data, stages
//! and aliases, gates that a promotion must pass (or explicitly override, with a reason), and
//! a tamper-evident audit trail of every change.
//!
//! | module | job |
//! |---|---|
//! | `reference` | `MODEL_REF`: `NAME@ALIAS_OR_STAGE`, `NAME:VERSION` or a run id, resolved to a model |
//! | `policy` | the per-model TOML policy: parsing with line and column, saving with audit |
//! | `gates` | the policy's evaluation on a version |
//! | `approval` | second-person approval: requests, approvals and the gate |
//! | `lineage` | a version's lineage: dataset version, run, version, deployment |
//! | `card` | the model card of a version (Mitchell et al.'s sections) as Markdown or HTML |
//! | `audit` | recomputing the hash chain, naming the first bad entry; the timeline as CSV/JSON |

mod approval;
mod audit;
mod card;
mod compare_gate;
mod fairness_gate;
mod gates;
mod lineage;
mod policy;
mod reference;
mod rollback;

pub use approval::{ApprovalState, Signature, approvals, approvals_in, approve};
pub use audit::{AuditBreak, AuditFormat, audit_csv, audit_json, export_audit, verify_audit};
pub use card::{ModelCard, Section, model_card};
pub use compare_gate::NotWorseThan;
pub use fairness_gate::{FAIRNESS_METRICS, FairnessGate};
pub use gates::{GateResult, evaluate_gates};
pub use lineage::{DatasetNode, Lineage, PipelineNode, RunNode, lineage};
pub use policy::{Gates, Policy, PolicyError, set_policy};
pub(crate) use policy::{KeySpans, line_column};
pub use reference::{ModelRef, load_model, load_version_model, resolve};
pub use rollback::{previous_holder, rollback};

use serde::Serialize;
use thiserror::Error;

use crate::inference::{MODEL_ARTIFACT, ModelArtifact};
use crate::store::{
    AuditEvent, ModelVersion, NewModelVersion, RunStatus, Stage, Store, StoreError,
};

/// Why a registry action was refused.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// The store failed or a name was not found.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A gate policy does not parse (where and why).
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The request cannot be carried out, and why.
    #[error("{0}")]
    Refused(String),
}

/// Result type of the registry.
pub type RegistryResult<T> = Result<T, RegistryError>;

fn refused(message: impl Into<String>) -> RegistryError {
    RegistryError::Refused(message.into())
}

/// Registers the model of a finished run as the next version of `name`: its run, dataset
/// version and fingerprint (lineage), metrics snapshot and input signature.
pub fn register_run(
    store: &Store,
    run_id: &str,
    name: &str,
    description: &str,
) -> RegistryResult<ModelVersion> {
    let new = new_version_of_run(store, run_id, name, description)?;
    Ok(store.register_model_version(&new, &format!("registered from run {run_id}"))?)
}

/// The version [`register_run`] would register, without registering it (version 0, stage
/// `none`): what a pipeline evaluates its gates on before anything enters the registry.
pub fn candidate_of_run(
    store: &Store,
    run_id: &str,
    name: &str,
    description: &str,
) -> RegistryResult<ModelVersion> {
    let new = new_version_of_run(store, run_id, name, description)?;
    Ok(ModelVersion {
        name: new.name,
        version: 0,
        stage: Stage::None,
        aliases: Vec::new(),
        run_id: new.run_id,
        dataset_version_id: new.dataset_version_id,
        dataset_fingerprint: new.dataset_fingerprint,
        artifact_sha256: new.artifact_sha256,
        signature: new.signature,
        metrics: new.metrics,
        description: new.description,
        created_at: String::new(),
        created_by: store.actor().user(),
    })
}

fn new_version_of_run(
    store: &Store,
    run_id: &str,
    name: &str,
    description: &str,
) -> RegistryResult<NewModelVersion> {
    let detail = store.run_detail(run_id)?;
    if detail.run.status != RunStatus::Finished {
        return Err(refused(format!(
            "run {run_id} is {}; only a finished run can be registered",
            detail.run.status
        )));
    }
    let artifact_ref = detail
        .artifacts
        .iter()
        .find(|a| a.name == MODEL_ARTIFACT)
        .ok_or_else(|| refused(format!("run {run_id} has no model to register")))?;
    let bytes = store.read_artifact(&artifact_ref.sha256)?;
    let artifact: ModelArtifact = serde_json::from_slice(&bytes)
        .map_err(|e| refused(format!("the model of run {run_id} is damaged: {e}")))?;
    let signature = serde_json::json!({
        "inputs": artifact.inputs,
        "target": artifact.target,
        "task": artifact.task,
        "classes": artifact.classes,
    });
    Ok(NewModelVersion {
        name: name.to_owned(),
        run_id: Some(run_id.to_owned()),
        dataset_version_id: detail.run.dataset_version_id,
        dataset_fingerprint: detail.run.dataset_fingerprint.clone(),
        artifact_sha256: artifact_ref.sha256.clone(),
        signature,
        metrics: serde_json::to_value(&detail.metrics).map_err(StoreError::from)?,
        description: description.to_owned(),
        ..NewModelVersion::default()
    })
}

/// The outcome of a promotion request.
#[derive(Debug, Clone, Serialize)]
pub struct Promotion {
    /// Model name.
    pub name: String,
    /// Version.
    pub version: i64,
    /// The version's stage afterwards.
    pub stage: Stage,
    /// Every gate's result.
    pub gates: Vec<GateResult>,
    /// Whether the stage changed.
    pub promoted: bool,
    /// Whether failing gates were overridden.
    pub overridden: bool,
}

impl Promotion {
    /// Names of the gates that failed.
    pub fn failed_gates(&self) -> Vec<&str> {
        self.gates
            .iter()
            .filter(|g| !g.passed)
            .map(|g| g.gate.as_str())
            .collect()
    }

    /// The outcome in words: `now in staging (gates passed)`, or what blocked it.
    pub fn verdict(&self) -> String {
        match (self.promoted, self.overridden) {
            (true, false) => format!("now in {} (gates passed)", self.stage),
            (true, true) => format!(
                "now in {} (failing gates overridden: {})",
                self.stage,
                self.failed_gates().join(", ")
            ),
            (false, _) => format!(
                "stayed {}: gate failed: {}",
                self.stage,
                self.failed_gates().join(", ")
            ),
        }
    }
}

/// Moves a version to `stage` if its gates pass, or when `override_gates` (then the override
/// is recorded with the reason). A reason is required. Gate results are audited either way.
pub fn promote(
    store: &Store,
    name: &str,
    version: i64,
    stage: Stage,
    reason: &str,
    override_gates: bool,
    archive_previous: bool,
) -> RegistryResult<Promotion> {
    if reason.trim().is_empty() {
        return Err(refused(
            "a promotion needs a reason (--reason \"why this version\")",
        ));
    }
    let target = store.model_version(name, version)?;
    let policy = Policy::of_model(store, name)?;
    let gates = if matches!(stage, Stage::Staging | Stage::Production) {
        evaluate_gates(store, &policy, &target, stage)
    } else {
        Vec::new()
    };
    let failed: Vec<&GateResult> = gates.iter().filter(|g| !g.passed).collect();
    let gates_json = serde_json::to_value(&gates).map_err(StoreError::from)?;
    let gate_event = AuditEvent {
        model: name,
        version: Some(version),
        action: "gates",
        reason,
        before: serde_json::json!({ "stage": target.stage.as_str() }),
        after: serde_json::json!({ "to": stage.as_str(), "gates": gates_json }),
    };
    if !failed.is_empty() && !override_gates {
        store.append_audit_event(&gate_event)?;
        return Ok(Promotion {
            name: name.to_owned(),
            version,
            stage: target.stage,
            gates,
            promoted: false,
            overridden: false,
        });
    }
    let failed_names: Vec<&str> = failed.iter().map(|g| g.gate.as_str()).collect();
    let override_event = AuditEvent {
        model: name,
        version: Some(version),
        action: "override",
        reason,
        before: serde_json::json!({ "failed_gates": failed_names }),
        after: serde_json::json!({ "to": stage.as_str() }),
    };
    let mut extra = vec![gate_event];
    if !failed.is_empty() {
        extra.push(override_event);
    }
    store.set_stage(name, version, stage, reason, archive_previous, &extra)?;
    Ok(Promotion {
        name: name.to_owned(),
        version,
        stage,
        overridden: !failed.is_empty(),
        gates,
        promoted: true,
    })
}

#[cfg(test)]
mod tests;
