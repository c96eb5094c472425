//! What MLflow's registry API reads and writes beside stages and aliases: tags of models and
//! versions, descriptions, an empty registered model, removing an alias, and each version's
//! source. Changes that move what a reference resolves to (an alias) are audited.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::audit::append_audit;
use super::registry::{alias_version, audit_alias, model_id};
use super::{AuditEvent, Store, StoreError, StoreResult};

/// A registered model as MLflow shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredModelInfo {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// RFC 3339.
    pub created_at: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Aliases and the versions they name.
    pub aliases: BTreeMap<String, i64>,
}

/// Where a version came from, as an outside client named it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VersionSource {
    /// `models:/m-…`, `runs:/…/model`, ...
    pub source: Option<String>,
    /// The LoggedModel it was made from.
    pub logged_model_id: Option<String>,
}

fn pairs(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn version_exists(conn: &Connection, id: i64, name: &str, version: i64) -> StoreResult<()> {
    conn.query_row(
        "SELECT 1 FROM model_versions WHERE model_id = ?1 AND version = ?2",
        params![id, version],
        |_| Ok(()),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound {
        kind: "model version",
        key: format!("{name}:{version}"),
    })
}

impl Store {
    /// Creates a registered model with no versions yet, audited.
    pub fn create_registered_model(
        &self,
        name: &str,
        description: &str,
        tags: &[(String, String)],
        reason: &str,
    ) -> StoreResult<()> {
        super::registry::check_model_name(name)?;
        self.in_transaction(|conn| {
            if model_id(conn, name).is_ok() {
                return Err(StoreError::AlreadyExists {
                    kind: "registered model",
                    key: name.to_owned(),
                });
            }
            conn.execute(
                "INSERT INTO registered_models (name, description, created_at) VALUES (?1, ?2, ?3)",
                params![name, description, self.actor.now()],
            )?;
            let id = model_id(conn, name)?;
            for (key, value) in tags {
                conn.execute(
                    "INSERT INTO registered_model_tags (model_id, key, value) VALUES (?1, ?2, ?3)",
                    params![id, key, value],
                )?;
            }
            append_audit(
                conn,
                &self.actor,
                &AuditEvent {
                    model: name,
                    version: None,
                    action: "create",
                    reason,
                    before: serde_json::Value::Null,
                    after: serde_json::json!({ "description": description }),
                },
            )?;
            Ok(())
        })
    }

    /// A registered model with its tags and aliases.
    pub fn registered_model_info(&self, name: &str) -> StoreResult<RegisteredModelInfo> {
        let conn = self.lock();
        let id = model_id(&conn, name)?;
        let (description, created_at): (String, String) = conn.query_row(
            "SELECT description, created_at FROM registered_models WHERE id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let tags = pairs(
            &conn,
            "SELECT key, value FROM registered_model_tags WHERE model_id = ?1 ORDER BY key",
            [id],
        )?
        .into_iter()
        .collect();
        let mut stmt =
            conn.prepare_cached("SELECT alias, version FROM model_aliases WHERE model_id = ?1")?;
        let aliases = stmt
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(RegisteredModelInfo {
            name: name.to_owned(),
            description,
            created_at,
            tags,
            aliases,
        })
    }

    /// Sets (`Some`) or removes (`None`) a tag of a registered model.
    pub fn set_registered_model_tag(
        &self,
        name: &str,
        key: &str,
        value: Option<&str>,
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let id = model_id(conn, name)?;
            match value {
                Some(v) => conn.execute(
                    "INSERT INTO registered_model_tags (model_id, key, value) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(model_id, key) DO UPDATE SET value = excluded.value",
                    params![id, key, v],
                )?,
                None => conn.execute(
                    "DELETE FROM registered_model_tags WHERE model_id = ?1 AND key = ?2",
                    params![id, key],
                )?,
            };
            Ok(())
        })
    }

    /// Tags of one version.
    pub fn model_version_tags(
        &self,
        name: &str,
        version: i64,
    ) -> StoreResult<BTreeMap<String, String>> {
        let conn = self.lock();
        let id = model_id(&conn, name)?;
        Ok(pairs(
            &conn,
            "SELECT key, value FROM model_version_tags WHERE model_id = ?1 AND version = ?2 ORDER BY key",
            params![id, version],
        )?
        .into_iter()
        .collect())
    }

    /// Sets (`Some`) or removes (`None`) a tag of a version.
    pub fn set_model_version_tag(
        &self,
        name: &str,
        version: i64,
        key: &str,
        value: Option<&str>,
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let id = model_id(conn, name)?;
            version_exists(conn, id, name, version)?;
            match value {
                Some(v) => conn.execute(
                    "INSERT INTO model_version_tags (model_id, version, key, value) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(model_id, version, key) DO UPDATE SET value = excluded.value",
                    params![id, version, key, v],
                )?,
                None => conn.execute(
                    "DELETE FROM model_version_tags WHERE model_id = ?1 AND version = ?2 AND key = ?3",
                    params![id, version, key],
                )?,
            };
            Ok(())
        })
    }

    /// Replaces the description of a model (`version` = `None`) or of one version.
    pub fn set_registry_description(
        &self,
        name: &str,
        version: Option<i64>,
        description: &str,
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let id = model_id(conn, name)?;
            match version {
                None => conn.execute(
                    "UPDATE registered_models SET description = ?2 WHERE id = ?1",
                    params![id, description],
                )?,
                Some(v) => {
                    version_exists(conn, id, name, v)?;
                    conn.execute(
                        "UPDATE model_versions SET description = ?3 WHERE model_id = ?1 AND version = ?2",
                        params![id, v, description],
                    )?
                }
            };
            Ok(())
        })
    }

    /// Removes an alias, audited.
    pub fn delete_alias(&self, name: &str, alias: &str, reason: &str) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let id = model_id(conn, name)?;
            let version = alias_version(conn, id, alias)?.ok_or_else(|| StoreError::NotFound {
                kind: "alias",
                key: format!("{name}@{alias}"),
            })?;
            conn.execute(
                "DELETE FROM model_aliases WHERE model_id = ?1 AND alias = ?2",
                params![id, alias],
            )?;
            audit_alias(
                conn,
                &self.actor,
                name,
                alias,
                version,
                (Some(version), None),
                reason,
            )?;
            Ok(())
        })
    }

    /// The source of each version of a model.
    pub fn version_sources(&self, name: &str) -> StoreResult<BTreeMap<i64, VersionSource>> {
        let conn = self.lock();
        let id = model_id(&conn, name)?;
        let mut stmt = conn.prepare_cached(
            "SELECT version, source, logged_model_id FROM model_versions WHERE model_id = ?1",
        )?;
        let rows = stmt.query_map([id], |row| {
            Ok((
                row.get(0)?,
                VersionSource {
                    source: row.get(1)?,
                    logged_model_id: row.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
