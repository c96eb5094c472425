//! The registry changes the workspace asks for, as data ([`RegistryEdit`]) sent in
//! `Command::EditRegistry` and written by a job the app starts, and the timeline export
//! ([`AuditExport`]), also a job.

use std::path::PathBuf;

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::registry::AuditFormat;
use kiln_core::store::{Stage, Store};

/// A change to the registry, as the workspace asks for it (written by a job).
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryEdit {
    /// Move a version to a stage through its gates (`kiln_core::registry::promote`).
    Promote {
        /// Model name.
        name: String,
        /// Version.
        version: i64,
        /// Stage wanted.
        stage: Stage,
        /// Why (required).
        reason: String,
        /// Promote even though gates fail (recorded).
        override_gates: bool,
    },
    /// Replace a model's gate policy (`kiln_core::registry::set_policy`: parsed first,
    /// nothing saved when it does not parse, audited).
    SetPolicy {
        /// Model name.
        name: String,
        /// The policy's TOML text.
        toml: String,
        /// Why (required).
        reason: String,
    },
    /// Record the acting OS user's approval of a version for a stage
    /// (`kiln_core::registry::approve`, as `kiln models approve`).
    Approve {
        /// Model name.
        name: String,
        /// Version.
        version: i64,
        /// Staging or production.
        stage: Stage,
        /// Why.
        reason: String,
    },
    /// Give a stage back to its previous holder (`kiln_core::registry::rollback`, as
    /// `kiln models rollback`); an endpoint following the stage swaps back.
    Rollback {
        /// Model name.
        name: String,
        /// Staging or production.
        stage: Stage,
        /// Why (required).
        reason: String,
    },
    /// Point an alias at a version.
    SetAlias {
        /// Model name.
        name: String,
        /// Version.
        version: i64,
        /// Alias.
        alias: String,
        /// Why (required).
        reason: String,
    },
}

impl RegistryEdit {
    /// The job's name in the status bar.
    pub fn job_name(&self) -> String {
        match self {
            Self::Promote {
                name,
                version,
                stage,
                ..
            } => format!("Moving {name}:{version} to {stage}"),
            Self::SetAlias {
                name,
                version,
                alias,
                ..
            } => format!("Pointing {name}@{alias} at version {version}"),
            Self::SetPolicy { name, .. } => format!("Saving the gate policy of {name}"),
            Self::Rollback { name, stage, .. } => format!("Rolling back {name}@{stage}"),
            Self::Approve {
                name,
                version,
                stage,
                ..
            } => format!("Approving {name}:{version} for {stage}"),
        }
    }

    /// Writes the change; returns what to tell the user. A promotion its gates blocked is an
    /// error that names the failing gates.
    pub fn apply(&self, store: &Store) -> Result<String, JobError> {
        match self {
            Self::Promote {
                name,
                version,
                stage,
                reason,
                override_gates,
            } => {
                let outcome = kiln_core::registry::promote(
                    store,
                    name,
                    *version,
                    *stage,
                    reason,
                    *override_gates,
                    true,
                )
                .map_err(JobError::failed)?;
                if !outcome.promoted {
                    let failed: Vec<String> = outcome
                        .gates
                        .iter()
                        .filter(|g| !g.passed)
                        .map(|g| format!("{} ({})", g.gate, g.detail))
                        .collect();
                    return Err(JobError::Failed(format!(
                        "{name}:{version} was not moved to {stage}: failing gates {}",
                        failed.join(", ")
                    )));
                }
                let overridden = if outcome.overridden {
                    " (failing gates overridden)"
                } else {
                    ""
                };
                Ok(format!("{name}:{version} is now {stage}{overridden}"))
            }
            Self::SetAlias {
                name,
                version,
                alias,
                reason,
            } => {
                require_reason(reason, "an alias change")?;
                store
                    .set_alias(name, *version, alias, reason)
                    .map_err(JobError::failed)?;
                Ok(format!("{name}@{alias} now points at version {version}"))
            }
            Self::Rollback {
                name,
                stage,
                reason,
            } => {
                require_reason(reason, "a rollback")?;
                let back = kiln_core::registry::rollback(store, name, *stage, reason)
                    .map_err(JobError::failed)?;
                Ok(format!("{name}:{} is back in {stage}", back.version))
            }
            Self::SetPolicy { name, toml, reason } => {
                let policy = kiln_core::registry::set_policy(store, name, toml, reason)
                    .map_err(JobError::failed)?;
                let gates = policy.gate_names();
                Ok(match gates.len() {
                    0 => format!("Gate policy of {name} saved: no gates"),
                    n => format!(
                        "Gate policy of {name} saved: {n} gates ({})",
                        gates.join(", ")
                    ),
                })
            }
            Self::Approve {
                name,
                version,
                stage,
                reason,
            } => {
                require_reason(reason, "an approval")?;
                kiln_core::registry::approve(store, name, *version, *stage, reason)
                    .map_err(JobError::failed)?;
                Ok(format!(
                    "{} approved {name}:{version} for {stage}",
                    store.actor().user()
                ))
            }
        }
    }

    /// Starts the job that writes the change (called by the app's command handling).
    pub fn spawn(self, store: &Store, jobs: &JobRunner) -> JobHandle<String> {
        let store = store.clone();
        jobs.spawn(self.job_name(), move |_| self.apply(&store))
    }
}

/// The workspace asks a reason for every change it writes (its dialog does too), even where
/// core would record an empty one.
fn require_reason(reason: &str, what: &str) -> Result<(), JobError> {
    if reason.trim().is_empty() {
        return Err(JobError::Failed(format!("{what} needs a reason")));
    }
    Ok(())
}

/// Writing the audit timeline to a file (`Command::ExportAudit`).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditExport {
    /// The model whose entries are written; `None` for the whole registry.
    pub model: Option<String>,
    /// CSV or JSON.
    pub format: AuditFormat,
    /// Where; `None` asks the user with the save dialog first.
    pub path: Option<PathBuf>,
}

impl AuditExport {
    /// The file name the save dialog suggests.
    pub fn suggested_name(&self) -> String {
        let scope = self.model.as_deref().unwrap_or("registry");
        format!("{scope}-audit.{}", self.format.extension())
    }

    /// Starts the job that writes the file to `path` (called by the app's command handling).
    pub fn spawn(&self, path: PathBuf, store: &Store, jobs: &JobRunner) -> JobHandle<String> {
        let (store, model, format) = (store.clone(), self.model.clone(), self.format);
        jobs.spawn("Exporting the audit timeline", move |_| {
            let n = kiln_core::registry::export_audit(&store, model.as_deref(), format, &path)
                .map_err(JobError::failed)?;
            Ok(format!("Exported {n} audit entries to {}", path.display()))
        })
    }
}
