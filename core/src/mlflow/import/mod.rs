//! `kiln import mlflow PATH_OR_URI`: an existing MLflow history copied into the Kiln store.
//!
//! Three readers, one writer. `file_store.rs` reads an `mlruns/` folder, `sqlite.rs` an
//! `mlflow.db` with its artifact root, `rest.rs` a running tracking server; each turns what it
//! finds into the plain data below ([`MlflowSource`]). `writer.rs` and `registry.rs` write that
//! into Kiln through the store's ordinary API: experiments (by name), runs under MLflow's own
//! 32-hex ids with params, full metric histories, tags, parent links, status, times,
//! artifacts, dataset inputs and outputs; LoggedModels with their files; registered models,
//! versions (through [`crate::mlflow::register`]), stages and aliases.
//!
//! **Re-running** adds only what is new. A run whose id the store holds is skipped, unless
//! it is still `running` there: then it is written again, which is idempotent (params,
//! tags, metric steps, artifacts and inputs are keyed), so an import that stopped half-way
//! through a run, or a run that was still going in MLflow, is completed. A model version
//! records its MLflow number in the version tag [`VERSION_TAG`] and is skipped once there.
//!
//! **Failures.** Each run is written in its own transactions, its status last. A run,
//! logged model or registered model that cannot be read (a garbled `meta.yaml`, a missing
//! file) is reported as a [`Problem`] naming the file and the import **continues** with the
//! next one; the summary lists every problem. Errors that would recur for everything (the
//! source cannot be opened, the Kiln store fails) stop the import; what was written before
//! stays, and the next run continues from there.

mod file_store;
mod registry;
mod rest;
mod sqlite;
mod summary;
mod writer;
mod yaml;

pub use summary::{Counts, ImportSummary, Problem};
pub use writer::{import_mlflow, import_mlflow_job};
pub use yaml::{Meta, Yaml, YamlError};

use std::path::{Path, PathBuf};

use crate::registry::RegistryError;
use crate::store::{ClientMetric, ModelMetric, RunInput, RunStatus, Stage, StoreError};

/// The reason recorded on stages and aliases an import sets.
pub const IMPORT_REASON: &str = "imported from MLflow";

/// The version tag holding the MLflow version number a Kiln version was imported from.
pub const VERSION_TAG: &str = "mlflow.import.version";

/// The version tag holding a version's MLflow source when Kiln's differs (a path rewritten
/// to `runs:/…` or `models:/…`).
pub const SOURCE_TAG: &str = "mlflow.import.source";

/// Why an import (or one item of it) failed. File and server errors name the file or URL.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The path or URI is not something an MLflow history can be read from.
    #[error("{place} is not an MLflow store: {reason}")]
    NotAStore {
        /// What was given.
        place: String,
        /// Why not, and what would be.
        reason: String,
    },
    /// A file of the store cannot be read or does not hold what MLflow writes there.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file (or folder).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The tracking server answered with an error, or not at all.
    #[error("{url}: {reason}")]
    Http {
        /// The request.
        url: String,
        /// Its answer.
        reason: String,
    },
    /// The Kiln store refused or failed a write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The Kiln registry refused a version.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The caller stopped the import; everything written so far is kept.
    #[error("cancelled (what was imported so far is kept; run the import again to continue)")]
    Cancelled,
}

