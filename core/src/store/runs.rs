//! Experiments, runs, and what is logged to runs: params, metrics, step series, tags.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    Experiment, MetricPoint, NewRun, Run, RunDetail, RunQuery, RunStatus, Store, StoreError,
    StoreResult, now_rfc3339,
};

const RUN_COLUMNS: &str = "r.id, r.experiment_id, e.name, r.name, r.status, r.start_time, \
     r.end_time, r.seed, r.dataset_fingerprint, r.dataset_version_id, r.parent_run_id, \
     r.kiln_version, r.git_commit, r.error, r.note, r.deleted_at";

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    let status: String = row.get(4)?;
    let status = status.parse::<RunStatus>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Run {
        id: row.get(0)?,
        experiment_id: row.get(1)?,
        experiment: row.get(2)?,
        name: row.get(3)?,
        status,
        start_time: row.get(5)?,
        end_time: row.get(6)?,
        seed: row.get(7)?,
        dataset_fingerprint: row.get(8)?,
        dataset_version_id: row.get(9)?,
        parent_run_id: row.get(10)?,
        kiln_version: row.get(11)?,
        git_commit: row.get(12)?,
        error: row.get(13)?,
        note: row.get(14)?,
        deleted_at: row.get(15)?,
    })
}

fn check_name(what: &'static str, name: &str) -> StoreResult<()> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid {
            what,
            reason: "it is empty".into(),
        });
    }
    Ok(())
}

fn check_metric(key: &str, value: f64) -> StoreResult<()> {
    check_name("metric name", key)?;
    if value.is_nan() {
        return Err(StoreError::Invalid {
            what: "metric value",
            reason: format!("{key} is NaN"),
        });
    }
    Ok(())
}

fn ensure_experiment_in(conn: &Connection, name: &str) -> StoreResult<Experiment> {
    check_name("experiment name", name)?;
    conn.execute(
        "INSERT INTO experiments (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
        params![name, now_rfc3339()],
    )?;
    Ok(conn.query_row(
        "SELECT id, name, created_at FROM experiments WHERE name = ?1",
        [name],
        |row| {
            Ok(Experiment {
                id: row.get(0)?,
                name: row.get(1)?,
                created_at: row.get(2)?,
            })
        },
    )?)
}

pub(super) fn insert_pairs(
    conn: &Connection,
    table: &str,
    run_id: &str,
    pairs: &[(String, String)],
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {table} (run_id, key, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    for (key, value) in pairs {
        check_name("key", key)?;
        stmt.execute(params![run_id, key, value])?;
    }
    Ok(())
}

pub(super) fn insert_metrics(
    conn: &Connection,
    run_id: &str,
    metrics: &[(String, f64)],
) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO metrics (run_id, key, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
    )?;
    for (key, value) in metrics {
        check_metric(key, *value)?;
        stmt.execute(params![run_id, key, value])?;
    }
    Ok(())
}

fn insert_run(conn: &Connection, new: &NewRun) -> StoreResult<String> {
    let experiment = ensure_experiment_in(conn, &new.experiment)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let owner = super::lifecycle::ProcessIdentity::current();
    let name = new
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("run-{}", &id[..8]));
    conn.execute(
        "INSERT INTO runs (id, experiment_id, name, status, start_time, seed, dataset_fingerprint, \
         dataset_version_id, parent_run_id, kiln_version, git_commit, owner_host, owner_pid, \
         owner_started) \
         VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            id,
            experiment.id,
            name,
            now_rfc3339(),
            new.seed,
            new.dataset_fingerprint,
            new.dataset_version_id,
            new.parent_run_id,
            crate::KILN_VERSION,
            new.git_commit,
            owner.host,
            owner.pid,
            owner.started,
        ],
    )?;
    insert_pairs(conn, "params", &id, &new.params)?;
    insert_pairs(conn, "tags", &id, &new.tags)?;
    Ok(id)
}

