//! What every panel borrows for one frame: the store, the jobs, the command queue, the theme.

use kiln_core::jobs::JobRunner;
use kiln_core::store::Store;

use super::command::Command;
use super::settings::UiSettings;
use super::theme::Tokens;

/// Per-frame context handed to panels and widgets.
pub struct PanelContext<'a> {
    /// The open store, or why it could not be opened.
    pub store: Result<&'a Store, &'a str>,
    /// Starts and lists background jobs.
    pub jobs: &'a JobRunner,
    /// Actions to handle at the end of the frame.
    pub commands: &'a mut Vec<Command>,
    /// Colours and sizes.
    pub tokens: &'a Tokens,
    /// Remembered UI choices (read-only; change them with commands).
    pub settings: &'a UiSettings,
}

impl PanelContext<'_> {
    /// Queues an action.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }
}
