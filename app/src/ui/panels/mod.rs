//! The workspaces, one module each. Each draws with `..._ui` functions and talks to the rest
//! of the app only through the [`PanelContext`](super::context::PanelContext).

pub mod deploy;
pub mod experiments;
pub mod explore;
pub mod registry;

/// Heading plus a plain list of what a workspace will hold, for the workspaces whose issues are
/// still open (Registry, Deploy): the user sees what is coming and no invented content.
pub fn coming_workspace_ui(
    ui: &mut egui::Ui,
    title: &str,
    summary: &str,
    items: &[&str],
    muted: egui::Color32,
) {
    ui.heading(title);
    ui.label(summary);
    ui.add_space(8.0);
    ui.label(egui::RichText::new("Not built yet. This workspace will hold:").color(muted));
    for item in items {
        ui.label(format!("  • {item}"));
    }
}
