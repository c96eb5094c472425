//! The gate policy editor: the model's TOML policy in a text editor with Validate and Save.
//! Both parse with core's parser ([`Policy::parse`]); an error shows its line and column and
//! the line itself with a caret, and nothing is saved. Save sends
//! [`RegistryEdit::SetPolicy`], which parses again in the job and records the change in the
//! audit trail.

use kiln_core::registry::{Policy, PolicyError};

use super::edit::RegistryEdit;
use crate::ui::theme::Tokens;

/// The label of the policy's text editor (tests find it by it).
pub const POLICY_LABEL: &str = "Gate policy (TOML)";
/// The label of the reason field.
pub const POLICY_REASON_LABEL: &str = "Why this change (required, recorded in the audit trail)";

/// What Validate (or a refused Save) found.
enum Checked {
    /// It parses: the gates it sets.
    Valid(Vec<String>),
    /// It does not: where and why, and the offending line.
    Invalid(PolicyError, String),
}

/// The editor's state for one model.
#[derive(Default)]
pub struct PolicyEditor {
    model: Option<String>,
    /// The policy as stored when last read.
    saved: String,
    text: String,
    reason: String,
    checked: Option<Checked>,
}

impl PolicyEditor {
    /// Takes the stored policy of `model` after a read: a new model replaces the text; for
    /// the same model the text follows the store unless the user has changed it.
    pub fn sync(&mut self, model: &str, stored: &str) {
        let same_model = self.model.as_deref() == Some(model);
        if !same_model || self.text == self.saved {
            self.text = stored.to_owned();
            if !same_model {
                self.reason.clear();
                self.checked = None;
            }
        }
        self.model = Some(model.to_owned());
        self.saved = stored.to_owned();
    }

    /// Parses the text with core's parser and remembers what it found.
    fn check(&mut self) -> bool {
        self.checked = Some(match Policy::parse(&self.text) {
            Ok(policy) => Checked::Valid(policy.gate_names()),
            Err(e) => {
                let line = self
                    .text
                    .lines()
                    .nth(e.line.saturating_sub(1))
                    .unwrap_or("")
                    .to_owned();
                Checked::Invalid(e, line)
            }
        });
        matches!(self.checked, Some(Checked::Valid(_)))
    }

    /// Draws the editor; returns the change to send when Save was pressed on a valid policy.
    pub fn policy_ui(&mut self, ui: &mut egui::Ui, tokens: &Tokens) -> Option<RegistryEdit> {
        let model = self.model.clone()?;
        ui.label(
            "Gates a version must pass before it enters staging or production: metric \
             thresholds (accuracy = \">= 0.9\"), require_description, require_approval, \
             not_worse_than = { ... } and fairness = { ... }, under [gates].",
        );
        let label = ui.strong(POLICY_LABEL);
        let editor = ui
            .add(
                egui::TextEdit::multiline(&mut self.text)
                    .code_editor()
                    .desired_rows(8)
                    .desired_width(f32::INFINITY)
                    .hint_text("[gates]\naccuracy = \">= 0.9\"\nrequire_approval = true"),
            )
            .labelled_by(label.id);
        if editor.changed() {
            // What was checked no longer describes the text.
            self.checked = None;
        }
        let reason_label = ui.label(POLICY_REASON_LABEL);
        ui.add(egui::TextEdit::singleline(&mut self.reason).desired_width(f32::INFINITY))
            .labelled_by(reason_label.id);
        let changed = self.text != self.saved;
        let mut edit = None;
        ui.horizontal(|ui| {
            if ui
                .button("Validate")
                .on_hover_text("Parse the policy without saving it")
                .clicked()
            {
                self.check();
            }
            let why_not = if !changed {
                Some("The policy is as saved.")
            } else if self.reason.trim().is_empty() {
                Some("Give a reason to save.")
            } else {
                None
            };
            let save = ui
                .add_enabled(why_not.is_none(), egui::Button::new("Save policy"))
                .on_disabled_hover_text(why_not.unwrap_or_default());
            if save.clicked() && self.check() {
                edit = Some(RegistryEdit::SetPolicy {
                    name: model.clone(),
                    toml: self.text.clone(),
                    reason: self.reason.trim().to_owned(),
                });
            }
            if changed && ui.button("Revert").clicked() {
                self.text = self.saved.clone();
                self.checked = None;
            }
            if let Some(why) = why_not {
                ui.weak(why);
            }
        });
        match &self.checked {
            Some(Checked::Valid(gates)) if gates.is_empty() => {
                ui.colored_label(tokens.good, "Valid: this policy sets no gates.");
            }
            Some(Checked::Valid(gates)) => {
                ui.colored_label(tokens.good, format!("Valid: {}", gates.join(", ")));
            }
            Some(Checked::Invalid(e, line)) => {
                ui.colored_label(
                    tokens.bad,
                    format!("line {}, column {}: {}", e.line, e.column, e.message),
                );
                // The line and a caret under the column, as a compiler shows it.
                let gutter = format!("{} | ", e.line);
                let caret = format!("{}^", " ".repeat(gutter.len() + e.column.saturating_sub(1)));
                ui.monospace(format!("{gutter}{line}\n{caret}"));
                ui.weak("Nothing was saved.");
            }
            None => {}
        }
        edit
    }
}
