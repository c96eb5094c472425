//! The registry's append-only, hash-chained audit log: every registry change appends an entry
//! in the same transaction as the change itself, and each entry hashes the one before it, so
//! an altered or removed row breaks the chain where it happened.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Actor, Store, StoreResult};

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    /// OS user.
    pub user: String,
    /// Model name.
    pub model: String,
    /// Version concerned, if any.
    pub version: Option<i64>,
    /// `register`, `stage`, `alias`, `gates`, `override`, `describe`, ...
    pub action: String,
    /// Why.
    pub reason: String,
    /// State before (JSON).
    pub before: serde_json::Value,
    /// State after (JSON).
    pub after: serde_json::Value,
    /// Hash of the previous entry ("" for the first).
    pub prev_hash: String,
    /// sha256 of this entry's content and `prev_hash`.
    pub hash: String,
}

/// What an audit entry says, before it is chained.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// Model name.
    pub model: &'a str,
    /// Version concerned.
    pub version: Option<i64>,
    /// Action name.
    pub action: &'a str,
    /// Why.
    pub reason: &'a str,
    /// State before.
    pub before: serde_json::Value,
    /// State after.
    pub after: serde_json::Value,
}

/// The hash of an entry: sha256 over its fields and the previous hash, in a fixed order.
pub fn entry_hash(e: &AuditEntry) -> String {
    let content = serde_json::json!([
        e.seq,
        e.at,
        e.user,
        e.model,
        e.version,
        e.action,
        e.reason,
        e.before,
        e.after,
        e.prev_hash
    ]);
    hex::encode(Sha256::digest(content.to_string().as_bytes()))
}

/// Appends an event to the chain inside the caller's transaction.
pub(crate) fn append_audit(
    conn: &Connection,
    actor: &Actor,
    event: &AuditEvent<'_>,
) -> StoreResult<AuditEntry> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = last.map_or((1, String::new()), |(s, h)| (s + 1, h));
    let mut entry = AuditEntry {
        seq,
        at: actor.now(),
        user: actor.user(),
        model: event.model.to_owned(),
        version: event.version,
        action: event.action.to_owned(),
        reason: event.reason.to_owned(),
        before: event.before.clone(),
        after: event.after.clone(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    conn.execute(
        "INSERT INTO audit_log (seq, at, user, model, version, action, reason, before_json, after_json, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            entry.seq,
            entry.at,
            entry.user,
            entry.model,
            entry.version,
            entry.action,
            entry.reason,
            entry.before.to_string(),
            entry.after.to_string(),
            entry.prev_hash,
            entry.hash
        ],
    )?;
    Ok(entry)
}

pub(super) fn json_column(text: String) -> serde_json::Value {
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

impl Store {
    /// The audit log, oldest first: of one model, or the whole registry.
    pub fn audit_log(&self, model: Option<&str>) -> StoreResult<Vec<AuditEntry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT seq, at, user, model, version, action, reason, before_json, after_json, prev_hash, hash \
             FROM audit_log WHERE ?1 IS NULL OR model = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([model], |row| {
            Ok(AuditEntry {
                seq: row.get(0)?,
                at: row.get(1)?,
                user: row.get(2)?,
                model: row.get(3)?,
                version: row.get(4)?,
                action: row.get(5)?,
                reason: row.get(6)?,
                before: json_column(row.get(7)?),
                after: json_column(row.get(8)?),
                prev_hash: row.get(9)?,
                hash: row.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Appends one event to the audit log in its own transaction (a gate evaluation that
    /// changed nothing, say).
    pub fn append_audit_event(&self, event: &AuditEvent<'_>) -> StoreResult<AuditEntry> {
        self.in_transaction(|conn| append_audit(conn, &self.actor, event))
    }
}
