//! Experiments and runs written by an outside tracking client (MLflow's REST API, an import):
//! the client says when a run started and ended, at which step and time each metric value
//! was logged, and which tags and datasets it has. The rows are ordinary Kiln rows, so the
//! filter language, compare and the charts read them like any other run.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::runs::insert_pairs;
use super::{Experiment, RunStatus, Store, StoreError, StoreResult, now_rfc3339};

/// The owner host recorded on runs an outside client drives: no Kiln process owns them, so
/// [`Store::recover_orphaned_runs`] never marks them `killed` (the client ends them).
pub const EXTERNAL_OWNER: &str = "external-client";

/// An experiment with what MLflow also tracks about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentInfo {
    /// The experiment.
    pub experiment: Experiment,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// RFC 3339 time it was deleted (MLflow's `lifecycle_stage = deleted`).
    pub deleted_at: Option<String>,
    /// RFC 3339 time of the last change.
    pub updated_at: Option<String>,
}

/// A run as an outside client starts it.
#[derive(Debug, Clone, Default)]
pub struct ClientRun {
    /// Experiment id.
    pub experiment_id: i64,
    /// Display name (one is made up when empty).
    pub name: Option<String>,
    /// Start time, epoch milliseconds.
    pub start_ms: i64,
    /// Tags sent with the run.
    pub tags: Vec<(String, String)>,
    /// The run's id when it is known already (an import keeps the source's id).
    pub id: Option<String>,
}

/// One logged metric value.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientMetric {
    /// Metric name.
    pub key: String,
    /// Value.
    pub value: f64,
    /// Epoch milliseconds when it was logged.
    pub timestamp_ms: i64,
    /// Step.
    pub step: i64,
}

/// A dataset a run used (MLflow's `log_input`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunInput {
    /// Dataset name.
    pub name: String,
    /// Content digest as the client computed it.
    pub digest: String,
    /// `local`, `code`, `http`, ...
    pub source_type: String,
    /// Where it came from (JSON text, stored as given).
    pub source: String,
    /// Its schema (JSON text).
    pub schema: Option<String>,
    /// Its profile (JSON text).
    pub profile: Option<String>,
    /// The input's tags (`mlflow.data.context` = `train`, ...).
    pub tags: Vec<(String, String)>,
}

