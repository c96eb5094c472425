//! `kiln run [--file kiln.toml] [--json] [--report FILE.md|FILE.xml] [--force] [--no-wait]`:
//! core's pipeline as a job behind a progress bar, then the stages (or the JSON document),
//! the report, and an `error:` line naming the failed stage.
//!
//! Exit codes: 0 every stage passed or was up to date; 1 a stage failed (a broken expectation,
//! a failed gate, training); 2 `kiln.toml` is invalid; 3 another run holds the project and
//! `--no-wait` was given.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use kiln_core::jobs::JobRunner;
use kiln_core::pipeline::report::{ReportFormat, write_report};
use kiln_core::pipeline::runlock::holder_text;
use kiln_core::pipeline::{
    PIPELINE_FILE, PipelineError, PipelineFile, PipelineOutcome, RunEvent, RunOptions,
};
use kiln_core::store::Store;
use serde_json::json;

use super::progress::run_with_progress;

/// Exit code of a failed stage.
pub const EXIT_FAILED: u8 = 1;
/// Exit code of an invalid `kiln.toml`.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code when the project is locked and `--no-wait` was given.
pub const EXIT_LOCKED: u8 = 3;

/// `kiln run` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The pipeline file.
    #[arg(long, value_name = "FILE", default_value = PIPELINE_FILE)]
    pub file: PathBuf,
    /// Print the outcome as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Also write a report: FILE.md (Markdown) or FILE.xml (JUnit).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Run every stage, even those up to date.
    #[arg(long)]
    pub force: bool,
    /// Exit (code 3) instead of waiting when another run holds the project.
    #[arg(long)]
    pub no_wait: bool,
}

/// The `--json` document: `{ "pipeline", "stages": [..], "run_id", "model", "gates" }`.
pub fn outcome_json(outcome: &PipelineOutcome) -> serde_json::Value {
    json!({
        "pipeline": outcome.pipeline,
        "stages": outcome.stages.iter().map(|s| json!({
            "name": s.name,
            "status": s.status.as_str(),
            "reason": s.reason,
            "duration_s": s.duration_s,
        })).collect::<Vec<_>>(),
        "run_id": outcome.run_id,
        "model": outcome.model.as_ref().map(|m| json!({
            "name": m.name, "version": m.version, "stage": m.stage,
        })),
        "gates": outcome.gates.iter().map(|g| json!({
            "gate": g.gate, "passed": g.passed, "detail": g.detail,
        })).collect::<Vec<_>>(),
    })
}

/// The outcome as the terminal shows it.
pub fn print_outcome(outcome: &PipelineOutcome) {
    println!("pipeline {}", outcome.pipeline);
    let width = outcome
        .stages
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    for s in &outcome.stages {
        println!(
            "  {:<width$}  {:<7}  {:>7.2} s  {}",
            s.name,
            s.status.as_str(),
            s.duration_s,
            s.reason
        );
    }
    for g in &outcome.gates {
        let verdict = if g.passed { "passed" } else { "FAILED" };
        println!("  gate {}: {verdict} ({})", g.gate, g.detail);
    }
    if let Some(m) = &outcome.model {
        println!("  model {}:{} ({})", m.name, m.version, m.stage);
    }
    let verdict = match (&outcome.failure, outcome.up_to_date()) {
        (Some(f), _) => format!("failed at {}", f.stage),
        (None, true) => "up to date".into(),
        (None, false) => "passed".into(),
    };
    println!(
        "pipeline {} {verdict} in {:.2} s",
        outcome.pipeline, outcome.duration_s
    );
}

/// Parses the pipeline file; an invalid one is reported as `error:` and exit code 2.
pub(super) fn load(file: &Path) -> Result<PipelineFile, ExitCode> {
    PipelineFile::load(file).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Runs the pipeline once and prints its outcome; the exit code as documented above.
pub(super) fn run_once(store: &Store, file: PipelineFile, args: &RunArgs) -> Result<ExitCode> {
    let options = RunOptions {
        force: args.force,
        no_wait: args.no_wait,
        observer: Some(Arc::new(|event: &RunEvent| {
            if let RunEvent::Waiting { holder } = event {
                eprintln!("waiting: {} holds the pipeline lock", holder_text(*holder));
            }
        })),
    };
    let runner = JobRunner::new();
    let store = store.clone();
    let handle = runner.spawn(format!("pipeline {}", file.name), move |ctx| {
        Ok(kiln_core::pipeline::run(&store, &file, &options, ctx))
    });
    let outcome = match run_with_progress(handle).map_err(anyhow::Error::msg)? {
        Ok(outcome) => outcome,
        Err(PipelineError::Locked(e)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_LOCKED));
        }
        Err(e) => return Err(e.into()),
    };
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome_json(&outcome))?);
    } else {
        print_outcome(&outcome);
    }
    if let Some(path) = &args.report {
        write_report(&outcome, path)
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    Ok(match &outcome.failure {
        None => ExitCode::SUCCESS,
        Some(failure) => {
            eprintln!("error: {}: {}", failure.stage, failure.message);
            ExitCode::from(EXIT_FAILED)
        }
    })
}

/// Checks `--report` before any work: a report is `.md` or `.xml`.
pub(super) fn check_report(report: Option<&Path>) -> Result<()> {
    if let Some(path) = report
        && ReportFormat::of_path(path).is_none()
    {
        anyhow::bail!(
            "--report {}: a report is FILE.md (Markdown) or FILE.xml (JUnit)",
            path.display()
        );
    }
    Ok(())
}

/// Runs `kiln run`.
pub fn run_run(home: Option<PathBuf>, args: &RunArgs) -> Result<ExitCode> {
    check_report(args.report.as_deref())?;
    let file = match load(&args.file) {
        Ok(file) => file,
        Err(code) => return Ok(code),
    };
    run_once(&super::open_store(home)?, file, args)
}
