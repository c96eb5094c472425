//! The Deploy workspace's controls: which version to serve and its endpoint, and the
//! simulator's rate, duration, concurrency and drift.

use kiln_core::deploy::retrain::RetrainOutcome;
use kiln_core::deploy::serve::{CandidateMode, ModelInfo};
use kiln_core::jobs::JobStatus;

use super::{Action, TrafficSettings};
use crate::ui::theme::Tokens;

/// Label of the drift editor (tests find it by this).
pub const DRIFT_LABEL: &str = "Drift to inject, one per line";

/// A running endpoint as the controls show it.
pub(super) struct Serving<'a> {
    pub model_ref: &'a str,
    pub url: String,
    /// The version answering now (it changes when a followed stage moves).
    pub version: Option<i64>,
    pub candidate: Option<(ModelInfo, CandidateMode)>,
    /// A stage reference, so it can be rolled back.
    pub follows_stage: bool,
}

/// The canary/shadow controls' choices.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CandidateChoice {
    pub model_ref: Option<String>,
    pub percent: f64,
    pub shadow: bool,
}

impl Default for CandidateChoice {
    fn default() -> Self {
        Self {
            model_ref: None,
            percent: 10.0,
            shadow: false,
        }
    }
}

/// What the controls show this frame.
pub(super) struct View<'a> {
    pub refs: Option<&'a Result<Vec<String>, String>>,
    /// The endpoint watched (traffic, candidate, charts), when one runs.
    pub endpoint: Option<Serving<'a>>,
    /// The other running environments: reference, URL, version answering now.
    pub others: Vec<(String, String, Option<i64>)>,
    /// A server is starting or stopping.
    pub starting: bool,
    pub traffic: Option<JobStatus>,
    pub error: Option<&'a str>,
}

/// The endpoint: a picker of what can be served, Start / Stop, the URL once serving.
pub(super) fn endpoint_ui(
    ui: &mut egui::Ui,
    view: &View<'_>,
    chosen: &mut Option<String>,
    tokens: &Tokens,
    action: &mut Option<Action>,
) {
    ui.strong("Endpoint");
    let refs = match view.refs {
        None => {
            ui.spinner();
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(tokens.bad, e);
            return;
        }
        Some(Ok(refs)) => refs,
    };
    if refs.is_empty() {
        ui.label("No registered model yet: register a run's model in the Registry (or `kiln models register RUN --name NAME`), then serve it here.");
        return;
    }
    ui.horizontal(|ui| {
        let label = ui.label("Serve");
        egui::ComboBox::from_id_salt("deploy-model")
            .selected_text(chosen.as_deref().unwrap_or("choose a version"))
            .width(240.0)
            .show_ui(ui, |ui| {
                for r in refs {
                    ui.selectable_value(chosen, Some(r.clone()), r);
                }
            })
            .response
            .labelled_by(label.id);
        let serving = view.endpoint.is_some();
        let running = |r: &str| {
            view.endpoint.as_ref().is_some_and(|e| e.model_ref == r)
                || view.others.iter().any(|(o, _, _)| o == r)
        };
        let label = if chosen.as_deref().is_some_and(running) {
            "Restart"
        } else {
            "Start"
        };
        let start = ui.add_enabled(chosen.is_some() && !view.starting, egui::Button::new(label));
        if start.clicked()
            && let Some(r) = chosen.clone()
        {
            *action = Some(Action::Start(r));
        }
        if ui
            .add_enabled(serving && !view.starting, egui::Button::new("Stop"))
            .clicked()
        {
            *action = Some(Action::Stop);
        }
        if view.starting {
            ui.spinner();
        }
    });
    match &view.endpoint {
        Some(serving) => {
            ui.horizontal(|ui| {
                ui.colored_label(tokens.good, "Serving");
                let version = serving.version.map(|v| format!(" (version {v})")).unwrap_or_default();
                ui.label(format!("{}{version} on", serving.model_ref));
                ui.monospace(format!("{}/invocations", serving.url));
                if ui.small_button("Copy URL").clicked() {
                    ui.ctx().copy_text(serving.url.clone());
                }
                if serving.follows_stage
                    && ui
                        .button("Roll back")
                        .on_hover_text("Give the stage back to the version that held it before (audited); this endpoint swaps to it")
                        .clicked()
                {
                    *action = Some(Action::Rollback);
                }
            });
            ui.weak("MLflow's scoring protocol: POST JSON (dataframe_split, dataframe_records, instances, inputs) or CSV; /ping, /health, /version, /metrics.");
        }
        None => {
            ui.weak("Not serving.");
        }
    }
    if let Some(error) = view.error {
        ui.colored_label(tokens.bad, error);
    }
}

