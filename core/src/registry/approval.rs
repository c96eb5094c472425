//! Second-person approval: with `require_approval = true` in a model's policy, a promotion to
//! staging or production needs an approval by someone other than the person promoting (as
//! Databricks' transition requests do). Requests and approvals are audit entries: a request
//! is a promotion attempt (its `gates` entry), an approval an `approve` entry.

use serde::Serialize;

use super::{GateResult, RegistryResult, refused};
use crate::store::{AuditEntry, AuditEvent, ModelVersion, Stage, Store, StoreResult};

/// Who did something and when, from the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signature {
    /// OS user.
    pub user: String,
    /// RFC 3339.
    pub at: String,
    /// Why.
    pub reason: String,
}

impl Signature {
    fn of(entry: &AuditEntry) -> Self {
        Self {
            user: entry.user.clone(),
            at: entry.at.clone(),
            reason: entry.reason.clone(),
        }
    }
}

/// Where a version stands for one stage: the last request to enter it and the approvals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalState {
    /// Staging or production.
    pub stage: Stage,
    /// The last promotion attempt to `stage` (who requested it), if any.
    pub requested: Option<Signature>,
    /// Every approval for `stage`, oldest first.
    pub approvals: Vec<Signature>,
    /// The promotion that put the version in `stage`, while it is there: no approval is
    /// pending then.
    pub entered: Option<Signature>,
}

/// Whether `entry` is about `version` entering `stage` with action `action`.
fn concerns(entry: &AuditEntry, action: &str, version: &ModelVersion, stage: Stage) -> bool {
    entry.action == action
        && entry.version == Some(version.version)
        && entry.after.get("to").and_then(serde_json::Value::as_str) == Some(stage.as_str())
}

/// The requests and approvals of a version for staging and production.
pub fn approvals(store: &Store, version: &ModelVersion) -> StoreResult<Vec<ApprovalState>> {
    Ok(approvals_in(
        &store.audit_log(Some(&version.name))?,
        version,
    ))
}

/// [`approvals`] from an audit log already read (of the model or of the whole registry), so a
/// view that shows the timeline too reads the log once.
pub fn approvals_in(log: &[AuditEntry], version: &ModelVersion) -> Vec<ApprovalState> {
    let log = || log.iter().filter(|e| e.model == version.name);
    [Stage::Staging, Stage::Production]
        .into_iter()
        .map(|stage| ApprovalState {
            stage,
            requested: log()
                .rev()
                .find(|e| concerns(e, "gates", version, stage))
                .map(Signature::of),
            approvals: log()
                .filter(|e| concerns(e, "approve", version, stage))
                .map(Signature::of)
                .collect(),
            entered: (version.stage == stage)
                .then(|| {
                    log().rev().find(|e| {
                        e.action == "stage"
                            && e.version == Some(version.version)
                            && e.after.get("stage").and_then(serde_json::Value::as_str)
                                == Some(stage.as_str())
                    })
                })
                .flatten()
                .map(Signature::of),
        })
        .collect()
}

/// Records the acting user's approval of a version for a stage (staging or production).
pub fn approve(
    store: &Store,
    name: &str,
    version: i64,
    stage: Stage,
    reason: &str,
) -> RegistryResult<()> {
    if !matches!(stage, Stage::Staging | Stage::Production) {
        return Err(refused("approvals are for staging or production"));
    }
    store.model_version(name, version)?;
    store.append_audit_event(&AuditEvent {
        model: name,
        version: Some(version),
        action: "approve",
        reason,
        before: serde_json::Value::Null,
        after: serde_json::json!({ "to": stage.as_str() }),
    })?;
    Ok(())
}

/// The approval gate: whether someone other than the acting user approved this version for
/// `stage`.
pub(super) fn gate(store: &Store, version: &ModelVersion, stage: Stage) -> GateResult {
    let me = store.actor().user();
    let approvers: Vec<String> = store
        .audit_log(Some(&version.name))
        .unwrap_or_default()
        .iter()
        .filter(|e| concerns(e, "approve", version, stage))
        .map(|e| e.user.clone())
        .collect();
    let others: Vec<&String> = approvers.iter().filter(|u| **u != me).collect();
    GateResult {
        gate: format!("approved for {stage} by a second person"),
        passed: !others.is_empty(),
        detail: match (others.first(), approvers.is_empty()) {
            (Some(user), _) => format!("approved by {user}"),
            (None, true) => "no approval yet (kiln models approve)".into(),
            (None, false) => format!("only approved by {me}, who is promoting"),
        },
    }
}
