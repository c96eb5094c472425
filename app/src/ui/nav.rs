//! The left navigation: workspaces, then the theme switch.

use super::command::Command;
use super::settings::UiSettings;
use super::theme::{ThemeChoice, Tokens};
use super::workspace::Workspace;

/// Draws the navigation column and queues the user's choices.
pub fn nav_ui(
    ui: &mut egui::Ui,
    settings: &UiSettings,
    tokens: &Tokens,
    commands: &mut Vec<Command>,
) {
    ui.add_space(tokens.section_gap);
    ui.heading(egui::RichText::new("Kiln").color(tokens.accent).strong());
    ui.add_space(tokens.section_gap);
    for (index, workspace) in Workspace::ALL.into_iter().enumerate() {
        let selected = settings.workspace == workspace;
        let response = ui
            .add_sized(
                [ui.available_width(), 28.0],
                egui::Button::selectable(selected, workspace.label()),
            )
            .on_hover_text(format!("Ctrl+{}", index + 1));
        if response.clicked() && !selected {
            commands.push(Command::SelectWorkspace(workspace));
        }
    }
    ui.with_layout(egui::Layout::bottom_up(egui::Align::Min), |ui| {
        ui.add_space(tokens.section_gap);
        ui.horizontal(|ui| {
            for choice in [ThemeChoice::Light, ThemeChoice::Dark] {
                let selected = settings.theme == choice;
                if ui.selectable_label(selected, choice.label()).clicked() && !selected {
                    commands.push(Command::SetTheme(choice));
                }
            }
        });
        ui.label(egui::RichText::new("Theme").color(tokens.muted));
    });
}
