//! MLflow 3's LoggedModels: a model an outside client logged, with its own files (not the
//! run's), params, tags and the metrics logged against it. Registry versions made through
//! MLflow's API point at one.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{ArtifactRef, Store, StoreError, StoreResult, now_rfc3339};

/// One logged model.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedModel {
    /// `m-` and 32 hex characters.
    pub id: String,
    /// Experiment id.
    pub experiment_id: i64,
    /// Its name within the run (`model`).
    pub name: String,
    /// The run that logged it.
    pub source_run_id: Option<String>,
    /// `LOGGED_MODEL_PENDING`, `LOGGED_MODEL_READY` or `LOGGED_MODEL_UPLOAD_FAILED`.
    pub status: String,
    /// Free text the client may set.
    pub model_type: String,
    /// Epoch milliseconds.
    pub created_ms: i64,
    /// Epoch milliseconds.
    pub updated_ms: i64,
    /// Params, in the order sent.
    pub params: Vec<(String, String)>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

/// A metric logged against a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMetric {
    /// Name.
    pub key: String,
    /// Value.
    pub value: f64,
    /// Epoch milliseconds.
    pub timestamp_ms: i64,
    /// Step.
    pub step: i64,
    /// The run it was logged in.
    pub run_id: Option<String>,
    /// The dataset it was computed on.
    pub dataset_name: Option<String>,
    /// That dataset's digest.
    pub dataset_digest: Option<String>,
}

