//! What an import from MLflow needs beyond the client API: the source's own times on
//! experiments and logged models it creates, how much an already-imported run holds (for
//! the summary's "already there"), and which versions carry a tag value (the MLflow version
//! number an imported version came from).

use std::collections::BTreeMap;

use rusqlite::params;

use super::external::ms_to_rfc3339;
use super::registry::model_id;
use super::{Store, StoreResult};

impl Store {
    /// Sets an experiment's creation and update times to the source's (epoch milliseconds),
    /// each when given.
    pub fn set_experiment_times(
        &self,
        id: i64,
        created_ms: Option<i64>,
        updated_ms: Option<i64>,
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            if let Some(ms) = created_ms {
                conn.execute(
                    "UPDATE experiments SET created_at = ?2 WHERE id = ?1",
                    params![id, ms_to_rfc3339(ms)],
                )?;
            }
            if let Some(ms) = updated_ms.or(created_ms) {
                conn.execute(
                    "UPDATE experiments SET updated_at = ?2 WHERE id = ?1",
                    params![id, ms_to_rfc3339(ms)],
                )?;
            }
            Ok(())
        })
    }

    /// Sets a logged model's creation and update times to the source's, each when given.
    pub fn set_logged_model_times(
        &self,
        id: &str,
        created_ms: Option<i64>,
        updated_ms: Option<i64>,
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            if let Some(ms) = created_ms {
                conn.execute(
                    "UPDATE logged_models SET created_ms = ?2 WHERE id = ?1",
                    params![id, ms],
                )?;
            }
            if let Some(ms) = updated_ms.or(created_ms) {
                conn.execute(
                    "UPDATE logged_models SET updated_ms = ?2 WHERE id = ?1",
                    params![id, ms],
                )?;
            }
            Ok(())
        })
    }

    /// How many metric points (step-series values) and artifact files a run holds.
    pub fn run_content_counts(&self, run_id: &str) -> StoreResult<(u64, u64)> {
        let conn = self.lock();
        let points: i64 = conn.query_row(
            "SELECT count(*) FROM metric_steps WHERE run_id = ?1",
            [run_id],
            |row| row.get(0),
        )?;
        let artifacts: i64 = conn.query_row(
            "SELECT count(*) FROM artifacts WHERE run_id = ?1",
            [run_id],
            |row| row.get(0),
        )?;
        Ok((points.max(0) as u64, artifacts.max(0) as u64))
    }

    /// The versions of model `name` that carry tag `key`, by the tag's value.
    pub fn versions_by_tag(&self, name: &str, key: &str) -> StoreResult<BTreeMap<String, i64>> {
        let conn = self.lock();
        let id = model_id(&conn, name)?;
        let mut stmt = conn.prepare(
            "SELECT value, version FROM model_version_tags WHERE model_id = ?1 AND key = ?2",
        )?;
        let rows = stmt.query_map(params![id, key], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{ClientMetric, ClientRun, NewLoggedModel, Store};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        (dir, store)
    }

    #[test]
    fn an_experiment_keeps_the_sources_creation_time() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, store) = store();
        let id = store.create_experiment("demo", &[])?;
        store.set_experiment_times(id, Some(0), None)?;
        let info = store.experiment_info(id)?;
        assert_eq!(info.experiment.created_at, "1970-01-01T00:00:00.000Z");
        assert_eq!(info.updated_at.as_deref(), Some("1970-01-01T00:00:00.000Z"));
        Ok(())
    }

    #[test]
    fn a_logged_model_keeps_the_sources_times() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, store) = store();
        let experiment_id = store.create_experiment("demo", &[])?;
        let model = store.create_logged_model(&NewLoggedModel {
            experiment_id,
            name: "model".into(),
            id: Some("m-0123".into()),
            ..Default::default()
        })?;
        store.set_logged_model_times(&model.id, Some(5), Some(7))?;
        let model = store.logged_model("m-0123")?;
        assert_eq!((model.created_ms, model.updated_ms), (5, 7));
        Ok(())
    }

    #[test]
    fn a_runs_content_is_counted() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, store) = store();
        let experiment_id = store.create_experiment("demo", &[])?;
        let run = store.start_client_run(&ClientRun {
            experiment_id,
            start_ms: 1,
            ..Default::default()
        })?;
        let point = |step| ClientMetric {
            key: "loss".into(),
            value: 1.0,
            timestamp_ms: 1,
            step,
        };
        store.log_client_metrics(&run, &[point(0), point(1)])?;
        store.log_artifact(&run, "a/b.txt", b"x")?;
        assert_eq!(store.run_content_counts(&run)?, (2, 1));
        Ok(())
    }
}
