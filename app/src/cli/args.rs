//! The command-line grammar (clap derive), as documented in the README.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ui::workspace::Workspace;

/// Kiln: explore data, train and compare models, promote and serve them — on your machine.
#[derive(Debug, Parser)]
#[command(name = "kiln", version, about, long_about = None)]
pub struct Cli {
    /// Store folder (else KILN_HOME, else the platform data directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// What to do; without one, the GUI opens.
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Open the GUI.
    Gui(GuiArgs),
    /// Profile a data file: statistics, histograms, correlations, alerts.
    Profile {
        /// CSV, TSV, Parquet, JSON/NDJSON or Arrow IPC file.
        file: PathBuf,
        /// Print the profile as JSON.
        #[arg(long)]
        json: bool,
        /// Also register the file as a version of this dataset in the store.
        #[arg(long, value_name = "NAME")]
        register: Option<String>,
        /// Read a column as another kind: numeric, categorical or text (repeatable).
        #[arg(long = "as", value_name = "COL=KIND")]
        kinds: Vec<String>,
        /// Alert threshold, e.g. missing=0.05 or high_cardinality=100 (repeatable).
        #[arg(long = "alert", value_name = "NAME=VALUE")]
        alerts: Vec<String>,
        /// No correlation matrices (ydata-profiling's minimal mode): statistics, histograms,
        /// top values, duplicates and alerts only.
        #[arg(long)]
        minimal: bool,
    },
    /// Train a model (or a sweep) and track it as a run.
    Train(Box<TrainArgs>),
    /// Predict with a stored model.
    Predict {
        /// NAME@ALIAS_OR_STAGE, NAME:VERSION, or a run id.
        model_ref: String,
        /// Rows to predict.
        #[arg(long)]
        data: PathBuf,
        /// Output CSV (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Add proba_<class> columns.
        #[arg(long)]
        proba: bool,
    },
    /// Fairness of predictions over sensitive columns (Fairlearn's metrics).
    Fairness(FairnessArgs),
    /// List, show and compare runs.
    Runs(RunsArgs),
    /// The model registry.
    #[command(subcommand)]
    Models(ModelsCmd),
    /// Serve a model over HTTP (MLflow's /invocations protocol).
    Serve {
        /// Model to serve.
        model_ref: String,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Require `Authorization: Bearer T` on every request.
        #[arg(long, value_name = "T")]
        token: Option<String>,
        /// Largest request body in bytes (413 above).
        #[arg(long, value_name = "BYTES", default_value_t = kiln_core::deploy::serve::DEFAULT_BODY_LIMIT)]
        body_limit: usize,
        /// Longest time one request may take, in milliseconds (504 above).
        #[arg(long, value_name = "MS", default_value_t = 30_000)]
        time_limit_ms: u64,
        /// Threads answering requests (default: half the machine's cores, at least one, so a
        /// client or load generator on the same machine keeps the other half).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        workers: Option<u16>,
        /// A candidate that answers --canary-percent of the requests.
        #[arg(long, value_name = "MODEL_REF", conflicts_with = "shadow")]
        canary: Option<String>,
        /// Share of requests the canary answers.
        #[arg(long, value_name = "P", default_value_t = 10.0)]
        canary_percent: f64,
        /// A candidate that scores a copy of every request; its answers are compared
        /// (`kiln_shadow_*` in /metrics), never returned.
        #[arg(long, value_name = "MODEL_REF")]
        shadow: Option<String>,
    },
    /// Serve MLflow's tracking, registry and artifact REST API over the Kiln store, so
    /// scripts with MLFLOW_TRACKING_URI=http://127.0.0.1:5000 log into Kiln.
    Server {
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port (0 picks a free one).
        #[arg(long, default_value_t = 5000)]
        port: u16,
        /// Require `Authorization: Bearer T` (the client sends MLFLOW_TRACKING_TOKEN).
        #[arg(long, value_name = "T")]
        token: Option<String>,
        /// Largest request body (an artifact upload) in bytes (413 above).
        #[arg(long, value_name = "BYTES", default_value_t = 512 * 1024 * 1024)]
        body_limit: usize,
    },
    /// Replay a data file against an endpoint, with optional drift, and report.
    Simulate(super::simulate::SimulateArgs),
    /// Data drift between two files (Evidently's default preset).
    Drift(super::drift::DriftArgs),
    /// Fill the store with a demo project.
    Demo,
    /// Import another tool's history into the store (`kiln import mlflow PATH_OR_URI`).
    #[command(subcommand)]
    Import(super::import::ImportCmd),
    /// Run the pipeline of kiln.toml: validate, train, evaluate, gates, register, promote;
    /// stages whose inputs and settings did not change since kiln.lock are skipped.
    Run(super::run::RunArgs),
    /// Run the pipeline, then again whenever kiln.toml or one of its inputs changes.
    Watch(super::watch::WatchArgs),
}

