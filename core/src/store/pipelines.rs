//! Pipeline runs (migration 6): every `kiln run` of a `kiln.toml`, with which stages ran and
//! why, the training run, the version it registered, the data fingerprints and the git commit,
//! so that a version's lineage reaches the pipeline run that made it.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::audit::json_column;
use super::{Store, StoreResult};

/// A pipeline run as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRunRecord {
    /// Row id (0 before it is recorded).
    pub id: i64,
    /// `[pipeline] name`.
    pub pipeline: String,
    /// The absolute path of the `kiln.toml` that ran.
    pub project: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// `passed`, `failed` or `cancelled`.
    pub status: String,
    /// The failure, in words.
    pub error: Option<String>,
    /// The training run the pipeline stands on (ran now or up to date).
    pub run_id: Option<String>,
    /// The registered model.
    pub model: Option<String>,
    /// The version the pipeline registered (now or earlier, when up to date).
    pub model_version: Option<i64>,
    /// The commit of the project's git repository, if any.
    pub git_commit: Option<String>,
    /// The stages with status, reason and duration (JSON array).
    pub stages: serde_json::Value,
    /// The inputs: name -> path and sha256 (JSON object).
    pub inputs: serde_json::Value,
    /// The gate results (JSON array).
    pub gates: serde_json::Value,
}

impl PipelineRunRecord {
    /// The recorded stages that ran (not skipped as up to date).
    fn ran(&self) -> impl Iterator<Item = &serde_json::Value> {
        self.stages
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s.get("status").and_then(|v| v.as_str()) == Some("ran"))
    }

    /// How many stages did their work.
    pub fn stages_ran(&self) -> usize {
        self.ran().count()
    }

    /// Why the run did what it did: its failure, else why its first stage ran ("train:
    /// changed: params"), else that everything was up to date.
    pub fn why(&self) -> String {
        if let Some(error) = &self.error {
            return error.clone();
        }
        self.ran()
            .next()
            .and_then(|s| {
                let name = s.get("name").and_then(|v| v.as_str())?;
                let reason = s.get("reason").and_then(|v| v.as_str())?;
                Some(format!("{name}: {reason}"))
            })
            .unwrap_or_else(|| "up to date".to_owned())
    }
}

const COLUMNS: &str = "id, pipeline, project, started_at, finished_at, status, error, run_id, \
                       model, model_version, git_commit, stages_json, inputs_json, gates_json";

fn from_row(row: &Row<'_>) -> rusqlite::Result<PipelineRunRecord> {
    Ok(PipelineRunRecord {
        id: row.get(0)?,
        pipeline: row.get(1)?,
        project: row.get(2)?,
        started_at: row.get(3)?,
        finished_at: row.get(4)?,
        status: row.get(5)?,
        error: row.get(6)?,
        run_id: row.get(7)?,
        model: row.get(8)?,
        model_version: row.get(9)?,
        git_commit: row.get(10)?,
        stages: json_column(row.get(11)?),
        inputs: json_column(row.get(12)?),
        gates: json_column(row.get(13)?),
    })
}

impl Store {
    /// Records a finished pipeline run; returns its id.
    pub fn record_pipeline_run(&self, record: &PipelineRunRecord) -> StoreResult<i64> {
        self.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO pipeline_runs (pipeline, project, started_at, finished_at, status, \
                 error, run_id, model, model_version, git_commit, stages_json, inputs_json, gates_json) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    record.pipeline,
                    record.project,
                    record.started_at,
                    record.finished_at,
                    record.status,
                    record.error,
                    record.run_id,
                    record.model,
                    record.model_version,
                    record.git_commit,
                    record.stages.to_string(),
                    record.inputs.to_string(),
                    record.gates.to_string(),
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// The pipeline runs of one project (its `kiln.toml` path), newest first, at most `limit`.
    pub fn pipeline_runs(
        &self,
        project: &str,
        limit: usize,
    ) -> StoreResult<Vec<PipelineRunRecord>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM pipeline_runs WHERE project = ?1 ORDER BY id DESC LIMIT ?2"
        );
        let mut stmt = conn.prepare(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![project, limit], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The pipeline run that registered a version (the first one naming it), if any.
    pub fn pipeline_run_of_version(
        &self,
        model: &str,
        version: i64,
    ) -> StoreResult<Option<PipelineRunRecord>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {COLUMNS} FROM pipeline_runs WHERE model = ?1 AND model_version = ?2 \
             ORDER BY id LIMIT 1"
        );
        Ok(conn
            .query_row(&sql, params![model, version], from_row)
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(stages: serde_json::Value, error: Option<&str>) -> PipelineRunRecord {
        PipelineRunRecord {
            id: 1,
            pipeline: "p".into(),
            project: "/p/kiln.toml".into(),
            started_at: "2026-12-03T12:00:00Z".into(),
            finished_at: "2026-12-03T12:00:01Z".into(),
            status: if error.is_some() { "failed" } else { "passed" }.into(),
            error: error.map(str::to_owned),
            run_id: None,
            model: None,
            model_version: None,
            git_commit: None,
            stages,
            inputs: serde_json::json!({}),
            gates: serde_json::json!([]),
        }
    }

    #[test]
    fn a_record_says_why_it_ran_its_first_stage_or_that_nothing_changed() {
        let stages = serde_json::json!([
            {"name": "validate:train", "status": "skipped", "reason": "up to date"},
            {"name": "train", "status": "ran", "reason": "changed: params"},
            {"name": "evaluate", "status": "ran", "reason": "runs after train"},
        ]);
        let ran = record(stages, None);
        assert_eq!(ran.why(), "train: changed: params");
        assert_eq!(ran.stages_ran(), 2);
        let skipped =
            serde_json::json!([{"name": "train", "status": "skipped", "reason": "up to date"}]);
        assert_eq!(record(skipped.clone(), None).why(), "up to date");
        assert_eq!(
            record(skipped, Some("gates: accuracy 0.8 < 0.9")).why(),
            "gates: accuracy 0.8 < 0.9",
            "a failure is the reason"
        );
    }
}
