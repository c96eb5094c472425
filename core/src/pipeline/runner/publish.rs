//! The registry end of a run: `register` (the run as the next version, hooks on a new one) and
//! `promote` (to `promote_to` through the registry's gates), each skipped when up to date.

use super::Runner;
use crate::pipeline::hooks::HookEvent;
use crate::pipeline::lock::LockedStage;
use crate::pipeline::stages::{self, PROMOTE, REGISTER, why_stale};
use crate::pipeline::{PipelineError, StageStatus, steps};

impl Runner<'_> {
    /// `register` then `promote`, after the gates passed on run `run_id`.
    pub(super) fn publish(&mut self, run_id: &str, gates_key: &str) -> Result<(), PipelineError> {
        let (file, force) = (self.file, self.options.force);
        let run_id = run_id.to_owned();
        // register
        if self.blocked(REGISTER)? {
            return self.rest_blocked();
        }
        if file.register.is_none() {
            self.skip(REGISTER, "no [register] in kiln.toml")?;
            return self.skip(PROMOTE, "no [register] in kiln.toml");
        }
        let model = file.model_name().to_owned();
        let parts = stages::register_parts(file, &run_id);
        let t = self.begin(REGISTER)?;
        let locked_version = self.locked(REGISTER).and_then(|s| s.version);
        let stale = match (
            why_stale(self.locked(REGISTER), &parts, force),
            locked_version,
        ) {
            (Some(why), _) => Some(why),
            (None, None) => Some("kiln.lock records no version".into()),
            (None, Some(v)) => stages::version_missing(self.store, &model, v, &run_id)?,
        };
        let version = match (stale, locked_version) {
            (None, Some(v)) => {
                self.end(
                    REGISTER,
                    StageStatus::Skipped,
                    format!("up to date ({model}:{v})"),
                    t,
                );
                v
            }
            (why, _) => match steps::register(self.store, file, &run_id)? {
                Ok((v, new)) => {
                    let outputs = LockedStage {
                        version: Some(v),
                        ..LockedStage::default()
                    };
                    let why = why.unwrap_or_default();
                    let what = if new {
                        format!("registered {model}:{v}")
                    } else {
                        format!("run {run_id} is already {model}:{v}")
                    };
                    self.ran(REGISTER, parts, outputs, format!("{why}; {what}"), t);
                    if new {
                        let payload = serde_json::json!({
                            "pipeline": file.name, "model": model, "version": v, "run_id": run_id,
                        });
                        self.hook(HookEvent::VersionRegistered, Some(v), payload);
                    }
                    v
                }
                Err(failure) => {
                    self.end(REGISTER, StageStatus::Failed, failure, t);
                    return self.rest_blocked();
                }
            },
        };
        self.version = Some(version);
        // promote
        let Some(stage) = file.promote_to else {
            return self.skip(PROMOTE, "no promote_to in [register]");
        };
        let parts = stages::promote_parts(file, version, gates_key);
        let t = self.begin(PROMOTE)?;
        let stale = match why_stale(self.locked(PROMOTE), &parts, force) {
            Some(why) => Some(why),
            None => stages::stage_differs(self.store, &model, Some(version), stage)?,
        };
        let Some(why) = stale else {
            self.end(
                PROMOTE,
                StageStatus::Skipped,
                format!("up to date ({model}:{version} in {stage})"),
                t,
            );
            return Ok(());
        };
        match steps::promote(self.store, file, version, stage)? {
            Err(failure) => self.end(PROMOTE, StageStatus::Failed, failure, t),
            Ok(p) if p.promoted => {
                let outputs = LockedStage {
                    version: Some(version),
                    ..LockedStage::default()
                };
                self.ran(
                    PROMOTE,
                    parts,
                    outputs,
                    format!("{why}; {model}:{version} {}", p.verdict()),
                    t,
                );
                let payload = serde_json::json!({
                    "pipeline": file.name, "model": model, "version": version, "stage": stage.as_str(),
                });
                self.hook(HookEvent::StageChanged, Some(version), payload);
            }
            Ok(p) => {
                self.gates = p.gates.clone();
                self.end(
                    PROMOTE,
                    StageStatus::Failed,
                    format!("{model}:{version} {}", p.verdict()),
                    t,
                );
                let payload = serde_json::json!({
                    "pipeline": file.name, "model": model, "version": version, "gates": p.gates,
                });
                self.hook(HookEvent::GateFailed, Some(version), payload);
            }
        }
        Ok(())
    }
}
