//! The command line: parse, call `kiln-core`, print. No subcommand opens the GUI.
//!
//! Every failure ends as one `error: ...` line on stderr and a non-zero exit, never a panic
//! trace. `--json` prints exactly one JSON document on stdout.

mod args;
mod drift;
mod fairness;
mod gui;
mod import;
mod models;
mod onnx;
mod profile;
mod progress;
mod run;
mod runs;
mod serve;
mod server;
mod simulate;
mod train;
mod watch;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use kiln_core::store::{Store, location};

pub use args::{Cli, Cmd};
pub use progress::run_with_progress;

/// Entry point of the `kiln` binary.
pub fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version are "errors" that print to stdout and exit 0.
            let _ = error.print();
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let home = location::resolve_home_from_env(cli.home.clone());
    match cli.command {
        None => gui::run_gui(home, args::GuiArgs::default()),
        Some(Cmd::Gui(gui_args)) => gui::run_gui(home, gui_args),
        Some(Cmd::Runs(runs_args)) => runs::run_runs(&open_store(home)?, runs_args),
        Some(Cmd::Train(train_args)) => train::run_train(open_store(home)?, *train_args),
        Some(Cmd::Predict {
            model_ref,
            data,
            out,
            proba,
        }) => train::run_predict(&open_store(home)?, &model_ref, data, out, proba),
        Some(Cmd::Demo) => train::run_demo(open_store(home)?),
        Some(Cmd::Drift(drift_args)) => drift::run_drift(&drift_args),
        Some(Cmd::Simulate(simulate_args)) => simulate::run_simulate(home, &simulate_args),
        Some(Cmd::Import(command)) => import::run_import(open_store(home)?, command),
        Some(Cmd::Run(run_args)) => run::run_run(home, &run_args),
        Some(Cmd::Watch(watch_args)) => watch::run_watch(home, &watch_args),
        Some(Cmd::Fairness(fairness_args)) => fairness::run_fairness(&fairness_args),
        Some(Cmd::Models(command)) => models::run_models(&open_store(home)?, command),
        Some(Cmd::Profile {
            file,
            json,
            register,
            kinds,
            alerts,
            minimal,
        }) => {
            let register = match register {
                Some(name) => Some((open_store(home)?, name)),
                None => None,
            };
            profile::run_profile(file, json, register, &kinds, &alerts, minimal)
        }
        Some(Cmd::Server {
            host,
            port,
            token,
            body_limit,
        }) => server::run_server(
            &open_store(home)?,
            &kiln_core::mlflow::TrackingConfig {
                host,
                port,
                token,
                body_limit,
            },
        ),
        Some(Cmd::Serve {
            model_ref,
            host,
            port,
            token,
            body_limit,
            time_limit_ms,
            workers,
            canary,
            canary_percent,
            shadow,
        }) => serve::run_serve(
            &open_store(home)?,
            &model_ref,
            kiln_core::deploy::serve::ServeConfig {
                host,
                port,
                token,
                body_limit,
                time_limit: std::time::Duration::from_millis(time_limit_ms),
                workers: workers.map(usize::from),
            },
            serve::CandidateArgs {
                canary,
                canary_percent,
                shadow,
            },
        ),
    }
}

/// Opens the store chosen by `--home`/`KILN_HOME`/the platform default.
pub fn open_store(home: Option<std::path::PathBuf>) -> Result<Store> {
    let home = home.context("no store folder: pass --home DIR or set KILN_HOME")?;
    Ok(Store::open(&home)?)
}

fn one_line(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message.replace('\n', " ")
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KILN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
