//! The entities of the store, as the rest of Kiln sees them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::StoreError;

/// Lifecycle of a run. A run that is never finished stays `running`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Being written right now (or its process died without saying so).
    #[default]
    Running,
    /// Completed normally.
    Finished,
    /// Stopped by an error, which is recorded on the run.
    Failed,
    /// Cancelled by the user.
    Killed,
}

impl RunStatus {
    /// The name stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::Killed => "killed",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(Self::Running),
            "finished" => Ok(Self::Finished),
            "failed" => Ok(Self::Failed),
            "killed" => Ok(Self::Killed),
            other => Err(StoreError::Invalid {
                what: "run status",
                reason: format!("'{other}' (expected running, finished, failed or killed)"),
            }),
        }
    }
}

/// A named group of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// What the caller knows when a run starts.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    /// Experiment name; created when it does not exist yet.
    pub experiment: String,
    /// Display name; a short form of the id when empty.
    pub name: Option<String>,
    /// Seed that makes the run reproducible.
    pub seed: Option<i64>,
    /// sha256 of the training data.
    pub dataset_fingerprint: Option<String>,
    /// The exact registered dataset version, when the data was registered.
    pub dataset_version_id: Option<i64>,
    /// Parent run (a sweep) of this run.
    pub parent_run_id: Option<String>,
    /// Git commit of the code that produced the run.
    pub git_commit: Option<String>,
    /// Hyper-parameters and settings, written with the run in one transaction.
    pub params: Vec<(String, String)>,
    /// Tags, written with the run in one transaction.
    pub tags: Vec<(String, String)>,
}

/// One tracked run. `Default` is an empty running run, for views built from other things
/// (the MLflow API's experiments and models) and for tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// 32 hex characters, unique across stores.
    pub id: String,
    /// Experiment id.
    pub experiment_id: i64,
    /// Experiment name.
    pub experiment: String,
    /// Display name.
    pub name: String,
    /// Lifecycle state.
    pub status: RunStatus,
    /// RFC 3339 start time.
    pub start_time: String,
    /// RFC 3339 end time, once the run ended.
    pub end_time: Option<String>,
    /// Seed of the run.
    pub seed: Option<i64>,
    /// sha256 of the training data.
    pub dataset_fingerprint: Option<String>,
    /// Registered dataset version.
    pub dataset_version_id: Option<i64>,
    /// Parent run (sweep).
    pub parent_run_id: Option<String>,
    /// Kiln version that wrote the run.
    pub kiln_version: String,
    /// Git commit of the working directory, when there was one.
    pub git_commit: Option<String>,
    /// Error message of a failed run.
    pub error: Option<String>,
    /// Free-text note.
    pub note: String,
    /// RFC 3339 time of soft deletion.
    pub deleted_at: Option<String>,
}

impl Run {
    /// Seconds between start and end (or `None` while running).
    pub fn duration_s(&self) -> Option<f64> {
        let start = chrono::DateTime::parse_from_rfc3339(&self.start_time).ok()?;
        let end = chrono::DateTime::parse_from_rfc3339(self.end_time.as_deref()?).ok()?;
        Some((end - start).num_milliseconds() as f64 / 1000.0)
    }
}

/// A run with everything logged to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// The run itself.
    pub run: Run,
    /// Parameters by name.
    pub params: BTreeMap<String, String>,
    /// Latest scalar value of each metric.
    pub metrics: BTreeMap<String, f64>,
    /// Tags by name.
    pub tags: BTreeMap<String, String>,
    /// Files attached to the run.
    pub artifacts: Vec<ArtifactRef>,
    /// Names of the step-series metrics logged.
    pub series: Vec<String>,
}

/// One point of a step-series metric (a training curve).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Step number.
    pub step: i64,
    /// Value at that step.
    pub value: f64,
    /// RFC 3339 time the point was logged.
    pub wall_time: String,
}

/// A file attached to a run, stored by content hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// Name within the run (e.g. `model.json`).
    pub name: String,
    /// sha256 of the bytes, also the file's address in `artifacts/`.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// RFC 3339 time it was attached.
    pub created_at: String,
}

/// One version of a registered dataset: the exact bytes a run trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetVersion {
    /// Database id, referenced by runs.
    pub id: i64,
    /// Dataset name.
    pub dataset: String,
    /// 1, 2, ... in order of registration.
    pub version: i64,
    /// Path the file was read from.
    pub path: String,
    /// sha256 of the file's bytes.
    pub fingerprint: String,
    /// Column names and types, as JSON.
    pub schema: serde_json::Value,
    /// Number of rows.
    pub rows: i64,
    /// RFC 3339 registration time.
    pub created_at: String,
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// Only runs of this experiment.
    pub experiment: Option<String>,
    /// Include soft-deleted runs.
    pub include_deleted: bool,
}
