//! The Registry workspace's parts: the empty state, the models list, the versions table and
//! the audit timeline. They draw prepared rows only (virtualised where rows can be many) and
//! report what was clicked as an [`Action`].

use egui_extras::{Column, TableBuilder};
use kiln_core::registry::AuditFormat;
use kiln_core::store::Stage;

use super::rows::{AuditRow, VersionRow};
use crate::ui::theme::Tokens;

/// What a click asked for.
pub enum Action {
    /// Show this model.
    Select(String),
    /// Show this version's lineage and approvals.
    ShowVersion(i64),
    /// Open the stage dialog for a version (in its current stage).
    Stage(i64, Stage),
    /// Open the alias dialog for a version.
    Alias(i64),
    /// Open the approval dialog for a version and stage.
    Approve(i64, Stage),
    /// Write the shown timeline to a file.
    Export(AuditFormat),
    /// Check the audit trail's hash chain.
    Verify,
    /// The timeline's scope changed: read again.
    Rekey,
    /// Show the version's source run in Experiments.
    OpenRun(String),
}

/// No model is registered: say how to register one.
pub fn empty_state_ui(ui: &mut egui::Ui, tokens: &Tokens) {
    ui.add_space(tokens.section_gap);
    ui.label(egui::RichText::new("No model is registered yet.").strong());
    ui.label(
        "A registered model is a finished run's model under a name, with versions, stages \
         (staging, production, archived), aliases and an audit trail.",
    );
    ui.add_space(8.0);
    ui.label("Register one from a run (its id is in Experiments):");
    ui.code("kiln models register RUN_ID --name NAME");
    ui.add_space(4.0);
    ui.label("then promote it through its gates with a reason:");
    ui.code("kiln models promote NAME 1 --to staging --reason \"why\"");
    ui.add_space(8.0);
    ui.colored_label(
        tokens.muted,
        "This workspace reads the registry again when it changes.",
    );
}

/// The registered models; clicking one shows it.
pub fn models_ui(
    ui: &mut egui::Ui,
    models: &[String],
    shown: Option<&str>,
    action: &mut Option<Action>,
) {
    ui.strong("Models");
    let row_height = ui.spacing().interact_size.y;
    egui::ScrollArea::vertical()
        .id_salt("registry-models-list")
        .auto_shrink([false, false])
        .show_rows(ui, row_height, models.len(), |ui, range| {
            for name in &models[range] {
                let selected = shown == Some(name.as_str());
                if ui.selectable_label(selected, name).clicked() && !selected {
                    *action = Some(Action::Select(name.clone()));
                }
            }
        });
}

/// A stage as a coloured badge.
pub fn stage_badge(ui: &mut egui::Ui, stage: Stage, tokens: &Tokens) {
    let colour = match stage {
        Stage::Production => tokens.good,
        Stage::Staging => tokens.accent,
        Stage::Archived => tokens.muted,
        Stage::None => tokens.muted,
    };
    badge(ui, stage.as_str(), colour);
}

fn badge(ui: &mut egui::Ui, text: &str, colour: egui::Color32) {
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, colour))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(5, 0))
        .show(ui, |ui| {
            ui.label(egui::RichText::new(text).color(colour).small());
        });
}

