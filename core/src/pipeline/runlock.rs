//! One pipeline run per project at a time: an OS file lock on `.kiln/run.lock` next to
//! `kiln.toml`, holding the pid of its owner so that a second run can say who it waits for.
//! The operating system releases the lock when its process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cache::STATE_DIR;

const LOCK_NAME: &str = "run.lock";

/// A held project lock; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Why the project lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum RunLockError {
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Another process holds it and the caller would not wait.
    #[error("another kiln run holds the pipeline lock ({})", holder_text(*.holder))]
    Held {
        /// Its pid, when it wrote one.
        holder: Option<u32>,
    },
    /// The caller stopped waiting.
    #[error("cancelled while waiting for the pipeline lock")]
    Cancelled,
}

/// `process 1234` or `a process`.
pub fn holder_text(holder: Option<u32>) -> String {
    holder.map_or_else(
        || "another process".to_owned(),
        |pid| format!("process {pid}"),
    )
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Takes the lock of the project in `dir`. When another process holds it, `on_wait(holder)`
/// is called once and, if `wait`, the lock is retried until it is free or `keep_waiting()`
/// says stop; otherwise [`RunLockError::Held`] names the holder.
pub fn acquire(
    dir: &Path,
    wait: bool,
    mut on_wait: impl FnMut(Option<u32>),
    keep_waiting: impl Fn() -> bool,
) -> Result<RunLock, RunLockError> {
    let state = dir.join(STATE_DIR);
    let path = state.join(LOCK_NAME);
    let io = |source| RunLockError::Io {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&state).map_err(io)?;
    // Machine-local state (the lock, the hash cache) stays out of git; kiln.lock is committed.
    let ignore = state.join(".gitignore");
    if !ignore.exists()
        && let Err(e) = std::fs::write(&ignore, "# Kiln's machine-local pipeline state\n*\n")
    {
        tracing::debug!(error = %e, "cannot write .kiln/.gitignore");
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) => {
                let holder = read_pid(&mut file);
                if !wait {
                    return Err(RunLockError::Held { holder });
                }
                if !told {
                    on_wait(holder);
                    told = true;
                }
                if !keep_waiting() {
                    return Err(RunLockError::Cancelled);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(RunLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_told_the_holders_pid() {
        let dir = tempfile::tempdir().expect("tempdir");
        let held = acquire(dir.path(), false, |_| {}, || true).expect("first");
        match acquire(dir.path(), false, |_| {}, || true) {
            Err(RunLockError::Held { holder }) => assert_eq!(holder, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(held);
        acquire(dir.path(), false, |_| {}, || true).expect("free again");
    }
}
