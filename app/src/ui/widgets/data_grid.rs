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
    TableBuilder::new(ui)
        .id_salt("data-grid")
        .striped(true)
        .resizable(true)
        .auto_shrink([false, false])
        .column(Column::exact(64.0))
        .columns(Column::initial(110.0).at_least(40.0).clip(true), names.len())
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
    action
}
