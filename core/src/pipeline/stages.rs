//! What each stage's key is made of, and why a stage is stale: shared by the runner and by
//! [`status`], which answers "what would run, and why" without running anything.

use std::collections::BTreeMap;

use serde::Serialize;

use super::PipelineError;
use super::cache::{Fingerprint, HashCache};
use super::config::PipelineFile;
use super::lock::{LockFile, LockedStage, config_hash, stage_key};
use crate::store::{RunStatus, Stage, Store, StoreError};

/// A stage's parts: name -> hash or value. The key is their sha256.
pub(super) type Parts = BTreeMap<String, String>;

/// The fingerprints of a run: each input's, and each drift reference's by its input's name.
#[derive(Debug, Default)]
pub(super) struct Fingerprints {
    pub inputs: BTreeMap<String, Fingerprint>,
    pub references: BTreeMap<String, Fingerprint>,
}

/// What an unchanged stage says.
const UP: &str = "up to date";

pub(super) const TRAIN: &str = "train";
pub(super) const EVALUATE: &str = "evaluate";
pub(super) const GATES: &str = "gates";
pub(super) const REGISTER: &str = "register";
pub(super) const PROMOTE: &str = "promote";

/// `validate:NAME`.
pub(super) fn validate_name(input: &str) -> String {
    format!("validate:{input}")
}

/// The stage names of `file`, in run order.
pub(super) fn stage_names(file: &PipelineFile) -> Vec<String> {
    let mut names: Vec<String> = file.data.keys().map(|k| validate_name(k)).collect();
    names.extend([TRAIN, EVALUATE, GATES, REGISTER, PROMOTE].map(str::to_owned));
    names
}

fn input_part(file: &PipelineFile, name: &str, fps: &Fingerprints, parts: &mut Parts) {
    if let (Some(input), Some(fp)) = (file.data.get(name), fps.inputs.get(name)) {
        parts.insert(format!("input:{}", input.path.display()), fp.sha256.clone());
    }
}

pub(super) fn validate_parts(file: &PipelineFile, name: &str, fps: &Fingerprints) -> Parts {
    let mut parts = Parts::new();
    if let Some(input) = file.data.get(name) {
        parts.insert("config".into(), config_hash(&input.expect));
        if let (Some(drift), Some(fp)) = (
            input.expect.as_ref().and_then(|e| e.drift.as_ref()),
            fps.references.get(name),
        ) {
            parts.insert(
                format!("input:{}", drift.reference.display()),
                fp.sha256.clone(),
            );
        }
    }
    input_part(file, name, fps, &mut parts);
    parts
}

pub(super) fn train_parts(file: &PipelineFile, fps: &Fingerprints) -> Parts {
    let mut parts = Parts::new();
    parts.insert("config".into(), config_hash(&file.train));
    input_part(file, &file.train.data, fps, &mut parts);
    if let Some(test) = &file.train.test {
        input_part(file, test, fps, &mut parts);
    }
    parts
}

pub(super) fn evaluate_parts(run_id: &str) -> Parts {
    Parts::from([("run".to_owned(), run_id.to_owned())])
}

pub(super) fn gates_parts(file: &PipelineFile, run_id: &str, baseline: &str) -> Parts {
    Parts::from([
        ("config".to_owned(), config_hash(&file.policy_text)),
        ("run".to_owned(), run_id.to_owned()),
        ("baseline".to_owned(), baseline.to_owned()),
    ])
}

pub(super) fn register_parts(file: &PipelineFile, run_id: &str) -> Parts {
    Parts::from([
        ("config".to_owned(), config_hash(&file.register)),
        ("run".to_owned(), run_id.to_owned()),
    ])
}

pub(super) fn promote_parts(file: &PipelineFile, version: i64, gates_key: &str) -> Parts {
    Parts::from([
        ("config".to_owned(), config_hash(&file.promote_to)),
        ("version".to_owned(), version.to_string()),
        ("gates".to_owned(), gates_key.to_owned()),
    ])
}

/// The part in words: `data/train.csv`, `its settings in kiln.toml`, ...
fn part_words(part: &str) -> String {
    match part {
        "config" => "its settings in kiln.toml".into(),
        "run" => "the training run".into(),
        "baseline" => "the version it is compared with".into(),
        "version" => "the registered version".into(),
        "gates" => "the gates' result".into(),
        other => other.strip_prefix("input:").unwrap_or(other).to_owned(),
    }
}

