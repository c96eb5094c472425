//! Errors of the store, worded for the person who has to fix them.

use std::path::PathBuf;

/// Anything that can go wrong opening or using a Kiln store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store folder could not be created or written.
    #[error("cannot use store folder {path}: {source}")]
    Location {
        /// The folder Kiln tried to use.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// `kiln.db` exists but is not a SQLite database (or is damaged).
    #[error(
        "store database {path} is damaged or not a Kiln store ({reason}); move it aside to start a fresh store"
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// SQLite's description.
        reason: String,
    },
    /// The database was written by a newer Kiln with a schema this build does not know.
    #[error(
        "store database {path} has schema version {found}, but this Kiln understands up to {supported}; upgrade Kiln"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build can read.
        supported: i64,
    },
    /// A lookup by id or name found nothing.
    #[error("{kind} not found: {key}")]
    NotFound {
        /// What was looked up ("run", "experiment", ...).
        kind: &'static str,
        /// The id or name that was asked for.
        key: String,
    },
    /// Something with this name or id exists already.
    #[error("{kind} {key} already exists")]
    AlreadyExists {
        /// What it is ("experiment", "registered model", ...).
        kind: &'static str,
        /// Its name or id.
        key: String,
    },
    /// A value given by the caller is not acceptable (empty name, bad status, ...).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// Reading or writing an artifact file failed.
    #[error("artifact {path}: {source}")]
    Artifact {
        /// The artifact file involved.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Serialising or parsing stored JSON failed.
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    /// Any other database error.
    #[error("store database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Result type of the store.
pub type StoreResult<T> = Result<T, StoreError>;
