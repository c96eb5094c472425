//! Correlations, scatter, box plots, missing values and alerts of the open dataset.

use egui_plot::{BoxElem, BoxPlot, BoxSpread, Legend, Plot, PlotPoints, Points};
use kiln_core::data::profile::ColumnKind;

use super::state::{Dataset, Tab};
use crate::ui::context::PanelContext;
use crate::ui::widgets::bars::labelled_bars_ui;
use crate::ui::widgets::heatmap::heatmap_ui;

fn profiling_ui(ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label("Profiling…");
    });
}

/// Pearson/Spearman heatmap; a click on a cell opens the scatter plot of that pair.
pub fn correlations_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    let Some(profile) = dataset.profile.clone() else {
        return profiling_ui(ui);
    };
    ui.horizontal(|ui| {
        ui.selectable_value(&mut dataset.spearman, false, "Pearson");
        ui.selectable_value(&mut dataset.spearman, true, "Spearman");
        ui.label(
            egui::RichText::new("click a cell to see the pair as a scatter plot")
                .color(cx.tokens.muted),
        );
    });
    let matrix = if dataset.spearman {
        &profile.correlations.spearman
    } else {
        &profile.correlations.pearson
    };
    egui::ScrollArea::both().id_salt("heatmap").show(ui, |ui| {
        if let Some((i, j)) = heatmap_ui(ui, matrix, cx.tokens) {
            dataset.scatter_axes = (
                Some(matrix.columns[j].clone()),
                Some(matrix.columns[i].clone()),
                None,
            );
            dataset.tab = Tab::Scatter;
        }
    });
}

fn column_choice(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<String>,
    options: &[String],
    allow_none: bool,
) {
    let text = value.clone().unwrap_or_else(|| "(none)".into());
    let name = ui.label(label);
    egui::ComboBox::from_id_salt(label)
        .selected_text(text)
        .show_ui(ui, |ui| {
            if allow_none {
                ui.selectable_value(value, None, "(none)");
            }
            for option in options {
                ui.selectable_value(value, Some(option.clone()), option);
            }
        })
        .response
        .labelled_by(name.id);
}

