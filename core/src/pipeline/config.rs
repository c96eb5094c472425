//! `kiln.toml`: the pipeline file, parsed strictly. Unknown keys and wrong types are errors
//! naming the line and column (from toml's spans), never silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::hooks::Hooks;
use crate::data::profile::ColumnKind;
use crate::models::ModelSpec;
use crate::registry::{KeySpans, Policy, line_column};
use crate::store::Stage;
use crate::train::AUTO_MODEL;
use crate::tune::Space;

/// The usual name of a pipeline file.
pub const PIPELINE_FILE: &str = "kiln.toml";

/// Why a pipeline file was refused.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not a valid pipeline, and where.
    #[error("{path}: line {line}, column {column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong there.
        message: String,
    },
}

/// `[pipeline]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
    /// The pipeline's name.
    pub name: String,
}

/// `[data.NAME]`: one named input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataInput {
    /// The file, relative to `kiln.toml`.
    pub path: PathBuf,
    /// What the data must satisfy.
    pub expect: Option<Expect>,
}

/// `[data.NAME.expect]`: data validation. Each failure names the column and the rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Required columns.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Bounds on the number of rows.
    pub rows: Option<RowBounds>,
    /// Largest share of missing values per column (0 to 1).
    #[serde(default)]
    pub max_missing: BTreeMap<String, f64>,
    /// `[lo, hi]`: every value of the column within (inclusive).
    #[serde(default)]
    pub range: BTreeMap<String, [f64; 2]>,
    /// The kind each column must have (`numeric`, `categorical`, `boolean`, `datetime`, `text`).
    #[serde(default)]
    pub types: BTreeMap<String, ColumnKind>,
    /// Data drift against a reference file, Evidently-style.
    pub drift: Option<DriftExpect>,
}

/// `rows = { min = 100, max = 1000000 }`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowBounds {
    /// At least this many rows.
    pub min: Option<u64>,
    /// At most this many rows.
    pub max: Option<u64>,
}

/// `drift = { reference = "data/reference.csv", max_share = 0.5 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftExpect {
    /// The reference data, relative to `kiln.toml`.
    pub reference: PathBuf,
    /// The share of drifted columns at which the data counts as drifted and fails (Evidently's
    /// `drift_share`, default 0.5).
    #[serde(default = "default_share")]
    pub max_share: f64,
    /// Columns left out of the comparison.
    #[serde(default)]
    pub exclude: Vec<String>,
}

fn default_share() -> f64 {
    0.5
}

fn default_model() -> String {
    AUTO_MODEL.to_owned()
}

fn default_seed() -> u64 {
    42
}

/// `[train]`: what `kiln train` would be asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The input to train on (a `[data.NAME]`).
    pub data: String,
    /// The input to evaluate on (else a split of `data`).
    pub test: Option<String>,
    /// Share held out when there is no `test` (default 0.25).
    pub test_size: Option<f64>,
    /// Cross-validate with this many folds instead.
    pub cv: Option<usize>,
    /// The column to predict.
    pub target: String,
    /// Model name (scikit-learn's), default `auto`.
    #[serde(default = "default_model")]
    pub model: String,
    /// Hyper-parameters by scikit-learn name.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// Columns left out.
    #[serde(default)]
    pub drop: Vec<String>,
    /// Seed of the split (default 42).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Experiment of the runs (default: the pipeline's name).
    pub experiment: Option<String>,
    /// `[train.sweep]`: `metric`, `trials`, and one key per hyper-parameter with a list of
    /// values or a `"LO:HI"` / `"LO:HI:log"` range.
    pub sweep: Option<toml::Table>,
}

/// `[register]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterConfig {
    /// The registered model's name.
    pub model: String,
    /// The stage a version goes to when every gate passes.
    pub promote_to: Option<String>,
    /// The versions' description.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    pipeline: PipelineSection,
    #[serde(default)]
    data: BTreeMap<String, DataInput>,
    train: TrainConfig,
    gates: Option<toml::Table>,
    register: Option<RegisterConfig>,
    #[serde(default)]
    hooks: Hooks,
}

/// A sweep as the trainer takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    /// The search space per hyper-parameter.
    pub spaces: BTreeMap<String, Space>,
    /// The metric ranking the trials (default: the task's).
    pub metric: Option<String>,
    /// Number of random trials (default: the whole grid).
    pub trials: Option<usize>,
}

