//! `kiln.lock`: what each stage last ran on, as DVC's `dvc.lock` records it. It is TOML, meant
//! to be committed next to `kiln.toml`: each stage's key is the sha256 of its parts (the
//! content hashes of its inputs, its own configuration, the outputs of the stages before it),
//! and the parts are kept so that a stale stage can say what changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cache::write_atomically;
use crate::registry::GateResult;

/// The lock file's name, next to `kiln.toml`.
pub const LOCK_FILE: &str = "kiln.lock";
/// The format this build writes.
const FORMAT: u32 = 1;

/// One input as last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedInput {
    /// The path as written in `kiln.toml`.
    pub path: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A gate's result as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedGate {
    /// The gate.
    pub gate: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

impl From<&GateResult> for LockedGate {
    fn from(g: &GateResult) -> Self {
        Self {
            gate: g.gate.clone(),
            passed: g.passed,
            detail: g.detail.clone(),
        }
    }
}

impl From<&LockedGate> for GateResult {
    fn from(g: &LockedGate) -> Self {
        Self {
            gate: g.gate.clone(),
            passed: g.passed,
            detail: g.detail.clone(),
        }
    }
}

/// One stage as last completed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockedStage {
    /// sha256 of `parts`.
    pub key: String,
    /// What the key covers: part name -> hash or value.
    #[serde(default)]
    pub parts: BTreeMap<String, String>,
    /// The training run (train).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The registered version (register, promote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Test metrics (evaluate).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// Gate results (gates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<LockedGate>,
}

/// The whole `kiln.lock`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    /// Format version.
    pub format: u32,
    /// The pipeline's name.
    pub pipeline: String,
    /// The inputs as last run.
    #[serde(default)]
    pub inputs: BTreeMap<String, LockedInput>,
    /// The stages as last completed, by name.
    #[serde(default)]
    pub stages: BTreeMap<String, LockedStage>,
}

/// Why `kiln.lock` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LockFileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not a lock file this build understands.
    #[error("{path} is damaged ({message}); delete it to run every stage again")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
}

/// The sha256 of a stage's parts, the key it is recorded under.
pub fn stage_key(parts: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (name, value) in parts {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The sha256 of a value's JSON form: how a stage's own configuration enters its key.
pub fn config_hash<T: Serialize>(value: &T) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl LockFile {
    /// Reads the lock file next to `kiln.toml` in `dir`; an absent file is an empty lock.
    pub fn load(dir: &Path) -> Result<(Self, Option<String>), LockFileError> {
        let path = dir.join(LOCK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Self::default(), None));
            }
            Err(source) => return Err(LockFileError::Io { path, source }),
        };
        let lock: Self = toml::from_str(&text).map_err(|e| LockFileError::Damaged {
            path: path.clone(),
            message: e.message().trim().to_owned(),
        })?;
        if lock.format > FORMAT {
            return Err(LockFileError::Damaged {
                path,
                message: format!("format {} is newer than this Kiln's {FORMAT}", lock.format),
            });
        }
        Ok((lock, Some(text)))
    }

    /// The lock as TOML, with a header saying what it is.
    pub fn to_text(&self) -> String {
        let mut lock = self.clone();
        lock.format = FORMAT;
        let body = toml::to_string(&lock).unwrap_or_default();
        format!(
            "# kiln.lock: written by `kiln run`, commit it next to kiln.toml.\n\
             # Each stage's key is the sha256 of its parts; a stage whose parts change runs again.\n\n{body}"
        )
    }

    /// Writes the lock into `dir` unless `previous` (the text read) is already the same.
    pub fn save(&self, dir: &Path, previous: Option<&str>) -> Result<bool, LockFileError> {
        let text = self.to_text();
        if previous == Some(text.as_str()) {
            return Ok(false);
        }
        let path = dir.join(LOCK_FILE);
        write_atomically(&path, text.as_bytes())
            .map_err(|source| LockFileError::Io { path, source })?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_reads_back_what_was_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut lock = LockFile {
            pipeline: "p".into(),
            ..LockFile::default()
        };
        let mut parts = BTreeMap::new();
        parts.insert("input train".to_owned(), "ab".to_owned());
        lock.stages.insert(
            "validate:train".into(),
            LockedStage {
                key: stage_key(&parts),
                parts,
                run_id: Some("r1".into()),
                gates: vec![LockedGate {
                    gate: "accuracy >= 0.9".into(),
                    passed: true,
                    detail: "accuracy = 0.95".into(),
                }],
                ..LockedStage::default()
            },
        );
        assert!(lock.save(dir.path(), None).expect("saved"));
        let (read, text) = LockFile::load(dir.path()).expect("read");
        assert_eq!(read.stages, lock.stages);
        assert!(!read.save(dir.path(), text.as_deref()).expect("unchanged"));
    }
}
