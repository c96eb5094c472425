//! Who makes a registry change and when: the OS user and the system clock, or fixed values.
//!
//! The registry's records (a version's `created_by`/`created_at`, every audit entry's user
//! and time) are hashed into the audit chain, so fixtures whose pictures or hashes must not
//! change between runs (the GUI's snapshot store) fix both here, and the hashes are computed
//! over the fixed values by the same code path as in use. Runs keep the real clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

use super::{StoreError, StoreResult, now_rfc3339};

/// The author and clock of registry changes made through a [`Store`](super::Store) handle.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    fixed: Option<Arc<Fixed>>,
}

#[derive(Debug)]
struct Fixed {
    user: String,
    start: DateTime<Utc>,
    step_ms: i64,
    /// Times handed out so far: each call of `now` is one step later than the previous.
    ticks: AtomicI64,
}

impl Actor {
    /// The OS user and the system clock (what every real handle uses).
    pub fn system() -> Self {
        Self::default()
    }

    /// `user` at `start` (RFC 3339), each recorded time `step_ms` after the one before, so
    /// the order of events stays visible while every value is reproducible.
    pub fn fixed(user: &str, start: &str, step_ms: i64) -> StoreResult<Self> {
        let start = DateTime::parse_from_rfc3339(start)
            .map_err(|e| StoreError::Invalid {
                what: "fixed clock start",
                reason: format!("'{start}': {e}"),
            })?
            .with_timezone(&Utc);
        Ok(Self {
            fixed: Some(Arc::new(Fixed {
                user: user.to_owned(),
                start,
                step_ms,
                ticks: AtomicI64::new(0),
            })),
        })
    }

    /// Who is acting.
    pub fn user(&self) -> String {
        match &self.fixed {
            Some(fixed) => fixed.user.clone(),
            None => os_user(),
        }
    }

    /// The time to record, RFC 3339 UTC with milliseconds (as [`now_rfc3339`]).
    pub fn now(&self) -> String {
        match &self.fixed {
            Some(fixed) => {
                let tick = fixed.ticks.fetch_add(1, Ordering::Relaxed);
                let at = fixed.start + chrono::Duration::milliseconds(tick * fixed.step_ms);
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            }
            None => now_rfc3339(),
        }
    }
}

/// The OS user, for `created_by` and the audit log.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|u| !u.trim().is_empty()))
        .or_else(passwd_user)
        .unwrap_or_else(|| "unknown".into())
}

/// The name of this process's user from `/etc/passwd` (where no environment variable says it,
/// as under some service managers and containers).
fn passwd_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_actor_hands_out_the_same_times_every_run() {
        let actor = Actor::fixed("ana", "2026-01-15T10:00:00Z", 60_000).expect("actor");
        assert_eq!(actor.user(), "ana");
        assert_eq!(actor.now(), "2026-01-15T10:00:00.000Z");
        assert_eq!(actor.clone().now(), "2026-01-15T10:01:00.000Z");
        assert!(Actor::fixed("ana", "yesterday", 1).is_err());
    }
}
