//! `kiln train` and `kiln predict`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use kiln_core::data::schema::SchemaOverrides;
use kiln_core::data::{LoadOptions, load_table};
use kiln_core::features::MinFrequency;
use kiln_core::inference::predict;
use kiln_core::jobs::JobRunner;
use kiln_core::store::Store;
use kiln_core::train::{AUTO_MODEL, TrainOutcome, TrainRequest, train};

use super::args::TrainArgs;
use super::progress::run_with_progress;

fn parse_params(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .with_context(|| format!("--param {pair}: expected NAME=VALUE, e.g. C=0.5"))?;
            Ok((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn parse_sweep(specs: &[String]) -> Result<BTreeMap<String, kiln_core::tune::Space>> {
    specs
        .iter()
        .map(|spec| {
            kiln_core::tune::parse_axis(spec).map_err(|e| anyhow::anyhow!("--sweep {spec}: {e}"))
        })
        .collect()
}

fn parse_steps(args: &TrainArgs) -> Result<kiln_core::features::PipelineSpec> {
    let mut spec = kiln_core::features::PipelineSpec::default();
    spec.one_hot.max_categories = args.max_categories;
    if let Some(text) = &args.min_frequency {
        spec.one_hot.min_frequency =
            Some(MinFrequency::parse(text).map_err(|e| anyhow::anyhow!("--min-frequency: {e}"))?);
    }
    let specs = &args.step;
    for text in specs {
        let (column, step) = text
            .split_once('=')
            .with_context(|| format!("--step {text}: expected COL=STEP, e.g. age=mean"))?;
        let step = kiln_core::features::ColumnStep::parse(step)
            .map_err(|e| anyhow::anyhow!("--step {text}: {e}"))?;
        spec.steps.insert(column.trim().to_owned(), step);
    }
    Ok(spec)
}

fn parse_kinds(kinds: &[String]) -> Result<SchemaOverrides> {
    let mut overrides = SchemaOverrides::default();
    for kind in kinds {
        overrides
            .parse_kind(kind)
            .map_err(|e| anyhow::anyhow!("--as {kind}: {e}"))?;
    }
    Ok(overrides)
}

/// Tells the user what they should know about a run (on stderr, so `--json` stays one document).
fn print_warnings(outcome: &TrainOutcome) {
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
}

/// Runs `kiln train`.
pub fn run_train(store: Store, args: TrainArgs) -> Result<ExitCode> {
    if args.cv.is_some() && (args.test.is_some() || args.test_size.is_some()) {
        bail!(
            "--cv evaluates on every row by folds; it cannot be combined with --test or --test-size"
        );
    }
    if args.test.is_some() && args.test_size.is_some() {
        bail!("give either --test FILE or --test-size F, not both");
    }
    let steps = parse_steps(&args)?;
    let request = TrainRequest {
        data: args.data,
        test: args.test,
        test_size: args.test_size.unwrap_or(0.25),
        target: args.target,
        drop: args.drop,
        model: args.model.unwrap_or_else(|| AUTO_MODEL.to_owned()),
        params: parse_params(&args.param)?,
        experiment: args.experiment.unwrap_or_else(|| "Default".to_owned()),
        seed: args.seed.unwrap_or(42),
        cv: args.cv,
        steps,
        schema: parse_kinds(&args.kinds)?,
    };
    let sweep = parse_sweep(&args.sweep)?;
    let runner = JobRunner::new();
    if !sweep.is_empty() {
        let (metric, n_trials) = (args.metric.clone(), args.trials);
        let handle = runner.spawn("Sweep", move |ctx| {
            kiln_core::train::sweep(
                &store,
                &request,
                &sweep,
                n_trials,
                metric.as_deref(),
                None,
                ctx,
            )
        });
        let outcome = run_with_progress(handle).map_err(anyhow::Error::msg)?;
        if let Some(best) = outcome
            .runs
            .iter()
            .find(|r| r.run_id == outcome.best_run_id)
        {
            print_warnings(best);
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&outcome)?);
        } else {
            println!(
                "sweep {} ({} trials, best by {})",
                outcome.sweep_id,
                outcome.runs.len(),
                outcome.metric
            );
            for run in &outcome.runs {
                let marker = if run.run_id == outcome.best_run_id {
                    "*"
                } else {
                    " "
                };
                let value = run
                    .metrics
                    .get(&outcome.metric)
                    .copied()
                    .unwrap_or(f64::NAN);
                let params: Vec<String> =
                    run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    " {marker} {} {}={value:.6}  {}",
                    run.run_id,
                    outcome.metric,
                    params.join(" ")
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let handle = runner.spawn(
        format!("Training on {}", request.data.display()),
        move |ctx| train(&store, &request, ctx),
    );
    let outcome = run_with_progress(handle).map_err(anyhow::Error::msg)?;
    print_warnings(&outcome);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        println!(
            "run {} ({}, experiment {})",
            outcome.run_id, outcome.model, outcome.experiment
        );
        for (name, value) in &outcome.metrics {
            println!("  {name:<20} {value:.6}");
        }
        println!("  trained in {:.2} s", outcome.duration_s);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `kiln predict`.
pub fn run_predict(
    store: &Store,
    model_ref: &str,
    data: PathBuf,
    out: Option<PathBuf>,
    proba: bool,
) -> Result<ExitCode> {
    let artifact = kiln_core::registry::load_model(store, model_ref)?;
    let table = load_table(&data, &LoadOptions::default(), |_, _| true)?;
    let predictions =
        predict(&artifact, &table.frame).map_err(|e| anyhow::anyhow!("{}: {e}", data.display()))?;
    let text = predictions.to_csv(artifact.classes(), proba);
    match out {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `kiln demo`: the sample datasets and a demo experiment of real runs.
pub fn run_demo(store: Store) -> Result<ExitCode> {
    let samples = crate::samples::ensure_samples(store.home()).with_context(|| {
        format!(
            "cannot write the sample datasets into {}",
            store.home().display()
        )
    })?;
    let dir = samples
        .first()
        .and_then(|p| p.parent())
        .map(std::path::Path::to_path_buf)
        .context("no sample datasets")?;
    let runner = JobRunner::new();
    let handle = runner.spawn("Building the demo project", move |ctx| {
        kiln_core::demo::build_demo(&store, &dir, ctx)
    });
    let runs = run_with_progress(handle).map_err(anyhow::Error::msg)?;
    println!(
        "demo project ready: {runs} runs in experiment '{}'",
        kiln_core::demo::DEMO_EXPERIMENT
    );
    Ok(ExitCode::SUCCESS)
}
