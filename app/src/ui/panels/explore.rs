//! Explore workspace: where opened files land.
//!
//! Every opened file is fingerprinted (sha256, as a background job); profiling, the data grid
//! and plots build on the entries kept here.

use std::path::{Path, PathBuf};

use kiln_core::data::fingerprint::{FileFingerprint, fingerprint_file};
use kiln_core::jobs::{JobError, JobHandle, JobRunner};

use crate::ui::command::Command;
use crate::ui::context::PanelContext;

/// State of one opened file.
enum FileState {
    Reading(JobHandle<FileFingerprint>),
    Ready(FileFingerprint),
    Failed(String),
    Cancelled,
}

struct OpenedFile {
    path: PathBuf,
    state: FileState,
}

/// The Explore workspace's state.
#[derive(Default)]
pub struct ExplorePanel {
    files: Vec<OpenedFile>,
}

impl ExplorePanel {
    /// Handles a file the user opened (dialog, drop, recent list, command line).
    pub fn open_file(&mut self, path: &Path, jobs: &JobRunner) {
        let name = display_name(path);
        let job_path = path.to_path_buf();
        let handle = jobs.spawn(format!("Reading {name}"), move |ctx| {
            let fingerprint = fingerprint_file(&job_path, |done, total| {
                let fraction = if total == 0 {
                    1.0
                } else {
                    done as f32 / total as f32
                };
                ctx.progress(
                    fraction,
                    format!("{} of {}", human_bytes(done), human_bytes(total)),
                );
                !ctx.is_cancelled()
            })?;
            Ok::<_, JobError>(fingerprint)
        });
        self.files.retain(|f| f.path != path);
        self.files.insert(
            0,
            OpenedFile {
                path: path.to_path_buf(),
                state: FileState::Reading(handle),
            },
        );
    }

    /// Collects finished jobs; call once per frame.
    pub fn poll(&mut self) {
        for file in &mut self.files {
            if let FileState::Reading(handle) = &file.state
                && let Some(result) = handle.try_result()
            {
                file.state = match result {
                    Ok(fingerprint) => FileState::Ready(fingerprint),
                    Err(JobError::Cancelled) => FileState::Cancelled,
                    Err(JobError::Failed(message)) => FileState::Failed(message),
                };
            }
        }
    }

    /// Paths of the files open in this workspace, newest first.
    pub fn open_paths(&self) -> Vec<&Path> {
        self.files.iter().map(|f| f.path.as_path()).collect()
    }

    /// Draws the workspace.
    pub fn explore_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        ui.heading("Explore");
        ui.horizontal(|ui| {
            if ui.button("Open file…").on_hover_text("Ctrl+O").clicked() {
                cx.send(Command::OpenFileDialog);
            }
            ui.label(
                egui::RichText::new("or drop a CSV, Parquet, JSON or Arrow file onto the window")
                    .color(cx.tokens.muted),
            );
        });
        ui.add_space(cx.tokens.section_gap);
        if self.files.is_empty() {
            recent_files_ui(ui, cx);
        } else {
            self.files_ui(ui, cx);
        }
    }

    fn files_ui(&self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        ui.strong("Opened files");
        egui::Grid::new("opened-files")
            .striped(true)
            .num_columns(3)
            .show(ui, |ui| {
                for file in &self.files {
                    ui.label(display_name(&file.path))
                        .on_hover_text(file.path.display().to_string());
                    match &file.state {
                        FileState::Reading(handle) => {
                            let status = handle.status();
                            ui.add(
                                egui::ProgressBar::new(status.fraction.unwrap_or(0.0))
                                    .desired_width(160.0),
                            );
                            ui.label(status.message);
                        }
                        FileState::Ready(fp) => {
                            ui.label(human_bytes(fp.size));
                            ui.monospace(format!("sha256 {}", &fp.sha256));
                        }
                        FileState::Failed(message) => {
                            ui.label(egui::RichText::new("could not open").color(cx.tokens.bad));
                            ui.label(egui::RichText::new(message).color(cx.tokens.bad));
                        }
                        FileState::Cancelled => {
                            ui.label(egui::RichText::new("cancelled").color(cx.tokens.warn));
                            ui.label("");
                        }
                    }
                    ui.end_row();
                }
            });
        ui.add_space(cx.tokens.section_gap);
        ui.label(
            egui::RichText::new(
                "Not built yet: profiling (statistics, histograms, correlations, alerts), the data grid and plots.",
            )
            .color(cx.tokens.muted),
        );
    }
}

fn recent_files_ui(ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
    if cx.settings.recent_files.is_empty() {
        ui.label("No files opened yet.");
        return;
    }
    ui.horizontal(|ui| {
        ui.strong("Recent files");
        if ui.small_button("Clear").clicked() {
            cx.send(Command::ClearRecentFiles);
        }
    });
    for path in &cx.settings.recent_files {
        let label = path.display().to_string();
        if ui.link(label).clicked() {
            cx.commands.push(Command::OpenFile(path.clone()));
        }
    }
}

/// The file name of `path`, or the whole path when it has none.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `1.5 MB`-style sizes (decimal units, as file managers show them).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(2_345_678), "2.3 MB");
    }
}