/// A parsed, checked `kiln.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineFile {
    /// The file (absolute).
    pub path: PathBuf,
    /// `[pipeline] name`.
    pub name: String,
    /// The named inputs.
    pub data: BTreeMap<String, DataInput>,
    /// `[train]`.
    pub train: TrainConfig,
    /// `[train.sweep]`, parsed.
    pub sweep: Option<SweepConfig>,
    /// `[gates]` as the registry's policy (test data filled in for gates that score).
    pub gates: Option<Policy>,
    /// The policy's TOML text, as stored on the model.
    pub policy_text: String,
    /// `[register]`.
    pub register: Option<RegisterConfig>,
    /// The stage `promote_to` names.
    pub promote_to: Option<Stage>,
    /// `[hooks]`.
    pub hooks: Hooks,
}

impl PipelineFile {
    /// Reads and parses the pipeline file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Self::parse(&text, &absolute)
    }

    /// Parses pipeline text that lives at `path` (inputs are relative to its folder).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let at = |offset: usize, message: String| {
            let (line, column) = line_column(text, offset);
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_owned();
            at(e.span().map_or(0, |s| s.start), message)
        })?;
        let spans = KeySpans::of(text);
        let key = |path: &[&str]| spans.start(path);
        if raw.pipeline.name.trim().is_empty() {
            return Err(at(key(&["pipeline", "name"]), "the name is empty".into()));
        }
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let train = &raw.train;
        for (field, input) in [("data", Some(&train.data)), ("test", train.test.as_ref())] {
            if let Some(input) = input
                && !raw.data.contains_key(input)
            {
                let known: Vec<&str> = raw.data.keys().map(String::as_str).collect();
                return Err(at(
                    key(&["train", field]),
                    format!(
                        "no input '{input}': declare [data.{input}] (inputs: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
        }
        let splits = [
            train.test.is_some(),
            train.test_size.is_some(),
            train.cv.is_some(),
        ];
        if splits.iter().filter(|s| **s).count() > 1 {
            return Err(at(
                key(&["train"]),
                "give one of test, test_size or cv, not several".into(),
            ));
        }
        if let Some(size) = train.test_size
            && !(0.0 < size && size < 1.0)
        {
            return Err(at(
                key(&["train", "test_size"]),
                format!("test_size = {size}: it must be between 0 and 1"),
            ));
        }
        for (name, input) in &raw.data {
            if let Some(expect) = &input.expect {
                for (column, share) in &expect.max_missing {
                    if !(0.0..=1.0).contains(share) {
                        return Err(at(
                            key(&["data", name, "expect", "max_missing", column]),
                            format!("max_missing {column} = {share}: a share between 0 and 1"),
                        ));
                    }
                }
                for (column, [lo, hi]) in &expect.range {
                    if lo > hi {
                        return Err(at(
                            key(&["data", name, "expect", "range", column]),
                            format!(
                                "range {column} = [{lo}, {hi}]: the lower bound is above the upper one"
                            ),
                        ));
                    }
                }
            }
        }
        let params = param_strings(&train.params);
        let sweep = match &train.sweep {
            None => None,
            Some(table) => Some(parse_sweep(table).map_err(|(field, message)| {
                let offset = field.map_or(key(&["train", "sweep"]), |f| {
                    key(&["train", "sweep", f.as_str()])
                });
                at(offset, format!("train.sweep: {message}"))
            })?),
        };
        if train.model != AUTO_MODEL
            && sweep.is_none()
            && let Err(e) = ModelSpec::from_params(&train.model, &params)
        {
            let offset = if ModelSpec::from_params(&train.model, &BTreeMap::new()).is_ok() {
                key(&["train", "params"])
            } else {
                key(&["train", "model"])
            };
            return Err(at(offset, e.to_string()));
        }
        let test_path = train
            .test
            .as_ref()
            .and_then(|t| raw.data.get(t))
            .map(|input| dir.join(&input.path));
        let (gates, policy_text) = match &raw.gates {
            None => (None, String::new()),
            Some(table) => {
                let (policy, text) =
                    parse_gates(table, test_path.as_deref()).map_err(|(gate, message)| {
                        let offset = gate.map_or(key(&["gates"]), |g| key(&["gates", g.as_str()]));
                        at(offset, message)
                    })?;
                (Some(policy), text)
            }
        };
        let promote_to = match raw.register.as_ref().and_then(|r| r.promote_to.as_ref()) {
            None => None,
            Some(stage) => Some(
                Stage::parse(stage)
                    .map_err(|e| at(key(&["register", "promote_to"]), e.to_string()))?,
            ),
        };
        if let Some(register) = &raw.register
            && register.model.trim().is_empty()
        {
            return Err(at(
                key(&["register", "model"]),
                "the model name is empty".into(),
            ));
        }
        raw.hooks
            .check()
            .map_err(|(event, message)| at(key(&["hooks", event]), message))?;
        Ok(Self {
            path: path.to_path_buf(),
            name: raw.pipeline.name,
            data: raw.data,
            train: raw.train,
            sweep,
            gates,
            policy_text,
            register: raw.register,
            promote_to,
            hooks: raw.hooks,
        })
    }

    /// The folder of `kiln.toml`, which input paths are relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// A path of the file, resolved against its folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.dir().join(path)
    }

    /// The file of input `name`.
    pub fn input_path(&self, name: &str) -> Option<PathBuf> {
        self.data.get(name).map(|d| self.resolve(&d.path))
    }

    /// The hyper-parameters as the trainer takes them (text by scikit-learn name).
    pub fn params(&self) -> BTreeMap<String, String> {
        param_strings(&self.train.params)
    }

    /// The registered model's name: `[register] model`, else the pipeline's name.
    pub fn model_name(&self) -> &str {
        self.register.as_ref().map_or(&self.name, |r| &r.model)
    }
}

/// A TOML value as the text a hyper-parameter takes (`1.0`, `"l2"` -> `l2`, `true`).
fn param_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn param_strings(params: &BTreeMap<String, toml::Value>) -> BTreeMap<String, String> {
    params
        .iter()
        .map(|(k, v)| (k.clone(), param_text(v)))
        .collect()
}

type FieldError = (Option<String>, String);

fn parse_sweep(table: &toml::Table) -> Result<SweepConfig, FieldError> {
    let mut config = SweepConfig {
        spaces: BTreeMap::new(),
        metric: None,
        trials: None,
    };
    for (name, value) in table {
        let here = Some(name.clone());
        match (name.as_str(), value) {
            ("metric", toml::Value::String(m)) => {
                if crate::eval::metric_info(m).is_none() {
                    return Err((here, format!("unknown metric '{m}'")));
                }
                config.metric = Some(m.clone());
            }
            ("metric", _) => return Err((here, "metric is a name such as \"accuracy\"".into())),
            ("trials", toml::Value::Integer(n)) if *n > 0 => {
                config.trials = usize::try_from(*n).ok();
            }
            ("trials", _) => return Err((here, "trials is a positive whole number".into())),
            (param, toml::Value::Array(values)) => {
                if values.is_empty() {
                    return Err((here, format!("{param}: no values")));
                }
                let values = values.iter().map(param_text).collect();
                config
                    .spaces
                    .insert(param.to_owned(), Space::Values(values));
            }
            (param, toml::Value::String(range)) => {
                let space = crate::tune::parse_space(range)
                    .map_err(|e| (here.clone(), format!("{param}: {e}")))?;
                config.spaces.insert(param.to_owned(), space);
            }
            (param, other) => {
                config
                    .spaces
                    .insert(param.to_owned(), Space::Values(vec![param_text(other)]));
            }
        }
    }
    if config.spaces.is_empty() {
        return Err((
            None,
            "a sweep needs at least one hyper-parameter, e.g. C = [0.1, 1, 10]".into(),
        ));
    }
    Ok(config)
}

/// The `[gates]` table as the registry's policy: each gate is checked on its own so that an
/// error points at its key; gates that score a model (`not_worse_than`, `fairness`) score on
/// the test input unless they name their own data.
fn parse_gates(
    table: &toml::Table,
    test_path: Option<&Path>,
) -> Result<(Policy, String), FieldError> {
    let mut table = table.clone();
    for (name, value) in table.iter_mut() {
        let single = policy_text(name, value)?;
        Policy::parse(&single).map_err(|e| (Some(name.clone()), e.message))?;
        if let (Some(test), "not_worse_than" | "fairness", toml::Value::Table(inner)) =
            (test_path, name.as_str(), value)
            && !inner.contains_key("data")
        {
            inner.insert(
                "data".into(),
                toml::Value::String(test.to_string_lossy().into_owned()),
            );
        }
    }
    let mut document = toml::Table::new();
    document.insert("gates".into(), toml::Value::Table(table));
    let text = toml::to_string(&document).map_err(|e| (None, e.to_string()))?;
    let policy = Policy::parse(&text).map_err(|e| (None, e.message))?;
    Ok((policy, text))
}

fn policy_text(name: &str, value: &toml::Value) -> Result<String, FieldError> {
    let mut gates = toml::Table::new();
    gates.insert(name.to_owned(), value.clone());
    let mut document = toml::Table::new();
    document.insert("gates".into(), toml::Value::Table(gates));
    toml::to_string(&document).map_err(|e| (Some(name.to_owned()), e.to_string()))
}
