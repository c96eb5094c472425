//! The stages as framed nodes joined by arrows, each coloured by its status.

use super::{Shown, StageView};
use crate::ui::theme::Tokens;
use crate::ui::widgets::flow::{self, FlowSize};

/// Seven stages (two inputs) fit in the workspace at 1200 points wide.
const STAGE: FlowSize = FlowSize {
    node_width: 104.0,
    node_height: 58.0,
    link_width: 22.0,
};

/// The colour and the one-word status of a stage.
fn look(shown: &Shown, tokens: &Tokens) -> (egui::Color32, &'static str) {
    match shown {
        Shown::UpToDate => (tokens.good, "up to date"),
        Shown::Ran(..) => (tokens.good, "ran"),
        Shown::WillRun(_) => (tokens.warn, "will run"),
        Shown::Running => (tokens.accent, "running"),
        Shown::Skipped(_) => (tokens.muted, "skipped"),
        Shown::Failed(_) => (tokens.bad, "failed"),
    }
}

/// Why, in a few words under the status (the whole reason is on hover).
fn detail(shown: &Shown) -> String {
    match shown {
        Shown::Ran(_, seconds) => format!("{seconds:.2} s"),
        Shown::WillRun(reason) | Shown::Skipped(reason) | Shown::Failed(reason) => reason.clone(),
        Shown::UpToDate | Shown::Running => String::new(),
    }
}

/// Draws the stages left to right.
pub fn stages_ui(ui: &mut egui::Ui, stages: &[StageView], tokens: &Tokens) {
    egui::ScrollArea::horizontal()
        .id_salt("pipeline-stages")
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                for (i, stage) in stages.iter().enumerate() {
                    if i > 0 {
                        flow::arrow(ui, STAGE, Some(tokens.muted));
                    }
                    let (colour, word) = look(&stage.shown, tokens);
                    let hover = match &stage.shown {
                        Shown::Ran(reason, _) => reason.clone(),
                        other => detail(other),
                    };
                    let response =
                        flow::node(ui, STAGE, (&stage.name, tokens.muted), colour, |ui| {
                            ui.label(egui::RichText::new(word).strong().color(colour));
                            let text = detail(&stage.shown);
                            if !text.is_empty() {
                                ui.add(
                                    egui::Label::new(egui::RichText::new(text).small()).truncate(),
                                );
                            }
                        });
                    if !hover.is_empty() {
                        response.on_hover_text(hover);
                    }
                }
            });
        });
}
