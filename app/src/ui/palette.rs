//! The command palette (Ctrl+K): every command of [`command_table`](super::command::command_table)
//! with its shortcut. Typing filters, the arrow keys move, Enter or a click runs the command,
//! Escape or a click outside closes.

use super::command::{Command, CommandEntry};

/// The palette's state: closed, or open with what the user typed.
#[derive(Debug, Default)]
pub struct Palette {
    open: bool,
    query: String,
    /// Index into the matching entries.
    highlighted: usize,
    focus_pending: bool,
}

/// Whether every word of `query` appears in `label`, ignoring case.
fn matches(query: &str, label: &str) -> bool {
    let label = label.to_lowercase();
    query
        .split_whitespace()
        .all(|word| label.contains(&word.to_lowercase()))
}

impl Palette {
    /// Opens the palette with an empty query and the text field focused.
    pub fn open(&mut self) {
        self.open = true;
        self.query.clear();
        self.highlighted = 0;
        self.focus_pending = true;
    }

    /// Whether the palette is showing.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Draws the palette when it is open; returns the command the user chose.
    pub fn palette_ui(&mut self, ctx: &egui::Context, table: &[CommandEntry]) -> Option<Command> {
        if !self.open {
            return None;
        }
        let shown: Vec<&CommandEntry> = table
            .iter()
            .filter(|e| e.command != Command::OpenPalette && matches(&self.query, e.label))
            .collect();
        // Arrows and Enter belong to the list, not to the text field.
        let (down, up, enter) = ctx.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                i.consume_key(egui::Modifiers::NONE, egui::Key::Enter),
            )
        });
        if down {
            self.highlighted = (self.highlighted + 1).min(shown.len().saturating_sub(1));
        }
        if up {
            self.highlighted = self.highlighted.saturating_sub(1);
        }
        let mut chosen = None;
        let id = egui::Id::unique("command-palette");
        let area = egui::Modal::default_area(id).anchor(egui::Align2::CENTER_TOP, [0.0, 80.0]);
        let modal = egui::Modal::new(id).area(area).show(ctx, |ui| {
            ui.set_width(460.0);
            let label = ui.label("Command");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text("type to filter, Enter to run")
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus_pending) {
                edit.request_focus();
            }
            if edit.changed() {
                self.highlighted = 0;
            }
            ui.separator();
            if shown.is_empty() {
                ui.weak("No command matches.");
            }
            egui::ScrollArea::vertical()
                .max_height(360.0)
                .show(ui, |ui| {
                    for (i, entry) in shown.iter().enumerate() {
                        let mut button =
                            egui::Button::selectable(i == self.highlighted, entry.label)
                                .min_size(egui::vec2(ui.available_width(), 0.0));
                        if let Some(shortcut) = &entry.shortcut {
                            button = button.shortcut_text(ui.ctx().format_shortcut(shortcut));
                        }
                        let response = ui.add(button);
                        if i == self.highlighted && (up || down) {
                            response.scroll_to_me(None);
                        }
                        if response.clicked() {
                            chosen = Some(entry.command.clone());
                        }
                    }
                });
        });
        if enter && let Some(entry) = shown.get(self.highlighted) {
            chosen = Some(entry.command.clone());
        }
        if chosen.is_some() || modal.should_close() {
            self.open = false;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn every_word_must_appear_ignoring_case() {
        assert!(matches("", "Go to Registry"));
        assert!(matches("reg", "Go to Registry"));
        assert!(matches("go REG", "Go to Registry"));
        assert!(!matches("go deploy", "Go to Registry"));
    }
}