impl ImportError {
    /// A file error.
    pub fn file(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Self::File {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    /// Whether the error concerns only the item being imported (the import goes on), rather
    /// than the source or the Kiln store as a whole.
    pub fn is_item_error(&self) -> bool {
        match self {
            Self::File { .. } | Self::Http { .. } | Self::Registry(_) => true,
            Self::Store(e) => matches!(
                e,
                StoreError::Invalid { .. }
                    | StoreError::NotFound { .. }
                    | StoreError::AlreadyExists { .. }
            ),
            Self::NotAStore { .. } | Self::Cancelled => false,
        }
    }
}

/// An experiment as the source holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceExperiment {
    /// MLflow's id (`"0"`, `"1"`, `"471959092620413384"`).
    pub id: String,
    /// Its name, unique in MLflow and the key Kiln matches experiments by.
    pub name: String,
    /// Its tags.
    pub tags: Vec<(String, String)>,
    /// `lifecycle_stage: deleted`.
    pub deleted: bool,
    /// Epoch milliseconds.
    pub created_ms: Option<i64>,
    /// Epoch milliseconds.
    pub updated_ms: Option<i64>,
    /// Where the source keeps it (a folder, a database, a URL), for messages.
    pub place: String,
}

/// What is known about a run before its data is read: enough to skip it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunHead {
    /// MLflow's 32-hex run id, kept as the Kiln run id.
    pub id: String,
    /// MLflow's experiment id.
    pub experiment_id: String,
    /// `run_name`.
    pub name: Option<String>,
    /// Status (MLflow's `SCHEDULED` is Kiln's `running`: it has not ended).
    pub status: RunStatus,
    /// Epoch milliseconds.
    pub start_ms: i64,
    /// Epoch milliseconds, once ended.
    pub end_ms: Option<i64>,
    /// `lifecycle_stage: deleted`.
    pub deleted: bool,
    /// The `mlflow.parentRunId` tag: parents are written before their children.
    pub parent_id: Option<String>,
    /// `artifact_uri` as MLflow recorded it.
    pub artifact_uri: Option<String>,
    /// Where the source keeps the run (its folder, `mlflow.db`, a URL), for messages and
    /// for the reader to find the rest.
    pub place: PathOrUrl,
}

/// A place in a store: a local path or a server URL.
#[derive(Debug, Clone, PartialEq)]
pub enum PathOrUrl {
    /// A file or folder.
    Path(PathBuf),
    /// A URL.
    Url(String),
}

impl std::fmt::Display for PathOrUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Path(p) => write!(f, "{}", p.display()),
            Self::Url(u) => f.write_str(u),
        }
    }
}

/// A file to copy: its name below the run's (or model's) artifact folder and where to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    /// `/`-separated path below `artifacts/`.
    pub name: String,
    /// Where its bytes are.
    pub at: PathOrUrl,
}

/// Everything logged to a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunData {
    /// Params.
    pub params: Vec<(String, String)>,
    /// Tags (with MLflow's own `mlflow.*` tags).
    pub tags: Vec<(String, String)>,
    /// Every metric value, with its step and time, in the order logged.
    pub metrics: Vec<ClientMetric>,
    /// Dataset inputs.
    pub inputs: Vec<RunInput>,
    /// Logged models the run produced, with their steps.
    pub outputs: Vec<(String, i64)>,
    /// Artifact files.
    pub artifacts: Vec<SourceFile>,
    /// What was left out and why (NaN values Kiln cannot store, unreachable artifacts).
    pub notes: Vec<String>,
}

/// An MLflow 3 LoggedModel.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceLoggedModel {
    /// `m-` and 32 hex, kept as Kiln's id.
    pub id: String,
    /// MLflow's experiment id.
    pub experiment_id: String,
    /// Name (`model`).
    pub name: String,
    /// The run that logged it.
    pub source_run_id: Option<String>,
    /// `LOGGED_MODEL_PENDING`, `LOGGED_MODEL_READY` or `LOGGED_MODEL_UPLOAD_FAILED`.
    pub status: String,
    /// Free text.
    pub model_type: String,
    /// Epoch milliseconds.
    pub created_ms: Option<i64>,
    /// Epoch milliseconds.
    pub updated_ms: Option<i64>,
    /// Params.
    pub params: Vec<(String, String)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Metrics logged against it.
    pub metrics: Vec<ModelMetric>,
    /// Its files.
    pub files: Vec<SourceFile>,
    /// Where the source keeps it.
    pub place: PathOrUrl,
}

/// A registered model with its versions.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRegisteredModel {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Aliases and the MLflow version numbers they name.
    pub aliases: Vec<(String, i64)>,
    /// Versions, in any order (the writer sorts them).
    pub versions: Vec<SourceVersion>,
    /// Where the source keeps it.
    pub place: PathOrUrl,
}

