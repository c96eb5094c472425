//! Registered datasets and their versions: the exact bytes each run trained on.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{DatasetVersion, Store, StoreError, StoreResult, now_rfc3339};

const VERSION_COLUMNS: &str =
    "v.id, d.name, v.version, v.path, v.fingerprint, v.schema_json, v.rows, v.created_at";

fn version_from_row(row: &Row<'_>) -> rusqlite::Result<(DatasetVersion, String)> {
    Ok((
        DatasetVersion {
            id: row.get(0)?,
            dataset: row.get(1)?,
            version: row.get(2)?,
            path: row.get(3)?,
            fingerprint: row.get(4)?,
            schema: serde_json::Value::Null,
            rows: row.get(6)?,
            created_at: row.get(7)?,
        },
        row.get(5)?,
    ))
}

fn with_schema((mut version, schema): (DatasetVersion, String)) -> StoreResult<DatasetVersion> {
    version.schema = serde_json::from_str(&schema)?;
    Ok(version)
}

fn find_version(
    conn: &Connection,
    dataset: &str,
    fingerprint: &str,
) -> StoreResult<Option<DatasetVersion>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id \
         WHERE d.name = ?1 AND v.fingerprint = ?2"
    );
    conn.query_row(&sql, params![dataset, fingerprint], version_from_row)
        .optional()?
        .map(with_schema)
        .transpose()
}

/// What is known about a file when it is registered as a dataset version.
#[derive(Debug, Clone)]
pub struct NewDatasetVersion<'a> {
    /// Dataset name (versions of one dataset share it).
    pub name: &'a str,
    /// Path the data was read from.
    pub path: &'a str,
    /// sha256 of the file's bytes.
    pub fingerprint: &'a str,
    /// Column names and types.
    pub schema: &'a serde_json::Value,
    /// Number of rows.
    pub rows: i64,
}

impl Store {
    /// Registers a dataset version. The same bytes registered again return the existing
    /// version; changed bytes become the next version of the same dataset.
    pub fn register_dataset_version(
        &self,
        new: &NewDatasetVersion<'_>,
    ) -> StoreResult<DatasetVersion> {
        if new.name.trim().is_empty() {
            return Err(StoreError::Invalid {
                what: "dataset name",
                reason: "it is empty".into(),
            });
        }
        let schema = serde_json::to_string(new.schema)?;
        self.in_transaction(|conn| {
            if let Some(existing) = find_version(conn, new.name, new.fingerprint)? {
                return Ok(existing);
            }
            let now = now_rfc3339();
            conn.execute(
                "INSERT INTO datasets (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![new.name, now],
            )?;
            conn.execute(
                "INSERT INTO dataset_versions (dataset_id, version, path, fingerprint, schema_json, rows, created_at) \
                 SELECT d.id, COALESCE((SELECT MAX(version) FROM dataset_versions WHERE dataset_id = d.id), 0) + 1, \
                        ?2, ?3, ?4, ?5, ?6 FROM datasets d WHERE d.name = ?1",
                params![new.name, new.path, new.fingerprint, schema, new.rows, now],
            )?;
            find_version(conn, new.name, new.fingerprint)?.ok_or_else(|| StoreError::NotFound {
                kind: "dataset version",
                key: format!("{}@{}", new.name, new.fingerprint),
            })
        })
    }

    /// All versions of a dataset, oldest first.
    pub fn dataset_versions(&self, name: &str) -> StoreResult<Vec<DatasetVersion>> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id \
             WHERE d.name = ?1 ORDER BY v.version"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([name], version_from_row)?;
        rows.map(|row| with_schema(row?)).collect()
    }

    /// One dataset version by id.
    pub fn dataset_version(&self, id: i64) -> StoreResult<DatasetVersion> {
        let conn = self.lock();
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE v.id = ?1"
        );
        conn.query_row(&sql, [id], version_from_row)
            .optional()?
            .map(with_schema)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                kind: "dataset version",
                key: id.to_string(),
            })
    }

    /// Names of all registered datasets.
    pub fn dataset_names(&self) -> StoreResult<Vec<String>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT name FROM datasets ORDER BY name")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
