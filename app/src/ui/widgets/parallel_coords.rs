//! Parallel coordinates: one vertical axis per parameter and the metric last, one line per run,
//! coloured by the metric. Drag along an axis to brush a range; runs outside every brush fade.
//! A double-click on an axis clears its brush.

use std::collections::BTreeMap;

use kiln_core::tracking::compare::ParallelCoordinates;

use crate::ui::theme::Tokens;

/// Brushed value ranges by axis index.
pub type Brushes = BTreeMap<usize, (f64, f64)>;

/// Draws the chart; returns the ids of the runs inside every brush.
pub fn parallel_coordinates_ui(
    ui: &mut egui::Ui,
    data: &ParallelCoordinates,
    brushes: &mut Brushes,
    tokens: &Tokens,
) -> Vec<String> {
    let n = data.axes.len();
    let size = egui::vec2(ui.available_width(), 360.0);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    if n < 2 {
        ui.label("Nothing varies between these runs.");
        return data.lines.iter().map(|(id, _)| id.clone()).collect();
    }
    let plot = rect.shrink2(egui::vec2(50.0, 30.0));
    let x_of = |i: usize| plot.left() + plot.width() * i as f32 / (n - 1) as f32;
    let y_of = |axis: usize, v: f64| {
        let a = &data.axes[axis];
        let t = if a.max > a.min {
            (v - a.min) / (a.max - a.min)
        } else {
            0.5
        };
        plot.bottom() - plot.height() * t as f32
    };
    let value_of = |axis: usize, y: f32| {
        let a = &data.axes[axis];
        a.min + (a.max - a.min) * f64::from((plot.bottom() - y) / plot.height())
    };
    // Brushing, one drag area per axis.
    for axis in 0..n {
        let area =
            egui::Rect::from_x_y_ranges(x_of(axis) - 12.0..=x_of(axis) + 12.0, plot.y_range());
        let response = ui.interact(
            area,
            ui.scope_id().with(("pc-axis", axis)),
            egui::Sense::click_and_drag(),
        );
        if response.double_clicked() {
            brushes.remove(&axis);
        } else if response.dragged()
            && let (Some(start), Some(now)) = (
                response.interact_pointer_pos(),
                ui.ctx().pointer_interact_pos(),
            )
        {
            let origin = ui
                .ctx()
                .input(|i| i.pointer.press_origin())
                .unwrap_or(start);
            let (a, b) = (value_of(axis, origin.y), value_of(axis, now.y));
            brushes.insert(axis, (a.min(b), a.max(b)));
        }
    }
    let inside = |values: &[Option<f64>]| {
        brushes.iter().all(|(&axis, &(lo, hi))| {
            values
                .get(axis)
                .copied()
                .flatten()
                .is_some_and(|v| v >= lo && v <= hi)
        })
    };
    let painter = ui.painter_at(rect);
    let dark = ui.visuals().dark_mode;
    let metric = &data.axes[n - 1];
    let mut passing = Vec::new();
    // Faded lines first, so the brushed ones draw on top.
    for pass in [false, true] {
        for (id, values) in &data.lines {
            let keep = inside(values);
            if keep != pass {
                continue;
            }
            let color = if !keep {
                tokens.muted.gamma_multiply(0.25)
            } else {
                let v = values[n - 1].unwrap_or(metric.min);
                let t = if metric.max > metric.min {
                    (v - metric.min) / (metric.max - metric.min)
                } else {
                    0.5
                };
                tokens.diverging(t * 2.0 - 1.0, dark)
            };
            let points: Vec<egui::Pos2> = values
                .iter()
                .enumerate()
                .filter_map(|(axis, v)| v.map(|v| egui::pos2(x_of(axis), y_of(axis, v))))
                .collect();
            painter.add(egui::Shape::line(points, egui::Stroke::new(1.2, color)));
            if keep {
                passing.push(id.clone());
            }
        }
    }
    let text = ui.visuals().text_color();
    for (axis, a) in data.axes.iter().enumerate() {
        let x = x_of(axis);
        painter.line_segment(
            [egui::pos2(x, plot.top()), egui::pos2(x, plot.bottom())],
            egui::Stroke::new(1.5, text),
        );
        let name = a.key.split_once('.').map_or(a.key.as_str(), |(_, n)| n);
        painter.text(
            egui::pos2(x, rect.top() + 6.0),
            egui::Align2::CENTER_TOP,
            name,
            egui::FontId::proportional(12.0),
            text,
        );
        let (top, bottom) = if a.categories.is_empty() {
            (format!("{:.4}", a.max), format!("{:.4}", a.min))
        } else {
            (
                a.categories.last().cloned().unwrap_or_default(),
                a.categories.first().cloned().unwrap_or_default(),
            )
        };
        let small = egui::FontId::proportional(10.0);
        painter.text(
            egui::pos2(x + 4.0, plot.top()),
            egui::Align2::LEFT_CENTER,
            top,
            small.clone(),
            tokens.muted,
        );
        painter.text(
            egui::pos2(x + 4.0, plot.bottom()),
            egui::Align2::LEFT_CENTER,
            bottom,
            small,
            tokens.muted,
        );
        if let Some(&(lo, hi)) = brushes.get(&axis) {
            let band =
                egui::Rect::from_x_y_ranges(x - 6.0..=x + 6.0, y_of(axis, hi)..=y_of(axis, lo));
            painter.rect_filled(band, 2.0, tokens.accent.gamma_multiply(0.35));
        }
    }
    passing
}
