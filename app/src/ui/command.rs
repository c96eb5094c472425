//! Every user action, as data. Panels and widgets send commands; the app handles them in
//! one place per frame, so shortcuts, buttons and the command palette share one path.
//!
//! [`command_table`] is the one list of the commands a user can run without arguments, with
//! their names and keyboard shortcuts: the palette lists it and the shortcut handling reads it.

use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers};
use kiln_core::jobs::JobId;
use kiln_core::store::{Store, StoreError};

use super::panels::pipelines::PipelineCommand;
use super::theme::ThemeChoice;
use super::workspace::Workspace;

/// A user action.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Show a workspace.
    SelectWorkspace(Workspace),
    /// Switch between light and dark.
    SetTheme(ThemeChoice),
    /// Ask the user for a data file with the native dialog.
    OpenFileDialog,
    /// Open a data file (from the dialog, a drop, the recent list or the command line).
    OpenFile(PathBuf),
    /// Forget the recent-files list.
    ClearRecentFiles,
    /// Stop a background job.
    CancelJob(JobId),
    /// Remember a view of the runs table (replacing one of the same name).
    SaveRunsView(super::settings::SavedView),
    /// Forget a saved view.
    DeleteRunsView(String),
    /// Show the command palette.
    OpenPalette,
    /// Show Explore's Train tab for the open dataset.
    ShowTrain,
    /// Read the runs from the store again.
    ReloadRuns,
    /// Compare the runs ticked in the runs table.
    CompareSelectedRuns,
    /// Switch the Experiments workspace between its table and its charts.
    ToggleRunCharts,
    /// Write the shown runs, in their shown order, to a CSV file in the store.
    ExportRuns,
    /// Train (or sweep) on an open dataset (run as a background job; the Train tab shows it).
    Train(Box<TrainCommand>),
    /// Record an open file as a dataset version (run as a background job).
    RegisterDataset(Box<RegisterDatasetCommand>),
    /// Change the model registry: a stage, an alias, the gate policy or an approval (run as
    /// a background job; the
    /// Registry workspace shows how it ended and reads the registry again).
    EditRegistry(super::panels::registry::RegistryEdit),
    /// Show one run in full in Experiments (from a registered version's lineage).
    OpenRun(String),
    /// Show a registered version in the Registry workspace (from a run's detail).
    OpenVersion {
        /// Model name.
        name: String,
        /// Version.
        version: i64,
    },
    /// Write the registry's audit timeline to a CSV or JSON file (run as a background job;
    /// without a path the save dialog asks first).
    ExportAudit(super::panels::registry::AuditExport),
    /// Start (`true`) or stop the MLflow tracking server over the open store.
    AcceptMlflowClients(bool),
    /// Show Experiments' "Import from MLflow" dialog.
    OpenMlflowImport,
    /// Ask for the MLflow store to import: an `mlruns/` folder, or an `mlflow.db` file.
    PickMlflowSource {
        /// A folder (`mlruns/`) rather than a file.
        folder: bool,
    },
    /// Import an MLflow history (a path or a tracking server's URI) as a background job.
    ImportMlflow(String),
    /// Something for the Pipelines workspace (open a project, run it).
    Pipeline(PipelineCommand),
    /// Change one run in the store (run as a background job).
    EditRun {
        /// The run's id.
        run_id: String,
        /// What changes.
        edit: RunEdit,
    },
}

/// What the Train tab asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainCommand {
    /// The open dataset whose Train tab shows the job.
    pub dataset: PathBuf,
    /// The training.
    pub request: kiln_core::train::TrainRequest,
    /// Sweep axes (empty: one run).
    pub grid: std::collections::BTreeMap<String, kiln_core::tune::Space>,
    /// Where a sweep reports its trials.
    pub board: kiln_core::tune::TrialBoard,
}

