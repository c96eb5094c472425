//! The parts of the Pipelines workspace below the graph: what changed, the last run's
//! outcome (gates, the version, a validation failure beside its data), and the history.

use kiln_core::pipeline::{PipelineFile, PipelineOutcome};
use kiln_core::store::PipelineRunRecord;

use super::{Shown, StageView};
use crate::ui::command::Command;
use crate::ui::context::PanelContext;
use crate::ui::theme::Tokens;

/// No project yet: what a pipeline is and how to get one.
pub fn welcome_ui(ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
    ui.add_space(cx.tokens.section_gap);
    ui.label(
        "A pipeline is a project folder with a kiln.toml: named data inputs with expectations, \
         the training, the registry's gates and where a passing version goes. Kiln re-runs only \
         the stages whose inputs or settings changed (recorded in kiln.lock, to commit beside \
         it), here with \"Run now\", from the command line with `kiln run`, or in CI.",
    );
    ui.add_space(6.0);
    ui.label(
        "Open a project folder above, or write a new kiln.toml from a dataset's Train tab with \
         \"Save as pipeline…\". The README's Pipelines section shows a whole kiln.toml.",
    );
}

/// Stages a run now would do, each with why (a changed input, changed settings, never run).
pub fn changes_ui(ui: &mut egui::Ui, stages: &[StageView], tokens: &Tokens) {
    ui.label(egui::RichText::new("What changed since the last run").strong());
    let pending: Vec<(&str, &str)> = stages
        .iter()
        .filter_map(|s| match &s.shown {
            Shown::WillRun(reason) => Some((s.name.as_str(), reason.as_str())),
            _ => None,
        })
        .collect();
    if pending.is_empty() {
        ui.label(
            egui::RichText::new("Nothing: every stage is up to date, a run now skips them all.")
                .color(tokens.muted),
        );
    }
    egui::Grid::new("pipeline-changes")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for (name, reason) in pending {
                ui.monospace(name);
                ui.label(reason);
                ui.end_row();
            }
        });
    ui.add_space(tokens.section_gap / 2.0);
}

/// The last run started here: passed or where it failed, the gates, the version.
pub fn outcome_ui(
    ui: &mut egui::Ui,
    outcome: &Result<PipelineOutcome, String>,
    file: &PipelineFile,
    cx: &mut PanelContext<'_>,
) {
    let tokens = cx.tokens;
    ui.label(egui::RichText::new("Last run").strong());
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            ui.colored_label(tokens.bad, format!("The pipeline could not run: {error}"));
            ui.add_space(tokens.section_gap / 2.0);
            return;
        }
    };
    match &outcome.failure {
        None if outcome.up_to_date() => {
            ui.colored_label(tokens.good, "Up to date: nothing to do.");
        }
        None => {
            ui.colored_label(
                tokens.good,
                format!("Passed in {:.2} s.", outcome.duration_s),
            );
        }
        Some(failure) => {
            ui.colored_label(
                tokens.bad,
                format!(
                    "Failed at {}: nothing was registered or promoted past it.",
                    failure.stage
                ),
            );
            // A broken expectation, beside the data it is about.
            let input = failure.stage.strip_prefix("validate:");
            ui.horizontal_wrapped(|ui| {
                ui.label(&failure.message);
            });
            if let Some(path) = input.and_then(|name| file.input_path(name)) {
                let open = ui.button(format!("Profile {} in Explore", path.display()));
                if open.clicked() {
                    cx.send(Command::OpenFile(path));
                }
            }
        }
    }
    if let Some(model) = &outcome.model {
        ui.label(format!(
            "Model {} version {}, now in {}.",
            model.name, model.version, model.stage
        ));
    }
    if !outcome.gates.is_empty() {
        egui::Grid::new("pipeline-gates")
            .num_columns(3)
            .spacing([16.0, 4.0])
            .show(ui, |ui| {
                for gate in &outcome.gates {
                    let (colour, word) = if gate.passed {
                        (tokens.good, "passed")
                    } else {
                        (tokens.bad, "failed")
                    };
                    ui.monospace(&gate.gate);
                    ui.colored_label(colour, word);
                    ui.label(&gate.detail);
                    ui.end_row();
                }
            });
    }
    for warning in &outcome.warnings {
        ui.colored_label(tokens.warn, warning);
    }
    ui.add_space(tokens.section_gap / 2.0);
}

/// Every recorded run of this project, newest first.
pub fn history_ui(ui: &mut egui::Ui, history: &[PipelineRunRecord], cx: &mut PanelContext<'_>) {
    let tokens = cx.tokens;
    ui.label(egui::RichText::new("History").strong());
    if history.is_empty() {
        ui.label(egui::RichText::new("No runs yet.").color(tokens.muted));
        return;
    }
    egui::Grid::new("pipeline-history")
        .num_columns(6)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for title in [
                "started",
                "status",
                "stages run",
                "version",
                "training run",
                "why",
            ] {
                ui.label(egui::RichText::new(title).color(tokens.muted));
            }
            ui.end_row();
            for record in history {
                ui.label(
                    record
                        .started_at
                        .get(..19)
                        .unwrap_or(&record.started_at)
                        .replace('T', " "),
                );
                let colour = match record.status.as_str() {
                    "passed" => tokens.good,
                    "failed" => tokens.bad,
                    _ => tokens.muted,
                };
                ui.colored_label(colour, &record.status);
                ui.label(record.stages_ran().to_string());
                match (&record.model, record.model_version) {
                    (Some(model), Some(version)) => {
                        let link = ui.link(format!("{model}:{version}"));
                        if link.clicked() {
                            cx.send(Command::OpenVersion {
                                name: model.clone(),
                                version,
                            });
                        }
                    }
                    _ => {
                        ui.label("");
                    }
                }
                match &record.run_id {
                    Some(run) => {
                        let short: String = run.chars().take(12).collect();
                        if ui
                            .link(short)
                            .on_hover_text("Open it in Experiments")
                            .clicked()
                        {
                            cx.send(Command::OpenRun(run.clone()));
                        }
                    }
                    None => {
                        ui.label("");
                    }
                }
                ui.add(egui::Label::new(record.why()).truncate());
                ui.end_row();
            }
        });
}