impl Cmd {
    /// What the subcommand does, for "not built yet" messages.
    pub fn what(&self) -> &'static str {
        match self {
            Cmd::Gui(_) => "gui",
            Cmd::Profile { .. } => "profile (data profiling)",
            Cmd::Train(_) => "train (model training)",
            Cmd::Predict { .. } => "predict",
            Cmd::Fairness(_) => "fairness",
            Cmd::Runs(_) => "runs",
            Cmd::Models(_) => "models (the model registry)",
            Cmd::Serve { .. } => "serve (model serving)",
            Cmd::Server { .. } => "server (the MLflow tracking API)",
            Cmd::Simulate(_) => "simulate (traffic simulation)",
            Cmd::Drift(_) => "drift (data drift)",
            Cmd::Demo => "demo (the demo project)",
            Cmd::Import(_) => "import (an MLflow history)",
            Cmd::Run(_) => "run (a pipeline)",
            Cmd::Watch(_) => "watch (a pipeline's inputs)",
        }
    }
}

/// `kiln gui`.
#[derive(Debug, Args, Default)]
pub struct GuiArgs {
    /// A data file to open.
    pub file: Option<PathBuf>,
    /// Workspace to show: explore, experiments, registry, deploy or pipelines.
    #[arg(long, value_name = "P")]
    pub panel: Option<Workspace>,
    /// Write a PNG of the window once it has settled, then exit.
    #[arg(long, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,
    /// View to open on (for screenshots): for FILE in Explore `column:age`, `correlations`, ...;
    /// in Deploy `traffic` serves the first version and runs traffic with drift by itself.
    #[arg(long, hide = true, value_name = "TAB[:COLUMN]")]
    pub view: Option<String>,
    /// Window size, e.g. 1280x800.
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<(f32, f32)>,
}

fn parse_size(text: &str) -> Result<(f32, f32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{text}' is not WIDTHxHEIGHT (e.g. 1280x800)"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<f32>()
            .ok()
            .filter(|n| (200.0..=10_000.0).contains(n))
            .ok_or_else(|| format!("'{v}' is not a size between 200 and 10000"))
    };
    Ok((parse(w)?, parse(h)?))
}

/// `kiln train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data.
    #[arg(long)]
    pub data: PathBuf,
    /// Column to predict.
    #[arg(long)]
    pub target: String,
    /// Separate test file.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Fraction held out for testing.
    #[arg(long)]
    pub test_size: Option<f64>,
    /// Columns to leave out.
    #[arg(long)]
    pub drop: Vec<String>,
    /// Model name.
    #[arg(long)]
    pub model: Option<String>,
    /// Hyper-parameter, K=V.
    #[arg(long)]
    pub param: Vec<String>,
    /// Sweep values: K=V1,V2,... (grid) or K=LO:HI / K=LO:HI:log (random search)
    #[arg(long)]
    pub sweep: Vec<String>,
    /// Preprocessing of one column: COL=median|mean|zero[,noscale]|onehot|drop (repeatable).
    #[arg(long, value_name = "COL=STEP")]
    pub step: Vec<String>,
    /// Read a column as another type: `zip=categorical`, `amount=numeric`, `note=text`.
    #[arg(long = "as", value_name = "COL=KIND")]
    pub kinds: Vec<String>,
    /// One-hot encoding keeps at most this many outputs per column, the last one grouping
    /// infrequent levels (scikit-learn's `max_categories`).
    #[arg(long)]
    pub max_categories: Option<usize>,
    /// Levels seen fewer times (a whole number) or in a smaller share of rows (0 to 1) are
    /// grouped as infrequent (scikit-learn's `min_frequency`).
    #[arg(long)]
    pub min_frequency: Option<String>,
    /// Cross-validation folds.
    #[arg(long)]
    pub cv: Option<usize>,
    /// Random search: this many trials drawn from the --sweep values and ranges (default 16
    /// when a range is given; lists alone make a full grid).
    #[arg(long)]
    pub trials: Option<usize>,
    /// Metric that picks a sweep's best trial (default: accuracy or r2).
    #[arg(long)]
    pub metric: Option<String>,
    /// Experiment name.
    #[arg(long)]
    pub experiment: Option<String>,
    /// Seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `kiln fairness`.