/// The simulator: rate, duration, concurrency, drift specs (checked as typed), Run / Cancel.
pub(super) fn traffic_ui(
    ui: &mut egui::Ui,
    view: &View<'_>,
    settings: &mut TrafficSettings,
    tokens: &Tokens,
    action: &mut Option<Action>,
) {
    ui.strong("Traffic");
    ui.horizontal(|ui| {
        ui.label("Rate");
        ui.add(
            egui::DragValue::new(&mut settings.rps)
                .range(1.0..=20_000.0)
                .suffix(" req/s"),
        );
        ui.label("for");
        ui.add(
            egui::DragValue::new(&mut settings.duration)
                .range(1.0..=3_600.0)
                .suffix(" s"),
        );
        let label = ui.label("in flight at most");
        ui.add(egui::DragValue::new(&mut settings.concurrency).range(1..=64))
            .labelled_by(label.id);
    });
    let label = ui.label(DRIFT_LABEL);
    ui.add(
        egui::TextEdit::multiline(&mut settings.drift_text)
            .id_salt(DRIFT_LABEL)
            .hint_text("shift:COLUMN=AMOUNT@START..END   scale:COLUMN=FACTOR   mix:COLUMN=a:0.8,b:0.2   flip:LABEL=0.3")
            .desired_rows(2)
            .desired_width(f32::INFINITY)
            .code_editor(),
    )
    .labelled_by(label.id);
    let injections = settings.injections();
    if let Err(e) = &injections {
        ui.colored_label(tokens.bad, e);
    }
    ui.horizontal(|ui| match &view.traffic {
        Some(status) => {
            let fraction = status.fraction.unwrap_or(0.0);
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(260.0)
                    .text(status.message.clone()),
            );
            if ui.button("Cancel").clicked() {
                *action = Some(Action::Cancel);
            }
        }
        None => {
            let ready = view.endpoint.is_some() && injections.is_ok();
            let run = ui
                .add_enabled(ready, egui::Button::new("Run traffic"))
                .on_disabled_hover_text("Start an endpoint first (and fix the drift specs)");
            if run.clicked()
                && let Ok(drift) = injections
            {
                *action = Some(Action::Simulate(drift));
            }
        }
    });
    ui.weak("Rows are drawn from the version's training data; drift is measured on a sliding window of the last 1,000 requests against it (Evidently's default preset).");
}

/// The retraining policy's last decision: running, did not fire, or what it made.
pub(super) fn retrain_ui(
    ui: &mut egui::Ui,
    running: Option<JobStatus>,
    outcome: Option<&Result<Option<RetrainOutcome>, String>>,
    history: &[(String, String, String)],
    tokens: &Tokens,
) {
    ui.strong("Retraining");
    history_ui(ui, history);
    if let Some(status) = running {
        ui.add(
            egui::ProgressBar::new(status.fraction.unwrap_or(0.0))
                .desired_width(260.0)
                .text(status.message),
        );
        return;
    }
    match outcome {
        None => {
            ui.weak("After each run of traffic the model's [retrain] policy (Registry, Gate policy) is checked: drift_share, min_accuracy for accuracy_minutes, auto_promote.");
        }
        Some(Err(e)) => {
            ui.colored_label(tokens.bad, format!("Retraining failed: {e}"));
        }
        Some(Ok(None)) => {
            ui.label("The retraining policy did not fire (or the model has none).");
        }
        Some(Ok(Some(r))) => {
            ui.colored_label(tokens.warn, format!("The policy fired: {}", r.trigger));
            ui.label(format!("{}.", r.summary()));
            ui.label(format!("Staging: {}", r.staged.verdict()));
            ui.label(format!("Production: {}", r.production()));
        }
    }
}

