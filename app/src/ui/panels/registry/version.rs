//! The selected version in detail: its lineage as a row of linked nodes (dataset version ->
//! run -> model version -> deployment) and, when its model's policy asks for one, where its
//! second-person approval stands. The rows are prepared by the loading job from what core
//! computes ([`kiln_core::registry::lineage`], [`kiln_core::registry::approvals`]).

use kiln_core::registry::{ApprovalState, Lineage, Signature};
use kiln_core::store::Stage;

use super::views::{Action, stage_badge};
use crate::ui::theme::Tokens;
use crate::ui::widgets::flow::{self, FlowSize};

/// One stage's approval as the workspace shows it.
#[derive(Debug, Clone)]
pub struct ApprovalRow {
    /// Staging or production.
    pub stage: Stage,
    /// `requested by ana at 2026-01-15 10:02` or `not requested yet`.
    pub requested: String,
    /// `approved by bob at 2026-01-15 10:05 ("reviewed")`, or `no approval yet`.
    pub approved: String,
    /// Whether someone approved.
    pub any_approval: bool,
    /// Whether the version already holds the stage (nothing left to approve).
    pub entered: bool,
}

fn signed(verb: &str, s: &Signature) -> String {
    let at: String = s.at.replace('T', " ").chars().take(16).collect();
    format!("{verb} by {} at {at}", s.user)
}

impl ApprovalRow {
    /// The row of one stage's state.
    pub fn of(state: &ApprovalState) -> Self {
        let approved = state
            .approvals
            .iter()
            .map(|s| {
                let reason = if s.reason.trim().is_empty() {
                    String::new()
                } else {
                    format!(" (\"{}\")", s.reason.trim())
                };
                format!("{}{reason}", signed("approved", s))
            })
            .collect::<Vec<_>>();
        Self {
            stage: state.stage,
            requested: match (&state.entered, &state.requested) {
                (Some(s), _) => signed(&format!("in {}: promoted", state.stage), s),
                (None, Some(s)) => signed("requested", s),
                (None, None) => "not requested yet".to_owned(),
            },
            entered: state.entered.is_some(),
            any_approval: !approved.is_empty(),
            approved: if approved.is_empty() && state.entered.is_some() {
                "entered without an approval".to_owned()
            } else if approved.is_empty() {
                "no approval yet".to_owned()
            } else {
                approved.join("; ")
            },
        }
    }
}

/// The selected version's detail, read by the loading job.
#[derive(Debug, Clone)]
pub struct VersionDetail {
    /// Where it comes from and goes.
    pub lineage: Lineage,
    /// Per stage, when the policy requires approval; empty otherwise.
    pub approvals: Vec<ApprovalRow>,
    /// The OS user approving from this window.
    pub me: String,
}

/// The selected version's lineage and approvals.
pub fn version_detail_ui(
    ui: &mut egui::Ui,
    detail: &VersionDetail,
    tokens: &Tokens,
    action: &mut Option<Action>,
) {
    let l = &detail.lineage;
    ui.strong(format!("Version {} of {}: lineage", l.version, l.model));
    lineage_ui(ui, l, tokens, action);
    if detail.approvals.is_empty() {
        return;
    }
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.strong("Second-person approval");
        // Who "you" are is said in the approval dialog: the same picture on every machine.
        ui.weak("(the policy requires it: an approval counts when someone else promotes)");
    });
    egui::Grid::new("registry-approvals")
        .num_columns(4)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for row in &detail.approvals {
                ui.label(row.stage.as_str());
                ui.label(&row.requested);
                let colour = if row.any_approval {
                    tokens.good
                } else {
                    tokens.muted
                };
                ui.colored_label(colour, &row.approved);
                if !row.entered
                    && ui
                        .button(format!("Approve for {}...", row.stage))
                        .on_hover_text("Record your approval, with a reason, in the audit trail")
                        .clicked()
                {
                    *action = Some(Action::Approve(l.version, row.stage));
                }
                ui.end_row();
            }
        });
}

/// Four lineage nodes fit in the workspace at 1200 points wide.
const LINEAGE: FlowSize = FlowSize {
    node_width: 170.0,
    node_height: 62.0,
    link_width: 30.0,
};

/// Dataset -> run -> version -> deployment as framed nodes joined by arrows; the run opens in
/// Experiments; a missing link (no run, not deployed) is a muted node with no arrow into it.
fn lineage_ui(ui: &mut egui::Ui, l: &Lineage, tokens: &Tokens, action: &mut Option<Action>) {
    egui::ScrollArea::horizontal()
        .id_salt("registry-lineage")
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                let dataset =
                    node_ui(
                        ui,
                        tokens,
                        "dataset version",
                        l.dataset.is_some(),
                        |ui| match &l.dataset {
                            Some(d) => {
                                let name = d.name.as_ref().map_or_else(
                                    || "unregistered file".to_owned(),
                                    |(n, v)| format!("{n} v{v}"),
                                );
                                ui.label(egui::RichText::new(name).strong());
                                // Ten hex digits tell versions apart and fit the node; the hover
                                // has all of it.
                                let short: String = d.fingerprint.chars().take(10).collect();
                                ui.monospace(format!("sha256 {short}..."))
                                    .on_hover_text(format!("fingerprint {}", d.fingerprint));
                                if let Some(rows) = d.rows {
                                    ui.weak(format!("{rows} rows"));
                                }
                            }
                            None => {
                                ui.weak("not recorded");
                            }
                        },
                    );
                link_ui(ui, tokens, dataset && l.run.is_some());
                node_ui(ui, tokens, "run", l.run.is_some(), |ui| match &l.run {
                    Some(run) => {
                        let link = ui
                            .link(egui::RichText::new(&run.name).strong())
                            .on_hover_text(format!("run {}: open it in Experiments", run.id));
                        if link.clicked() {
                            *action = Some(Action::OpenRun(run.id.clone()));
                        }
                        ui.weak(format!("experiment {}", run.experiment));
                        ui.weak(run.status.as_str());
                    }
                    None => {
                        ui.weak("no source run");
                    }
                });
                link_ui(ui, tokens, l.run.is_some());
                node_ui(ui, tokens, "model version", true, |ui| {
                    ui.label(egui::RichText::new(format!("{}:{}", l.model, l.version)).strong());
                    ui.horizontal_wrapped(|ui| {
                        ui.spacing_mut().item_spacing.x = 4.0;
                        stage_badge(ui, l.stage, tokens);
                        for alias in &l.aliases {
                            ui.weak(format!("@{alias}"));
                        }
                    });
                });
                // The endpoint that last swapped this version in, or an honest empty node.
                ui.add_space(LINEAGE.link_width);
                node_ui(
                    ui,
                    tokens,
                    "deployment",
                    l.deployment.is_some(),
                    |ui| match &l.deployment {
                        Some(endpoint) => {
                            ui.monospace(endpoint);
                        }
                        None => {
                            ui.weak("not deployed");
                        }
                    },
                );
            });
        });
}

/// One framed node with a caption; muted when `present` is false. Returns `present`.
fn node_ui(
    ui: &mut egui::Ui,
    tokens: &Tokens,
    caption: &str,
    present: bool,
    body: impl FnOnce(&mut egui::Ui),
) -> bool {
    let colour = if present { tokens.accent } else { tokens.muted };
    flow::node(ui, LINEAGE, (caption, tokens.muted), colour, body);
    present
}

/// The arrow between two nodes, or an empty gap when they are not linked.
fn link_ui(ui: &mut egui::Ui, tokens: &Tokens, linked: bool) {
    flow::arrow(ui, LINEAGE, linked.then_some(tokens.accent));
}
