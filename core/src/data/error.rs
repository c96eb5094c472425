//! Errors of loading and profiling data, naming the file, the line or column, and the reason.

use std::path::PathBuf;

/// Why a data file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read the file: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The content is wrong at a known place.
    #[error("{path}: {location}{reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// "line 4: ", "line 4, column 'age': " or "" when no place applies.
        location: String,
        /// What is wrong, in words the user can act on.
        reason: String,
    },
    /// The file is too large to load whole on this machine.
    #[error(
        "{path}: the file is {size_mb} MB, and loading it needs about {needed_mb} MB of memory but only {available_mb} MB are available; open a sample (its first rows) instead"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// File size.
        size_mb: u64,
        /// Estimated memory to load it.
        needed_mb: u64,
        /// Memory available.
        available_mb: u64,
    },
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl DataError {
    /// A problem with the file as a whole.
    pub fn malformed(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            location: String::new(),
            reason: reason.into(),
        }
    }

    /// A problem at a 1-based physical line.
    pub fn at_line(path: &std::path::Path, line: usize, reason: impl Into<String>) -> Self {
        Self::Malformed {
            path: path.to_path_buf(),
            location: format!("line {line}: "),
            reason: reason.into(),
        }
    }
}

impl From<DataError> for crate::jobs::JobError {
    fn from(error: DataError) -> Self {
        match error {
            DataError::Cancelled => Self::Cancelled,
            other => Self::failed(other),
        }
    }
}

/// Result type of the data module.
pub type DataResult<T> = Result<T, DataError>;
