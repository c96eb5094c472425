//! The model registry's tables: registered models, their versions with stage and lineage, and
//! aliases. Every change appends to the audit log ([`super::audit`]) in its own transaction.

use super::audit::{append_audit, json_column};
use super::{AuditEvent, Store, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A version's stage, as MLflow names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Registered, not promoted.
    None,
    /// Being tried.
    Staging,
    /// Serving.
    Production,
    /// Retired.
    Archived,
}

impl Stage {
    /// Every stage, in promotion order.
    pub const ALL: [Stage; 4] = [Self::None, Self::Staging, Self::Production, Self::Archived];

    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Staging => "staging",
            Self::Production => "production",
            Self::Archived => "archived",
        }
    }

    /// Parses a stage name, case-insensitively.
    pub fn parse(text: &str) -> StoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| StoreError::Invalid {
                what: "stage",
                reason: format!("'{text}' (stages are none, staging, production, archived)"),
            })
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a new version records.
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion {
    /// Registered model name (created when new).
    pub name: String,
    /// Source run.
    pub run_id: Option<String>,
    /// Dataset version of the source run.
    pub dataset_version_id: Option<i64>,
    /// sha256 of the training data.
    pub dataset_fingerprint: Option<String>,
    /// sha256 of the model artifact.
    pub artifact_sha256: String,
    /// Input columns and types, output (JSON).
    pub signature: serde_json::Value,
    /// Metrics snapshot.
    pub metrics: serde_json::Value,
    /// Description.
    pub description: String,
    /// Where the model came from, as an outside client named it (`models:/m-…`, `runs:/…`).
    pub source: Option<String>,
    /// The MLflow LoggedModel it was made from.
    pub logged_model_id: Option<String>,
}

/// One version of a registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// Registered model name.
    pub name: String,
    /// 1, 2, ...
    pub version: i64,
    /// Stage.
    pub stage: Stage,
    /// Aliases pointing at it.
    pub aliases: Vec<String>,
    /// Source run.
    pub run_id: Option<String>,
    /// Dataset version of the source run.
    pub dataset_version_id: Option<i64>,
    /// sha256 of the training data.
    pub dataset_fingerprint: Option<String>,
    /// sha256 of the model artifact.
    pub artifact_sha256: String,
    /// Input signature.
    pub signature: serde_json::Value,
    /// Metrics snapshot.
    pub metrics: serde_json::Value,
    /// Description.
    pub description: String,
    /// RFC 3339.
    pub created_at: String,
    /// OS user who registered it.
    pub created_by: String,
}

pub(super) fn model_id(conn: &Connection, name: &str) -> StoreResult<i64> {
    conn.query_row(
        "SELECT id FROM registered_models WHERE name = ?1",
        [name],
        |row| row.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound {
        kind: "registered model",
        key: name.to_owned(),
    })
}

pub(super) fn check_model_name(name: &str) -> StoreResult<()> {
    let ok = !name.trim().is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "model name",
            reason: format!("'{name}' (use letters, digits, '-', '_' and '.')"),
        })
    }
}

/// Whether `alias` is a valid alias (`[A-Za-z0-9_-]+`, not a stage name or a number).
pub fn check_alias(alias: &str) -> StoreResult<()> {
    let ok = !alias.is_empty()
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        && Stage::parse(alias).is_err()
        && alias.parse::<i64>().is_err();
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "alias",
            reason: format!(
                "'{alias}' (letters, digits, '-' and '_'; not a stage name or a number)"
            ),
        })
    }
}

