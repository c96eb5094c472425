//! Registry workspace: model versions, stages, gates, audit trail (its issue is open; the panel lists what it will hold).

use crate::ui::context::PanelContext;

/// Draws the Registry workspace.
pub fn registry_ui(ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
    super::coming_workspace_ui(
        ui,
        "Registry",
        "Version models with lineage to their runs and data, and promote them through stages.",
        &[
            "registered models and their versions, with the run and dataset version each came from",
            "stages (none, staging, production, archived) and aliases, changed through gates with a reason",
            "a tamper-evident audit trail of every change, verifiable from the CLI",
            "model cards, and ONNX import and export",
        ],
        cx.tokens.muted,
    );
}
