//! One-click rollback: the version that held a stage before the current holder takes it
//! back. It is found in the audit trail (the newest `stage` entry that moved another version
//! out of that stage), and put back with the reason given; the gates are overridden, openly
//! and audited, because that version already held the stage. An endpoint following the
//! stage then swaps back to it.

use super::{Promotion, RegistryResult, promote, refused};
use crate::store::{AuditEntry, Stage, Store};

/// The version that held `stage` of `name` before the version holding it now.
pub fn previous_holder(log: &[AuditEntry], current: Option<i64>, stage: Stage) -> Option<i64> {
    log.iter()
        .rev()
        .filter(|e| e.action == "stage" && e.version.is_some() && e.version != current)
        .find(|e| e.before["stage"] == stage.as_str() && e.after["stage"] != stage.as_str())
        .and_then(|e| e.version)
}

/// Puts the previous holder of `stage` back, archiving (for Production) or un-staging the
/// current one. A reason is required.
pub fn rollback(
    store: &Store,
    name: &str,
    stage: Stage,
    reason: &str,
) -> RegistryResult<Promotion> {
    if !matches!(stage, Stage::Staging | Stage::Production) {
        return Err(refused(format!(
            "only staging and production can be rolled back, not {stage}"
        )));
    }
    if reason.trim().is_empty() {
        return Err(refused(
            "a rollback needs a reason (--reason \"why the previous version\")",
        ));
    }
    let current = store
        .model_versions(name)?
        .into_iter()
        .find(|v| v.stage == stage)
        .map(|v| v.version);
    let log = store.audit_log(Some(name))?;
    let Some(previous) = previous_holder(&log, current, stage) else {
        return Err(refused(format!(
            "no earlier version of '{name}' held {stage}: there is nothing to roll back to"
        )));
    };
    promote(
        store,
        name,
        previous,
        stage,
        &format!("rollback: {reason}"),
        true,
        true,
    )
}
