//! Horizontal bars of labelled values: top values of a column, missing values per column.
//! Every bar has its label and its value written beside it, however many there are (a plot's
//! axis would label only some of them).

/// Draws one bar per `(label, value)`, first at the top, scaled to the largest value; the
/// value is written as `value_name` suggests (`% missing` as a percentage, counts whole).
/// Taller than `max_height`, the list scrolls.
pub fn labelled_bars_ui(
    ui: &mut egui::Ui,
    id: &str,
    items: &[(String, f64)],
    color: egui::Color32,
    value_name: &str,
    max_height: f32,
) {
    let max = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    // Room is left for the labels and the values on either side.
    let bar_width = (ui.available_width() * 0.55).clamp(80.0, 360.0);
    let bar_height = ui.text_style_height(&egui::TextStyle::Body);
    let track = ui.visuals().extreme_bg_color;
    egui::ScrollArea::vertical()
        .id_salt(id)
        .max_height(max_height)
        .show(ui, |ui| {
            egui::Grid::new(id)
                .num_columns(3)
                .spacing([8.0, 4.0])
                .show(ui, |ui| {
                    ui.label("");
                    ui.label("");
                    ui.weak(value_name);
                    ui.end_row();
                    for (label, value) in items {
                        ui.label(label);
                        let (rect, response) = ui.allocate_exact_size(
                            egui::vec2(bar_width, bar_height),
                            egui::Sense::hover(),
                        );
                        let painter = ui.painter();
                        painter.rect_filled(rect, 2.0, track);
                        if max > 0.0 && *value > 0.0 {
                            let width = (rect.width() * (*value / max) as f32).max(1.0);
                            let bar = egui::Rect::from_min_size(
                                rect.min,
                                egui::vec2(width, rect.height()),
                            );
                            painter.rect_filled(bar, 2.0, color.gamma_multiply(0.8));
                        }
                        let text = format_value(*value, value_name);
                        response.on_hover_text(format!("{label}: {text}"));
                        ui.monospace(text);
                        ui.end_row();
                    }
                });
        });
}

fn format_value(value: f64, value_name: &str) -> String {
    if value_name.starts_with('%') {
        format!("{value:.1}%")
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::format_value;

    #[test]
    fn values_read_as_their_kind() {
        assert_eq!(format_value(3.1977, "% missing"), "3.2%");
        assert_eq!(format_value(152.0, "count"), "152");
        assert_eq!(format_value(0.25, "share"), "0.2500");
    }
}
