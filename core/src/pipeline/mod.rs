//! Pipelines: `kiln.toml` names the inputs, their expectations, the training, the gates and the
//! registration; `kiln run` re-runs only the stages whose inputs or configuration changed
//! (DVC's `dvc.lock` idea, in `kiln.lock`), on top of the store, the registry and its gates.
//!
//! Stages, in order: `validate:NAME` per input, `train` (or a sweep), `evaluate`, `gates`,
//! `register`, `promote`. Each is `ran`, `skipped` (up to date, or not reached) or `failed`,
//! with a reason and a duration. A broken expectation or a failed gate stops the run: nothing
//! is registered or promoted past the failure.
//!
//! | module | job |
//! |---|---|
//! | `config` | `kiln.toml` parsed strictly: unknown keys and wrong types name line and column |
//! | `expect` | data validation of an input's profile: columns, rows, missing share, ranges, kinds, drift |
//! | `cache` | sha256 by size and mtime in `.kiln/hashes.json`, so an unchanged run reads no data |
//! | `lock` | `kiln.lock`: each stage's key (sha256 of its parts) and outputs, meant to be committed |
//! | `runlock` | one run per project at a time (`.kiln/run.lock`, naming the holder's pid) |
//! | `stages` | each stage's parts and why a stage is stale; [`status`] without running anything |
//! | `steps` | the work of each stage, through the same core functions as `kiln train` and `kiln models` |
//! | `runner` | [`run`]: the stages in order, lock, lineage record, hooks, progress and cancellation (`runner/publish`: register and promote) |
//! | `report` | the outcome as Markdown (a pull-request comment) or JUnit XML (CI test views) |
//! | `hooks` | `[hooks]`: a command or a loopback POST on `version_registered`, `stage_changed`, `gate_failed` |

pub mod cache;
pub mod config;
pub mod expect;
pub mod hooks;
pub mod lock;
pub mod report;
pub mod runlock;
mod runner;
pub mod scaffold;
mod stages;
mod steps;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use thiserror::Error;

pub use config::{ConfigError, PIPELINE_FILE, PipelineFile};
pub use expect::Violation;
pub use runner::run;
pub use stages::{StageState, status};
pub use steps::{InputCheck, PIPELINE_TAG, check_input};

use crate::jobs::JobError;
use crate::registry::GateResult;
use crate::store::StoreError;

/// A stage's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageStatus {
    /// It did its work.
    Ran,
    /// Up to date, not configured, or not reached because an earlier stage failed.
    Skipped,
    /// It failed; the run stopped here.
    Failed,
}

impl StageStatus {
    /// `ran`, `skipped` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ran => "ran",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// One stage of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReport {
    /// `validate:train`, `train`, `evaluate`, `gates`, `register`, `promote`.
    pub name: String,
    /// What happened.
    pub status: StageStatus,
    /// Why it ran (what changed), why it was skipped, or why it failed.
    pub reason: String,
    /// Wall time in seconds.
    pub duration_s: f64,
}

/// The model version a pipeline stands at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelState {
    /// Registered model name.
    pub name: String,
    /// Version.
    pub version: i64,
    /// Its stage now.
    pub stage: String,
}

/// An input's fingerprint in a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputState {
    /// The path as written in `kiln.toml`.
    pub path: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Whether it differs from what `kiln.lock` recorded.
    pub changed: bool,
}

/// The stage that failed and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The stage.
    pub stage: String,
    /// What failed, naming the column and rule, or the gate.
    pub message: String,
}

/// What a pipeline run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineOutcome {
    /// `[pipeline] name`.
    pub pipeline: String,
    /// Every stage, in order.
    pub stages: Vec<StageReport>,
    /// The training run the pipeline stands on (run now or up to date).
    pub run_id: Option<String>,
    /// The registered version (registered now or up to date); `None` when nothing is.
    pub model: Option<ModelState>,
    /// The gates' results.
    pub gates: Vec<GateResult>,
    /// The first failure; `None` when the pipeline passed.
    pub failure: Option<Failure>,
    /// The inputs' fingerprints.
    pub inputs: BTreeMap<String, InputState>,
    /// Hook failures (logged in the audit trail too); they never fail the run.
    pub warnings: Vec<String>,
    /// The pipeline run's id in the store (lineage).
    pub pipeline_run_id: i64,
    /// The git commit of the project, if it is in a repository.
    pub git_commit: Option<String>,
    /// Wall time of the whole run.
    pub duration_s: f64,
}

impl PipelineOutcome {
    /// Whether every stage passed or was up to date.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    /// Whether every stage was skipped (nothing to do).
    pub fn up_to_date(&self) -> bool {
        self.stages.iter().all(|s| s.status == StageStatus::Skipped) && self.passed()
    }
}

/// Something the runner reports while it runs (for live views).
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// Another process holds the project's lock; the run waits for it.
    Waiting {
        /// Its pid, when known.
        holder: Option<u32>,
    },
    /// A stage begins.
    StageStarted {
        /// The stage.
        name: String,
    },
    /// A stage ended.
    StageFinished(StageReport),
}

/// A callback receiving [`RunEvent`]s, from the job's thread.
pub type Observer = Arc<dyn Fn(&RunEvent) + Send + Sync>;

/// How to run.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Run every stage, up to date or not.
    pub force: bool,
    /// When another run holds the project, fail at once ([`PipelineError::Locked`]) instead
    /// of waiting for it.
    pub no_wait: bool,
    /// Told about waiting and each stage as it starts and ends.
    pub observer: Option<Observer>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("force", &self.force)
            .field("no_wait", &self.no_wait)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

/// Why a pipeline could not run at all (a stage failing is a [`PipelineOutcome`] with a
/// [`Failure`], not an error).
#[derive(Debug, Error)]
pub enum PipelineError {
    /// `kiln.toml` is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `kiln.lock` could not be read or written.
    #[error(transparent)]
    LockFile(#[from] lock::LockFileError),
    /// Another run holds the project and the caller would not wait.
    #[error("{0}")]
    Locked(runlock::RunLockError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl From<runlock::RunLockError> for PipelineError {
    fn from(error: runlock::RunLockError) -> Self {
        match error {
            runlock::RunLockError::Cancelled => Self::Cancelled,
            other => Self::Locked(other),
        }
    }
}

impl From<PipelineError> for JobError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Cancelled => JobError::Cancelled,
            other => JobError::failed(other),
        }
    }
}
