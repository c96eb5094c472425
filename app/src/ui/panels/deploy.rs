//! Deploy workspace: local serving, traffic replay, monitoring (its issue is open; the panel lists what it will hold).

use crate::ui::context::PanelContext;

/// Draws the Deploy workspace.
pub fn deploy_ui(ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
    super::coming_workspace_ui(
        ui,
        "Deploy",
        "Serve a model version over HTTP on this machine and watch it under traffic.",
        &[
            "an endpoint speaking MLflow's /invocations protocol, with Prometheus /metrics",
            "traffic replay from a data file, with injected drift",
            "live latency, throughput and drift charts against the training reference",
            "rollback, and retraining when the policy says so",
        ],
        cx.tokens.muted,
    );
}
