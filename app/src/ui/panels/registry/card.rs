//! The model card tab: the selected version's card as core fills it (Mitchell et al.'s
//! sections), with a button that copies it as Markdown; `kiln models card` writes files.

use kiln_core::registry::ModelCard;

use crate::ui::theme::Tokens;

/// Draws `card` (or why there is none) for the version shown in detail.
pub fn card_ui(ui: &mut egui::Ui, card: Option<&Result<ModelCard, String>>, tokens: &Tokens) {
    let card = match card {
        None => {
            ui.weak("No version to describe.");
            return;
        }
        Some(Err(e)) => {
            ui.colored_label(tokens.bad, format!("The model card could not be made: {e}"));
            return;
        }
        Some(Ok(card)) => card,
    };
    ui.horizontal(|ui| {
        ui.strong(format!("Model card: {}", card.title));
        if ui.button("Copy as Markdown").clicked() {
            ui.ctx().copy_text(card.to_markdown());
        }
        ui.weak("files: kiln models card REF --format md|html --out FILE");
    });
    ui.add_space(tokens.section_gap / 2.0);
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for section in &card.sections {
                ui.add_space(tokens.section_gap / 3.0);
                ui.heading(&section.title);
                for line in &section.lines {
                    ui.label(format!("- {line}"));
                }
            }
        });
}
