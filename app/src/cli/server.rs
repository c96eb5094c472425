//! `kiln server [--host] [--port] [--token]`: MLflow's tracking API over the Kiln store,
//! until Ctrl+C.

use std::process::ExitCode;

use anyhow::Result;
use kiln_core::mlflow::{TrackingConfig, serve_tracking};
use kiln_core::store::Store;

/// Runs `kiln server`: prints the URL on stderr, serves until Ctrl+C, then stops cleanly.
pub fn run_server(store: &Store, config: &TrackingConfig) -> Result<ExitCode> {
    let server = serve_tracking(store.clone(), config)?;
    eprintln!(
        "kiln server: MLflow tracking API on {}{}  (Ctrl+C stops)",
        server.url(),
        if config.token.is_some() {
            " with a bearer token"
        } else {
            ""
        }
    );
    eprintln!(
        "  export MLFLOW_TRACKING_URI={}   # then mlflow.log_metric(...) lands in {}",
        server.url(),
        store.home().display()
    );
    super::serve::wait_for_ctrl_c()?;
    server.shutdown();
    Ok(ExitCode::SUCCESS)
}
