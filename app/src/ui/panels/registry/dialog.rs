//! The dialog that changes a version's stage or an alias, or approves it: the gate results
//! of the chosen stage are evaluated by a job and shown before anything is confirmed; a
//! reason is required; failing gates can be overridden only explicitly.

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::registry::{GateResult, Policy, evaluate_gates};
use kiln_core::store::{Stage, Store};

use super::edit::RegistryEdit;
use crate::ui::theme::Tokens;

/// What the dialog changes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Stage,
    Alias,
    /// A second person's approval for `stage`, by the OS user named here.
    Approve,
}

/// What the user did with the dialog this frame.
pub enum Outcome {
    /// Still open.
    Open,
    /// Closed without a change.
    Cancel,
    /// Confirmed: the change to send.
    Confirm(RegistryEdit),
}

/// The open dialog.
pub struct ActionDialog {
    model: String,
    version: i64,
    current: Stage,
    kind: Kind,
    stage: Stage,
    alias: String,
    reason: String,
    override_gates: bool,
    /// Who approves (the acting OS user), for an approval.
    me: String,
    /// Gate results of `gates_for`.
    gates: Option<Result<Vec<GateResult>, String>>,
    gates_for: Option<Stage>,
    gates_job: Option<(Stage, JobHandle<Vec<GateResult>>)>,
}

/// The stage a version is usually moved to next.
fn next_stage(current: Stage) -> Stage {
    match current {
        Stage::None | Stage::Archived => Stage::Staging,
        Stage::Staging => Stage::Production,
        Stage::Production => Stage::Archived,
    }
}

/// Whether a move to `stage` is checked by gates (as `promote` does).
fn gated(stage: Stage) -> bool {
    matches!(stage, Stage::Staging | Stage::Production)
}

fn gate_results(
    store: &Store,
    model: &str,
    version: i64,
    stage: Stage,
) -> Result<Vec<GateResult>, JobError> {
    let policy = Policy::of_model(store, model).map_err(JobError::failed)?;
    let target = store.model_version(model, version)?;
    Ok(evaluate_gates(store, &policy, &target, stage))
}

impl ActionDialog {
    fn new(model: String, version: i64, current: Stage, kind: Kind) -> Self {
        Self {
            model,
            version,
            current,
            kind,
            stage: next_stage(current),
            alias: String::new(),
            reason: String::new(),
            override_gates: false,
            me: String::new(),
            gates: None,
            gates_for: None,
            gates_job: None,
        }
    }

    /// A stage change of a version now in `current`.
    pub fn stage(model: String, version: i64, current: Stage) -> Self {
        Self::new(model, version, current, Kind::Stage)
    }

    /// An alias change.
    pub fn alias(model: String, version: i64) -> Self {
        Self::new(model, version, Stage::None, Kind::Alias)
    }

    /// An approval of a version for `stage` by `me`.
    pub fn approve(model: String, version: i64, stage: Stage, me: String) -> Self {
        Self {
            stage,
            me,
            ..Self::new(model, version, Stage::None, Kind::Approve)
        }
    }

    /// Collects the gate results and starts evaluating them for a newly chosen stage.
    pub fn poll(&mut self, store: Option<&Store>, jobs: &JobRunner) {
        if let Some((stage, job)) = &self.gates_job
            && let Some(result) = job.try_result()
        {
            // A result for a stage no longer chosen is dropped; the next one starts below.
            if *stage == self.stage {
                self.gates = Some(result.map_err(|e| e.to_string()));
                self.gates_for = Some(*stage);
            }
            self.gates_job = None;
        }
        if self.kind != Kind::Stage || !gated(self.stage) {
            return;
        }
        let Some(store) = store else { return };
        if self.gates_for != Some(self.stage) && self.gates_job.is_none() {
            let (store, model, version, stage) =
                (store.clone(), self.model.clone(), self.version, self.stage);
            let job = jobs.spawn(
                format!("Checking the gates of {model}:{version}"),
                move |_| gate_results(&store, &model, version, stage),
            );
            self.gates_job = Some((stage, job));
        }
    }

    /// The gate results of the chosen stage, when evaluated.
    fn current_gates(&self) -> Option<&Result<Vec<GateResult>, String>> {
        self.gates
            .as_ref()
            .filter(|_| self.gates_for == Some(self.stage))
    }