/// What Explore's Register dataset button asked for.
#[derive(Debug, Clone)]
pub struct RegisterDatasetCommand {
    /// The open dataset.
    pub dataset: PathBuf,
    /// Dataset name.
    pub name: String,
    /// The loaded table (its fingerprint and schema are recorded).
    pub opened: std::sync::Arc<kiln_core::data::OpenedTable>,
    /// The user's type and role choices.
    pub overrides: kiln_core::data::schema::SchemaOverrides,
}

impl PartialEq for RegisterDatasetCommand {
    fn eq(&self, other: &Self) -> bool {
        self.dataset == other.dataset
            && self.name == other.name
            && std::sync::Arc::ptr_eq(&self.opened, &other.opened)
            && self.overrides == other.overrides
    }
}

/// A user's change to a stored run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEdit {
    /// Give the run a new name.
    Rename(String),
    /// Replace the run's note.
    Note(String),
    /// Add or replace one tag.
    Tag {
        /// Tag name.
        key: String,
        /// Tag value.
        value: String,
    },
    /// Soft-delete the run (hidden from the list, restorable).
    Delete,
    /// Undo a soft delete.
    Restore,
}

impl RunEdit {
    /// The job's name in the status bar.
    pub fn job_name(&self) -> &'static str {
        match self {
            Self::Rename(_) => "Renaming the run",
            Self::Note(_) => "Saving the note",
            Self::Tag { .. } => "Adding the tag",
            Self::Delete => "Deleting the run",
            Self::Restore => "Restoring the run",
        }
    }

    /// Writes the change; returns what to tell the user.
    pub fn apply(&self, store: &Store, run_id: &str) -> Result<&'static str, StoreError> {
        match self {
            Self::Rename(name) => store.rename_run(run_id, name).map(|()| "renamed"),
            Self::Note(note) => store.set_note(run_id, note).map(|()| "note saved"),
            Self::Tag { key, value } => store
                .set_tags(run_id, &[(key.clone(), value.clone())])
                .map(|()| "tag added"),
            Self::Delete => store.delete_run(run_id).map(|()| "deleted"),
            Self::Restore => store.restore_run(run_id).map(|()| "restored"),
        }
    }
}

/// A command a user can run by name or by key.
#[derive(Debug, Clone)]
pub struct CommandEntry {
    /// What runs.
    pub command: Command,
    /// Its name in the palette.
    pub label: &'static str,
    /// Its keyboard shortcut, if it has one.
    pub shortcut: Option<KeyboardShortcut>,
}

fn key(modifiers: Modifiers, key: Key) -> Option<KeyboardShortcut> {
    Some(KeyboardShortcut::new(modifiers, key))
}

