//! "Import from MLflow…": core's MLflow import (an `mlruns/` folder, an `mlflow.db`, a
//! tracking server) run as a background job with progress and cancel, and what it brought.
//!
//! The dialog only edits text and shows the last summary; opening the source and copying it
//! happen in the job, so a slow server or a large history never stalls a frame.

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::mlflow::import::{ImportSummary, OpenOptions, import_mlflow_job, open_source};
use kiln_core::store::Store;

use crate::ui::command::Command;
use crate::ui::context::PanelContext;

/// What a finished import brought: its summary lines and the items it could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The summary, line by line (the same as `kiln import mlflow` prints).
    pub lines: Vec<String>,
    /// Items left out, each with its reason.
    pub problems: Vec<String>,
}

/// The import dialog's state.
#[derive(Default)]
pub struct MlflowImport {
    open: bool,
    source: String,
    artifacts: String,
    job: Option<JobHandle<ImportSummary>>,
    /// The last import's summary lines (and the items it could not read), or why it failed.
    outcome: Option<Result<Imported, String>>,
}

impl MlflowImport {
    /// Shows the dialog.
    pub fn open(&mut self) {
        self.open = true;
    }

    /// Whether the dialog is showing.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Puts a chosen folder or file in the source field.
    pub fn set_source(&mut self, source: &std::path::Path) {
        self.source = source.display().to_string();
    }

    /// Whether an import is running.
    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// The last import's summary, when it finished (tests).
    pub fn outcome(&self) -> Option<&Result<Imported, String>> {
        self.outcome.as_ref()
    }

    /// Starts importing `source` into the store (one import at a time).
    pub fn start(&mut self, source: String, store: &Store, jobs: &JobRunner) {
        if self.job.is_some() {
            return;
        }
        let options = OpenOptions {
            artifacts: Some(self.artifacts.trim())
                .filter(|a| !a.is_empty())
                .map(std::path::PathBuf::from),
            token: std::env::var("MLFLOW_TRACKING_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
        };
        let store = store.clone();
        self.outcome = None;
        self.job = Some(jobs.spawn("Importing from MLflow", move |ctx| {
            ctx.progress(0.0, "opening the MLflow store");
            let source = open_source(source.trim(), &options).map_err(JobError::failed)?;
            import_mlflow_job(&store, source.as_ref(), ctx)
        }));
    }

    /// Collects a finished import; true when it wrote to the store (the runs are read again).
    pub fn poll(&mut self) -> bool {
        let Some(result) = JobHandle::take_finished(&mut self.job) else {
            return false;
        };
        self.outcome = Some(match result {
            Ok(summary) => Ok(Imported {
                lines: summary.lines(),
                problems: summary.problems.iter().map(ToString::to_string).collect(),
            }),
            Err(JobError::Cancelled) => {
                Err("cancelled; what was imported so far is kept".to_owned())
            }
            Err(JobError::Failed(message)) => Err(format!(
                "{message} (what was imported before is kept; import again to continue)"
            )),
        });
        true
    }

    /// The dialog: where from, then Import; the job's progress is in the status bar.
    /// Placed at the top middle of `area` (the workspace), over the runs table.
    pub fn dialog_ui(&mut self, ctx: &egui::Context, area: egui::Rect, cx: &mut PanelContext<'_>) {
        if !self.open {
            return;
        }
        let mut open = true;
        egui::Window::new("Import from MLflow")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .default_width(520.0)
            .pivot(egui::Align2::CENTER_TOP)
            .default_pos(area.center_top() + egui::vec2(0.0, 48.0))
            .show(ctx, |ui| self.form_ui(ui, cx));
        self.open &= open;
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        ui.label(
            "Copies experiments, runs (params, metric histories, tags, artifacts, datasets), \
             logged models and registered models with their versions, stages and aliases. \
             Importing again adds only what is new.",
        );
        ui.add_space(6.0);
        egui::Grid::new("mlflow-import-form")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label("From");
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut self.source)
                            .hint_text("mlruns/, mlflow.db or http://127.0.0.1:5000")
                            .desired_width(300.0),
                    )
                    .labelled_by(label.id);
                    if ui
                        .button("Folder…")
                        .on_hover_text("An mlruns/ folder")
                        .clicked()
                    {
                        cx.send(Command::PickMlflowSource { folder: true });
                    }
                    if ui.button("File…").on_hover_text("An mlflow.db").clicked() {
                        cx.send(Command::PickMlflowSource { folder: false });
                    }
                });
                ui.end_row();
                let label = ui.label("Artifact root");
                ui.add(
                    egui::TextEdit::singleline(&mut self.artifacts)
                        .hint_text("only for an mlflow.db whose artifacts moved")
                        .desired_width(300.0),
                )
                .labelled_by(label.id);
                ui.end_row();
            });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let ready = !self.source.trim().is_empty() && self.job.is_none() && cx.store.is_ok();
            if ui.add_enabled(ready, egui::Button::new("Import")).clicked() {
                cx.send(Command::ImportMlflow(self.source.trim().to_owned()));
            }
            if self.job.is_some() {
                ui.spinner();
                ui.label("importing (progress and Cancel in the status bar)");
            }
        });
        match &self.outcome {
            None => {}
            Some(Ok(Imported { lines, problems })) => {
                ui.separator();
                for line in lines {
                    // Monospace: the summary's counts are aligned in columns.
                    ui.label(egui::RichText::new(line).monospace());
                }
                for problem in problems {
                    ui.colored_label(cx.tokens.bad, format!("not imported: {problem}"));
                }
            }
            Some(Err(error)) => {
                ui.separator();
                ui.colored_label(cx.tokens.bad, error);
            }
        }
    }
}
