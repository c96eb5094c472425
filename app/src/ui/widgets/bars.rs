//! Horizontal bars of labelled values: top values of a column, missing values per column.

use egui_plot::{Bar, BarChart};

/// Draws one horizontal bar per `(label, value)`, first at the top.
pub fn labelled_bars_ui(
    ui: &mut egui::Ui,
    id: &str,
    items: &[(String, f64)],
    color: egui::Color32,
    value_name: &str,
    height: f32,
) {
    let n = items.len();
    let labels: Vec<String> = items.iter().rev().map(|(l, _)| l.clone()).collect();
    let bars: Vec<Bar> = items
        .iter()
        .enumerate()
        .map(|(i, (label, value))| Bar::new((n - 1 - i) as f64, *value).name(label).width(0.7))
        .collect();
    super::fixed_plot(id, height)
        .show_grid([true, false])
        .x_axis_label(value_name)
        .y_axis_formatter(super::index_labels(labels))
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new(value_name, bars).horizontal().color(color))
        });
}
