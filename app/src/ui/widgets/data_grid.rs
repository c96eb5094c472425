//! The data grid: only the visible rows are turned into text, so 10 million rows scroll as
//! smoothly as ten.

use egui_extras::{Column, TableBuilder};
use kiln_core::polars::prelude::DataFrame;

/// Sort state of the grid: column index and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// Column index in the frame.
    pub column: usize,
    /// Largest first.
    pub descending: bool,
}

/// What the user did in the grid this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridAction {
    /// A header was clicked: sort by that column (toggling direction).
    Sort(SortKey),
}

/// The width a strong header label `text` needs, with the cell's margins.
fn header_width(ui: &egui::Ui, text: &str) -> f32 {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let galley =
        ui.painter()
            .layout_no_wrap(text.to_owned(), font, ui.visuals().strong_text_color());
    galley.size().x + 2.0 * ui.spacing().item_spacing.x + 4.0
}

/// Draws `frame`'s `rows` (all rows in order when `None`).
pub fn data_grid_ui(
    ui: &mut egui::Ui,
    frame: &DataFrame,
    rows: Option<&[u32]>,
    sort: Option<SortKey>,
) -> Option<GridAction> {
    let total = rows.map_or(frame.height(), <[u32]>::len);
    let names: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let mut action = None;
    // Wide enough for each header; the user can still resize.
    let widths: Vec<f32> = names
        .iter()
        .map(|name| header_width(ui, name).clamp(80.0, 260.0))
        .collect();
    // Row numbers as wide as the largest one needs.
    let number_width = header_width(ui, &frame.height().max(1).to_string()).max(36.0);
    // Columns past the right edge are reached by scrolling sideways (the table scrolls down).
    egui::ScrollArea::horizontal()
        .id_salt("data-grid-across")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let mut table = TableBuilder::new(ui)
                .id_salt("data-grid")
                .striped(true)
                .resizable(true)
                .auto_shrink([false, false])
                .column(Column::exact(number_width));
            for width in widths {
                table = table.column(Column::initial(width).at_least(40.0).clip(true));
            }
            table
                .header(row_height + 4.0, |mut header| {
                    header.col(|ui| {
                        ui.strong("#");
                    });
                    for (index, name) in names.iter().enumerate() {
                        header.col(|ui| {
                            let arrow = match sort {
                                Some(SortKey { column, descending }) if column == index => {
                                    if descending { " (desc)" } else { " (asc)" }
                                }
                                _ => "",
                            };
                            let clicked = ui
                                .add(egui::Button::new(egui::RichText::new(format!("{name}{arrow}")).strong()).frame(false))
                                .on_hover_text(format!("Sort by {name}"))
                                .clicked();
                            if clicked {
                                let descending = matches!(sort, Some(SortKey { column, descending: false }) if column == index);
                                action = Some(GridAction::Sort(SortKey { column: index, descending }));
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, total, |mut row| {
                        let display_index = row.index();
                        let data_row = rows.map_or(display_index, |r| r[display_index] as usize);
                        row.col(|ui| {
                            ui.weak(format!("{}", data_row + 1));
                        });
                        for column in 0..names.len() {
                            row.col(|ui| {
                                ui.label(kiln_core::data::views::cell_text(frame, column, data_row));
                            });
                        }
                    });
                });
        });
    action
}
