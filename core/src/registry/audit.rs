//! Checking the audit trail: every entry's hash is recomputed from its content and the
//! previous entry's hash, and the sequence must have no gaps, so an altered, inserted or
//! removed entry is found and named. The timeline also leaves Kiln as CSV or JSON.

use std::path::Path;

use serde::Serialize;

use super::{RegistryResult, refused};
use crate::store::{AuditEntry, Store, StoreResult, entry_hash};
use crate::tracking::export::csv_line;

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditBreak {
    /// The first entry that does not check out.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// Recomputes the whole chain: `Ok(entries)` when intact, else the first break.
pub fn verify_audit(store: &Store) -> StoreResult<Result<usize, AuditBreak>> {
    let entries = store.audit_log(None)?;
    let mut prev_hash = String::new();
    for (i, entry) in entries.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if entry.seq != expected_seq {
            return Ok(Err(AuditBreak {
                seq: expected_seq,
                reason: format!(
                    "entry {expected_seq} is missing (the next entry is {})",
                    entry.seq
                ),
            }));
        }
        if entry.prev_hash != prev_hash {
            return Ok(Err(AuditBreak {
                seq: entry.seq,
                reason:
                    "it does not link to the entry before it (an entry was removed or replaced)"
                        .into(),
            }));
        }
        if entry_hash(entry) != entry.hash {
            return Ok(Err(AuditBreak {
                seq: entry.seq,
                reason: format!(
                    "its content was altered ({} of {} on {})",
                    entry.action, entry.model, entry.at
                ),
            }));
        }
        prev_hash = entry.hash.clone();
    }
    Ok(Ok(entries.len()))
}

/// The file formats the audit timeline exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    /// One row per entry; `before` and `after` as JSON text.
    Csv,
    /// `{ "entries": [..] }`, the document `kiln models history --json` prints.
    Json,
}

impl AuditFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// The CSV columns, in order.
const CSV_COLUMNS: [&str; 11] = [
    "seq",
    "at",
    "user",
    "model",
    "version",
    "action",
    "reason",
    "before",
    "after",
    "prev_hash",
    "hash",
];

/// Audit entries as CSV (RFC 4180), oldest first as given, with the hashes so the export can
/// be checked against the chain later.
pub fn audit_csv(entries: &[AuditEntry]) -> String {
    let header: Vec<String> = CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let mut out = csv_line(&header);
    for e in entries {
        out.push_str(&csv_line(&[
            e.seq.to_string(),
            e.at.clone(),
            e.user.clone(),
            e.model.clone(),
            e.version.map(|v| v.to_string()).unwrap_or_default(),
            e.action.clone(),
            e.reason.clone(),
            e.before.to_string(),
            e.after.to_string(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ]));
    }
    out
}

/// Audit entries as the JSON document `{ "entries": [..] }`.
pub fn audit_json(entries: &[AuditEntry]) -> serde_json::Value {
    serde_json::json!({ "entries": entries })
}

/// Writes the timeline of `model` (or of the whole registry) to `path` as `format`; returns
/// how many entries were written.
pub fn export_audit(
    store: &Store,
    model: Option<&str>,
    format: AuditFormat,
    path: &Path,
) -> RegistryResult<usize> {
    if let Some(name) = model {
        // An unknown model is an error, not an empty file.
        store.model_versions(name)?;
    }
    let entries = store.audit_log(model)?;
    let text = match format {
        AuditFormat::Csv => audit_csv(&entries),
        AuditFormat::Json => {
            let mut text = serde_json::to_string_pretty(&audit_json(&entries))
                .map_err(crate::store::StoreError::from)?;
            text.push('\n');
            text
        }
    };
    std::fs::write(path, text)
        .map_err(|e| refused(format!("cannot write {}: {e}", path.display())))?;
    Ok(entries.len())
}