    /// Draws the dialog (a modal window).
    pub fn dialog_ui(&mut self, ctx: &egui::Context, tokens: &Tokens) -> Outcome {
        let mut outcome = Outcome::Open;
        let title = match self.kind {
            Kind::Stage => format!("Change the stage of {}:{}", self.model, self.version),
            Kind::Alias => format!("Set an alias on {}:{}", self.model, self.version),
            Kind::Approve => format!("Approve {}:{}", self.model, self.version),
        };
        let modal = egui::Modal::new(egui::Id::unique("registry-dialog")).show(ctx, |ui| {
            ui.set_width(480.0);
            ui.heading(title);
            match self.kind {
                Kind::Stage => self.stage_ui(ui, tokens),
                Kind::Alias => {
                    ui.horizontal(|ui| {
                        let label = ui.label("Alias");
                        ui.add(
                            egui::TextEdit::singleline(&mut self.alias)
                                .hint_text("champion")
                                .desired_width(200.0),
                        )
                        .labelled_by(label.id);
                    });
                    ui.weak(
                        "Letters, digits, '-' and '_'; an alias on another version moves here.",
                    );
                }
                Kind::Approve => {
                    ui.horizontal(|ui| {
                        ui.label("Approve for");
                        ui.radio_value(&mut self.stage, Stage::Staging, "Staging");
                        ui.radio_value(&mut self.stage, Stage::Production, "Production");
                    });
                    ui.label(format!(
                        "You approve as {}. The approval gate passes when the person who \
                         promotes is someone else.",
                        self.me
                    ));
                }
            }
            ui.add_space(6.0);
            let label = ui.label("Reason (required, recorded in the audit trail)");
            ui.add(
                egui::TextEdit::multiline(&mut self.reason)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
            ui.add_space(6.0);
            let (ready, why_not) = self.ready();
            ui.horizontal(|ui| {
                let confirm = ui
                    .add_enabled(ready, egui::Button::new("Confirm"))
                    .on_disabled_hover_text(why_not.unwrap_or_default());
                if confirm.clicked() {
                    outcome = Outcome::Confirm(self.edit());
                }
                if ui.button("Cancel").clicked() {
                    outcome = Outcome::Cancel;
                }
            });
            if let Some(why) = why_not {
                ui.weak(why);
            }
        });
        if modal.should_close() && matches!(outcome, Outcome::Open) {
            outcome = Outcome::Cancel;
        }
        outcome
    }

    fn stage_ui(&mut self, ui: &mut egui::Ui, tokens: &Tokens) {
        ui.label(format!("Now: {}", self.current));
        ui.horizontal(|ui| {
            ui.label("Move to");
            for (stage, label) in [
                (Stage::Staging, "Staging"),
                (Stage::Production, "Production"),
                (Stage::Archived, "Archived"),
                (Stage::None, "No stage"),
            ] {
                if ui.radio_value(&mut self.stage, stage, label).changed() {
                    self.override_gates = false;
                }
            }
        });
        ui.add_space(4.0);
        if !gated(self.stage) {
            ui.weak(format!("No gates apply to a move to {}.", self.stage));
            return;
        }
        ui.strong(format!("Gates for {}", self.stage));
        let mut any_failed = false;
        match self.current_gates() {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Evaluating the gates…");
                });
            }
            Some(Err(e)) => {
                any_failed = true;
                ui.colored_label(tokens.bad, format!("The gates could not be evaluated: {e}"));
            }
            Some(Ok(gates)) if gates.is_empty() => {
                ui.weak("This model's policy sets no gates (set them in the Gate policy tab).");
            }
            Some(Ok(gates)) => {
                egui::Grid::new("gate-results")
                    .striped(true)
                    .show(ui, |ui| {
                        for gate in gates {
                            let (mark, colour) = if gate.passed {
                                ("pass", tokens.good)
                            } else {
                                any_failed = true;
                                ("FAIL", tokens.bad)
                            };
                            ui.colored_label(colour, mark);
                            ui.label(&gate.gate);
                            ui.label(&gate.detail);
                            ui.end_row();
                        }
                    });
            }
        }
        if !any_failed {
            self.override_gates = false;
        }
        ui.add_enabled(
            any_failed,
            egui::Checkbox::new(&mut self.override_gates, "Override failing gates"),
        )
        .on_hover_text("Promote anyway; the override and its reason are recorded");
    }

    /// Whether Confirm may be pressed, and if not, why.
    fn ready(&self) -> (bool, Option<&'static str>) {
        if self.reason.trim().is_empty() {
            return (false, Some("Give a reason to confirm."));
        }
        match self.kind {
            Kind::Approve => {}
            Kind::Alias => {
                if self.alias.trim().is_empty() {
                    return (false, Some("Name the alias."));
                }
            }
            Kind::Stage => {
                if self.stage == self.current {
                    return (false, Some("Choose another stage."));
                }
                if gated(self.stage) {
                    match self.current_gates() {
                        None => return (false, Some("Wait for the gate results.")),
                        Some(Ok(gates)) if gates.iter().all(|g| g.passed) => {}
                        Some(_) if self.override_gates => {}
                        Some(_) => {
                            return (
                                false,
                                Some("Gates fail: tick the override to promote anyway."),
                            );
                        }
                    }
                }
            }
        }
        (true, None)
    }

    fn edit(&self) -> RegistryEdit {
        match self.kind {
            Kind::Stage => RegistryEdit::Promote {
                name: self.model.clone(),
                version: self.version,
                stage: self.stage,
                reason: self.reason.trim().to_owned(),
                override_gates: self.override_gates,
            },
            Kind::Approve => RegistryEdit::Approve {
                name: self.model.clone(),
                version: self.version,
                stage: self.stage,
                reason: self.reason.trim().to_owned(),
            },
            Kind::Alias => RegistryEdit::SetAlias {
                name: self.model.clone(),
                version: self.version,
                alias: self.alias.trim().to_owned(),
                reason: self.reason.trim().to_owned(),
            },
        }
    }
}