/// Every command that needs no argument, with its name and shortcut: the one table the
/// palette and the keyboard handling share.
pub fn command_table() -> Vec<CommandEntry> {
    let entry = |command, label, shortcut| CommandEntry {
        command,
        label,
        shortcut,
    };
    let cmd = Modifiers::COMMAND;
    vec![
        entry(Command::OpenPalette, "Command palette", key(cmd, Key::K)),
        entry(
            Command::SelectWorkspace(Workspace::Explore),
            "Go to Explore",
            key(cmd, Key::Num1),
        ),
        entry(
            Command::SelectWorkspace(Workspace::Experiments),
            "Go to Experiments",
            key(cmd, Key::Num2),
        ),
        entry(
            Command::SelectWorkspace(Workspace::Registry),
            "Go to Registry",
            key(cmd, Key::Num3),
        ),
        entry(
            Command::SelectWorkspace(Workspace::Deploy),
            "Go to Deploy",
            key(cmd, Key::Num4),
        ),
        entry(
            Command::SelectWorkspace(Workspace::Pipelines),
            "Go to Pipelines",
            key(cmd, Key::Num5),
        ),
        entry(
            Command::Pipeline(PipelineCommand::Run { force: false }),
            "Run the pipeline now (the stages that changed)",
            None,
        ),
        entry(
            Command::Pipeline(PipelineCommand::Pick),
            "Open a pipeline project…",
            None,
        ),
        entry(
            Command::OpenFileDialog,
            "Open a data file…",
            key(cmd, Key::O),
        ),
        entry(
            Command::ShowTrain,
            "Train a model on the open dataset",
            key(cmd, Key::T),
        ),
        entry(
            Command::ReloadRuns,
            "Reload the runs",
            key(Modifiers::NONE, Key::F5),
        ),
        entry(
            Command::CompareSelectedRuns,
            "Compare the selected runs",
            key(cmd.plus(Modifiers::SHIFT), Key::M),
        ),
        entry(
            Command::ToggleRunCharts,
            "Runs: switch between table and charts",
            None,
        ),
        entry(
            Command::ExportRuns,
            "Export the shown runs to CSV",
            key(cmd, Key::E),
        ),
        entry(
            Command::OpenMlflowImport,
            "Import from MLflow… (mlruns/, mlflow.db or a tracking server)",
            None,
        ),
        entry(
            Command::AcceptMlflowClients(true),
            "Accept MLflow clients (start the tracking server)",
            None,
        ),
        entry(
            Command::AcceptMlflowClients(false),
            "Stop accepting MLflow clients",
            None,
        ),
        entry(
            Command::SetTheme(ThemeChoice::Light),
            "Light theme",
            key(cmd.plus(Modifiers::SHIFT), Key::L),
        ),
        entry(
            Command::SetTheme(ThemeChoice::Dark),
            "Dark theme",
            key(cmd.plus(Modifiers::SHIFT), Key::D),
        ),
        entry(Command::ClearRecentFiles, "Clear the recent files", None),
    ]
}

/// The commands whose shortcut was pressed this frame, consuming those key presses. Shortcuts
/// with more modifiers are tried first, so Ctrl+Shift+L is not taken for Ctrl+L.
pub fn pressed_shortcuts(input: &mut egui::InputState, table: &[CommandEntry]) -> Vec<Command> {
    let mut keyed: Vec<(&KeyboardShortcut, &Command)> = table
        .iter()
        .filter_map(|e| e.shortcut.as_ref().map(|s| (s, &e.command)))
        .collect();
    keyed.sort_by_key(|(s, _)| {
        std::cmp::Reverse(u8::from(s.modifiers.shift) + u8::from(s.modifiers.alt))
    });
    keyed
        .into_iter()
        .filter(|(shortcut, _)| input.consume_shortcut(shortcut))
        .map(|(_, command)| command.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_commands_share_a_shortcut_or_a_name() {
        let table = command_table();
        for (i, a) in table.iter().enumerate() {
            for b in &table[i + 1..] {
                assert_ne!(a.label, b.label);
                if let (Some(x), Some(y)) = (&a.shortcut, &b.shortcut) {
                    assert_ne!(x, y, "{} and {}", a.label, b.label);
                }
            }
        }
    }

    #[test]
    fn a_shortcut_with_shift_is_not_taken_for_the_one_without() {
        let table = vec![
            CommandEntry {
                command: Command::OpenFileDialog,
                label: "plain",
                shortcut: key(Modifiers::COMMAND, Key::L),
            },
            CommandEntry {
                command: Command::SetTheme(ThemeChoice::Light),
                label: "shifted",
                shortcut: key(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::L),
            },
        ];
        let ctx = egui::Context::default();
        let pressed = Modifiers::COMMAND.plus(Modifiers::SHIFT);
        let mut input = egui::RawInput::default();
        input.events.push(egui::Event::Key {
            key: Key::L,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers: pressed,
        });
        let mut found = Vec::new();
        let mut output = ctx.run_ui(input, |ui| {
            found = ui.ctx().input_mut(|i| pressed_shortcuts(i, &table));
        });
        // Nothing renders here: the font textures are not wanted.
        output.textures_delta.clear();
        assert_eq!(found, vec![Command::SetTheme(ThemeChoice::Light)]);
    }
}
