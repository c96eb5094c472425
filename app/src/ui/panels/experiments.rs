//! Experiments workspace: the runs in the store (comparison views build on this list).

use kiln_core::jobs::{JobError, JobHandle};
use kiln_core::store::{RunDetail, RunQuery, RunStatus};

use crate::ui::context::PanelContext;
use crate::ui::theme::Tokens;

/// The Experiments workspace's state.
#[derive(Default)]
pub struct ExperimentsPanel {
    runs: Option<Vec<RunDetail>>,
    /// Store change token the shown runs were read at.
    loaded_at: Option<(u64, i64)>,
    loading: Option<JobHandle<Vec<RunDetail>>>,
    error: Option<String>,
}

impl ExperimentsPanel {
    /// Forgets the loaded runs so they are read again (after training, say).
    pub fn invalidate(&mut self) {
        self.runs = None;
    }

    /// Collects a finished load; call once per frame.
    pub fn poll(&mut self) {
        if let Some(handle) = &self.loading
            && let Some(result) = handle.try_result()
        {
            self.loading = None;
            match result {
                Ok(runs) => {
                    self.runs = Some(runs);
                    self.error = None;
                }
                Err(JobError::Cancelled) => {}
                Err(JobError::Failed(message)) => self.error = Some(message),
            }
        }
    }

    /// Draws the workspace.
    pub fn experiments_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        ui.heading("Experiments");
        let store = match cx.store {
            Ok(store) => store.clone(),
            Err(error) => {
                ui.colored_label(
                    cx.tokens.bad,
                    format!("The store could not be opened: {error}"),
                );
                return;
            }
        };
        // Reload when anything (a training job, another process) wrote to the store.
        let token = store.change_token();
        if self.loading.is_none() && self.loaded_at.is_some_and(|t| t != token) {
            self.runs = None;
        }
        if self.runs.is_none() && self.loading.is_none() && self.error.is_none() {
            self.loaded_at = Some(token);
            self.loading = Some(cx.jobs.spawn("Loading runs", move |ctx| {
                ctx.message("reading the store");
                Ok(store.run_details(&RunQuery::default())?)
            }));
        }
        ui.horizontal(|ui| {
            if ui.button("Refresh").clicked() {
                self.runs = None;
                self.error = None;
            }
            if let Some(runs) = &self.runs {
                ui.label(format!("{} runs", runs.len()));
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(cx.tokens.bad, error);
        }
        match &self.runs {
            None => {
                ui.spinner();
            }
            Some(runs) if runs.is_empty() => {
                ui.label("No runs yet. Runs appear here as soon as training starts.");
            }
            Some(runs) => runs_table_ui(ui, runs, cx.tokens),
        }
        ui.add_space(cx.tokens.section_gap);
        ui.label(
            egui::RichText::new(
                "Not built yet: filters, grouping, and comparison charts (metrics, curves, parallel coordinates).",
            )
            .color(cx.tokens.muted),
        );
    }
}

fn status_color(status: RunStatus, tokens: &Tokens) -> egui::Color32 {
    match status {
        RunStatus::Running => tokens.warn,
        RunStatus::Finished => tokens.good,
        RunStatus::Failed => tokens.bad,
        RunStatus::Killed => tokens.muted,
    }
}

/// The headline metric of a run: accuracy for classifiers, R² for regressors.
fn headline(detail: &RunDetail) -> String {
    ["accuracy", "r2"]
        .iter()
        .find_map(|m| detail.metrics.get(*m).map(|v| format!("{m} {v:.4}")))
        .unwrap_or_default()
}

fn runs_table_ui(ui: &mut egui::Ui, runs: &[RunDetail], tokens: &Tokens) {
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    let titles = [
        "Run",
        "Experiment",
        "Model",
        "Status",
        "Started",
        "Duration",
        "Metric",
    ];
    let widths = [130.0, 110.0, 150.0, 70.0, 190.0, 70.0, 140.0];
    ui.horizontal(|ui| {
        for (title, width) in titles.iter().zip(widths) {
            ui.add_sized(
                [width, row_height],
                egui::Label::new(egui::RichText::new(*title).strong()),
            );
        }
    });
    egui::ScrollArea::vertical()
        .auto_shrink([false, true])
        .max_height(ui.available_height() - 40.0)
        .show_rows(ui, row_height, runs.len(), |ui, range| {
            for detail in &runs[range] {
                let run = &detail.run;
                ui.horizontal(|ui| {
                    let duration = run
                        .duration_s()
                        .map(|s| format!("{s:.1} s"))
                        .unwrap_or_else(|| "—".into());
                    let cells = [
                        egui::RichText::new(&run.name),
                        egui::RichText::new(&run.experiment),
                        egui::RichText::new(detail.params.get("model").map_or("", String::as_str)),
                        egui::RichText::new(run.status.as_str())
                            .color(status_color(run.status, tokens)),
                        egui::RichText::new(&run.start_time),
                        egui::RichText::new(duration),
                        egui::RichText::new(headline(detail)),
                    ];
                    for (cell, width) in cells.into_iter().zip(widths) {
                        ui.add_sized([width, row_height], egui::Label::new(cell).truncate());
                    }
                });
            }
        });
}
