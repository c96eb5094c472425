//! `kiln serve MODEL_REF [--host] [--port] [--token]`: core's server for one model, until
//! Ctrl+C.

use std::process::ExitCode;

use anyhow::{Context, Result};
use kiln_core::deploy::serve::{CandidateMode, ServeConfig, ServedModel, serve, set_candidate};
use kiln_core::store::Store;

/// `--canary REF [--canary-percent P]` or `--shadow REF`.
#[derive(Debug, Clone, Default)]
pub struct CandidateArgs {
    /// Canary reference.
    pub canary: Option<String>,
    /// Its share of the requests.
    pub canary_percent: f64,
    /// Shadow reference.
    pub shadow: Option<String>,
}

/// Runs `kiln serve`: prints the URL on stderr, serves until Ctrl+C, then stops cleanly
/// (requests in flight finish).
pub fn run_serve(
    store: &Store,
    model_ref: &str,
    config: ServeConfig,
    candidate: CandidateArgs,
) -> Result<ExitCode> {
    let model = ServedModel::load(store, model_ref)?;
    let what = format!("{} ({})", model.info.model_ref, model.model.kind_name());
    let auth = config.token.is_some();
    let mut server = serve(model, config)?;
    let follows = server.follow(store)?;
    eprintln!(
        "serving {what} on {}{}  (Ctrl+C stops)",
        server.url(),
        if auth { " with a bearer token" } else { "" }
    );
    let chosen = match (&candidate.canary, &candidate.shadow) {
        (Some(r), _) => Some((r, CandidateMode::canary(candidate.canary_percent)?)),
        (None, Some(r)) => Some((r, CandidateMode::Shadow)),
        (None, None) => None,
    };
    if let Some((candidate_ref, mode)) = chosen {
        set_candidate(
            store,
            &server,
            Some(candidate_ref),
            mode,
            "set by kiln serve",
        )?;
        eprintln!("candidate {candidate_ref} {mode}");
    }
    if follows {
        eprintln!(
            "following {model_ref}: a promotion, rollback or alias move is swapped in without a failed request"
        );
    }
    wait_for_ctrl_c()?;
    server.shutdown()?;
    Ok(ExitCode::SUCCESS)
}

/// Blocks until Ctrl+C, then says the server stops (`kiln serve`, `kiln server`).
pub(super) fn wait_for_ctrl_c() -> Result<()> {
    let waiter = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .context("cannot wait for Ctrl+C")?;
    waiter
        .block_on(tokio::signal::ctrl_c())
        .context("cannot wait for Ctrl+C")?;
    eprintln!("stopping");
    Ok(())
}