/// What a new logged model records.
#[derive(Debug, Clone, Default)]
pub struct NewLoggedModel {
    /// Experiment id.
    pub experiment_id: i64,
    /// Name.
    pub name: String,
    /// The run that logs it.
    pub source_run_id: Option<String>,
    /// Model type.
    pub model_type: String,
    /// Params.
    pub params: Vec<(String, String)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Keep this id (an import); a new one otherwise.
    pub id: Option<String>,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<(LoggedModel, String, String)> {
    Ok((
        LoggedModel {
            id: row.get(0)?,
            experiment_id: row.get(1)?,
            name: row.get(2)?,
            source_run_id: row.get(3)?,
            status: row.get(4)?,
            model_type: row.get(5)?,
            created_ms: row.get(6)?,
            updated_ms: row.get(7)?,
            params: Vec::new(),
            tags: BTreeMap::new(),
        },
        row.get(8)?,
        row.get(9)?,
    ))
}

const COLUMNS: &str = "id, experiment_id, name, source_run_id, status, model_type, created_ms, \
                       updated_ms, params_json, tags_json";

fn decode(row: (LoggedModel, String, String)) -> StoreResult<LoggedModel> {
    let (mut model, params, tags) = row;
    model.params = serde_json::from_str(&params)?;
    model.tags = serde_json::from_str(&tags)?;
    Ok(model)
}

fn get(conn: &Connection, id: &str) -> StoreResult<LoggedModel> {
    let sql = format!("SELECT {COLUMNS} FROM logged_models WHERE id = ?1 AND deleted_at IS NULL");
    let row = conn
        .query_row(&sql, [id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound {
            kind: "logged model",
            key: id.to_owned(),
        })?;
    decode(row)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Creates a logged model, `LOGGED_MODEL_PENDING` until its files are uploaded.
    pub fn create_logged_model(&self, new: &NewLoggedModel) -> StoreResult<LoggedModel> {
        self.experiment_info(new.experiment_id)?;
        let id = new
            .id
            .clone()
            .unwrap_or_else(|| format!("m-{}", uuid::Uuid::new_v4().simple()));
        let tags: BTreeMap<&String, &String> = new.tags.iter().map(|(k, v)| (k, v)).collect();
        self.in_transaction(|conn| {
            let now = now_ms();
            conn.execute(
                "INSERT INTO logged_models (id, experiment_id, name, source_run_id, status, \
                 model_type, created_ms, updated_ms, params_json, tags_json) \
                 VALUES (?1, ?2, ?3, ?4, 'LOGGED_MODEL_PENDING', ?5, ?6, ?6, ?7, ?8)",
                params![
                    id,
                    new.experiment_id,
                    new.name,
                    new.source_run_id,
                    new.model_type,
                    now,
                    serde_json::to_string(&new.params)?,
                    serde_json::to_string(&tags)?,
                ],
            )?;
            Ok(())
        })?;
        self.logged_model(&id)
    }

    /// One logged model.
    pub fn logged_model(&self, id: &str) -> StoreResult<LoggedModel> {
        get(&self.lock(), id)
    }

    /// Logged models of these experiments (all when empty), newest first.
    pub fn logged_models(&self, experiment_ids: &[i64]) -> StoreResult<Vec<LoggedModel>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM logged_models WHERE deleted_at IS NULL ORDER BY created_ms DESC, id"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], from_row)?;
        let mut out = Vec::new();
        for row in rows {
            let model = decode(row?)?;
            if experiment_ids.is_empty() || experiment_ids.contains(&model.experiment_id) {
                out.push(model);
            }
        }
        Ok(out)
    }

    /// Sets a logged model's status.
    pub fn set_logged_model_status(&self, id: &str, status: &str) -> StoreResult<LoggedModel> {
        self.logged_model(id)?;
        self.in_transaction(|conn| {
            conn.execute(
                "UPDATE logged_models SET status = ?2, updated_ms = ?3 WHERE id = ?1",
                params![id, status, now_ms()],
            )?;
            Ok(())
        })?;
        self.logged_model(id)
    }

    /// Sets (`Some`) or removes (`None`) tags of a logged model.
    pub fn set_logged_model_tags(
        &self,
        id: &str,
        tags: &[(String, Option<String>)],
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let mut model = get(conn, id)?;
            for (key, value) in tags {
                match value {
                    Some(v) => model.tags.insert(key.clone(), v.clone()),
                    None => model.tags.remove(key),
                };
            }
            conn.execute(
                "UPDATE logged_models SET tags_json = ?2, updated_ms = ?3 WHERE id = ?1",
                params![id, serde_json::to_string(&model.tags)?, now_ms()],
            )?;
            Ok(())
        })
    }

    /// Deletes a logged model (hidden; its files stay in the content store).
    pub fn delete_logged_model(&self, id: &str) -> StoreResult<()> {
        self.logged_model(id)?;
        self.in_transaction(|conn| {
            conn.execute(
                "UPDATE logged_models SET deleted_at = ?2 WHERE id = ?1",
                params![id, now_rfc3339()],
            )?;
            Ok(())
        })
    }

    /// Stores a file of a logged model under `path` (replacing an earlier one).
    pub fn put_logged_model_file(
        &self,
        id: &str,
        path: &str,
        bytes: &[u8],
    ) -> StoreResult<ArtifactRef> {
        self.logged_model(id)?;
        let sha = self.put_artifact(bytes)?;
        let file = ArtifactRef {
            name: path.to_owned(),
            sha256: sha,
            size: bytes.len() as u64,
            created_at: now_rfc3339(),
        };
        self.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO logged_model_files (model_id, path, sha256, size, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(model_id, path) DO UPDATE SET \
                 sha256 = excluded.sha256, size = excluded.size, created_at = excluded.created_at",
                params![
                    id,
                    file.name,
                    file.sha256,
                    file.size as i64,
                    file.created_at
                ],
            )?;
            Ok(())
        })?;
        Ok(file)
    }

    /// The files of a logged model, by path.
    pub fn logged_model_files(&self, id: &str) -> StoreResult<Vec<ArtifactRef>> {
        super::artifacts::artifact_refs(
            &self.lock(),
            "SELECT path, sha256, size, created_at FROM logged_model_files WHERE model_id = ?1 \
             ORDER BY path",
            id,
        )
    }

    /// Records metrics logged against models (each names its model).
    pub fn log_model_metrics(&self, metrics: &[(String, ModelMetric)]) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let mut stmt = conn.prepare_cached(
                "INSERT INTO logged_model_metrics (model_id, key, value, timestamp_ms, step, run_id, \
                 dataset_name, dataset_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (model_id, m) in metrics {
                get(conn, model_id)?;
                stmt.execute(params![
                    model_id,
                    m.key,
                    m.value,
                    m.timestamp_ms,
                    m.step,
                    m.run_id,
                    m.dataset_name,
                    m.dataset_digest
                ])?;
            }
            Ok(())
        })
    }

    /// The metrics logged against a model, in the order logged.
    pub fn model_metrics(&self, id: &str) -> StoreResult<Vec<ModelMetric>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT key, value, timestamp_ms, step, run_id, dataset_name, dataset_digest \
             FROM logged_model_metrics WHERE model_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([id], |row| {
            Ok(ModelMetric {
                key: row.get(0)?,
                value: row.get(1)?,
                timestamp_ms: row.get(2)?,
                step: row.get(3)?,
                run_id: row.get(4)?,
                dataset_name: row.get(5)?,
                dataset_digest: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
