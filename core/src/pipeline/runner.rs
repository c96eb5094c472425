//! [`run`]: the stages in order under the project's lock, each skipped when its key in
//! `kiln.lock` is unchanged and its outputs are still in the store; a failure stops the run.
//! Every run is recorded in the store (lineage), and `kiln.lock` is rewritten only when it
//! changed. Registration and promotion are in `publish`.

use std::collections::BTreeMap;
use std::time::Instant;

use super::cache::HashCache;
use super::config::PipelineFile;
use super::hooks::{self, HookEvent};
use super::lock::{LockFile, LockedInput, LockedStage, stage_key};
use super::runlock::{self, holder_text};
use super::stages::{
    self, EVALUATE, Fingerprints, GATES, PROMOTE, Parts, REGISTER, TRAIN, validate_name, why_stale,
};
use super::steps;

mod publish;
use super::{
    Failure, InputState, ModelState, PipelineError, PipelineOutcome, RunEvent, RunOptions,
    StageReport, StageStatus,
};
use crate::jobs::JobContext;
use crate::registry::GateResult;
use crate::store::{PipelineRunRecord, Store, now_rfc3339};

struct Runner<'a> {
    store: &'a Store,
    file: &'a PipelineFile,
    options: &'a RunOptions,
    ctx: &'a JobContext,
    old: LockFile,
    new: LockFile,
    stages: Vec<StageReport>,
    total: usize,
    failure: Option<Failure>,
    warnings: Vec<String>,
    run_id: Option<String>,
    version: Option<i64>,
    gates: Vec<GateResult>,
}

