//! The tables of an `mlflow.db` read per run or per model: dataset inputs with their tags,
//! run outputs, metrics logged against LoggedModels, and model versions with their tags.

use rusqlite::params;

use super::SqliteStore;
use crate::mlflow::import::{ImportError, SourceVersion, stage};
use crate::store::{ModelMetric, RunInput};

impl SqliteStore {
    pub(super) fn inputs(&self, run_id: &str) -> Result<Vec<RunInput>, ImportError> {
        let fail = self.fail("reading inputs");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, \
                 d.dataset_profile, i.input_uuid FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id \
                 WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND i.destination_id = ?1 \
                 ORDER BY d.name, d.digest",
            )
            .map_err(&fail)?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok((
                    RunInput {
                        name: r.get(0)?,
                        digest: r.get(1)?,
                        source_type: r.get(2)?,
                        source: r.get(3)?,
                        schema: r.get(4)?,
                        profile: r.get(5)?,
                        tags: Vec::new(),
                    },
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(&fail)?;
        let mut out = Vec::new();
        for row in rows {
            let (mut input, uuid) = row.map_err(&fail)?;
            input.tags = self.pairs(
                "input_tags",
                "SELECT name, value FROM input_tags WHERE input_uuid = ?1 ORDER BY name",
                &uuid,
            )?;
            out.push(input);
        }
        Ok(out)
    }

    pub(super) fn outputs(&self, run_id: &str) -> Result<Vec<(String, i64)>, ImportError> {
        let step = if self.has_column("inputs", "step") {
            "step"
        } else {
            "0"
        };
        let sql = format!(
            "SELECT destination_id, {step} FROM inputs WHERE source_type = 'RUN_OUTPUT' \
             AND source_id = ?1 AND destination_type = 'MODEL_OUTPUT' ORDER BY destination_id"
        );
        let fail = self.fail("reading run outputs");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(&fail)?;
        let rows = stmt
            .query_map([run_id], |r| {
                Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0)))
            })
            .map_err(&fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    pub(super) fn model_metrics(&self, model_id: &str) -> Result<Vec<ModelMetric>, ImportError> {
        if !self.has("logged_model_metrics") {
            return Ok(Vec::new());
        }
        let fail = self.fail("reading logged_model_metrics");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT metric_name, metric_value, metric_timestamp_ms, metric_step, run_id, \
                 dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id = ?1 \
                 AND metric_value IS NOT NULL ORDER BY metric_name, metric_timestamp_ms, metric_step",
            )
            .map_err(&fail)?;
        let rows = stmt
            .query_map([model_id], |r| {
                Ok(ModelMetric {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    timestamp_ms: r.get(2)?,
                    step: r.get(3)?,
                    run_id: r.get(4)?,
                    dataset_name: r.get(5)?,
                    dataset_digest: r.get(6)?,
                })
            })
            .map_err(&fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)
    }

    pub(super) fn versions(&self, name: &str) -> Result<Vec<SourceVersion>, ImportError> {
        if !self.has("model_versions") {
            return Ok(Vec::new());
        }
        let fail = self.fail("reading model_versions");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT version, source, run_id, description, current_stage FROM model_versions \
                 WHERE name = ?1 AND COALESCE(current_stage, 'None') != 'Deleted_Internal' ORDER BY version",
            )
            .map_err(&fail)?;
        let rows = stmt
            .query_map([name], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(&fail)?;
        let rows: Vec<_> = rows.collect::<Result<_, _>>().map_err(&fail)?;
        let mut out = Vec::new();
        for (version, source, run_id, description, current) in rows {
            let tags = if self.has("model_version_tags") {
                let mut stmt = self
                    .conn
                    .prepare_cached(
                        "SELECT key, value FROM model_version_tags WHERE name = ?1 AND version = ?2 ORDER BY key",
                    )
                    .map_err(&fail)?;
                let rows = stmt
                    .query_map(params![name, version], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                        ))
                    })
                    .map_err(&fail)?;
                rows.collect::<Result<_, _>>().map_err(&fail)?
            } else {
                Vec::new()
            };
            let source = source.unwrap_or_default();
            let model_id = source
                .strip_prefix("models:/")
                .filter(|m| m.starts_with("m-"))
                .map(|m| m.trim_end_matches('/').to_owned());
            out.push(SourceVersion {
                version,
                source,
                run_id: run_id.filter(|r| !r.is_empty()),
                model_id,
                description: description.unwrap_or_default(),
                stage: stage(current.as_deref().unwrap_or("None")),
                tags,
            });
        }
        Ok(out)
    }
}
