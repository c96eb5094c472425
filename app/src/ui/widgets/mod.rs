//! Reusable views drawn from what core computed: plots, heatmaps, the data grid.

pub mod bars;
pub mod data_grid;
pub mod flow;
pub mod heatmap;
pub mod histogram;
pub mod parallel_coords;

use std::ops::RangeInclusive;

use egui_plot::{GridMark, Plot};

/// A plot that stays put: no zooming, scrolling or dragging (summaries, not explorations).
pub fn fixed_plot(id: &str, height: f32) -> Plot<'static> {
    Plot::new(id)
        .height(height)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
}

/// An axis formatter that names whole-number positions `0, 1, 2, ...` with `labels`.
pub fn index_labels(labels: Vec<String>) -> impl Fn(GridMark, &RangeInclusive<f64>) -> String {
    move |mark, _| {
        let index = mark.value.round();
        if (mark.value - index).abs() < 1e-6 && index >= 0.0 {
            labels.get(index as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }
}

/// What a view shows for a job's result: a spinner while it runs, the error in
/// `bad` if it failed, and the value (returned) once it is there.
pub fn job_result<'a, T>(
    ui: &mut egui::Ui,
    data: Option<&'a Result<T, String>>,
    bad: egui::Color32,
) -> Option<&'a T> {
    match data {
        None => {
            ui.spinner();
            None
        }
        Some(Err(e)) => {
            ui.colored_label(bad, e.as_str());
            None
        }
        Some(Ok(data)) => Some(data),
    }
}

/// A sub-view's heading with a "Back to runs" button; sets `close` when it is clicked.
pub fn back_heading(ui: &mut egui::Ui, title: &str, close: &mut bool) {
    ui.horizontal(|ui| {
        ui.heading(title);
        if ui.button("Back to runs").clicked() {
            *close = true;
        }
    });
}
