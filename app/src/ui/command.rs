//! Every user action, as data. Panels and widgets send commands; the app handles them in
//! one place per frame, so shortcuts, buttons and (later) a command palette share one path.

use std::path::PathBuf;

use kiln_core::jobs::JobId;

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
}