impl Store {
    /// Registers a new version of a model (creating the model) and audits it, in one
    /// transaction; versions count from 1 per model.
    pub fn register_model_version(
        &self,
        new: &NewModelVersion,
        reason: &str,
    ) -> StoreResult<ModelVersion> {
        check_model_name(&new.name)?;
        let (name, version) = self.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO registered_models (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![new.name, self.actor.now()],
            )?;
            let id = model_id(conn, &new.name)?;
            let version: i64 = conn.query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_id = ?1",
                [id],
                |row| row.get(0),
            )?;
            conn.execute(
                "INSERT INTO model_versions (model_id, version, stage, run_id, dataset_version_id, \
                 dataset_fingerprint, artifact_sha256, signature_json, metrics_json, description, \
                 created_at, created_by, source, logged_model_id) \
                 VALUES (?1, ?2, 'none', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    id,
                    version,
                    new.run_id,
                    new.dataset_version_id,
                    new.dataset_fingerprint,
                    new.artifact_sha256,
                    new.signature.to_string(),
                    new.metrics.to_string(),
                    new.description,
                    self.actor.now(),
                    self.actor.user(),
                    new.source,
                    new.logged_model_id,
                ],
            )?;
            append_audit(
                conn,
                &self.actor,
                &AuditEvent {
                    model: &new.name,
                    version: Some(version),
                    action: "register",
                    reason,
                    before: serde_json::Value::Null,
                    after: serde_json::json!({ "run_id": new.run_id, "stage": "none" }),
                },
            )?;
            Ok((new.name.clone(), version))
        })?;
        self.model_version(&name, version)
    }

    /// Names of every registered model.
    pub fn registered_models(&self) -> StoreResult<Vec<String>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT name FROM registered_models ORDER BY name")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every version of a model, oldest first.
    pub fn model_versions(&self, name: &str) -> StoreResult<Vec<ModelVersion>> {
        let conn = self.lock();
        let id = model_id(&conn, name)?;
        let mut aliases: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
        {
            let mut stmt = conn.prepare(
                "SELECT version, alias FROM model_aliases WHERE model_id = ?1 ORDER BY alias",
            )?;
            let rows = stmt.query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            for row in rows {
                let (version, alias): (i64, String) = row?;
                aliases.entry(version).or_default().push(alias);
            }
        }
        let mut stmt = conn.prepare(
            "SELECT version, stage, run_id, dataset_version_id, dataset_fingerprint, artifact_sha256, \
             signature_json, metrics_json, description, created_at, created_by \
             FROM model_versions WHERE model_id = ?1 ORDER BY version",
        )?;
        let rows = stmt.query_map([id], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
                row.get(8)?,
                row.get(9)?,
                row.get(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (version, stage, run_id, dv, fp, sha, sig, metrics, description, at, by) = row?;
            out.push(ModelVersion {
                name: name.to_owned(),
                version,
                stage: Stage::parse(&stage)?,
                aliases: aliases.remove(&version).unwrap_or_default(),
                run_id,
                dataset_version_id: dv,
                dataset_fingerprint: fp,
                artifact_sha256: sha,
                signature: json_column(sig),
                metrics: json_column(metrics),
                description,
                created_at: at,
                created_by: by,
            });
        }
        Ok(out)
    }

    /// The versions registered from run `run_id`, by model name then version.
    pub fn versions_of_run(&self, run_id: &str) -> StoreResult<Vec<ModelVersion>> {
        let names: Vec<String> = {
            let conn = self.lock();
            let mut stmt = conn.prepare(
                "SELECT DISTINCT m.name FROM model_versions v JOIN registered_models m \
                 ON m.id = v.model_id WHERE v.run_id = ?1 ORDER BY m.name",
            )?;
            stmt.query_map([run_id], |row| row.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for name in names {
            out.extend(
                self.model_versions(&name)?
                    .into_iter()
                    .filter(|v| v.run_id.as_deref() == Some(run_id)),
            );
        }
        Ok(out)
    }

    /// One version of a model.
    pub fn model_version(&self, name: &str, version: i64) -> StoreResult<ModelVersion> {
        self.model_versions(name)?
            .into_iter()
            .find(|v| v.version == version)
            .ok_or_else(|| StoreError::NotFound {
                kind: "model version",
                key: format!("{name}:{version}"),
            })
    }

    /// Moves a version to `stage` in one transaction, with its audit entries: the version
    /// that held `staging` or `production` before leaves it (production goes to `archived`
    /// when `archive_previous`, else to `none`). `extra` audit events (gate results,
    /// overrides) are chained first, in the same transaction.
    pub fn set_stage(
        &self,
        name: &str,
        version: i64,
        stage: Stage,
        reason: &str,
        archive_previous: bool,
        extra: &[AuditEvent<'_>],
    ) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let id = model_id(conn, name)?;
            let current: String = conn
                .query_row(
                    "SELECT stage FROM model_versions WHERE model_id = ?1 AND version = ?2",
                    params![id, version],
                    |row| row.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound {
                    kind: "model version",
                    key: format!("{name}:{version}"),
                })?;
            for event in extra {
                append_audit(conn, &self.actor, event)?;
            }
            if matches!(stage, Stage::Staging | Stage::Production) {
                let displaced = if stage == Stage::Production && archive_previous {
                    Stage::Archived
                } else {
                    Stage::None
                };
                let mut stmt = conn.prepare(
                    "SELECT version FROM model_versions WHERE model_id = ?1 AND stage = ?2 AND version != ?3",
                )?;
                let previous: Vec<i64> = stmt
                    .query_map(params![id, stage.as_str(), version], |row| row.get(0))?
                    .collect::<Result<_, _>>()?;
                for v in previous {
                    conn.execute(
                        "UPDATE model_versions SET stage = ?3 WHERE model_id = ?1 AND version = ?2",
                        params![id, v, displaced.as_str()],
                    )?;
                    append_audit(
                        conn,
                        &self.actor,
                        &AuditEvent {
                            model: name,
                            version: Some(v),
                            action: "stage",
                            reason: &format!("version {version} was promoted to {stage}"),
                            before: serde_json::json!({ "stage": stage.as_str() }),
                            after: serde_json::json!({ "stage": displaced.as_str() }),
                        },
                    )?;
                }
            }
            conn.execute(
                "UPDATE model_versions SET stage = ?3 WHERE model_id = ?1 AND version = ?2",
                params![id, version, stage.as_str()],
            )?;
            append_audit(
                conn,
                &self.actor,
                &AuditEvent {
                    model: name,
                    version: Some(version),
                    action: "stage",
                    reason,
                    before: serde_json::json!({ "stage": current }),
                    after: serde_json::json!({ "stage": stage.as_str() }),
                },
            )?;
            Ok(())
        })
    }

    /// Points `alias` at a version (moving it from another one), audited.
    pub fn set_alias(
        &self,
        name: &str,
        version: i64,
        alias: &str,
        reason: &str,
    ) -> StoreResult<()> {
        check_alias(alias)?;
        self.model_version(name, version)?;
        self.in_transaction(|conn| {
            let id = model_id(conn, name)?;
            let before = alias_version(conn, id, alias)?;
            conn.execute(
                "INSERT INTO model_aliases (model_id, alias, version) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(model_id, alias) DO UPDATE SET version = excluded.version",
                params![id, alias, version],
            )?;
            audit_alias(
                conn,
                &self.actor,
                name,
                alias,
                version,
                (before, Some(version)),
                reason,
            )?;
            Ok(())
        })
    }

    /// The gate policy (TOML) of a model; empty when none was set.
    pub fn model_policy(&self, name: &str) -> StoreResult<String> {
        let conn = self.lock();
        let id = model_id(&conn, name)?;
        Ok(conn.query_row(
            "SELECT policy_toml FROM registered_models WHERE id = ?1",
            [id],
            |row| row.get(0),
        )?)
    }

    /// Replaces the gate policy of a model, audited with before and after.
    pub fn set_model_policy(&self, name: &str, policy_toml: &str, reason: &str) -> StoreResult<()> {
        self.in_transaction(|conn| {
            let id = model_id(conn, name)?;
            let before: String = conn.query_row(
                "SELECT policy_toml FROM registered_models WHERE id = ?1",
                [id],
                |row| row.get(0),
            )?;
            conn.execute(
                "UPDATE registered_models SET policy_toml = ?2 WHERE id = ?1",
                params![id, policy_toml],
            )?;
            append_audit(
                conn,
                &self.actor,
                &AuditEvent {
                    model: name,
                    version: None,
                    action: "policy",
                    reason,
                    before: serde_json::json!({ "policy": before }),
                    after: serde_json::json!({ "policy": policy_toml }),
                },
            )?;
            Ok(())
        })
    }
}

/// The version `alias` points at, if it is set.
pub(crate) fn alias_version(
    conn: &Connection,
    model_id: i64,
    alias: &str,
) -> StoreResult<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT version FROM model_aliases WHERE model_id = ?1 AND alias = ?2",
            params![model_id, alias],
            |row| row.get(0),
        )
        .optional()?)
}

/// Records in the audit trail that `alias` (of `version`) moved from one version to another
/// (`None`: not set).
pub(crate) fn audit_alias(
    conn: &Connection,
    actor: &super::Actor,
    name: &str,
    alias: &str,
    version: i64,
    (before, after): (Option<i64>, Option<i64>),
    reason: &str,
) -> StoreResult<()> {
    append_audit(
        conn,
        actor,
        &AuditEvent {
            model: name,
            version: Some(version),
            action: "alias",
            reason,
            before: serde_json::json!({ "alias": alias, "version": before }),
            after: serde_json::json!({ "alias": alias, "version": after }),
        },
    )?;
    Ok(())
}
