//! `kiln import mlflow PATH_OR_URI [--artifacts DIR] [--json]`: an MLflow history (an
//! `mlruns/` folder, an `mlflow.db`, a tracking server) copied into the store, with a
//! progress bar, then a summary of what was new and what was there already. Items that could
//! not be read are listed on stderr and make the exit code 1; everything else is imported,
//! and running the command again after mending them brings only those.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use kiln_core::jobs::{JobError, JobRunner};
use kiln_core::mlflow::import::{OpenOptions, import_mlflow_job, open_source};
use kiln_core::store::Store;

use super::progress::run_with_progress;

/// `kiln import ...`.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCmd {
    /// Copy an MLflow history into the store: experiments, runs with params, metric
    /// histories, tags, artifacts and datasets, logged models, registered models with their
    /// versions, stages and aliases. Running it again adds only what is new.
    Mlflow(MlflowArgs),
}

/// `kiln import mlflow` arguments.
#[derive(Debug, clap::Args)]
pub struct MlflowArgs {
    /// An `mlruns/` folder, an `mlflow.db` (or `sqlite:///path`), or a tracking server's
    /// `http://host:port` (its token from MLFLOW_TRACKING_TOKEN).
    #[arg(value_name = "PATH_OR_URI")]
    pub source: String,
    /// The artifact root of an mlflow.db: the folder holding <experiment id>/<run id>/artifacts
    /// (default: where the runs' artifact URIs say, or mlartifacts/ or artifacts/ beside it).
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// Print the summary as one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kiln import`.
pub fn run_import(store: Store, command: ImportCmd) -> Result<ExitCode> {
    let ImportCmd::Mlflow(args) = command;
    let options = OpenOptions {
        artifacts: args.artifacts.clone(),
        token: std::env::var("MLFLOW_TRACKING_TOKEN")
            .ok()
            .filter(|t| !t.is_empty()),
    };
    let source = open_source(&args.source, &options)?;
    let runner = JobRunner::new();
    let handle = runner.spawn("import", move |ctx| {
        import_mlflow_job(&store, source.as_ref(), ctx)
    });
    let summary = match run_with_progress(handle) {
        Ok(summary) => summary,
        Err(JobError::Cancelled) => {
            bail!("the import was cancelled; what was imported so far is kept")
        }
        Err(JobError::Failed(message)) => {
            bail!("{message} (what was imported before is kept; run the import again to continue)")
        }
    };
    if args.json {
        let text = serde_json::to_string_pretty(&summary).context("writing the summary")?;
        println!("{text}");
    } else {
        for line in summary.lines() {
            println!("{line}");
        }
    }
    if summary.problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &summary.problems {
        eprintln!("error: {problem}");
    }
    eprintln!(
        "error: {} item(s) could not be imported (listed above); everything else was. Mend \
         them and run the import again to bring just those.",
        summary.problems.len()
    );
    Ok(ExitCode::FAILURE)
}
