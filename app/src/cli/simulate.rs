//! `kiln simulate --target URL|MODEL_REF --data FILE [--rps N] [--duration S] [--drift SPEC]...
//! [--json]`: replays a data file against an endpoint with optional drift, and reports the
//! traffic figures and the drift of what was sent.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use kiln_core::deploy::retrain::{RetrainOutcome, retrain_if_fired};
use kiln_core::deploy::simulate::{
    DriftInjection, Monitor, SimulateOptions, SimulationReport, serve_model, simulate, url_target,
};
use kiln_core::jobs::{JobError, JobRunner};
use kiln_core::store::Store;

use super::drift::load;
use super::progress::run_with_progress;

/// `kiln simulate` arguments.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// `http://host:port` of a running endpoint, or a model (`NAME@STAGE`, `NAME:VERSION`,
    /// run id) that Kiln serves on a free loopback port for the run.
    #[arg(long, value_name = "URL|MODEL_REF")]
    pub target: String,
    /// The rows to send (resampled, or in order with --replay).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Requests per second (one row each).
    #[arg(long, default_value_t = 50.0)]
    pub rps: f64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Drift to inject (repeatable): KIND:COLUMN=VALUE[@START[..END]], KIND one of shift,
    /// scale, mix, flip; e.g. `shift:age=10@30..60`, `mix:plan=basic:0.8,pro:0.2`.
    #[arg(long, value_name = "SPEC")]
    pub drift: Vec<String>,
    /// Send the rows in file order instead of drawing them at random.
    #[arg(long)]
    pub replay: bool,
    /// Seed of the draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// What drift is measured against (default: the model's training data; for a URL, the
    /// data file itself, before any injection).
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// For a URL target: the data's label column, joined to the answers for accuracy.
    #[arg(long, value_name = "COL")]
    pub label: Option<String>,
    /// For a URL target: the bearer token it needs.
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// Do not retrain even when the model's `[retrain]` policy fires.
    #[arg(long)]
    pub no_retrain: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs the simulation with a progress bar and prints the report.
pub fn run_simulate(home: Option<PathBuf>, args: &SimulateArgs) -> Result<ExitCode> {
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err(anyhow!("--duration must be a number of seconds above 0"));
    }
    let drift = args
        .drift
        .iter()
        .map(|spec| spec.parse::<DriftInjection>())
        .collect::<Result<Vec<_>, _>>()?;
    let data = load(&args.data)?;
    let is_url = args.target.starts_with("http://") || args.target.starts_with("https://");
    // The server, when Kiln runs one, lives until the report is printed.
    let (server, target, reference, store) = if is_url {
        let target = url_target(
            &args.target,
            args.token.clone(),
            &data,
            args.label.as_deref(),
        )
        .map_err(anyhow::Error::msg)?;
        (None, target, None, None)
    } else {
        let store = super::open_store(home)?;
        let served = serve_for(&store, &args.target)?;
        (
            Some(served.server),
            served.target,
            Some(served.reference),
            Some(store),
        )
    };
    let reference = match args.reference.as_deref().or(reference.as_deref()) {
        Some(path) => load(path)?,
        None => data.clone(),
    };
    let options = SimulateOptions {
        rps: args.rps,
        duration: Duration::from_secs_f64(args.duration),
        concurrency: args.concurrency,
        replay: args.replay,
        seed: args.seed,
        drift,
        ..SimulateOptions::default()
    };
    let gauges = server.as_ref().map(|s| s.metrics());
    let runner = JobRunner::new();
    let monitor = Arc::new(Monitor::new());
    let shared = monitor.clone();
    let handle = runner.spawn(format!("Simulating {}", target.url), move |ctx| {
        let monitor = shared;
        let progress = |fraction: f32, message: &str| {
            ctx.progress(fraction, message);
            !ctx.is_cancelled()
        };
        simulate(
            &target,
            &data,
            &reference,
            &options,
            &monitor,
            &progress,
            gauges.as_deref(),
        )
        .map_err(JobError::failed)
    });
    let simulation = run_with_progress(handle).map_err(anyhow::Error::msg)?;
    let retrained = match store {
        Some(store) if !args.no_retrain => {
            let (model_ref, live) = (args.target.clone(), monitor.snapshot());
            let traffic = simulation.traffic.clone();
            let job = runner.spawn(format!("Retraining {model_ref}"), move |ctx| {
                retrain_if_fired(&store, &model_ref, &live, &traffic, ctx)
            });
            run_with_progress(job).map_err(anyhow::Error::msg)?
        }
        _ => None,
    };
    if args.json {
        let mut document = serde_json::to_value(&simulation.report)?;
        document["retrain"] = serde_json::to_value(&retrained)?;
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print_report(&simulation.report);
        if let Some(r) = &retrained {
            print_retrain(r);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_retrain(r: &RetrainOutcome) {
    println!();
    println!("retraining policy fired: {}", r.trigger);
    println!("  {}", r.summary());
    println!("  staging: {}", r.staged.verdict());
    println!("  production: {}", r.production());
}

fn serve_for(store: &Store, model_ref: &str) -> Result<kiln_core::deploy::simulate::ServedTarget> {
    serve_model(store, model_ref).map_err(|e| anyhow!("cannot serve {model_ref}: {e}"))
}

fn print_report(report: &SimulationReport) {
    println!(
        "{} requests, {} errors, {:.1} requests/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        report.requests,
        report.errors,
        report.rps,
        report.latency_ms.p50,
        report.latency_ms.p95,
        report.latency_ms.p99
    );
    match report.accuracy {
        Some(a) => println!("live accuracy {a:.4}"),
        None => println!("live accuracy: no labels"),
    }
    println!();
    super::drift::print_table(&report.drift);
    if !report.alerts.is_empty() {
        println!();
        println!("alerts:");
        for a in &report.alerts {
            println!(
                "  {:<14} {:<24} {}",
                a.kind,
                a.column.as_deref().unwrap_or("(all)"),
                a.detail
            );
        }
    }
}
