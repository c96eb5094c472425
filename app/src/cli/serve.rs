//! `kiln serve MODEL_REF [--host] [--port] [--token]`: core's server for one model, until
//! Ctrl+C.

use std::process::ExitCode;

use anyhow::{Context, Result};
use kiln_core::deploy::serve::{ServeConfig, ServedModel, serve};
use kiln_core::store::Store;

/// Runs `kiln serve`: prints the URL on stderr, serves until Ctrl+C, then stops cleanly
/// (requests in flight finish).
pub fn run_serve(store: &Store, model_ref: &str, config: ServeConfig) -> Result<ExitCode> {
    let model = ServedModel::load(store, model_ref)?;
    let what = format!("{} ({})", model.info.model_ref, model.model.kind_name());
    let auth = config.token.is_some();
    let server = serve(model, config)?;
    eprintln!(
        "serving {what} on {}{}  (Ctrl+C stops)",
        server.url(),
        if auth { " with a bearer token" } else { "" }
    );
    let waiter = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("cannot wait for Ctrl+C")?;
    waiter
        .block_on(tokio::signal::ctrl_c())
        .context("cannot wait for Ctrl+C")?;
    eprintln!("stopping");
    server.shutdown()?;
    Ok(ExitCode::SUCCESS)
}
