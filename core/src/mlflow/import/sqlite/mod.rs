//! MLflow's database store, an `mlflow.db` (SQLite), opened read-only. Its tables are
//! SQLAlchemy's (`experiments`, `runs`, `metrics`, `params`, `tags`, `inputs`, `datasets`,
//! `logged_models*`, `registered_models`, `model_versions`, ...); tables that older MLflow
//! versions lack are read as empty. Artifacts are files under the artifact root, found at
//! `<root>/<experiment>/<run>/artifacts` (`--artifacts DIR`), else where each run's
//! `artifact_uri` says, else below `mlartifacts/` beside the database (where `mlflow server`
//! keeps proxied artifacts by default).

mod tables;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::{
    ImportError, MlflowSource, PathOrUrl, RunData, RunHead, SourceExperiment, SourceFile,
    SourceLoggedModel, SourceRegisteredModel, files_below, local_path, logged_model_status,
    run_status,
};
use crate::store::ClientMetric;

/// Whether the file starts with SQLite's header.
pub fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok()
        && &header == b"SQLite format 3\0"
}

/// An open `mlflow.db`.
pub struct SqliteStore {
    path: PathBuf,
    conn: Connection,
    tables: BTreeSet<String>,
    artifacts: Option<PathBuf>,
    notes: Mutex<Vec<String>>,
}

impl SqliteStore {
    /// Opens `path` read-only; `artifacts` is the artifact root when given.
    pub fn open(path: &Path, artifacts: Option<PathBuf>) -> Result<Self, ImportError> {
        let fail =
            |e: rusqlite::Error| ImportError::file(path, format!("cannot read the database: {e}"));
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(fail)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(fail)?;
        let tables: BTreeSet<String> = {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(fail)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(fail)?;
            rows.collect::<Result<_, _>>().map_err(fail)?
        };
        if !(tables.contains("experiments") && tables.contains("runs")) {
            return Err(ImportError::NotAStore {
                place: path.display().to_string(),
                reason: "the database has no MLflow tables (experiments, runs)".into(),
            });
        }
        if let Some(dir) = &artifacts
            && !dir.is_dir()
        {
            return Err(ImportError::file(dir, "the artifact folder does not exist"));
        }
        Ok(Self {
            path: path.to_path_buf(),
            conn,
            tables,
            artifacts,
            notes: Mutex::new(Vec::new()),
        })
    }

