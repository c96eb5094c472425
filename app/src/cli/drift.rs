//! `kiln drift --reference FILE --current FILE [--json] [--exclude COL]... [--fail-on-drift]`:
//! Evidently's default data-drift report between two files, as a data check CI can run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use kiln_core::data::{LoadOptions, open_table};
use kiln_core::deploy::drift::{DriftOptions, DriftReport, drift_alerts, drift_report};
use kiln_core::polars::prelude::DataFrame;
use serde_json::json;

/// `kiln drift` arguments.
#[derive(Debug, clap::Args)]
pub struct DriftArgs {
    /// The data drift is measured against (e.g. the training data).
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// The data to check.
    #[arg(long, value_name = "FILE")]
    pub current: PathBuf,
    /// Leave a column out, e.g. the target or the prediction (repeatable).
    #[arg(long, value_name = "COL")]
    pub exclude: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit with 1 when the dataset drifts.
    #[arg(long)]
    pub fail_on_drift: bool,
}

/// Runs the report and prints it; the exit code says whether `--fail-on-drift` tripped.
pub fn run_drift(args: &DriftArgs) -> Result<ExitCode> {
    let reference = load(&args.reference)?;
    let current = load(&args.current)?;
    let options = DriftOptions {
        exclude: args.exclude.clone(),
        ..DriftOptions::default()
    };
    let report = drift_report(&reference, &current, &options)?;
    if args.json {
        let document = json!({ "drift": report, "alerts": drift_alerts(&report) });
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print_table(&report);
    }
    Ok(if args.fail_on_drift && report.dataset_drift {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A data file as a frame, its warnings on stderr (also `kiln simulate`'s reader).
pub(super) fn load(path: &Path) -> Result<DataFrame> {
    let opened = open_table(path, &LoadOptions::default(), &|_, _| true)
        .with_context(|| format!("cannot read {}", path.display()))?;
    for warning in &opened.table.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok(opened.table.frame)
}

/// The report as a table (also `kiln simulate`'s).
pub(super) fn print_table(report: &DriftReport) {
    let width = report
        .columns
        .iter()
        .map(|c| c.column.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    println!(
        "{:width$}  {:<13}  {:>11}  {:>9}  {:>8}  {:>8}  drifted",
        "column", "method", "score", "threshold", "psi", "effect"
    );
    for c in &report.columns {
        println!(
            "{:width$}  {:<13}  {:>11.4e}  {:>9}  {:>8.4}  {:>8.3}  {}",
            c.column,
            c.method.name(),
            c.score,
            c.threshold,
            c.psi,
            c.effect_size,
            if c.drifted { "yes" } else { "no" }
        );
    }
    for s in &report.skipped {
        println!("{:width$}  skipped: {}", s.column, s.reason);
    }
    println!(
        "\n{} of {} columns drifted ({:.1}%): {}",
        report.drifted,
        report.columns.len(),
        100.0 * report.share,
        if report.dataset_drift {
            "dataset drift"
        } else {
            "no dataset drift"
        }
    );
}