/// The versions of the shown model, newest first in a virtualised table; `shown` is the
/// version whose detail is shown (its row is highlighted).
pub fn versions_ui(
    ui: &mut egui::Ui,
    versions: &[VersionRow],
    shown: Option<i64>,
    tokens: &Tokens,
    action: &mut Option<Action>,
) {
    let row_height = ui.spacing().interact_size.y + 4.0;
    let height = (row_height * (versions.len() as f32 + 1.5)).min(ui.available_height() * 0.45);
    egui::ScrollArea::horizontal()
        .id_salt("registry-versions-scroll")
        .show(ui, |ui| {
            TableBuilder::new(ui)
                .id_salt("registry-versions-table")
                .striped(true)
                .resizable(true)
                .max_scroll_height(height)
                .auto_shrink([false, true])
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                .column(Column::exact(52.0))
                .column(Column::initial(84.0).at_least(70.0))
                .column(Column::initial(84.0).at_least(50.0).clip(true))
                .column(Column::initial(200.0).at_least(100.0).clip(true))
                .column(Column::initial(160.0).at_least(80.0).clip(true))
                .column(Column::initial(100.0).at_least(60.0).clip(true))
                .column(Column::remainder().at_least(120.0))
                .header(row_height, |mut header| {
                    for title in [
                        "version",
                        "stage",
                        "aliases",
                        "key metrics",
                        "created",
                        "source run",
                        "",
                    ] {
                        header.col(|ui| {
                            ui.strong(title);
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, versions.len(), |mut row| {
                        // Newest first.
                        let v = &versions[versions.len() - 1 - row.index()];
                        let selected = shown == Some(v.version);
                        row.set_selected(selected);
                        row.col(|ui| {
                            let text = egui::RichText::new(v.version.to_string()).monospace();
                            if ui
                                .selectable_label(selected, text)
                                .on_hover_text("Show this version's lineage")
                                .clicked()
                                && !selected
                            {
                                *action = Some(Action::ShowVersion(v.version));
                            }
                        });
                        row.col(|ui| stage_badge(ui, v.stage, tokens));
                        row.col(|ui| {
                            for alias in &v.aliases {
                                badge(ui, &format!("@{alias}"), tokens.accent);
                            }
                        });
                        row.col(|ui| {
                            let label = ui.label(&v.metrics);
                            if !v.all_metrics.is_empty() {
                                label.on_hover_text(&v.all_metrics);
                            }
                        });
                        row.col(|ui| {
                            ui.label(format!("{} · {}", v.created_by, v.created_at));
                        });
                        row.col(|ui| match &v.run_id {
                            Some(id) => {
                                let short: String = id.chars().take(12).collect();
                                let response = ui
                                    .add(
                                        egui::Label::new(egui::RichText::new(short).monospace())
                                            .sense(egui::Sense::click()),
                                    )
                                    .on_hover_text(format!(
                                        "run {id}: click to open it in Experiments"
                                    ));
                                if response.clicked() {
                                    *action = Some(Action::OpenRun(id.clone()));
                                }
                            }
                            None => {
                                ui.weak("—");
                            }
                        });
                        row.col(|ui| {
                            if ui
                                .button("Stage…")
                                .on_hover_text("Promote, demote or archive, through the gates")
                                .clicked()
                            {
                                *action = Some(Action::Stage(v.version, v.stage));
                            }
                            if ui.button("Alias…").clicked() {
                                *action = Some(Action::Alias(v.version));
                            }
                        });
                    });
                });
        });
}

/// The timeline's heading, its scope toggle and the audit check.
pub fn timeline_header_ui(
    ui: &mut egui::Ui,
    model: &str,
    whole_registry: &mut bool,
    verifying: bool,
    verified: Option<&Result<String, String>>,
    tokens: &Tokens,
    action: &mut Option<Action>,
) {
    ui.horizontal(|ui| {
        let scope = if *whole_registry {
            "the whole registry".to_owned()
        } else {
            model.to_owned()
        };
        ui.strong(format!("Audit timeline of {scope}"));
        if ui
            .checkbox(whole_registry, "Whole registry")
            .on_hover_text("Every model's entries, not only this model's")
            .changed()
        {
            *action = Some(Action::Rekey);
        }
        if ui
            .add_enabled(!verifying, egui::Button::new("Verify audit trail"))
            .on_hover_text("Recompute the hash chain of every entry")
            .clicked()
        {
            *action = Some(Action::Verify);
        }
        if verifying {
            ui.spinner();
        }
        for (format, label) in super::EXPORT_FORMATS {
            if ui
                .button(label)
                .on_hover_text(format!(
                    "Write the entries of {scope} to a {} file",
                    format.extension().to_uppercase()
                ))
                .clicked()
            {
                *action = Some(Action::Export(format));
            }
        }
        match verified {
            Some(Ok(m)) => {
                ui.colored_label(tokens.good, m);
            }
            Some(Err(m)) => {
                ui.colored_label(tokens.bad, m);
            }
            None => {}
        }
    });
}

/// The audit entries, newest first, virtualised.
pub fn timeline_ui(ui: &mut egui::Ui, audit: &[AuditRow], whole_registry: bool) {
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    let version_width = if whole_registry { 170.0 } else { 70.0 };
    ui.push_id(("registry-timeline", whole_registry), |ui| {
        TableBuilder::new(ui)
            .id_salt("registry-timeline-table")
            .striped(true)
            .resizable(true)
            .auto_shrink([false, false])
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(40.0))
            .column(Column::initial(150.0).at_least(80.0).clip(true))
            .column(Column::initial(80.0).at_least(50.0).clip(true))
            .column(Column::initial(70.0).at_least(50.0).clip(true))
            // The whole registry's timeline names the model with the version.
            .column(Column::initial(version_width).at_least(50.0).clip(true))
            .column(
                Column::initial(320.0 - version_width)
                    .at_least(80.0)
                    .clip(true),
            )
            .column(Column::remainder().at_least(120.0).clip(true))
            .header(row_height, |mut header| {
                for title in [
                    "#",
                    "time",
                    "user",
                    "action",
                    "version",
                    "reason",
                    "before -> after",
                ] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, audit.len(), |mut row| {
                    let e = &audit[row.index()];
                    row.col(|ui| {
                        ui.weak(e.seq.to_string());
                    });
                    row.col(|ui| {
                        ui.label(&e.at);
                    });
                    row.col(|ui| {
                        ui.label(&e.user);
                    });
                    row.col(|ui| {
                        ui.strong(&e.action);
                    });
                    row.col(|ui| {
                        ui.monospace(&e.target).on_hover_text(&e.target);
                    });
                    row.col(|ui| {
                        ui.label(&e.reason).on_hover_text(&e.reason);
                    });
                    row.col(|ui| {
                        ui.label(&e.change).on_hover_text(&e.change);
                    });
                });
            });
        if audit.is_empty() {
            ui.weak("No entries.");
        }
    });
}