#[derive(Debug, Args)]
pub struct FairnessArgs {
    /// Data file holding the truth, the predictions and the sensitive columns.
    #[arg(long)]
    pub data: PathBuf,
    /// Column of true labels.
    #[arg(long, value_name = "COL")]
    pub truth: String,
    /// Column of predicted labels.
    #[arg(long, value_name = "COL")]
    pub pred: String,
    /// Sensitive columns (one or more; with two or more, their intersection too).
    #[arg(long, value_name = "COL", required = true, num_args = 1..)]
    pub sensitive: Vec<String>,
    /// The positive label (default 1 or true when the labels are {0, 1}, {-1, 1} or {false, true}).
    #[arg(long, value_name = "V", allow_hyphen_values = true)]
    pub pos_label: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `kiln runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// `show RUN_ID` or `compare RUN_ID...`; without it, list runs.
    #[command(subcommand)]
    pub action: Option<RunsAction>,
    /// Only this experiment.
    #[arg(long)]
    pub experiment: Option<String>,
    /// Filter expression, e.g. `metrics.accuracy > 0.9 and params.model = "svm"`.
    #[arg(long)]
    pub filter: Option<String>,
    /// Sort key, e.g. `metrics.accuracy` or `-start_time` (descending).
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Aggregate the runs by this key (e.g. params.model): count, mean, std, min, max per metric.
    #[arg(long, value_name = "KEY")]
    pub group_by: Option<String>,
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV.
    #[arg(long)]
    pub csv: bool,
}

/// `kiln runs show|compare`.
#[derive(Debug, Subcommand)]
pub enum RunsAction {
    /// Everything logged to one run.
    Show {
        /// The run.
        run_id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare runs side by side.
    Compare {
        /// Two or more runs.
        #[arg(required = true, num_args = 2..)]
        run_ids: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `kiln models ...`.
#[derive(Debug, Subcommand)]
pub enum ModelsCmd {
    /// Register a run's model as a new version.
    Register {
        /// The run.
        run_id: String,
        /// Registered model name.
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long)]
        description: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import an ONNX model as a new version.
    ImportOnnx {
        /// The .onnx file.
        file: PathBuf,
        /// Registered model name.
        #[arg(long)]
        name: String,
        /// CSV whose header names the input columns.
        #[arg(long)]
        columns_from: Option<PathBuf>,
        /// Columns of that CSV that are not inputs.
        #[arg(long)]
        drop: Vec<String>,
        /// The column the model predicts (gates and fairness compare predictions with it).
        #[arg(long)]
        target: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move a version to a stage, through its gates.
    Promote {
        /// Model name.
        name: String,
        /// Version number.
        version: u32,
        /// none, staging, production or archived.
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Promote even when a gate fails (recorded in the audit log).
        #[arg(long = "override")]
        override_gates: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give a stage back to the version that held it before the current one (audited; an
    /// endpoint serving the stage swaps back).
    Rollback {
        /// Model name.
        name: String,
        /// staging or production.
        #[arg(long, default_value = "production")]
        stage: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Point an alias at a version.
    Alias {
        /// Model name.
        name: String,
        /// Version number.
        version: u32,
        /// Alias, e.g. champion.
        alias: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List registered models.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one model and its versions.
    Show {
        /// Model name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The audit history of one model (or, with no name, of the whole registry).
    History {
        /// Model name.
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the audit chain; non-zero exit naming the first bad entry.
    VerifyAudit {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a version for a stage, as a second person (the approval gate needs someone
    /// other than the one who promotes).
    Approve {
        /// Model name.
        name: String,
        /// Version number.
        version: u32,
        /// staging or production.
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Archive a version (a stage change without gates).
    Archive {
        /// Model name.
        name: String,
        /// Version number.
        version: u32,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Set a model's gate policy from a TOML file (`[gates] accuracy = ">= 0.9"`).
    Policy {
        /// Model name.
        name: String,
        /// The policy file.
        file: PathBuf,
        /// Why the gates change (recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Write a model card.
    Card {
        /// NAME:VERSION.
        model: String,
        /// md or html.
        #[arg(long, default_value = "md")]
        format: String,
        /// Output file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Fairness of a model's predictions over sensitive columns (Fairlearn's metrics).
    Fairness {
        /// The model.
        model_ref: String,
        /// Rows to predict, with the truth and the sensitive columns.
        #[arg(long)]
        data: PathBuf,
        /// Sensitive columns (one or more; with two or more, their intersection too).
        #[arg(long, value_name = "COL", required = true, num_args = 1..)]
        sensitive: Vec<String>,
        /// Column of true labels (default: the model's target).
        #[arg(long, value_name = "COL")]
        truth: Option<String>,
        /// The positive label (default 1 or true when the labels are {0, 1}, {-1, 1} or {false, true}).
        #[arg(long, value_name = "V", allow_hyphen_values = true)]
        pos_label: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export a model as ONNX.
    ExportOnnx {
        /// The model.
        model_ref: String,
        /// Output .onnx file.
        #[arg(long)]
        out: PathBuf,
    },
}
