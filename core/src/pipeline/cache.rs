//! The hash cache: a file's sha256 remembered with its size and modification time, so a run
//! where nothing changed reads no data at all. It lives in `.kiln/hashes.json` next to
//! `kiln.toml` (machine-local; `kiln.lock` is what gets committed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::data::fingerprint::{FingerprintError, fingerprint_file};

/// The folder of machine-local pipeline state, next to `kiln.toml`.
pub const STATE_DIR: &str = ".kiln";
const CACHE_FILE: &str = "hashes.json";

/// A file modified this recently is hashed every time: another write within the same clock
/// tick would keep size and mtime (git's "racy" case).
const RACY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    size: u64,
    mtime_ns: u128,
    sha256: String,
}

/// A file's identity as a pipeline sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    /// sha256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether the bytes had to be read (no cache entry, or size or mtime changed).
    pub hashed: bool,
}

/// sha256 by path, valid while size and mtime stay the same.
#[derive(Debug, Default)]
pub struct HashCache {
    file: Option<PathBuf>,
    entries: BTreeMap<String, Entry>,
    dirty: bool,
}

fn mtime_ns(meta: &std::fs::Metadata) -> Option<u128> {
    meta.modified()
        .ok()?
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_nanos())
}

impl HashCache {
    /// The cache of the project in `dir` (empty when absent or unreadable: it is only a cache).
    pub fn load(dir: &Path) -> Self {
        let file = dir.join(STATE_DIR).join(CACHE_FILE);
        let entries = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self {
            file: Some(file),
            entries,
            dirty: false,
        }
    }

    /// The sha256 of `path`: from the cache when its size and mtime match, else read (with
    /// `on_progress(done, total) -> keep going`).
    pub fn fingerprint(
        &mut self,
        path: &Path,
        on_progress: impl FnMut(u64, u64) -> bool,
    ) -> Result<Fingerprint, FingerprintError> {
        let read_error = |source| FingerprintError::Read {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read_error)?;
        let key = path.to_string_lossy().into_owned();
        let mtime = mtime_ns(&meta);
        if let (Some(entry), Some(mtime)) = (self.entries.get(&key), mtime)
            && entry.size == meta.len()
            && entry.mtime_ns == mtime
        {
            return Ok(Fingerprint {
                sha256: entry.sha256.clone(),
                size: entry.size,
                hashed: false,
            });
        }
        let fingerprint = fingerprint_file(path, on_progress)?;
        let settled = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age > RACY);
        match mtime {
            Some(mtime) if settled => {
                self.entries.insert(
                    key,
                    Entry {
                        size: fingerprint.size,
                        mtime_ns: mtime,
                        sha256: fingerprint.sha256.clone(),
                    },
                );
                self.dirty = true;
            }
            _ => {
                if self.entries.remove(&key).is_some() {
                    self.dirty = true;
                }
            }
        }
        Ok(Fingerprint {
            sha256: fingerprint.sha256,
            size: fingerprint.size,
            hashed: true,
        })
    }

    /// Writes the cache back when it changed; a failure is only logged (it is a cache).
    pub fn save(&mut self) {
        let Some(file) = &self.file else { return };
        if !self.dirty {
            return;
        }
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                let bytes = serde_json::to_vec(&self.entries).map_err(std::io::Error::other)?;
                write_atomically(file, &bytes)
            });
        match written {
            Ok(()) => self.dirty = false,
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot save the hash cache")
            }
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees half a file.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
