//! Content-addressed artifacts: `artifacts/ab/cdef…` named by the sha256 of their bytes.
//!
//! A file is written under a temporary name in the same folder, fsynced, then renamed, so a
//! crash never leaves a half-written file under its final name. Identical bytes are stored once.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use super::{ARTIFACTS_DIR, ArtifactRef, Store, StoreError, StoreResult, now_rfc3339};

/// sha256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Artifact {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn artifacts_of(conn: &Connection, run_id: &str) -> StoreResult<Vec<ArtifactRef>> {
    artifact_refs(
        conn,
        "SELECT name, sha256, size, created_at FROM artifacts WHERE run_id = ?1 ORDER BY name",
        run_id,
    )
}

/// The file references a query selects as (name, sha256, size, created_at) for one owner.
pub(super) fn artifact_refs(
    conn: &Connection,
    sql: &str,
    owner: &str,
) -> StoreResult<Vec<ArtifactRef>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([owner], |row| {
        Ok(ArtifactRef {
            name: row.get(0)?,
            sha256: row.get(1)?,
            size: row.get::<_, i64>(2)?.max(0) as u64,
            created_at: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store {
    /// Where the artifact with hash `sha256` lives (whether or not it exists).
    pub fn artifact_path(&self, sha256: &str) -> PathBuf {
        let (prefix, rest) = sha256.split_at(2.min(sha256.len()));
        self.home().join(ARTIFACTS_DIR).join(prefix).join(rest)
    }

    /// Stores `bytes` by content and returns their sha256. Storing the same bytes twice is free.
    pub fn put_artifact(&self, bytes: &[u8]) -> StoreResult<String> {
        let sha = sha256_hex(bytes);
        let path = self.artifact_path(&sha);
        if path.exists() {
            return Ok(sha);
        }
        let dir = path.parent().unwrap_or_else(|| self.home());
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".incoming-")
            .tempfile_in(dir)
            .map_err(io_error(dir))?;
        tmp.write_all(bytes).map_err(io_error(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io_error(&path))?;
        tmp.persist(&path).map_err(|e| StoreError::Artifact {
            path: path.clone(),
            source: e.error,
        })?;
        // Make the rename itself durable.
        if let Ok(dir_handle) = std::fs::File::open(dir) {
            let _ = dir_handle.sync_all();
        }
        Ok(sha)
    }

    /// Reads an artifact back, checking that its bytes still match their hash.
    pub fn read_artifact(&self, sha256: &str) -> StoreResult<Vec<u8>> {
        let path = self.artifact_path(sha256);
        let bytes = std::fs::read(&path).map_err(io_error(&path))?;
        if sha256_hex(&bytes) != sha256 {
            return Err(StoreError::Artifact {
                path,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "contents do not match their sha256 (the file was changed or damaged)",
                ),
            });
        }
        Ok(bytes)
    }

    /// Stores `bytes` and attaches them to a run under `name` (replacing an earlier one).
    pub fn log_artifact(&self, run_id: &str, name: &str, bytes: &[u8]) -> StoreResult<ArtifactRef> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid {
                what: "artifact name",
                reason: "it is empty".into(),
            });
        }
        // The file is durable before the row that points at it is committed.
        let sha = self.put_artifact(bytes)?;
        let artifact = ArtifactRef {
            name: name.to_owned(),
            sha256: sha,
            size: bytes.len() as u64,
            created_at: now_rfc3339(),
        };
        self.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO artifacts (run_id, name, sha256, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(run_id, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, \
                 created_at = excluded.created_at",
                params![run_id, artifact.name, artifact.sha256, artifact.size as i64, artifact.created_at],
            )?;
            Ok(())
        })?;
        Ok(artifact)
    }
}
