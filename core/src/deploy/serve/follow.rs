//! Environments: a server started on a moving reference (`churn@production`,
//! `churn@staging`, `churn@champion`) serves whatever version it names. When the store
//! changes and the reference names another version, that version is loaded and swapped in
//! (requests in flight finish on the old one, so none fails), and the swap is written to the
//! model's audit trail as a `deploy` entry.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::{ServeError, ServedModel};
use crate::registry::{ModelRef, resolve};
use crate::store::{AuditEvent, Store};

/// How often the store is asked whether the reference moved.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(200);

/// A running watch on a reference; dropping it stops the watch (not the server).
#[derive(Debug)]
pub struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Whether `model_ref` can move: a stage or an alias (a version or a run id cannot).
pub fn is_moving(model_ref: &str) -> bool {
    matches!(
        ModelRef::parse(model_ref),
        Ok(ModelRef::Stage(..) | ModelRef::Alias(..))
    )
}

/// Watches `model_ref` for the server whose model slot is `slot` at `url`.
pub(super) fn follow(
    store: Store,
    slot: Arc<ArcSwap<ServedModel>>,
    url: String,
    every: Duration,
) -> Result<Follower, ServeError> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::Builder::new()
        .name("kiln-serve-follow".into())
        .spawn(move || {
            let mut seen = store.change_token();
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(every);
                let token = store.change_token();
                if token == seen {
                    continue;
                }
                seen = token;
                if let Err(e) = catch_up(&store, &slot, &url) {
                    tracing::warn!("{url}: keeping the model it serves: {e}");
                }
            }
        })
        .map_err(ServeError::Start)?;
    Ok(Follower {
        stop,
        thread: Some(thread),
    })
}

/// Swaps in the version the served reference names now, if it moved.
fn catch_up(store: &Store, slot: &ArcSwap<ServedModel>, url: &str) -> Result<(), String> {
    let served = slot.load();
    let model_ref = served.info.model_ref.clone();
    // A reference that names nothing now (its stage emptied) keeps the last version serving:
    // an endpoint that answers is better than one that stops on a registry edit.
    let Ok(Some(version)) = resolve(store, &model_ref) else {
        return Ok(());
    };
    if served.info.version == Some(version.version) {
        return Ok(());
    }
    let swapped =
        ServedModel::of_version(store, &model_ref, &version).map_err(|e| e.to_string())?;
    let before = served.info.version;
    slot.store(Arc::new(swapped));
    tracing::info!("{url}: {model_ref} now serves version {}", version.version);
    let reason = format!("{model_ref} moved to version {}: hot swap", version.version);
    store
        .append_audit_event(&AuditEvent {
            model: &version.name,
            version: Some(version.version),
            action: "deploy",
            reason: &reason,
            before: serde_json::json!({ "version": before, "endpoint": url }),
            after: serde_json::json!({ "version": version.version, "endpoint": url }),
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}