/// Why a stage with `parts` must run, given what `kiln.lock` recorded; `None` when its key
/// is unchanged (the caller still checks that its outputs exist in this store).
pub(super) fn why_stale(old: Option<&LockedStage>, parts: &Parts, force: bool) -> Option<String> {
    if force {
        return Some("--force".into());
    }
    let Some(old) = old else {
        return Some("first run (not in kiln.lock)".into());
    };
    if old.key == stage_key(parts) {
        return None;
    }
    let mut changed: Vec<String> = parts
        .iter()
        .filter(|(name, value)| old.parts.get(*name) != Some(value))
        .map(|(name, _)| part_words(name))
        .collect();
    changed.extend(
        old.parts
            .keys()
            .filter(|name| !parts.contains_key(*name))
            .map(|name| part_words(name)),
    );
    if changed.is_empty() {
        Some("kiln.lock's key differs".into())
    } else {
        Some(format!("changed: {}", changed.join(", ")))
    }
}

/// Whether the recorded training run is still in this store (a fresh CI store has none).
pub(super) fn run_missing(store: &Store, run_id: &str) -> Result<Option<String>, StoreError> {
    match store.run(run_id) {
        Ok(run) if run.status == RunStatus::Finished => Ok(None),
        Ok(run) => Ok(Some(format!("run {run_id} is {}", run.status))),
        Err(StoreError::NotFound { .. }) => Ok(Some(format!("run {run_id} is not in this store"))),
        Err(e) => Err(e),
    }
}

/// Whether the recorded version is still in this store, from the same run.
pub(super) fn version_missing(
    store: &Store,
    model: &str,
    version: i64,
    run_id: &str,
) -> Result<Option<String>, StoreError> {
    match store.model_version(model, version) {
        Ok(v) if v.run_id.as_deref() == Some(run_id) => Ok(None),
        Ok(_) => Ok(Some(format!(
            "{model}:{version} in this store is not from run {run_id}"
        ))),
        Err(StoreError::NotFound { .. }) => {
            Ok(Some(format!("{model}:{version} is not in this store")))
        }
        Err(e) => Err(e),
    }
}

/// What the version in the stage a `not_worse_than` gate compares with is now (part of the
/// gates' key: a new production version re-runs the comparison).
pub(super) fn baseline(store: &Store, file: &PipelineFile) -> String {
    let Some(gate) = file
        .gates
        .as_ref()
        .and_then(|p| p.gates.not_worse_than.as_ref())
    else {
        return "none".into();
    };
    let holder = store.model_versions(file.model_name()).ok().and_then(|vs| {
        vs.into_iter()
            .rev()
            .find(|v| v.stage.as_str() == gate.stage)
            .map(|v| v.version)
    });
    match holder {
        Some(v) => format!("{}:{v}", gate.stage),
        None => format!("{}:none", gate.stage),
    }
}

/// One stage as [`status`] sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageState {
    /// The stage.
    pub name: String,
    /// Whether a run now would skip it.
    pub up_to_date: bool,
    /// Why it is (`up to date`) or is not.
    pub reason: String,
}

/// Fingerprints every input (through the hash cache).
pub(super) fn fingerprint_inputs(
    file: &PipelineFile,
    cache: &mut HashCache,
    mut on_progress: impl FnMut(&str, u64, u64) -> bool,
) -> Result<Fingerprints, (String, String)> {
    let mut fps = Fingerprints::default();
    for (name, input) in &file.data {
        let path = file.resolve(&input.path);
        let label = input.path.display().to_string();
        let fp = cache
            .fingerprint(&path, |done, total| on_progress(&label, done, total))
            .map_err(|e| (name.clone(), e.to_string()))?;
        fps.inputs.insert(name.clone(), fp);
        if let Some(drift) = input.expect.as_ref().and_then(|e| e.drift.as_ref()) {
            let path = file.resolve(&drift.reference);
            let label = drift.reference.display().to_string();
            let fp = cache
                .fingerprint(&path, |done, total| on_progress(&label, done, total))
                .map_err(|e| (name.clone(), e.to_string()))?;
            fps.references.insert(name.clone(), fp);
        }
    }
    Ok(fps)
}

