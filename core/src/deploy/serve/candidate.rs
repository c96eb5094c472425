//! A candidate beside the served model: a **canary** answers a share of the requests, a
//! **shadow** scores a copy of every request after the primary has answered, and only the
//! comparison is kept (`kiln_shadow_compared`, `kiln_shadow_disagreed`). Setting or clearing
//! one is written to the candidate's audit trail.

use std::sync::Arc;

use serde::Serialize;

use super::{ModelInfo, ServeError, ServedModel, ServerHandle};
use crate::store::{AuditEvent, Store};

/// How a candidate takes part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum CandidateMode {
    /// Answers this percentage of the requests (0..=100).
    Canary {
        /// Percent of requests.
        percent: f64,
    },
    /// Scores a copy of each request; its answers are compared, never returned.
    Shadow,
}

impl CandidateMode {
    /// `canary` with a percentage, checked.
    pub fn canary(percent: f64) -> Result<Self, ServeError> {
        if (0.0..=100.0).contains(&percent) {
            Ok(Self::Canary { percent })
        } else {
            Err(ServeError::Model(format!(
                "a canary takes 0 to 100 percent of the requests, not {percent}"
            )))
        }
    }
}

/// What the candidate does, in words (audit entries and the Deploy workspace).
impl std::fmt::Display for CandidateMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Canary { percent } => write!(f, "answers {percent:.0}% of the requests"),
            Self::Shadow => {
                f.write_str("scores a copy of every request (compared, never returned)")
            }
        }
    }
}

/// A candidate model and how it takes part.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The model.
    pub served: Arc<ServedModel>,
    /// Canary or shadow.
    pub mode: CandidateMode,
}

/// Whether request number `n` goes to a canary taking `percent` of the traffic: spread
/// evenly (every k-th request), so a short run already sees the share asked for.
pub(super) fn goes_to_canary(n: u64, percent: f64) -> bool {
    let share = percent / 100.0;
    ((n + 1) as f64 * share).floor() > (n as f64 * share).floor()
}

/// Sets `model_ref` as the server's candidate (`None` clears it), audited with `reason`
/// under the candidate's model (and the primary's when clearing).
pub fn set_candidate(
    store: &Store,
    server: &ServerHandle,
    model_ref: Option<&str>,
    mode: CandidateMode,
    reason: &str,
) -> Result<(), ServeError> {
    let candidate = candidate_change(
        store,
        &server.info(),
        &server.url(),
        model_ref,
        mode,
        reason,
    )?;
    server.set_candidate(candidate);
    Ok(())
}

/// The candidate `model_ref` names, loaded, and the change audited: what
/// [`ServerHandle::set_candidate`] then puts in place (the Deploy workspace loads on a job and
/// swaps on its own thread). `primary` and `url` describe the endpoint.
pub fn candidate_change(
    store: &Store,
    primary: &ModelInfo,
    url: &str,
    model_ref: Option<&str>,
    mode: CandidateMode,
    reason: &str,
) -> Result<Option<Candidate>, ServeError> {
    let (candidate, info, action) = match model_ref {
        Some(model_ref) => {
            let served = ServedModel::load(store, model_ref)?;
            let info = served.info.clone();
            let candidate = Candidate {
                served: Arc::new(served),
                mode,
            };
            (Some(candidate), info, "candidate")
        }
        None => (None, primary.clone(), "candidate_cleared"),
    };
    let what = match &candidate {
        Some(c) => c.mode.to_string(),
        None => "no candidate".into(),
    };
    audit(store, &info, action, reason, &what, url)?;
    Ok(candidate)
}

fn audit(
    store: &Store,
    info: &ModelInfo,
    action: &str,
    reason: &str,
    what: &str,
    url: &str,
) -> Result<(), ServeError> {
    let Some(name) = &info.name else {
        // A bare run id has no registered model to audit under.
        return Ok(());
    };
    store
        .append_audit_event(&AuditEvent {
            model: name,
            version: info.version,
            action,
            reason,
            before: serde_json::json!({ "endpoint": url }),
            after: serde_json::json!({ "endpoint": url, "candidate": what }),
        })
        .map_err(|e| ServeError::Model(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canary_gets_its_share_spread_evenly() {
        let picked = |percent: f64, n: u64| (0..n).filter(|&i| goes_to_canary(i, percent)).count();
        assert_eq!(picked(10.0, 1_000), 100);
        assert_eq!(picked(25.0, 8), 2);
        assert_eq!(picked(0.0, 1_000), 0);
        assert_eq!(picked(100.0, 1_000), 1_000);
        // Every tenth request, not the first hundred.
        assert!(!goes_to_canary(0, 10.0) && goes_to_canary(9, 10.0));
    }

    #[test]
    fn a_canary_share_outside_0_to_100_is_refused() {
        assert!(CandidateMode::canary(101.0).is_err());
        assert!(CandidateMode::canary(-1.0).is_err());
        assert_eq!(
            CandidateMode::canary(5.0).unwrap(),
            CandidateMode::Canary { percent: 5.0 }
        );
    }
}