pub(super) fn end_run(
    conn: &Connection,
    run_id: &str,
    status: RunStatus,
    error: Option<&str>,
) -> StoreResult<()> {
    let changed = conn.execute(
        "UPDATE runs SET status = ?2, end_time = ?3, error = ?4 WHERE id = ?1",
        params![run_id, status.as_str(), now_rfc3339(), error],
    )?;
    if changed == 0 {
        return Err(not_found(run_id));
    }
    Ok(())
}

pub(super) fn not_found(run_id: &str) -> StoreError {
    StoreError::NotFound {
        kind: "run",
        key: run_id.to_owned(),
    }
}

impl Store {
    /// Returns the experiment called `name`, creating it if needed.
    pub fn ensure_experiment(&self, name: &str) -> StoreResult<Experiment> {
        ensure_experiment_in(&self.lock(), name)
    }

    /// All experiments, by name.
    pub fn experiments(&self) -> StoreResult<Vec<Experiment>> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT id, name, created_at FROM experiments ORDER BY name")?;
        let rows = stmt.query_map([], |row| {
            Ok(Experiment {
                id: row.get(0)?,
                name: row.get(1)?,
                created_at: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Starts a run (status `running`) with its initial params and tags, in one transaction.
    pub fn start_run(&self, new: &NewRun) -> StoreResult<Run> {
        let id = {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = insert_run(&tx, new)?;
            tx.commit()?;
            id
        };
        self.wrote();
        self.run(&id)
    }

    /// Records a whole run — params, tags, metrics and final status — in one transaction,
    /// so readers see all of it or none of it.
    pub fn record_run(
        &self,
        new: &NewRun,
        metrics: &[(String, f64)],
        status: RunStatus,
    ) -> StoreResult<Run> {
        let id = {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = insert_run(&tx, new)?;
            insert_metrics(&tx, &id, metrics)?;
            end_run(&tx, &id, status, None)?;
            tx.commit()?;
            id
        };
        self.wrote();
        self.run(&id)
    }

    /// Adds or replaces parameters of a run.
    pub fn log_params(&self, run_id: &str, params: &[(String, String)]) -> StoreResult<()> {
        self.in_transaction(|conn| insert_pairs(conn, "params", run_id, params))
    }

    /// Adds or replaces tags of a run.
    pub fn set_tags(&self, run_id: &str, tags: &[(String, String)]) -> StoreResult<()> {
        self.in_transaction(|conn| insert_pairs(conn, "tags", run_id, tags))
    }

    /// Adds or replaces scalar metrics of a run.
    pub fn log_metrics(&self, run_id: &str, metrics: &[(String, f64)]) -> StoreResult<()> {
        self.in_transaction(|conn| insert_metrics(conn, run_id, metrics))
    }

    /// Appends points to a step-series metric (e.g. loss per epoch); a repeated step replaces
    /// the earlier value. The latest point also becomes the metric's scalar value.
    pub fn log_metric_steps(
        &self,
        run_id: &str,
        key: &str,
        points: &[(i64, f64)],
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let now = now_rfc3339();
            let mut stmt = conn.prepare_cached(
                "INSERT INTO metric_steps (run_id, key, step, value, wall_time) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(run_id, key, step) DO UPDATE SET value = excluded.value, wall_time = excluded.wall_time",
            )?;
            for &(step, value) in points {
                check_metric(key, value)?;
                stmt.execute(params![run_id, key, step, value, now])?;
            }
            if let Some(&(_, last)) = points.iter().max_by_key(|(step, _)| *step) {
                insert_metrics(conn, run_id, &[(key.to_owned(), last)])?;
            }
            Ok(())
        })
    }

    /// Marks a run ended with `status` (and the error of a failed run).
    pub fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        error: Option<&str>,
    ) -> StoreResult<()> {
        self.in_transaction(|conn| end_run(conn, run_id, status, error))
    }

    /// Replaces the free-text note of a run.
    pub fn set_note(&self, run_id: &str, note: &str) -> StoreResult<()> {
        self.update_run_column(run_id, RunColumn::Note, Some(note.to_owned()))
    }

    /// Renames a run.
    pub fn rename_run(&self, run_id: &str, name: &str) -> StoreResult<()> {
        check_name("run name", name)?;
        self.update_run_column(run_id, RunColumn::Name, Some(name.to_owned()))
    }

    /// Soft-deletes a run: hidden from listings, restorable with [`Store::restore_run`].
    pub fn delete_run(&self, run_id: &str) -> StoreResult<()> {
        self.update_run_column(run_id, RunColumn::DeletedAt, Some(now_rfc3339()))
    }

    /// Undoes [`Store::delete_run`].
    pub fn restore_run(&self, run_id: &str) -> StoreResult<()> {
        self.update_run_column(run_id, RunColumn::DeletedAt, None)
    }

    fn update_run_column(
        &self,
        run_id: &str,
        column: RunColumn,
        value: Option<String>,
    ) -> StoreResult<()> {
        let sql = format!("UPDATE runs SET {} = ?2 WHERE id = ?1", column.sql_name());
        let changed = self.lock().execute(&sql, params![run_id, value])?;
        if changed == 0 {
            return Err(not_found(run_id));
        }
        // SQLite's data_version only moves for other connections: count our own write too,
        // or views of this process never see their own edits.
        self.wrote();
        Ok(())
    }

    /// One run by id.
    pub fn run(&self, run_id: &str) -> StoreResult<Run> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?1"
        );
        conn.query_row(&sql, [run_id], run_from_row)
            .optional()?
            .ok_or_else(|| not_found(run_id))
    }

    /// Runs matching `query`, newest first.
    pub fn runs(&self, query: &RunQuery) -> StoreResult<Vec<Run>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r JOIN experiments e ON e.id = r.experiment_id \
             WHERE (?1 IS NULL OR e.name = ?1) AND (?2 OR r.deleted_at IS NULL) \
             ORDER BY r.start_time DESC, r.id"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![query.experiment, query.include_deleted],
            run_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether any live (not deleted) run exists: a cheap check for start-up.
    pub fn has_runs(&self) -> StoreResult<bool> {
        let conn = self.lock();
        Ok(conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE deleted_at IS NULL)",
            [],
            |row| row.get(0),
        )?)
    }

    /// A run with its params, metrics, tags, artifacts and series names.
    pub fn run_detail(&self, run_id: &str) -> StoreResult<RunDetail> {
        let run = self.run(run_id)?;
        let conn = self.lock();
        let params = string_map(
            &conn,
            "SELECT key, value FROM params WHERE run_id = ?1",
            run_id,
        )?;
        let tags = string_map(
            &conn,
            "SELECT key, value FROM tags WHERE run_id = ?1",
            run_id,
        )?;
        let mut stmt = conn.prepare("SELECT key, value FROM metrics WHERE run_id = ?1")?;
        let metrics = stmt
            .query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<BTreeMap<String, f64>, _>>()?;
        let mut stmt =
            conn.prepare("SELECT DISTINCT key FROM metric_steps WHERE run_id = ?1 ORDER BY key")?;
        let series = stmt
            .query_map([run_id], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        drop(stmt);
        let artifacts = super::artifacts::artifacts_of(&conn, run_id)?;
        Ok(RunDetail {
            run,
            params,
            metrics,
            tags,
            artifacts,
            series,
        })
    }

    /// Runs matching `query` with their params, metrics and tags, in three bulk reads
    /// (listing thousands of runs must not cost a query per run). Artifacts are left empty.
    pub fn run_details(&self, query: &RunQuery) -> StoreResult<Vec<RunDetail>> {
        let runs = self.runs(query)?;
        // Params and tags are read on connections of their own while this one reads the
        // metrics: at 10,000 runs these reads are most of opening the Experiments workspace,
        // and WAL lets readers work side by side.
        let db_path = self.db_path();
        let read_strings = |table: &'static str| -> StoreResult<PerRun<String>> {
            let conn = super::open_connection(&db_path)?;
            bulk_pairs::<String>(&conn, table)
        };
        let (params, tags, metrics) = std::thread::scope(|scope| {
            let spawn = |table: &'static str| {
                std::thread::Builder::new()
                    .name(format!("kiln-read-{table}"))
                    .spawn_scoped(scope, move || read_strings(table))
            };
            let params = spawn("params");
            let tags = spawn("tags");
            let metrics = bulk_pairs::<f64>(&self.lock(), "metrics");
            let join = |handle: std::io::Result<
                std::thread::ScopedJoinHandle<'_, StoreResult<PerRun<String>>>,
            >,
                        table: &'static str| {
                match handle {
                    // The thread could not start: read on this one instead.
                    Err(_) => bulk_pairs::<String>(&self.lock(), table),
                    Ok(h) => h
                        .join()
                        .unwrap_or_else(|_| bulk_pairs::<String>(&self.lock(), table)),
                }
            };
            (join(params, "params"), join(tags, "tags"), metrics)
        });
        let (mut params, mut tags, mut metrics) = (params?, tags?, metrics?);
        Ok(runs
            .into_iter()
            .map(|run| RunDetail {
                params: params.remove(&run.id).unwrap_or_default(),
                metrics: metrics.remove(&run.id).unwrap_or_default(),
                tags: tags.remove(&run.id).unwrap_or_default(),
                artifacts: Vec::new(),
                series: Vec::new(),
                run,
            })
            .collect())
    }

    /// One summary of every step series of every run: `(run id, series name) -> value`, where
    /// `how` is `min`, `max` or `mean` (the scalar metric already holds the last value).
    pub fn series_summaries(
        &self,
        how: &str,
    ) -> StoreResult<std::collections::HashMap<(String, String), f64>> {
        let function = match how {
            "min" => "MIN",
            "max" => "MAX",
            "mean" => "AVG",
            other => {
                return Err(StoreError::Invalid {
                    what: "series summary",
                    reason: format!("'{other}' (expected min, max or mean)"),
                });
            }
        };
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT run_id, key, {function}(value) FROM metric_steps GROUP BY run_id, key"
        ))?;
        let rows = stmt.query_map([], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// All points of one step-series metric, by step.
    pub fn metric_history(&self, run_id: &str, key: &str) -> StoreResult<Vec<MetricPoint>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT step, value, wall_time FROM metric_steps WHERE run_id = ?1 AND key = ?2 ORDER BY step",
        )?;
        let rows = stmt.query_map(params![run_id, key], |row| {
            Ok(MetricPoint {
                step: row.get(0)?,
                value: row.get(1)?,
                wall_time: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Runs `f` inside one `IMMEDIATE` transaction: all of its writes land, or none.
    pub(super) fn in_transaction<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        drop(conn);
        self.wrote();
        Ok(value)
    }
}

fn string_map(conn: &Connection, sql: &str, run_id: &str) -> StoreResult<BTreeMap<String, String>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The user-editable columns of a run (a closed set, so SQL is never built from input).
#[derive(Clone, Copy)]
enum RunColumn {
    Name,
    Note,
    DeletedAt,
}

impl RunColumn {
    fn sql_name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Note => "note",
            Self::DeletedAt => "deleted_at",
        }
    }
}

type PerRun<V> = std::collections::HashMap<String, BTreeMap<String, V>>;

fn bulk_pairs<V: rusqlite::types::FromSql>(
    conn: &Connection,
    table: &str,
) -> StoreResult<PerRun<V>> {
    // Rows come in insertion order, which is run by run: allocate each run id once per run,
    // not once per row (10,000 runs x 40 pairs is 400,000 rows).
    let mut stmt = conn.prepare(&format!("SELECT run_id, key, value FROM {table}"))?;
    let mut rows = stmt.query([])?;
    let mut out = PerRun::<V>::new();
    let mut current: Option<(String, BTreeMap<String, V>)> = None;
    while let Some(row) = rows.next()? {
        let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        if current.as_ref().map(|(c, _)| c.as_str()) != Some(id) {
            if let Some((run, pairs)) = current.take() {
                out.entry(run).or_default().extend(pairs);
            }
            current = Some((id.to_owned(), BTreeMap::new()));
        }
        if let Some((_, pairs)) = current.as_mut() {
            pairs.insert(row.get(1)?, row.get(2)?);
        }
    }
    if let Some((run, pairs)) = current {
        out.entry(run).or_default().extend(pairs);
    }
    Ok(out)
}
