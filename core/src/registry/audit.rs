//! Checking the audit trail: every entry's hash is recomputed from its content and the
//! previous entry's hash, and the sequence must have no gaps, so an altered, inserted or
//! removed entry is found and named.

use serde::Serialize;

use crate::store::{Store, StoreResult, entry_hash};

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
