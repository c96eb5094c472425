//! The end of a run's life: completing it in one transaction, and recovering runs whose process
//! died without ending them.
//!
//! A run is written `running` when it starts, with the identity of the process that owns it
//! (host, pid, and the process's start time, so a reused pid is not taken for the owner). It
//! ends in exactly one transaction that writes its metrics, artifacts, tags and `finished`
//! status together ([`Store::complete_run`]), or as `failed` / `killed`. When any Kiln process
//! opens the store, [`Store::recover_orphaned_runs`] marks `killed` every `running` run whose
//! owner is gone, so a `kill -9` never leaves a run `running` forever.

use rusqlite::params;

use super::runs::{end_run, insert_metrics, insert_pairs};
use super::{RunStatus, Store, StoreError, StoreResult, now_rfc3339};

/// Who runs a run: enough to tell later whether that process still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: i64,
    /// When the process started, as the OS tells it (Linux: clock ticks after boot); `None`
    /// where Kiln cannot read it.
    pub started: Option<String>,
}

impl ProcessIdentity {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            host: host_name(),
            pid: i64::from(pid),
            started: process_start(i64::from(pid)),
        }
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The start time of process `pid` (field 22 of `/proc/PID/stat`), `None` when it does not
/// exist or the platform has no `/proc`.
fn process_start(pid: i64) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_owned)
}

/// Whether the process that owned a run is certainly gone.
fn owner_is_gone(owner: &ProcessIdentity, here: &ProcessIdentity) -> bool {
    if owner.host != here.host || !cfg!(target_os = "linux") {
        // Another machine's processes (a store on a shared folder) cannot be checked from here.
        return false;
    }
    match process_start(owner.pid) {
        None => true,
        Some(started) => owner.started.as_ref().is_some_and(|s| *s != started),
    }
}

/// A finished run's results, committed together by [`Store::complete_run`].
#[derive(Debug, Clone, Default)]
pub struct RunResults {
    /// Scalar metrics.
    pub metrics: Vec<(String, f64)>,
    /// Files by name (the model, its evaluation, ...).
    pub artifacts: Vec<(String, Vec<u8>)>,
    /// Tags (warnings, metrics that could not be computed, columns left out, ...).
    pub tags: Vec<(String, String)>,
    /// Parameters learned while running (e.g. what preprocessing decided).
    pub params: Vec<(String, String)>,
}

/// A running run's id and recorded owner (host, pid, process start).
type RunningRow = (String, Option<String>, Option<i64>, Option<String>);

impl Store {
    /// Ends a run `finished` with all its results in one transaction: readers (and a process
    /// killed half-way) see a finished run with every metric and artifact, or a running one.
    pub fn complete_run(&self, run_id: &str, results: &RunResults) -> StoreResult<()> {
        // Artifact files are content-addressed and durable before the rows that name them.
        let mut refs = Vec::with_capacity(results.artifacts.len());
        for (name, bytes) in &results.artifacts {
            if name.trim().is_empty() {
                return Err(StoreError::Invalid {
                    what: "artifact name",
                    reason: "it is empty".into(),
                });
            }
            refs.push((name, self.put_artifact(bytes)?, bytes.len() as i64));
        }
        self.in_transaction(|conn| {
            let now = now_rfc3339();
            let mut stmt = conn.prepare_cached(
                "INSERT INTO artifacts (run_id, name, sha256, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(run_id, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, \
                 created_at = excluded.created_at",
            )?;
            for (name, sha, size) in &refs {
                stmt.execute(params![run_id, name, sha, size, now])?;
            }
            insert_metrics(conn, run_id, &results.metrics)?;
            insert_pairs(conn, "tags", run_id, &results.tags)?;
            insert_pairs(conn, "params", run_id, &results.params)?;
            end_run(conn, run_id, RunStatus::Finished, None)
        })
    }

    /// Marks `killed` every `running` run whose owning process no longer exists (and runs from
    /// Kiln versions that did not record an owner). Returns how many runs were recovered.
    pub fn recover_orphaned_runs(&self) -> StoreResult<usize> {
        let here = ProcessIdentity::current();
        let running: Vec<RunningRow> = {
            let conn = self.lock();
            let mut stmt = conn.prepare(
                "SELECT id, owner_host, owner_pid, owner_started FROM runs WHERE status = 'running'",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let orphans: Vec<(String, String)> = running
            .into_iter()
            .filter_map(|(id, host, pid, started)| match (host, pid) {
                (Some(host), Some(pid)) => {
                    let owner = ProcessIdentity { host, pid, started };
                    owner_is_gone(&owner, &here).then(|| {
                        let reason = format!(
                            "the Kiln process that ran it (pid {pid}) ended without finishing it"
                        );
                        (id, reason)
                    })
                }
                _ => Some((
                    id,
                    "left running by a Kiln version that did not record its process".into(),
                )),
            })
            .collect();
        if orphans.is_empty() {
            return Ok(0);
        }
        self.in_transaction(|conn| {
            // Only still-running rows: the owner may have finished the run since we looked.
            let mut stmt = conn.prepare_cached(
                "UPDATE runs SET status = 'killed', end_time = ?2, error = ?3 \
                 WHERE id = ?1 AND status = 'running'",
            )?;
            let now = now_rfc3339();
            let mut recovered = 0;
            for (id, reason) in &orphans {
                recovered += stmt.execute(params![id, now, reason])?;
            }
            tracing::info!(recovered, "marked runs of dead processes killed");
            Ok(recovered)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_missing_pid_is_gone() {
        let here = ProcessIdentity::current();
        assert!(!owner_is_gone(&here, &here));
        if cfg!(target_os = "linux") {
            let dead = ProcessIdentity {
                pid: i64::from(u32::MAX),
                ..here.clone()
            };
            assert!(owner_is_gone(&dead, &here));
            let reused = ProcessIdentity {
                started: Some("0".into()),
                ..here.clone()
            };
            assert!(
                owner_is_gone(&reused, &here),
                "a reused pid is not the owner"
            );
        }
        let elsewhere = ProcessIdentity {
            host: "another-machine".into(),
            pid: i64::from(u32::MAX),
            ..here.clone()
        };
        assert!(!owner_is_gone(&elsewhere, &here));
    }
}