/// Epoch milliseconds as Kiln stores times (RFC 3339, UTC, milliseconds).
pub fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A stored time as epoch milliseconds (0 when it does not parse).
pub fn rfc3339_to_ms(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

fn experiment_info_where(
    conn: &Connection,
    clause: &str,
    value: &dyn rusqlite::ToSql,
) -> StoreResult<Vec<ExperimentInfo>> {
    let sql = format!(
        "SELECT id, name, created_at, deleted_at, updated_at FROM experiments WHERE {clause} ORDER BY id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([value], |row| {
        Ok(ExperimentInfo {
            experiment: Experiment {
                id: row.get(0)?,
                name: row.get(1)?,
                created_at: row.get(2)?,
            },
            tags: BTreeMap::new(),
            deleted_at: row.get(3)?,
            updated_at: row.get(4)?,
        })
    })?;
    let mut out: Vec<ExperimentInfo> = rows.collect::<Result<_, _>>()?;
    let mut tags = conn.prepare_cached(
        "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 ORDER BY key",
    )?;
    for info in &mut out {
        info.tags = tags
            .query_map([info.experiment.id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}

fn experiment_not_found(key: String) -> StoreError {
    StoreError::NotFound {
        kind: "experiment",
        key,
    }
}

impl Store {
    /// Every experiment with its tags, oldest first.
    pub fn experiment_infos(&self) -> StoreResult<Vec<ExperimentInfo>> {
        experiment_info_where(&self.lock(), "1 = ?1", &1)
    }

    /// One experiment by id.
    pub fn experiment_info(&self, id: i64) -> StoreResult<ExperimentInfo> {
        experiment_info_where(&self.lock(), "id = ?1", &id)?
            .pop()
            .ok_or_else(|| experiment_not_found(id.to_string()))
    }

    /// One experiment by name.
    pub fn experiment_info_by_name(&self, name: &str) -> StoreResult<ExperimentInfo> {
        experiment_info_where(&self.lock(), "name = ?1", &name)?
            .pop()
            .ok_or_else(|| experiment_not_found(name.to_owned()))
    }

    /// Creates an experiment; one of that name must not exist yet.
    pub fn create_experiment(&self, name: &str, tags: &[(String, String)]) -> StoreResult<i64> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid {
                what: "experiment name",
                reason: "it is empty".into(),
            });
        }
        self.in_transaction(|conn| {
            let exists: Option<i64> = conn
                .query_row("SELECT id FROM experiments WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::AlreadyExists {
                    kind: "experiment",
                    key: name.to_owned(),
                });
            }
            let now = now_rfc3339();
            conn.execute(
                "INSERT INTO experiments (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
                params![name, now],
            )?;
            let id = conn.last_insert_rowid();
            set_experiment_tags_in(conn, id, tags)?;
            Ok(id)
        })
    }

    /// Sets tags of an experiment.
    pub fn set_experiment_tags(&self, id: i64, tags: &[(String, String)]) -> StoreResult<()> {
        self.experiment_info(id)?;
        self.in_transaction(|conn| set_experiment_tags_in(conn, id, tags))
    }

    /// Renames an experiment.
    pub fn rename_experiment(&self, id: i64, name: &str) -> StoreResult<()> {
        self.experiment_info(id)?;
        if self.experiment_info_by_name(name).is_ok() {
            return Err(StoreError::AlreadyExists {
                kind: "experiment",
                key: name.to_owned(),
            });
        }
        self.in_transaction(|conn| {
            conn.execute(
                "UPDATE experiments SET name = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, name, now_rfc3339()],
            )?;
            Ok(())
        })
    }

    /// Marks an experiment deleted (`deleted = true`) or restores it.
    pub fn set_experiment_deleted(&self, id: i64, deleted: bool) -> StoreResult<()> {
        self.experiment_info(id)?;
        self.in_transaction(|conn| {
            let now = now_rfc3339();
            conn.execute(
                "UPDATE experiments SET deleted_at = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, deleted.then_some(&now), now],
            )?;
            Ok(())
        })
    }

    /// Starts a run an outside client drives; its start time is the client's.
    pub fn start_client_run(&self, new: &ClientRun) -> StoreResult<String> {
        self.experiment_info(new.experiment_id)?;
        let id = new
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let name = new
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("run-{}", &id[..8.min(id.len())]));
        let parent = new
            .tags
            .iter()
            .find(|(k, _)| k == "mlflow.parentRunId")
            .map(|(_, v)| v.clone());
        self.in_transaction(|conn| {
            // The parent column is a foreign key: a parent this store does not hold stays a tag.
            let parent = match parent {
                Some(p) => conn
                    .query_row("SELECT id FROM runs WHERE id = ?1", [&p], |r| {
                        r.get::<_, String>(0)
                    })
                    .optional()?,
                None => None,
            };
            conn.execute(
                "INSERT INTO runs (id, experiment_id, name, status, start_time, parent_run_id, \
                 kiln_version, owner_host, owner_pid) VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, 0)",
                params![
                    id,
                    new.experiment_id,
                    name,
                    ms_to_rfc3339(new.start_ms),
                    parent,
                    crate::KILN_VERSION,
                    EXTERNAL_OWNER,
                ],
            )?;
            insert_pairs(conn, "tags", &id, &new.tags)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Changes a client's run: its status, end time and name, each when given.
    pub fn update_client_run(
        &self,
        run_id: &str,
        status: Option<RunStatus>,
        end_ms: Option<i64>,
        name: Option<&str>,
    ) -> StoreResult<()> {
        self.run(run_id)?;
        self.in_transaction(|conn| {
            if let Some(status) = status {
                conn.execute(
                    "UPDATE runs SET status = ?2 WHERE id = ?1",
                    params![run_id, status.as_str()],
                )?;
            }
            if let Some(end) = end_ms {
                conn.execute(
                    "UPDATE runs SET end_time = ?2 WHERE id = ?1",
                    params![run_id, ms_to_rfc3339(end)],
                )?;
            }
            if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
                conn.execute(
                    "UPDATE runs SET name = ?2 WHERE id = ?1",
                    params![run_id, name],
                )?;
                insert_pairs(
                    conn,
                    "tags",
                    run_id,
                    &[("mlflow.runName".to_owned(), name.to_owned())],
                )?;
            }
            Ok(())
        })
    }

    /// Logs params of a run. A param cannot change: logging a key again with another value
    /// is refused (as MLflow refuses it), the same value again is fine.
    pub fn log_client_params(&self, run_id: &str, params: &[(String, String)]) -> StoreResult<()> {
        self.run(run_id)?;
        self.in_transaction(|conn| {
            let mut existing =
                conn.prepare_cached("SELECT value FROM params WHERE run_id = ?1 AND key = ?2")?;
            for (key, value) in params {
                let old: Option<String> = existing
                    .query_row(params![run_id, key], |r| r.get(0))
                    .optional()?;
                if let Some(old) = old
                    && old != *value
                {
                    return Err(StoreError::Invalid {
                        what: "param",
                        reason: format!(
                            "changing param values is not allowed: '{key}' was already logged \
                             with value '{old}' for run {run_id}, and the new value is '{value}'"
                        ),
                    });
                }
            }
            insert_pairs(conn, "params", run_id, params)
        })
    }

    /// Logs metric values with their steps and times. Each value joins the metric's step
    /// series (a repeated step keeps the later value), and the value at the highest step
    /// (the latest logged on a tie) becomes the metric's scalar value.
    pub fn log_client_metrics(&self, run_id: &str, metrics: &[ClientMetric]) -> StoreResult<()> {
        self.run(run_id)?;
        for m in metrics {
            if m.key.trim().is_empty() || m.value.is_nan() {
                return Err(StoreError::Invalid {
                    what: "metric",
                    reason: format!("'{}' = {} cannot be stored (NaN)", m.key, m.value),
                });
            }
        }
        self.in_transaction(|conn| {
            let mut point = conn.prepare_cached(
                "INSERT INTO metric_steps (run_id, key, step, value, wall_time) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(run_id, key, step) DO UPDATE SET value = excluded.value, wall_time = excluded.wall_time",
            )?;
            let mut latest = conn.prepare_cached(
                "INSERT INTO metrics (run_id, key, value) \
                 SELECT run_id, key, value FROM metric_steps WHERE run_id = ?1 AND key = ?2 \
                 ORDER BY step DESC, wall_time DESC LIMIT 1 \
                 ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
            )?;
            let mut keys: Vec<&str> = Vec::new();
            for m in metrics {
                point.execute(params![
                    run_id,
                    m.key,
                    m.step,
                    m.value,
                    ms_to_rfc3339(m.timestamp_ms)
                ])?;
                if !keys.contains(&m.key.as_str()) {
                    keys.push(&m.key);
                }
            }
            for key in keys {
                latest.execute(params![run_id, key])?;
            }
            Ok(())
        })
    }

    /// Removes a tag of a run.
    pub fn delete_tag(&self, run_id: &str, key: &str) -> StoreResult<()> {
        self.run(run_id)?;
        let removed = self.in_transaction(|conn| {
            Ok(conn.execute(
                "DELETE FROM tags WHERE run_id = ?1 AND key = ?2",
                params![run_id, key],
            )?)
        })?;
        if removed == 0 {
            return Err(StoreError::NotFound {
                kind: "tag",
                key: format!("{key} of run {run_id}"),
            });
        }
        Ok(())
    }

    /// Records datasets a run used (the same name and digest again is kept once).
    pub fn log_run_inputs(&self, run_id: &str, inputs: &[RunInput]) -> StoreResult<()> {
        self.run(run_id)?;
        self.in_transaction(|conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO run_inputs (run_id, name, digest, source_type, source, schema_json, \
                 profile_json, tags_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT(run_id, name, digest) DO UPDATE SET tags_json = excluded.tags_json",
            )?;
            for input in inputs {
                let tags: BTreeMap<&str, &str> = input
                    .tags
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                stmt.execute(params![
                    run_id,
                    input.name,
                    input.digest,
                    input.source_type,
                    input.source,
                    input.schema,
                    input.profile,
                    serde_json::to_string(&tags)?,
                ])?;
            }
            Ok(())
        })
    }

    /// The datasets a run used, in the order they were first logged.
    pub fn run_inputs(&self, run_id: &str) -> StoreResult<Vec<RunInput>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT name, digest, source_type, source, schema_json, profile_json, tags_json \
             FROM run_inputs WHERE run_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([run_id], |row| {
            Ok((
                RunInput {
                    name: row.get(0)?,
                    digest: row.get(1)?,
                    source_type: row.get(2)?,
                    source: row.get(3)?,
                    schema: row.get(4)?,
                    profile: row.get(5)?,
                    tags: Vec::new(),
                },
                row.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut input, tags) = row?;
            let tags: BTreeMap<String, String> = serde_json::from_str(&tags)?;
            input.tags = tags.into_iter().collect();
            out.push(input);
        }
        Ok(out)
    }

    /// Records models a run produced (MLflow's `runs/outputs`).
    pub fn log_run_outputs(&self, run_id: &str, models: &[(String, i64)]) -> StoreResult<()> {
        self.run(run_id)?;
        self.in_transaction(|conn| {
            for (model_id, step) in models {
                conn.execute(
                    "INSERT INTO run_outputs (run_id, model_id, step) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(run_id, model_id) DO UPDATE SET step = excluded.step",
                    params![run_id, model_id, step],
                )?;
            }
            Ok(())
        })
    }

    /// The models a run produced, with their steps.
    pub fn run_outputs(&self, run_id: &str) -> StoreResult<Vec<(String, i64)>> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT model_id, step FROM run_outputs WHERE run_id = ?1 ORDER BY rowid")?;
        let rows = stmt.query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The step and time of each step-series metric's latest value (highest step, then latest
    /// time): what MLflow returns beside the value.
    pub fn latest_metric_points(
        &self,
        run_id: &str,
    ) -> StoreResult<BTreeMap<String, (i64, String)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT key, step, wall_time FROM metric_steps WHERE run_id = ?1 ORDER BY key, step, wall_time",
        )?;
        let rows = stmt.query_map([run_id], |row| {
            Ok((row.get::<_, String>(0)?, (row.get(1)?, row.get(2)?)))
        })?;
        // Rows come in ascending order: the last one of each key wins.
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether a run exists at all (an import skips runs it has copied before).
    pub fn run_exists(&self, run_id: &str) -> StoreResult<bool> {
        match self.run(run_id) {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn set_experiment_tags_in(
    conn: &Connection,
    id: i64,
    tags: &[(String, String)],
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value",
    )?;
    for (key, value) in tags {
        stmt.execute(params![id, key, value])?;
    }
    conn.execute(
        "UPDATE experiments SET updated_at = ?2 WHERE id = ?1",
        params![id, now_rfc3339()],
    )?;
    Ok(())
}
