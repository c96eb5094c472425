//! A histogram from core's bin edges and counts.

use egui_plot::{Bar, BarChart};
use kiln_core::data::profile::Histogram;

/// Draws `histogram` as adjacent bars.
pub fn histogram_ui(
    ui: &mut egui::Ui,
    id: &str,
    histogram: &Histogram,
    color: egui::Color32,
    height: f32,
) {
    let bars: Vec<Bar> = histogram
        .counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let (lo, hi) = (histogram.edges[i], histogram.edges[i + 1]);
            Bar::new((lo + hi) / 2.0, count as f64)
                .width(hi - lo)
                .name(format!("{lo:.4} – {hi:.4}"))
        })
        .collect();
    super::fixed_plot(id, height)
        .show_grid([false, true])
        .y_axis_label("count")
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("count", bars).color(color))
        });
}