fn names_of(dataset: &Dataset, kinds: &[ColumnKind]) -> Vec<String> {
    dataset
        .profile
        .as_ref()
        .map(|p| {
            p.columns
                .iter()
                .filter(|c| kinds.contains(&c.kind))
                .map(|c| c.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Scatter of two numeric columns, coloured by a third column.
pub fn scatter_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    if dataset.profile.is_none() {
        return profiling_ui(ui);
    }
    let numeric = names_of(dataset, &[ColumnKind::Numeric]);
    let nominal = names_of(dataset, &[ColumnKind::Categorical, ColumnKind::Boolean]);
    if dataset.scatter_axes.0.is_none() && numeric.len() >= 2 {
        dataset.scatter_axes = (
            Some(numeric[0].clone()),
            Some(numeric[1].clone()),
            nominal.first().cloned(),
        );
    }
    ui.horizontal(|ui| {
        column_choice(ui, "x", &mut dataset.scatter_axes.0, &numeric, false);
        column_choice(ui, "y", &mut dataset.scatter_axes.1, &numeric, false);
        column_choice(ui, "colour", &mut dataset.scatter_axes.2, &nominal, true);
        if dataset.scatter.busy() {
            ui.spinner();
        }
    });
    dataset.request_scatter(cx.jobs);
    match &dataset.scatter.value {
        Some(Ok(data)) => {
            if data.shown_points < data.total_points {
                ui.label(
                    egui::RichText::new(format!(
                        "an even sample of {} of {} points",
                        data.shown_points, data.total_points
                    ))
                    .color(cx.tokens.muted),
                );
            }
            let (x, y) = (
                dataset.scatter_axes.0.clone().unwrap_or_default(),
                dataset.scatter_axes.1.clone().unwrap_or_default(),
            );
            Plot::new("scatter")
                .legend(Legend::default())
                .x_axis_label(x)
                .y_axis_label(y)
                .show(ui, |plot| {
                    for (i, (label, points)) in data.groups.iter().enumerate() {
                        let name = if label.is_empty() {
                            "rows"
                        } else {
                            label.as_str()
                        };
                        let color = cx.tokens.palette[i % cx.tokens.palette.len()];
                        let points = PlotPoints::Borrowed(points);
                        plot.points(Points::new(name, points).radius(1.8).color(color));
                    }
                });
        }
        Some(Err(e)) => {
            ui.colored_label(cx.tokens.bad, e);
        }
        None => {
            ui.label("Choose two numeric columns.");
        }
    }
}

/// Box plots of a numeric column, one per category of another column.
pub fn box_plots_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    if dataset.profile.is_none() {
        return profiling_ui(ui);
    }
    let numeric = names_of(dataset, &[ColumnKind::Numeric]);
    let nominal = names_of(dataset, &[ColumnKind::Categorical, ColumnKind::Boolean]);
    if dataset.box_axes.0.is_none() {
        dataset.box_axes = (numeric.first().cloned(), nominal.first().cloned());
    }
    ui.horizontal(|ui| {
        column_choice(ui, "value", &mut dataset.box_axes.0, &numeric, false);
        column_choice(ui, "grouped by", &mut dataset.box_axes.1, &nominal, true);
        if dataset.boxes.busy() {
            ui.spinner();
        }
    });
    dataset.request_boxes(cx.jobs);
    match &dataset.boxes.value {
        Some(Ok(stats)) => {
            let labels: Vec<String> = stats
                .iter()
                .map(|s| format!("{} (n={})", s.group, s.count))
                .collect();
            let boxes: Vec<BoxElem> = stats
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    BoxElem::new(
                        i as f64,
                        BoxSpread::new(s.lower_whisker, s.q1, s.median, s.q3, s.upper_whisker),
                    )
                    .name(&labels[i])
                    .box_width(0.6)
                    .fill(cx.tokens.palette[i % cx.tokens.palette.len()].gamma_multiply(0.4))
                    .stroke(egui::Stroke::new(
                        1.5,
                        cx.tokens.palette[i % cx.tokens.palette.len()],
                    ))
                })
                .collect();
            let value = dataset.box_axes.0.clone().unwrap_or_default();
            Plot::new("box-plots")
                .y_axis_label(value.clone())
                .x_axis_formatter(crate::ui::widgets::index_labels(labels.clone()))
                .show(ui, |plot| plot.box_plot(BoxPlot::new(value, boxes)));
        }
        Some(Err(e)) => {
            ui.colored_label(cx.tokens.bad, e);
        }
        None => {
            ui.label("Choose a numeric column.");
        }
    }
}

/// Share of missing values per column, and how many rows have any.
pub fn missing_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    let Some(profile) = dataset.profile.clone() else {
        return profiling_ui(ui);
    };
    ui.label(format!(
        "{} missing cells; {} of {} rows have at least one",
        profile.missing_cells, profile.rows_with_missing, profile.rows
    ));
    let items: Vec<(String, f64)> = profile
        .columns
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                100.0 * c.nulls as f64 / profile.rows.max(1) as f64,
            )
        })
        .collect();
    let height = ui.available_height() - 10.0;
    labelled_bars_ui(ui, "missing", &items, cx.tokens.bad, "% missing", height);
}

/// Every alert, dataset-level first; a click selects the column.
pub fn alerts_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    let Some(profile) = dataset.profile.clone() else {
        return profiling_ui(ui);
    };
    if profile.alerts.is_empty() {
        ui.label("No alerts: nothing looks wrong with this data.");
        return;
    }
    egui::Grid::new("alerts")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.strong("kind");
            ui.strong("column");
            ui.strong("detail");
            ui.end_row();
            for alert in &profile.alerts {
                ui.colored_label(cx.tokens.warn, &alert.kind);
                match &alert.column {
                    Some(name) => {
                        if ui.link(name).clicked() {
                            dataset.selected = profile.columns.iter().position(|c| &c.name == name);
                            dataset.tab = Tab::Column;
                        }
                    }
                    None => {
                        ui.label("(dataset)");
                    }
                }
                ui.label(&alert.detail);
                ui.end_row();
            }
        });
}
