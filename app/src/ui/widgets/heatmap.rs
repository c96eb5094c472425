//! A correlation heatmap: one cell per column pair, hover for the value, click to pick a pair.

use kiln_core::data::profile::CorrelationMatrix;

use crate::ui::theme::Tokens;

/// Draws `matrix`; returns the pair `(row, column)` the user clicked.
pub fn heatmap_ui(
    ui: &mut egui::Ui,
    matrix: &CorrelationMatrix,
    tokens: &Tokens,
) -> Option<(usize, usize)> {
    let n = matrix.columns.len();
    if n == 0 {
        ui.label("No numeric columns to correlate.");
        return None;
    }
    let label_width = 150.0;
    let available = (ui.available_width() - label_width).min(ui.available_height() - 30.0);
    let cell = (available / n as f32).clamp(14.0, 60.0);
    let size = egui::vec2(label_width + cell * n as f32, 24.0 + cell * n as f32);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
    let painter = ui.painter_at(rect);
    let dark = ui.visuals().dark_mode;
    let text_color = ui.visuals().text_color();
    let font = egui::FontId::proportional((cell * 0.32).clamp(8.0, 12.0));
    let origin = rect.min + egui::vec2(label_width, 24.0);
    for (i, name) in matrix.columns.iter().enumerate() {
        let y = origin.y + (i as f32 + 0.5) * cell;
        // Rows carry the number their column is headed with, so a cell reads as a pair.
        let number = painter.text(
            egui::pos2(origin.x - 6.0, y),
            egui::Align2::RIGHT_CENTER,
            format!("{}", i + 1),
            egui::FontId::proportional(11.0),
            tokens.muted,
        );
        painter.text(
            egui::pos2(number.min.x - 8.0, y),
            egui::Align2::RIGHT_CENTER,
            truncate(name, 20),
            egui::FontId::proportional(12.0),
            text_color,
        );
        painter.text(
            egui::pos2(origin.x + (i as f32 + 0.5) * cell, rect.min.y + 12.0),
            egui::Align2::CENTER_CENTER,
            format!("{}", i + 1),
            egui::FontId::proportional(11.0),
            tokens.muted,
        );
    }
    let mut hovered = None;
    for (i, row) in matrix.matrix.iter().enumerate() {
        for (j, value) in row.iter().enumerate() {
            let min = origin + egui::vec2(j as f32 * cell, i as f32 * cell);
            let cell_rect = egui::Rect::from_min_size(min, egui::vec2(cell, cell)).shrink(0.5);
            let fill = value.map_or(tokens.undefined(), |v| tokens.diverging(v, dark));
            painter.rect_filled(cell_rect, 1.0, fill);
            if cell >= 34.0
                && let Some(v) = value
            {
                painter.text(
                    cell_rect.center(),
                    egui::Align2::CENTER_CENTER,
                    format!("{v:.2}"),
                    font.clone(),
                    tokens.text_on(fill),
                );
            }
            if response.hover_pos().is_some_and(|p| cell_rect.contains(p)) {
                hovered = Some((i, j));
                painter.rect_stroke(
                    cell_rect,
                    1.0,
                    egui::Stroke::new(2.0, tokens.accent),
                    egui::StrokeKind::Inside,
                );
            }
        }
    }
    if let Some((i, j)) = hovered {
        let value = matrix.matrix[i][j].map_or("undefined".to_owned(), |v| format!("{v:.4}"));
        // The response is the whole heatmap: a plain hover text sits at its corner, over the
        // tabs and far from the cell, so it follows the pointer instead.
        response.clone().on_hover_text_at_pointer(format!(
            "{} × {}: {value}\nclick for the scatter plot",
            matrix.columns[i], matrix.columns[j]
        ));
    }
    if response.clicked() { hovered } else { None }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}