    fn fail(&self, what: &str) -> impl Fn(rusqlite::Error) -> ImportError + '_ {
        let what = what.to_owned();
        move |e| ImportError::file(&self.path, format!("{what}: {e}"))
    }

    fn has(&self, table: &str) -> bool {
        self.tables.contains(table)
    }

    fn has_column(&self, table: &str, column: &str) -> bool {
        self.conn
            .prepare(&format!("SELECT {column} FROM {table} LIMIT 0"))
            .is_ok()
    }

    /// `(key, value)` rows of `sql` with one parameter; empty when `table` is absent.
    fn pairs(
        &self,
        table: &str,
        sql: &str,
        arg: &dyn rusqlite::ToSql,
    ) -> Result<Vec<(String, String)>, ImportError> {
        if !self.has(table) {
            return Ok(Vec::new());
        }
        let fail = self.fail(&format!("reading {table}"));
        let mut stmt = self.conn.prepare_cached(sql).map_err(&fail)?;
        let rows = stmt
            .query_map([arg], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })
            .map_err(&fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    fn note_once(&self, note: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// The folder holding an owner's files: `owner` is `<run>/artifacts` or
    /// `models/<id>/artifacts` below experiment `experiment`.
    fn files_dir(&self, experiment: &str, owner: &str, uri: Option<&str>) -> Option<PathBuf> {
        let beside = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut candidates = Vec::new();
        if let Some(root) = &self.artifacts {
            candidates.push(root.join(experiment).join(owner));
        }
        if let Some(uri) = uri {
            if let Some(path) = local_path(uri) {
                candidates.push(if path.is_relative() {
                    beside.join(path)
                } else {
                    path
                });
            } else if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
                // `mlflow-artifacts:/1/<run>/artifacts` or `mlflow-artifacts://host:port/1/...`.
                let rest = rest
                    .strip_prefix("//")
                    .map_or(rest, |r| r.split_once('/').map_or("", |(_, p)| p));
                let rest = rest.trim_start_matches('/');
                if let Some(root) = &self.artifacts {
                    candidates.push(root.join(rest));
                }
                // `mlflow server`'s default --artifacts-destination, and the usual name.
                candidates.push(beside.join("mlartifacts").join(rest));
                candidates.push(beside.join("artifacts").join(rest));
            } else {
                self.note_once(format!(
                    "artifacts stored at {} are not in a local folder and were not copied",
                    uri.split('/').take(3).collect::<Vec<_>>().join("/")
                ));
            }
        }
        candidates.into_iter().find(|c| c.is_dir())
    }

    fn experiment_row(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<SourceExperiment> {
        let id: i64 = row.get(0)?;
        Ok(SourceExperiment {
            id: id.to_string(),
            name: row.get(1)?,
            tags: Vec::new(),
            deleted: row.get::<_, Option<String>>(3)?.as_deref() == Some("deleted"),
            created_ms: row.get(4)?,
            updated_ms: row.get(5)?,
            place: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
        })
    }
}

fn experiment_key(id: &str) -> i64 {
    id.parse().unwrap_or(-1)
}

impl MlflowSource for SqliteStore {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn experiments(&self) -> Result<Vec<Result<SourceExperiment, ImportError>>, ImportError> {
        let times = if self.has_column("experiments", "creation_time") {
            "creation_time, last_update_time"
        } else {
            "NULL, NULL"
        };
        let sql = format!(
            "SELECT experiment_id, name, artifact_location, lifecycle_stage, {times} \
             FROM experiments ORDER BY experiment_id"
        );
        let fail = self.fail("reading experiments");
        let mut stmt = self.conn.prepare(&sql).map_err(&fail)?;
        let rows = stmt
            .query_map([], |row| self.experiment_row(row))
            .map_err(&fail)?;
        let mut out = Vec::new();
        for row in rows {
            let mut experiment = row.map_err(&fail)?;
            experiment.tags = self.pairs(
                "experiment_tags",
                "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 ORDER BY key",
                &experiment_key(&experiment.id),
            )?;
            if self.artifacts.is_none()
                && let Some(root) = local_path(&experiment.place)
                && !root.is_dir()
            {
                self.note_once(format!(
                    "the artifact folder {} recorded for experiment {} does not exist; pass \
                     --artifacts DIR (the folder holding <experiment id>/<run id>/artifacts) to copy artifacts",
                    root.display(),
                    experiment.name
                ));
            }
            out.push(Ok(experiment));
        }
        Ok(out)
    }

    fn runs(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<RunHead, ImportError>>, ImportError> {
        let parent = if self.has("tags") {
            "(SELECT value FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.parentRunId')"
        } else {
            "NULL"
        };
        let sql = format!(
            "SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, artifact_uri, \
             {parent} FROM runs r WHERE experiment_id = ?1 ORDER BY start_time, run_uuid"
        );
        let fail = self.fail("reading runs");
        let mut stmt = self.conn.prepare(&sql).map_err(&fail)?;
        let rows = stmt
            .query_map([experiment_key(&experiment.id)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                    row.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(&fail)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, status, start, end, lifecycle, artifact_uri, parent_id) =
                row.map_err(&fail)?;
            let bad = |reason: String| ImportError::file(&self.path, format!("run {id}: {reason}"));
            let head = match (status.as_deref().and_then(run_status), start) {
                (None, _) => Err(bad(format!(
                    "status '{}' is not an MLflow run status",
                    status.unwrap_or_default()
                ))),
                (_, None) => Err(bad("missing start_time".into())),
                (Some(status), Some(start_ms)) => Ok(RunHead {
                    experiment_id: experiment.id.clone(),
                    name: name.filter(|n| !n.is_empty()),
                    status,
                    start_ms,
                    end_ms: end,
                    deleted: lifecycle.as_deref() == Some("deleted"),
                    parent_id,
                    artifact_uri,
                    place: PathOrUrl::Path(self.path.clone()),
                    id,
                }),
            };
            out.push(head);
        }
        Ok(out)
    }

    fn run_data(&self, run: &RunHead) -> Result<RunData, ImportError> {
        let id = &run.id;
        let mut data = RunData {
            params: self.pairs(
                "params",
                "SELECT key, value FROM params WHERE run_uuid = ?1 ORDER BY key",
                id,
            )?,
            tags: self.pairs(
                "tags",
                "SELECT key, value FROM tags WHERE run_uuid = ?1 ORDER BY key",
                id,
            )?,
            ..Default::default()
        };
        if self.has("metrics") {
            let fail = self.fail("reading metrics");
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 \
                     ORDER BY key, timestamp, step",
                )
                .map_err(&fail)?;
            let rows = stmt
                .query_map([id], |r| {
                    let is_nan: bool = r.get::<_, Option<bool>>(4)?.unwrap_or(false);
                    Ok(ClientMetric {
                        key: r.get(0)?,
                        value: if is_nan { f64::NAN } else { r.get(1)? },
                        timestamp_ms: r.get(2)?,
                        step: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                    })
                })
                .map_err(&fail)?;
            data.metrics = rows.collect::<Result<_, _>>().map_err(fail)?;
        }
        if self.has("inputs") && self.has("datasets") {
            data.inputs = self.inputs(id)?;
            data.outputs = self.outputs(id)?;
        }
        let owner = format!("{id}/artifacts");
        if let Some(dir) = self.files_dir(&run.experiment_id, &owner, run.artifact_uri.as_deref()) {
            data.artifacts = files_below(&dir)?;
        }
        Ok(data)
    }

    fn logged_models(
        &self,
        experiment: &SourceExperiment,
    ) -> Result<Vec<Result<SourceLoggedModel, ImportError>>, ImportError> {
        if !self.has("logged_models") {
            return Ok(Vec::new());
        }
        let fail = self.fail("reading logged_models");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT model_id, name, artifact_location, creation_timestamp_ms, \
                 last_updated_timestamp_ms, status, model_type, source_run_id FROM logged_models \
                 WHERE experiment_id = ?1 AND COALESCE(lifecycle_stage, 'active') != 'deleted' \
                 ORDER BY creation_timestamp_ms, model_id",
            )
            .map_err(&fail)?;
        let rows = stmt
            .query_map([experiment_key(&experiment.id)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            })
            .map_err(&fail)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, location, created, updated, status, model_type, run) =
                row.map_err(&fail)?;
            let owner = format!("models/{id}/artifacts");
            let files = match self.files_dir(&experiment.id, &owner, location.as_deref()) {
                Some(dir) => files_below(&dir)?,
                None => Vec::new(),
            };
            out.push(Ok(SourceLoggedModel {
                experiment_id: experiment.id.clone(),
                name,
                source_run_id: run.filter(|r| !r.is_empty()),
                status: logged_model_status(&status.unwrap_or(0).to_string()),
                model_type: model_type.unwrap_or_default(),
                created_ms: created,
                updated_ms: updated,
                params: self.pairs(
                    "logged_model_params",
                    "SELECT param_key, param_value FROM logged_model_params WHERE model_id = ?1 ORDER BY param_key",
                    &id,
                )?,
                tags: self.pairs(
                    "logged_model_tags",
                    "SELECT tag_key, tag_value FROM logged_model_tags WHERE model_id = ?1 ORDER BY tag_key",
                    &id,
                )?,
                metrics: self.model_metrics(&id)?,
                files,
                place: PathOrUrl::Path(self.path.clone()),
                id,
            }));
        }
        Ok(out)
    }

    fn registered_models(
        &self,
    ) -> Result<Vec<Result<SourceRegisteredModel, ImportError>>, ImportError> {
        if !self.has("registered_models") {
            return Ok(Vec::new());
        }
        let fail = self.fail("reading registered_models");
        let names: Vec<(String, Option<String>)> = {
            let mut stmt = self
                .conn
                .prepare("SELECT name, description FROM registered_models ORDER BY name")
                .map_err(&fail)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(&fail)?;
            rows.collect::<Result<_, _>>().map_err(&fail)?
        };
        let mut out = Vec::new();
        for (name, description) in names {
            let aliases = self
                .pairs(
                    "registered_model_aliases",
                    "SELECT alias, CAST(version AS TEXT) FROM registered_model_aliases WHERE name = ?1 ORDER BY alias",
                    &name,
                )?
                .into_iter()
                .filter_map(|(alias, v)| Some((alias, v.parse().ok()?)))
                .collect();
            out.push(Ok(SourceRegisteredModel {
                tags: self.pairs(
                    "registered_model_tags",
                    "SELECT key, value FROM registered_model_tags WHERE name = ?1 ORDER BY key",
                    &name,
                )?,
                description: description.unwrap_or_default(),
                aliases,
                versions: self.versions(&name)?,
                place: PathOrUrl::Path(self.path.clone()),
                name,
            }));
        }
        Ok(out)
    }

    fn read(&self, file: &SourceFile) -> Result<Vec<u8>, ImportError> {
        match &file.at {
            PathOrUrl::Path(path) => std::fs::read(path)
                .map_err(|e| ImportError::file(path, format!("cannot read: {e}"))),
            PathOrUrl::Url(url) => Err(ImportError::Http {
                url: url.clone(),
                reason: "not a local file".into(),
            }),
        }
    }

    fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