impl Runner<'_> {
    fn emit(&self, event: RunEvent) {
        if let Some(observer) = &self.options.observer {
            observer(&event);
        }
    }

    fn begin(&self, name: &str) -> Result<Instant, PipelineError> {
        if self.ctx.is_cancelled() {
            return Err(PipelineError::Cancelled);
        }
        let done = self.stages.len() as f32 / self.total.max(1) as f32;
        self.ctx.progress(done, name.to_owned());
        self.emit(RunEvent::StageStarted {
            name: name.to_owned(),
        });
        Ok(Instant::now())
    }

    fn end(&mut self, name: &str, status: StageStatus, reason: String, started: Instant) {
        let report = StageReport {
            name: name.to_owned(),
            status,
            reason,
            duration_s: started.elapsed().as_secs_f64(),
        };
        tracing::info!(stage = name, status = status.as_str(), reason = %report.reason, "pipeline stage");
        if status == StageStatus::Failed {
            self.new.stages.remove(name);
            if self.failure.is_none() {
                self.failure = Some(Failure {
                    stage: name.to_owned(),
                    message: report.reason.clone(),
                });
            }
        }
        self.emit(RunEvent::StageFinished(report.clone()));
        self.stages.push(report);
    }

    /// Records a stage that ran, under its key.
    fn ran(&mut self, name: &str, parts: Parts, outputs: LockedStage, reason: String, t: Instant) {
        self.new.stages.insert(
            name.to_owned(),
            LockedStage {
                key: stage_key(&parts),
                parts,
                ..outputs
            },
        );
        self.end(name, StageStatus::Ran, reason, t);
    }

    fn skip(&mut self, name: &str, reason: impl Into<String>) -> Result<(), PipelineError> {
        let t = self.begin(name)?;
        self.end(name, StageStatus::Skipped, reason.into(), t);
        Ok(())
    }

    /// After a failure, the remaining stages are skipped, saying which stage stopped them.
    fn blocked(&mut self, name: &str) -> Result<bool, PipelineError> {
        match &self.failure {
            Some(f) => {
                let reason = format!("not run: {} failed", f.stage);
                self.skip(name, reason)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn locked(&self, name: &str) -> Option<&LockedStage> {
        self.old.stages.get(name)
    }

    fn hook(&mut self, event: HookEvent, version: Option<i64>, payload: serde_json::Value) {
        let dir = self.file.dir().to_path_buf();
        if let Some(warning) = hooks::fire(
            self.store,
            &self.file.hooks,
            &dir,
            event,
            self.file.model_name(),
            version,
            payload,
        ) {
            self.warnings.push(warning);
        }
    }

    fn stages(&mut self, fps: Result<Fingerprints, (String, String)>) -> Result<(), PipelineError> {
        let (file, force) = (self.file, self.options.force);
        let fps = match fps {
            Ok(fps) => fps,
            Err((input, error)) => {
                let t = self.begin(&validate_name(&input))?;
                self.end(&validate_name(&input), StageStatus::Failed, error, t);
                Fingerprints::default()
            }
        };
        for input in file.data.keys() {
            let name = validate_name(input);
            if self.stages.iter().any(|s| s.name == name) {
                continue;
            }
            if self.failure.is_some() && !fps.inputs.contains_key(input) {
                self.skip(&name, "not run: an input could not be read")?;
                continue;
            }
            let parts = stages::validate_parts(file, input, &fps);
            let t = self.begin(&name)?;
            match why_stale(self.locked(&name), &parts, force) {
                None => self.end(&name, StageStatus::Skipped, "up to date".into(), t),
                Some(why) => match steps::validate(file, input, self.ctx)? {
                    Ok(summary) => self.ran(
                        &name,
                        parts,
                        LockedStage::default(),
                        format!("{why}; {summary}"),
                        t,
                    ),
                    Err(failure) => self.end(&name, StageStatus::Failed, failure, t),
                },
            }
        }
        // train
        if self.failure.is_some() {
            return self.rest_blocked();
        }
        let parts = stages::train_parts(file, &fps);
        let t = self.begin(TRAIN)?;
        let locked_run = self.locked(TRAIN).and_then(|s| s.run_id.clone());
        let stale = match (why_stale(self.locked(TRAIN), &parts, force), &locked_run) {
            (Some(why), _) => Some(why),
            (None, None) => Some("kiln.lock records no run".into()),
            (None, Some(id)) => stages::run_missing(self.store, id)?,
        };
        let run_id = match (stale, locked_run) {
            (None, Some(id)) => {
                self.end(
                    TRAIN,
                    StageStatus::Skipped,
                    format!("up to date (run {id})"),
                    t,
                );
                id
            }
            (why, _) => match steps::train_model(self.store, file, self.ctx)? {
                Ok(id) => {
                    let outputs = LockedStage {
                        run_id: Some(id.clone()),
                        ..LockedStage::default()
                    };
                    let why = why.unwrap_or_default();
                    self.ran(TRAIN, parts, outputs, format!("{why}; run {id}"), t);
                    id
                }
                Err(failure) => {
                    self.end(TRAIN, StageStatus::Failed, failure, t);
                    return self.rest_blocked();
                }
            },
        };
        self.run_id = Some(run_id.clone());
        // evaluate
        let parts = stages::evaluate_parts(&run_id);
        let t = self.begin(EVALUATE)?;
        match why_stale(self.locked(EVALUATE), &parts, force) {
            None => {
                let line = self
                    .locked(EVALUATE)
                    .map(|s| steps::metrics_line(&s.metrics))
                    .unwrap_or_default();
                self.end(
                    EVALUATE,
                    StageStatus::Skipped,
                    format!("up to date ({line})"),
                    t,
                )
            }
            Some(why) => match steps::evaluate(self.store, &run_id)? {
                Ok(metrics) => {
                    let line = steps::metrics_line(&metrics);
                    let outputs = LockedStage {
                        metrics,
                        ..LockedStage::default()
                    };
                    self.ran(EVALUATE, parts, outputs, format!("{why}; {line}"), t);
                }
                Err(failure) => self.end(EVALUATE, StageStatus::Failed, failure, t),
            },
        }
        // gates
        if self.blocked(GATES)? {
            return self.rest_blocked();
        }
        let parts = stages::gates_parts(file, &run_id, &stages::baseline(self.store, file));
        let gates_key = stage_key(&parts);
        if file.gates.is_none() {
            self.skip(GATES, "no [gates] in kiln.toml")?;
        } else {
            let t = self.begin(GATES)?;
            match why_stale(self.locked(GATES), &parts, force) {
                None => {
                    self.gates = self
                        .locked(GATES)
                        .map(|s| s.gates.iter().map(GateResult::from).collect())
                        .unwrap_or_default();
                    let n = self.gates.len();
                    self.end(
                        GATES,
                        StageStatus::Skipped,
                        format!("up to date ({n} passed)"),
                        t,
                    );
                }
                Some(why) => match steps::gates(self.store, file, &run_id)? {
                    Err(failure) => self.end(GATES, StageStatus::Failed, failure, t),
                    Ok(results) => {
                        self.gates = results.clone();
                        let failed: Vec<String> = results
                            .iter()
                            .filter(|g| !g.passed)
                            .map(|g| format!("{} ({})", g.gate, g.detail))
                            .collect();
                        if failed.is_empty() {
                            let outputs = LockedStage {
                                gates: results.iter().map(Into::into).collect(),
                                ..LockedStage::default()
                            };
                            let reason = format!("{why}; {} gates passed", results.len());
                            self.ran(GATES, parts, outputs, reason, t);
                        } else {
                            let reason = format!("gate failed: {}", failed.join("; "));
                            self.end(GATES, StageStatus::Failed, reason, t);
                            let payload = serde_json::json!({
                                "pipeline": file.name, "model": file.model_name(),
                                "run_id": run_id, "gates": results,
                            });
                            self.hook(HookEvent::GateFailed, None, payload);
                        }
                    }
                },
            }
        }
        self.publish(&run_id, &gates_key)
    }

    fn rest_blocked(&mut self) -> Result<(), PipelineError> {
        for name in [TRAIN, EVALUATE, GATES, REGISTER, PROMOTE] {
            if !self.stages.iter().any(|s| s.name == name) {
                self.blocked(name)?;
            }
        }
        Ok(())
    }
}

/// Runs the pipeline of `file` against `store`: each stage skipped when up to date, a
/// failure stopping the run (nothing registered or promoted past it), progress and
/// cancellation through `ctx` (so the GUI runs it as a job), events to `options.observer`.
///
/// A failing stage is an `Ok` outcome with [`PipelineOutcome::failure`]; `Err` means the run
/// could not happen (locked with `no_wait`, cancelled, the store or `kiln.lock` failed).
pub fn run(
    store: &Store,
    file: &PipelineFile,
    options: &RunOptions,
    ctx: &JobContext,
) -> Result<PipelineOutcome, PipelineError> {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let dir = file.dir().to_path_buf();
    let _lock = runlock::acquire(
        &dir,
        !options.no_wait,
        |holder| {
            ctx.message(format!(
                "waiting for {} (it holds the pipeline lock)",
                holder_text(holder)
            ));
            if let Some(observer) = &options.observer {
                observer(&RunEvent::Waiting { holder });
            }
        },
        || !ctx.is_cancelled(),
    )?;
    let (old, old_text) = LockFile::load(&dir)?;
    let mut cache = HashCache::load(&dir);
    let fps = stages::fingerprint_inputs(file, &mut cache, |label, done, total| {
        let fraction = if total == 0 {
            1.0
        } else {
            done as f32 / total as f32
        };
        ctx.progress(0.0, format!("hashing {label} ({:.0}%)", fraction * 100.0));
        !ctx.is_cancelled()
    });
    cache.save();
    if ctx.is_cancelled() {
        return Err(PipelineError::Cancelled);
    }
    let mut inputs = BTreeMap::new();
    let mut new = old.clone();
    new.pipeline = file.name.clone();
    if let Ok(fps) = &fps {
        new.inputs.clear();
        for (name, fp) in &fps.inputs {
            let path = file
                .data
                .get(name)
                .map(|d| d.path.display().to_string())
                .unwrap_or_default();
            let changed = old.inputs.get(name).is_none_or(|l| l.sha256 != fp.sha256);
            inputs.insert(
                name.clone(),
                InputState {
                    path: path.clone(),
                    sha256: fp.sha256.clone(),
                    changed,
                },
            );
            new.inputs.insert(
                name.clone(),
                LockedInput {
                    path,
                    sha256: fp.sha256.clone(),
                    size: fp.size,
                },
            );
        }
    }
    let mut runner = Runner {
        store,
        file,
        options,
        ctx,
        old,
        new,
        stages: Vec::new(),
        total: stages::stage_names(file).len(),
        failure: None,
        warnings: Vec::new(),
        run_id: None,
        version: None,
        gates: Vec::new(),
    };
    let result = runner.stages(fps);
    let cancelled = matches!(result, Err(PipelineError::Cancelled));
    if let Err(e) = result
        && !cancelled
    {
        return Err(e);
    }
    runner.new.save(&dir, old_text.as_deref())?;
    let model = match runner.version {
        Some(v) => {
            let version = store.model_version(file.model_name(), v)?;
            Some(ModelState {
                name: version.name,
                version: v,
                stage: version.stage.as_str().to_owned(),
            })
        }
        None => None,
    };
    let git_commit = crate::provenance::git_commit(&dir);
    let status = match (&runner.failure, cancelled) {
        (_, true) => "cancelled",
        (Some(_), false) => "failed",
        (None, false) => "passed",
    };
    let record = PipelineRunRecord {
        id: 0,
        pipeline: file.name.clone(),
        project: file.path.display().to_string(),
        started_at,
        finished_at: now_rfc3339(),
        status: status.into(),
        error: runner
            .failure
            .as_ref()
            .map(|f| format!("{}: {}", f.stage, f.message)),
        run_id: runner.run_id.clone(),
        model: model.as_ref().map(|m| m.name.clone()),
        model_version: model.as_ref().map(|m| m.version),
        git_commit: git_commit.clone(),
        stages: serde_json::to_value(&runner.stages).unwrap_or_default(),
        inputs: serde_json::to_value(&inputs).unwrap_or_default(),
        gates: serde_json::to_value(&runner.gates).unwrap_or_default(),
    };
    let pipeline_run_id = store.record_pipeline_run(&record)?;
    if cancelled {
        return Err(PipelineError::Cancelled);
    }
    ctx.progress(1.0, "done");
    Ok(PipelineOutcome {
        pipeline: file.name.clone(),
        stages: runner.stages,
        run_id: runner.run_id,
        model,
        gates: runner.gates,
        failure: runner.failure,
        inputs,
        warnings: runner.warnings,
        pipeline_run_id,
        git_commit,
        duration_s: started.elapsed().as_secs_f64(),
    })
}