/// One model version.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceVersion {
    /// MLflow's version number.
    pub version: i64,
    /// `models:/m-…`, `runs:/<run>/model`, a path or URI of the files.
    pub source: String,
    /// The run it came from.
    pub run_id: Option<String>,
    /// The LoggedModel it came from.
    pub model_id: Option<String>,
    /// Description.
    pub description: String,
    /// `current_stage`.
    pub stage: Stage,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// An MLflow history the writer can read. The outer `Result` of a method fails the whole
/// import (the source is unusable); an inner one is one bad item, reported and skipped.
pub trait MlflowSource {
    /// The path or URL, for the summary.
    fn describe(&self) -> String;
    /// Every experiment, deleted ones too.
    fn experiments(&self) -> Result<Vec<Result<SourceExperiment, ImportError>>, ImportError>;
    /// The runs of one experiment.
    fn runs(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<RunHead, ImportError>>, ImportError>;
    /// Everything logged to one run (artifact bytes are read later, one file at a time).
    fn run_data(&self, run: &RunHead) -> Result<RunData, ImportError>;
    /// The LoggedModels of one experiment.
    fn logged_models(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<SourceLoggedModel, ImportError>>, ImportError>;
    /// Every registered model with its versions.
    fn registered_models(
        &self,
    ) -> Result<Vec<Result<SourceRegisteredModel, ImportError>>, ImportError>;
    /// The bytes of one file.
    fn read(&self, file: &SourceFile) -> Result<Vec<u8>, ImportError>;
    /// What the reader noticed about the source as a whole (an artifact root that is not
    /// there), for the summary; asked once, at the end.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// How to open a source.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// The artifact root of an `mlflow.db` (the folder holding `<experiment id>/<run id>/
    /// artifacts`), when the paths the database recorded are not where the files are now.
    pub artifacts: Option<PathBuf>,
    /// Bearer token for a tracking server (`MLFLOW_TRACKING_TOKEN`).
    pub token: Option<String>,
}

/// Opens `path_or_uri`: an `http(s)://` tracking server, an `mlflow.db` (or `sqlite:///…`),
/// or an `mlruns/` folder (or `file://…`).
pub fn open_source(
    path_or_uri: &str,
    options: &OpenOptions,
) -> Result<Box<dyn MlflowSource + Send>, ImportError> {
    if path_or_uri.starts_with("http://") || path_or_uri.starts_with("https://") {
        return Ok(Box::new(rest::RestSource::connect(
            path_or_uri,
            options.token.clone(),
        )?));
    }
    let path = if let Some(rest) = path_or_uri.strip_prefix("sqlite:///") {
        PathBuf::from(format!("/{rest}"))
    } else if let Some(rest) = path_or_uri.strip_prefix("file://") {
        PathBuf::from(rest)
    } else {
        PathBuf::from(path_or_uri)
    };
    let not_a_store = |reason: &str| ImportError::NotAStore {
        place: path_or_uri.to_owned(),
        reason: reason.to_owned(),
    };
    if path.is_dir() {
        if file_store::looks_like_file_store(&path) {
            return Ok(Box::new(file_store::FileStore::open(&path)?));
        }
        let hint = if path.join("mlflow.db").is_file() {
            format!(
                "it is a folder; did you mean {}?",
                path.join("mlflow.db").display()
            )
        } else if path.join("mlruns").is_dir() {
            format!(
                "it is a folder; did you mean {}?",
                path.join("mlruns").display()
            )
        } else {
            "the folder holds no experiment folder with a meta.yaml; pass an mlruns folder, \
             an mlflow.db file or an http:// tracking server URI"
                .to_owned()
        };
        return Err(not_a_store(&hint));
    }
    if path.is_file() {
        if sqlite::is_sqlite(&path) {
            return Ok(Box::new(sqlite::SqliteStore::open(
                &path,
                options.artifacts.clone(),
            )?));
        }
        return Err(not_a_store(
            "the file is not a SQLite database; pass an mlruns folder, an mlflow.db file or \
             an http:// tracking server URI",
        ));
    }
    Err(not_a_store("no such file or folder"))
}

/// MLflow's run status code (file store) or name (database, REST) as Kiln's status.
pub fn run_status(text: &str) -> Option<RunStatus> {
    match text.trim() {
        "1" | "RUNNING" | "2" | "SCHEDULED" => Some(RunStatus::Running),
        "3" | "FINISHED" => Some(RunStatus::Finished),
        "4" | "FAILED" => Some(RunStatus::Failed),
        "5" | "KILLED" => Some(RunStatus::Killed),
        _ => None,
    }
}

/// MLflow's LoggedModel status code (file store, database) or name as Kiln stores it.
pub fn logged_model_status(text: &str) -> String {
    match text.trim() {
        "1" | "PENDING" | "LOGGED_MODEL_PENDING" => "LOGGED_MODEL_PENDING",
        "2" | "READY" | "LOGGED_MODEL_READY" => "LOGGED_MODEL_READY",
        "3" | "FAILED" | "UPLOAD_FAILED" | "LOGGED_MODEL_UPLOAD_FAILED" => {
            "LOGGED_MODEL_UPLOAD_FAILED"
        }
        _ => "LOGGED_MODEL_STATUS_UNSPECIFIED",
    }
    .to_owned()
}

/// MLflow's stage name (`None`, `Staging`, `Production`, `Archived`) as Kiln's stage.
pub fn stage(text: &str) -> Stage {
    match text.trim().to_ascii_lowercase().as_str() {
        "staging" => Stage::Staging,
        "production" => Stage::Production,
        "archived" => Stage::Archived,
        _ => Stage::None,
    }
}

/// A local path an `artifact_uri` names: `file:///x`, `file:x` or a plain absolute path.
/// `None` for remote stores (`s3://`, `mlflow-artifacts:/`, ...).
pub fn local_path(uri: &str) -> Option<PathBuf> {
    if let Some(rest) = uri.strip_prefix("file://") {
        // `file:///abs` and `file://localhost/abs`.
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        return Some(PathBuf::from(percent_decode(rest)));
    }
    if let Some(rest) = uri.strip_prefix("file:") {
        return Some(PathBuf::from(percent_decode(rest)));
    }
    let is_uri = uri.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() > 1
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    (!is_uri && !uri.is_empty()).then(|| PathBuf::from(uri))
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The files below `dir`, with `/`-separated names relative to it, sorted; empty when
/// `dir` does not exist.
pub fn files_below(dir: &Path) -> Result<Vec<SourceFile>, ImportError> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = stack.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(|e| ImportError::file(&folder, format!("cannot list the folder: {e}")))?;
        for entry in entries {
            let entry = entry
                .map_err(|e| ImportError::file(&folder, format!("cannot list the folder: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            if path.is_dir() {
                stack.push((path, rel));
            } else {
                out.push(SourceFile {
                    name: rel,
                    at: PathOrUrl::Path(path),
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_codes_and_names() {
        assert_eq!(run_status("3"), Some(RunStatus::Finished));
        assert_eq!(run_status("KILLED"), Some(RunStatus::Killed));
        assert_eq!(run_status("2"), Some(RunStatus::Running));
        assert_eq!(run_status("7"), None);
        assert_eq!(logged_model_status("2"), "LOGGED_MODEL_READY");
        assert_eq!(stage("Production"), Stage::Production);
        assert_eq!(stage("None"), Stage::None);
    }

    #[test]
    fn artifact_uris_that_are_local_paths() {
        assert_eq!(
            local_path("file:///tmp/a%20b"),
            Some(PathBuf::from("/tmp/a b"))
        );
        assert_eq!(
            local_path("/tmp/mlruns/1"),
            Some(PathBuf::from("/tmp/mlruns/1"))
        );
        assert_eq!(local_path("./mlruns/1"), Some(PathBuf::from("./mlruns/1")));
        assert_eq!(local_path("s3://bucket/x"), None);
        assert_eq!(local_path("mlflow-artifacts:/1/abc/artifacts"), None);
    }
}