/// A candidate beside the served model: a canary answering a share of the requests (the
/// slider), or a shadow scoring copies; Apply and Remove.
pub(super) fn candidate_ui(
    ui: &mut egui::Ui,
    view: &View<'_>,
    choice: &mut CandidateChoice,
    busy: bool,
    notice: Option<&Result<String, String>>,
    tokens: &Tokens,
    action: &mut Option<Action>,
) {
    let (Some(serving), Some(Ok(refs))) = (&view.endpoint, view.refs) else {
        return;
    };
    ui.horizontal(|ui| {
        let label = ui.label("Candidate");
        egui::ComboBox::from_id_salt("deploy-candidate")
            .selected_text(choice.model_ref.as_deref().unwrap_or("none"))
            .width(200.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut choice.model_ref, None, "none");
                for r in refs.iter().filter(|r| r.as_str() != serving.model_ref) {
                    ui.selectable_value(&mut choice.model_ref, Some(r.clone()), r);
                }
            })
            .response
            .labelled_by(label.id);
        ui.checkbox(&mut choice.shadow, "Shadow");
        ui.add_enabled(
            !choice.shadow,
            egui::Slider::new(&mut choice.percent, 0.0..=100.0)
                .suffix("% canary")
                .integer(),
        );
        let mode = if choice.shadow {
            CandidateMode::Shadow
        } else {
            CandidateMode::Canary {
                percent: choice.percent,
            }
        };
        if ui
            .add_enabled(
                choice.model_ref.is_some() && !busy,
                egui::Button::new("Apply"),
            )
            .clicked()
        {
            *action = Some(Action::Candidate(choice.model_ref.clone(), mode));
        }
        if ui
            .add_enabled(
                serving.candidate.is_some() && !busy,
                egui::Button::new("Remove"),
            )
            .clicked()
        {
            *action = Some(Action::Candidate(None, mode));
        }
    });
    match (&serving.candidate, notice) {
        (_, Some(Err(e))) => {
            ui.colored_label(tokens.bad, e);
        }
        (Some((info, mode)), _) => {
            ui.weak(format!("Candidate {} {mode}.", info.model_ref));
        }
        (None, _) => {}
    }
}

/// Earlier retrainings from the audit trail: when, the version made, why.
fn history_ui(ui: &mut egui::Ui, history: &[(String, String, String)]) {
    if history.is_empty() {
        return;
    }
    egui::CollapsingHeader::new(format!("History ({} retrainings)", history.len()))
        .id_salt("deploy-retrain-history")
        // A short history is read at a glance; a long one waits to be opened.
        .default_open(history.len() <= 3)
        .show(ui, |ui| {
            egui::Grid::new("deploy-retrain-history-grid")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    for (at, version, why) in history.iter().take(50) {
                        ui.monospace(at.get(..19).unwrap_or(at));
                        ui.label(version);
                        ui.label(why);
                        ui.end_row();
                    }
                });
        });
}

/// The other running environments, each with Watch (make it the one traffic and charts
/// follow) and Stop.
pub(super) fn others_ui(
    ui: &mut egui::Ui,
    view: &View<'_>,
    tokens: &Tokens,
    action: &mut Option<Action>,
) {
    for (i, (model_ref, url, version)) in view.others.iter().enumerate() {
        ui.horizontal(|ui| {
            ui.colored_label(tokens.good, "Also serving");
            let version = version
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default();
            ui.label(format!("{model_ref}{version} on"));
            ui.monospace(format!("{url}/invocations"));
            let idle = view.traffic.is_none() && !view.starting;
            if ui
                .add_enabled(idle, egui::Button::new("Watch"))
                .on_hover_text("Send traffic to this one and chart it")
                .clicked()
            {
                *action = Some(Action::Watch(i));
            }
            if ui
                .add_enabled(!view.starting, egui::Button::new("Stop"))
                .clicked()
            {
                *action = Some(Action::StopOther(i));
            }
        });
    }
}
