//! The column list (types, missing values, alerts) and the detail of one column.

use kiln_core::data::profile::{ColumnKind, ColumnProfile};
use kiln_core::data::schema::ColumnRole;
use kiln_core::polars::prelude::DataFrame;

use super::state::{Dataset, Tab};
use crate::ui::context::PanelContext;
use crate::ui::widgets::bars::labelled_bars_ui;
use crate::ui::widgets::histogram::histogram_ui;

/// Short type badge shown before a column name.
fn kind_badge(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "123",
        ColumnKind::Categorical => "abc",
        ColumnKind::Boolean => "t/f",
        ColumnKind::Datetime => "date",
        ColumnKind::Text => "txt",
    }
}

/// Lists the columns; a click selects one and shows its detail.
pub fn column_list_ui(
    ui: &mut egui::Ui,
    dataset: &mut Dataset,
    frame: &DataFrame,
    cx: &mut PanelContext<'_>,
) {
    ui.strong(format!("Columns ({})", frame.width()));
    egui::ScrollArea::vertical()
        .id_salt("column-list")
        .show(ui, |ui| {
            let profile = dataset.profile.clone();
            egui::Grid::new("column-list-grid")
                .num_columns(4)
                .spacing([6.0, 4.0])
                .show(ui, |ui| {
                    for (index, name) in frame.get_column_names().iter().enumerate() {
                        let column = profile.as_ref().and_then(|p| p.columns.get(index));
                        let alerts = profile.as_ref().map_or(0, |p| {
                            p.alerts
                                .iter()
                                .filter(|a| a.column.as_deref() == Some(name.as_str()))
                                .count()
                        });
                        let role = dataset
                            .overrides
                            .columns
                            .get(name.as_str())
                            .map(|c| c.role)
                            .unwrap_or_default();
                        let badge = match role {
                            ColumnRole::Feature => column.map_or("…", |c| kind_badge(c.kind)),
                            other => other.label(),
                        };
                        ui.label(
                            egui::RichText::new(badge)
                                .monospace()
                                .color(cx.tokens.muted),
                        );
                        let selected = dataset.selected == Some(index);
                        if ui.selectable_label(selected, name.as_str()).clicked() {
                            dataset.selected = Some(index);
                            dataset.tab = Tab::Column;
                        }
                        match column {
                            Some(c) => {
                                let missing = c.nulls as f32 / (c.count + c.nulls).max(1) as f32;
                                null_bar_ui(ui, missing, cx).on_hover_text(format!(
                                    "{:.1}% missing ({} of {})",
                                    missing * 100.0,
                                    c.nulls,
                                    c.count + c.nulls
                                ));
                            }
                            None => {
                                ui.label("");
                            }
                        }
                        if alerts > 0 {
                            ui.label(
                                egui::RichText::new(format!(
                                    "{alerts} alert{}",
                                    if alerts > 1 { "s" } else { "" }
                                ))
                                .small()
                                .color(cx.tokens.warn),
                            );
                        } else {
                            ui.label("");
                        }
                        ui.end_row();
                    }
                });
        });
}

fn null_bar_ui(ui: &mut egui::Ui, missing: f32, cx: &PanelContext<'_>) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(egui::vec2(36.0, 8.0), egui::Sense::hover());
    let painter = ui.painter();
    painter.rect_filled(rect, 2.0, cx.tokens.palette[0].gamma_multiply(0.6));
    let width = rect.width() * missing.clamp(0.0, 1.0);
    if width > 0.0 {
        let filled = egui::Rect::from_min_size(rect.min, egui::vec2(width.max(1.0), rect.height()));
        painter.rect_filled(filled, 2.0, cx.tokens.bad);
    }
    response
}

