//! Content fingerprints of data files: the sha256 of their bytes, streamed with progress.
//!
//! Runs point at the exact bytes they trained on through this hash (as DVC does), so a file
//! that changes under the same name is recognised as a new version.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::jobs::JobError;

/// Bytes read between progress reports and cancellation checks.
const CHUNK: usize = 1 << 20;

/// A file's identity by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFingerprint {
    /// The file that was read.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// sha256 of its bytes, lowercase hex.
    pub sha256: String,
}

/// Why a file could not be fingerprinted.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The caller stopped the work.
    #[error("cancelled")]
    Cancelled,
}

impl From<FingerprintError> for JobError {
    fn from(error: FingerprintError) -> Self {
        match error {
            FingerprintError::Cancelled => JobError::Cancelled,
            other => JobError::failed(other),
        }
    }
}

/// Hashes the file at `path`, calling `on_progress(bytes_done, bytes_total)` after each chunk;
/// returning `false` from it cancels.
pub fn fingerprint_file(
    path: &Path,
    mut on_progress: impl FnMut(u64, u64) -> bool,
) -> Result<FileFingerprint, FingerprintError> {
    let read_error = |source| FingerprintError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let total = file.metadata().map_err(read_error)?.len();
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut done = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(read_error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        done += n as u64;
        if !on_progress(done, total) {
            return Err(FingerprintError::Cancelled);
        }
    }
    Ok(FileFingerprint {
        path: path.to_path_buf(),
        size: done,
        sha256: hex::encode(hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_the_sha256_of_the_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.csv");
        std::fs::write(&path, "x,y\n1,2\n").expect("write");
        let fp = fingerprint_file(&path, |_, _| true).expect("fingerprint");
        assert_eq!(fp.size, 8);
        assert_eq!(fp.sha256, crate::store::sha256_hex(b"x,y\n1,2\n"));
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let err =
            fingerprint_file(Path::new("/no/such/file.csv"), |_, _| true).expect_err("missing");
        assert!(err.to_string().contains("/no/such/file.csv"), "{err}");
    }

    #[test]
    fn progress_can_cancel() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.bin");
        std::fs::write(&path, vec![1u8; 3 * CHUNK]).expect("write");
        let mut calls = 0;
        let result = fingerprint_file(&path, |_, _| {
            calls += 1;
            false
        });
        assert!(matches!(result, Err(FingerprintError::Cancelled)));
        assert_eq!(calls, 1);
    }
}
