//! `[hooks]`: a command run, or JSON POSTed to a loopback URL, when the registry changes
//! (`version_registered`, `stage_changed`) or a gate fails (`gate_failed`), the way MLflow's
//! webhooks are. A hook's failure is logged in the audit trail and never undoes the change.
//!
//! ```toml
//! [hooks]
//! version_registered = { command = "./notify.sh" }          # the event JSON on stdin
//! stage_changed = { url = "http://127.0.0.1:9000/kiln" }    # POSTed as JSON
//! gate_failed = { command = "echo \"$KILN_EVENT\" >> gates.log", timeout_s = 5 }
//! ```

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::store::{AuditEvent, Store};

/// Default time a hook may take.
const DEFAULT_TIMEOUT_S: u64 = 30;

/// The events a hook can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookEvent {
    /// A new model version was registered.
    VersionRegistered,
    /// A version moved to another stage.
    StageChanged,
    /// A gate failed (before registering, or at promotion).
    GateFailed,
}

impl HookEvent {
    /// The event's name in `kiln.toml` and in the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VersionRegistered => "version_registered",
            Self::StageChanged => "stage_changed",
            Self::GateFailed => "gate_failed",
        }
    }
}

/// One hook: exactly one of `command` and `url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    /// A shell command (`sh -c`), run in the folder of `kiln.toml` with the event's JSON on
    /// stdin and in `KILN_EVENT`.
    pub command: Option<String>,
    /// A loopback URL (`http://127.0.0.1:PORT/...`, `localhost`, `[::1]`) the JSON is POSTed to.
    pub url: Option<String>,
    /// Seconds the hook may take (default 30).
    pub timeout_s: Option<u64>,
}

/// `[hooks]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hooks {
    /// On a new version.
    pub version_registered: Option<Hook>,
    /// On a stage change.
    pub stage_changed: Option<Hook>,
    /// On a failed gate.
    pub gate_failed: Option<Hook>,
}

impl Hooks {
    /// The hook of `event`, if any.
    pub fn of(&self, event: HookEvent) -> Option<&Hook> {
        match event {
            HookEvent::VersionRegistered => self.version_registered.as_ref(),
            HookEvent::StageChanged => self.stage_changed.as_ref(),
            HookEvent::GateFailed => self.gate_failed.as_ref(),
        }
    }

    /// Checks every hook; an error names the event and what is wrong.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        for event in [
            HookEvent::VersionRegistered,
            HookEvent::StageChanged,
            HookEvent::GateFailed,
        ] {
            let Some(hook) = self.of(event) else { continue };
            let name = event.as_str();
            match (&hook.command, &hook.url) {
                (Some(_), None) => {}
                (None, Some(url)) => {
                    if !is_loopback_url(url) {
                        return Err((
                            name,
                            format!(
                                "{name}: url '{url}' is not a loopback http:// URL (127.0.0.1, localhost or [::1])"
                            ),
                        ));
                    }
                }
                _ => {
                    return Err((name, format!("{name}: give exactly one of command or url")));
                }
            }
        }
        Ok(())
    }
}

/// Whether `url` is `http://` to this machine.
fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Runs the hook of `event`, if one is set, with `payload` (the event name is added). A
/// failure is written to the audit trail of `model` as `hook_failed` and returned as a
/// warning; it never undoes what triggered it.
pub fn fire(
    store: &Store,
    hooks: &Hooks,
    dir: &Path,
    event: HookEvent,
    model: &str,
    version: Option<i64>,
    mut payload: serde_json::Value,
) -> Option<String> {
    let hook = hooks.of(event)?;
    if let Some(map) = payload.as_object_mut() {
        map.insert("event".into(), event.as_str().into());
    }
    let timeout = Duration::from_secs(hook.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S));
    let result = match (&hook.command, &hook.url) {
        (Some(command), _) => run_command(command, dir, &payload, timeout),
        (None, Some(url)) => post(url, &payload, timeout),
        (None, None) => Ok(()),
    };
    let error = result.err()?;
    let what = hook
        .command
        .as_deref()
        .or(hook.url.as_deref())
        .unwrap_or_default();
    let message = format!("{} hook '{what}' failed: {error}", event.as_str());
    tracing::warn!(%message, "hook failed");
    let audit = AuditEvent {
        model,
        version,
        action: "hook_failed",
        reason: &message,
        before: serde_json::Value::Null,
        after: serde_json::json!({ "event": event.as_str(), "hook": what }),
    };
    if let Err(e) = store.append_audit_event(&audit) {
        tracing::warn!(error = %e, "could not audit a failed hook");
    }
    Some(message)
}

fn run_command(
    command: &str,
    dir: &Path,
    payload: &serde_json::Value,
    timeout: Duration,
) -> Result<(), String> {
    let body = payload.to_string();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("KILN_EVENT", &body)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin closes the pipe early; that is its right.
        let _ = stdin.write_all(body.as_bytes());
    }
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                let stderr = stderr.trim();
                return Err(if stderr.is_empty() {
                    format!("it exited with {status}")
                } else {
                    format!("it exited with {status}: {stderr}")
                });
            }
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("it took longer than {} s", timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn post(url: &str, payload: &serde_json::Value, timeout: Duration) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let response = agent
        .post(url)
        .send_json(payload)
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the server answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_hooks() {
        assert!(is_loopback_url("http://127.0.0.1:9000/hook"));
        assert!(is_loopback_url("http://localhost/x"));
        assert!(is_loopback_url("http://[::1]:80/"));
        assert!(!is_loopback_url("http://example.com/hook"));
        assert!(!is_loopback_url("https://127.0.0.1/hook"));
        assert!(!is_loopback_url("http://10.0.0.1/hook"));
    }
}