/// Every statistic of the selected column, with its histogram or top-values chart.
pub fn column_detail_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    let Some(profile) = dataset.profile.clone() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Profiling…");
        });
        return;
    };
    let Some(column) = dataset.selected.and_then(|i| profile.columns.get(i)) else {
        ui.label("Select a column on the left.");
        return;
    };
    egui::ScrollArea::vertical()
        .id_salt("column-detail")
        .show(ui, |ui| {
            ui.heading(&column.name);
            ui.label(
                egui::RichText::new(format!("{:?} · {}", column.kind, column.dtype).to_lowercase())
                    .color(cx.tokens.muted),
            );
            let name = column.name.clone();
            choice_ui(ui, dataset, &name, cx);
            ui.add_space(cx.tokens.section_gap);
            ui.columns(2, |cols| {
                stats_grid_ui(&mut cols[0], column, profile.rows);
                let color = cx.tokens.palette[0];
                if let Some(histogram) = &column.histogram {
                    cols[1].strong(format!("Histogram of {}", column.name));
                    histogram_ui(
                        &mut cols[1],
                        &format!("hist-{}", column.name),
                        histogram,
                        color,
                        260.0,
                    );
                } else if !column.top.is_empty() {
                    cols[1].strong(format!("Most frequent values of {}", column.name));
                    let items: Vec<(String, f64)> = column
                        .top
                        .iter()
                        .map(|t| (t.value.clone(), t.count as f64))
                        .collect();
                    labelled_bars_ui(
                        &mut cols[1],
                        &format!("top-{}", column.name),
                        &items,
                        color,
                        "count",
                        260.0,
                    );
                }
            });
            let alerts: Vec<_> = profile
                .alerts
                .iter()
                .filter(|a| a.column.as_deref() == Some(column.name.as_str()))
                .collect();
            if !alerts.is_empty() {
                ui.add_space(cx.tokens.section_gap);
                ui.strong("Alerts");
                for a in alerts {
                    ui.colored_label(cx.tokens.warn, format!("{}: {}", a.kind, a.detail));
                }
            }
        });
}

/// Type and role choosers of one column.
fn choice_ui(ui: &mut egui::Ui, dataset: &mut Dataset, name: &str, cx: &mut PanelContext<'_>) {
    let mut choice = dataset
        .overrides
        .columns
        .get(name)
        .copied()
        .unwrap_or_default();
    let before = choice;
    let kind_label = |k: Option<ColumnKind>| match k {
        None => "as inferred".to_owned(),
        Some(k) => format!("{k:?}").to_lowercase(),
    };
    ui.horizontal(|ui| {
        egui::ComboBox::new(("column-type", name), "type")
            .selected_text(kind_label(choice.kind))
            .show_ui(ui, |ui| {
                for kind in [
                    None,
                    Some(ColumnKind::Numeric),
                    Some(ColumnKind::Categorical),
                    Some(ColumnKind::Text),
                ] {
                    ui.selectable_value(&mut choice.kind, kind, kind_label(kind));
                }
            });
        egui::ComboBox::new(("column-role", name), "role")
            .selected_text(choice.role.label())
            .show_ui(ui, |ui| {
                for role in ColumnRole::ALL {
                    ui.selectable_value(&mut choice.role, role, role.label());
                }
            });
    });
    if choice != before {
        dataset.set_choice(name, choice, cx.jobs);
    }
}

fn stats_grid_ui(ui: &mut egui::Ui, c: &ColumnProfile, rows: usize) {
    let number = kiln_core::data::views::format_stat;
    let mut lines: Vec<(&str, String)> = vec![
        ("count", c.count.to_string()),
        (
            "missing",
            format!(
                "{} ({:.1}%)",
                c.nulls,
                100.0 * c.nulls as f64 / rows.max(1) as f64
            ),
        ),
        ("distinct", c.distinct.to_string()),
    ];
    if c.mean.is_some() || c.min.is_some() {
        lines.extend([
            ("mean", number(c.mean)),
            ("std", number(c.std)),
            ("min", number(c.min)),
            ("5%", number(c.p5)),
            ("25%", number(c.p25)),
            ("median", number(c.median)),
            ("75%", number(c.p75)),
            ("95%", number(c.p95)),
            ("max", number(c.max)),
            ("skewness", number(c.skewness)),
            ("kurtosis", number(c.kurtosis)),
            ("zeros", c.zeros.map_or("—".into(), |z| z.to_string())),
            (
                "infinite",
                c.infinities.map_or("—".into(), |z| z.to_string()),
            ),
        ]);
    }
    if let Some(length) = &c.length {
        lines.push((
            "length",
            format!("{} – {} (mean {:.1})", length.min, length.max, length.mean),
        ));
    }
    egui::Grid::new(format!("stats-{}", c.name))
        .striped(true)
        .num_columns(2)
        .show(ui, |ui| {
            for (name, value) in lines {
                ui.label(name);
                ui.monospace(value);
                ui.end_row();
            }
        });
}
