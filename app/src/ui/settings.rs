//! The small set of UI choices remembered between launches (everything real lives in the store).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::theme::ThemeChoice;
use super::workspace::Workspace;

/// How many recent files are remembered.
pub const MAX_RECENT_FILES: usize = 10;

/// UI choices persisted through eframe storage. Unknown or missing fields fall back to
/// defaults, so an older or newer settings file never stops the app from starting.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UiSettings {
    /// The workspace shown last.
    pub workspace: Workspace,
    /// Light or dark.
    pub theme: ThemeChoice,
    /// Most recently opened files, newest first.
    pub recent_files: Vec<PathBuf>,
    /// Saved views of the Experiments workspace.
    pub saved_views: Vec<SavedView>,
    /// The port "Accept MLflow clients" listens on (0: MLflow's 5000).
    pub mlflow_port: u16,
    /// The pipeline project (`kiln.toml`) the Pipelines workspace showed last.
    pub pipeline_project: Option<PathBuf>,
}

/// A named filter, sort and grouping of the runs table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedView {
    /// Name shown in the chooser.
    pub name: String,
    /// Filter expression.
    pub filter: String,
    /// Sort key (`-key` descending), empty for none.
    pub sort: String,
    /// Group-by key, empty for none.
    pub group_by: String,
}

impl UiSettings {
    /// Puts `path` at the front of the recent files (once) and trims the list.
    pub fn remember_file(&mut self, path: PathBuf) {
        self.recent_files.retain(|p| p != &path);
        self.recent_files.insert(0, path);
        self.recent_files.truncate(MAX_RECENT_FILES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_files_are_unique_newest_first_and_bounded() {
        let mut settings = UiSettings::default();
        for i in 0..15 {
            settings.remember_file(PathBuf::from(format!("{i}.csv")));
        }
        settings.remember_file(PathBuf::from("7.csv"));
        assert_eq!(settings.recent_files.len(), MAX_RECENT_FILES);
        assert_eq!(settings.recent_files[0], PathBuf::from("7.csv"));
        assert_eq!(
            settings
                .recent_files
                .iter()
                .filter(|p| p.ends_with("7.csv"))
                .count(),
            1
        );
    }

    #[test]
    fn settings_from_another_version_still_load() {
        let settings: UiSettings =
            serde_json::from_str(r#"{"theme":"Light","some_future_field":1}"#).expect("parse");
        assert_eq!(settings.theme, ThemeChoice::Light);
        assert_eq!(settings.workspace, Workspace::Explore);
    }
}