/// Per stage, whether `kiln run` would skip it now and why not, without running anything
/// (inputs are hashed when their size or mtime changed; nothing else is read).
pub fn status(store: &Store, file: &PipelineFile) -> Result<Vec<StageState>, PipelineError> {
    let dir = file.dir().to_path_buf();
    let (lock, _) = LockFile::load(&dir)?;
    let mut cache = HashCache::load(&dir);
    let fps = fingerprint_inputs(file, &mut cache, |_, _, _| true);
    cache.save();
    let mut out = Vec::new();
    let mut push = |name: &str, stale: Option<String>, fresh: &str| {
        out.push(StageState {
            name: name.to_owned(),
            up_to_date: stale.is_none(),
            reason: stale.unwrap_or_else(|| fresh.to_owned()),
        });
    };
    let fps = match fps {
        Ok(fps) => fps,
        Err((input, error)) => {
            for name in stage_names(file) {
                push(&name, Some(format!("input '{input}': {error}")), "");
            }
            return Ok(out);
        }
    };
    for input in file.data.keys() {
        let name = validate_name(input);
        let parts = validate_parts(file, input, &fps);
        push(&name, why_stale(lock.stages.get(&name), &parts, false), UP);
    }
    // Each later stage is judged with the outputs kiln.lock recorded; once one is stale, the
    // stages after it wait on it.
    let mut waiting: Option<String> = None;
    let mut judge = |name: &str,
                     parts: Parts,
                     outputs: &dyn Fn() -> Result<Option<String>, StoreError>|
     -> Result<Option<String>, StoreError> {
        if let Some(stage) = &waiting {
            return Ok(Some(format!("runs after {stage}")));
        }
        let stale = match why_stale(lock.stages.get(name), &parts, false) {
            Some(why) => Some(why),
            None => outputs()?,
        };
        if stale.is_some() {
            waiting = Some(name.to_owned());
        }
        Ok(stale)
    };
    let locked = |stage: &str| lock.stages.get(stage);
    let run_id = locked(TRAIN).and_then(|s| s.run_id.clone());
    let train = judge(TRAIN, train_parts(file, &fps), &|| match &run_id {
        Some(id) => run_missing(store, id),
        None => Ok(Some("kiln.lock records no run".into())),
    })?;
    push(TRAIN, train, UP);
    let run = run_id.clone().unwrap_or_default();
    let evaluate = judge(EVALUATE, evaluate_parts(&run), &|| Ok(None))?;
    push(EVALUATE, evaluate, UP);
    let gate_parts = gates_parts(file, &run, &baseline(store, file));
    let gates_key = stage_key(&gate_parts);
    if file.gates.is_some() {
        let gates = judge(GATES, gate_parts, &|| Ok(None))?;
        push(GATES, gates, UP);
    } else {
        push(GATES, None, "no [gates] in kiln.toml");
    }
    let model = file.model_name().to_owned();
    let version = locked(REGISTER).and_then(|s| s.version);
    if file.register.is_some() {
        let register = judge(REGISTER, register_parts(file, &run), &|| match version {
            Some(v) => version_missing(store, &model, v, &run),
            None => Ok(Some("kiln.lock records no version".into())),
        })?;
        push(REGISTER, register, UP);
    } else {
        push(REGISTER, None, "no [register] in kiln.toml");
    }
    match (file.promote_to, version) {
        (None, _) => push(PROMOTE, None, "no promote_to in [register]"),
        (Some(_), None) => {
            let promote = judge(PROMOTE, Parts::new(), &|| Ok(None))?;
            push(PROMOTE, promote, UP);
        }
        (Some(stage), Some(v)) => {
            let parts = promote_parts(file, v, &gates_key);
            let promote = judge(PROMOTE, parts, &|| {
                stage_differs(store, &model, Some(v), stage)
            })?;
            push(PROMOTE, promote, UP);
        }
    }
    Ok(out)
}

/// Whether the version is no longer in `stage` (someone moved it since).
pub(super) fn stage_differs(
    store: &Store,
    model: &str,
    version: Option<i64>,
    stage: Stage,
) -> Result<Option<String>, StoreError> {
    let Some(version) = version else {
        return Ok(Some("no version to promote".into()));
    };
    match store.model_version(model, version) {
        Ok(v) if v.stage == stage => Ok(None),
        Ok(v) => Ok(Some(format!("{model}:{version} is in {} now", v.stage))),
        Err(StoreError::NotFound { .. }) => {
            Ok(Some(format!("{model}:{version} is not in this store")))
        }
        Err(e) => Err(e),
    }
}
