//! Experiments workspace: every run in the store, filtered with the run filter language, sorted
//! by any column; select runs to compare them.

mod compare;
mod detail;
mod table;

use std::collections::BTreeSet;
use std::sync::Arc;

use kiln_core::jobs::{JobError, JobHandle};
use kiln_core::runs_filter::{RunFilter, parse_run_filter, sort_runs};
use kiln_core::store::{RunDetail, RunQuery};

use crate::ui::context::PanelContext;

/// The Experiments workspace's state.
#[derive(Default)]
pub struct ExperimentsPanel {
    runs: Option<Arc<Vec<RunDetail>>>,
    loaded_at: Option<(u64, i64)>,
    loading: Option<JobHandle<Vec<RunDetail>>>,
    error: Option<String>,
    filter_text: String,
    filter: Option<RunFilter>,
    filter_error: Option<String>,
    sort: Option<String>,
    /// Rows shown: indices into `runs`, filtered and sorted.
    shown: Vec<usize>,
    selected: BTreeSet<String>,
    comparing: Option<compare::CompareView>,
    detail: Option<detail::DetailView>,
    columns: table::TableColumns,
}

impl ExperimentsPanel {
    /// Forgets the loaded runs so they are read again.
    pub fn invalidate(&mut self) {
        self.runs = None;
    }

    /// Collects finished jobs; call once per frame.
    pub fn poll(&mut self) {
        if let Some(handle) = &self.loading
            && let Some(result) = handle.try_result()
        {
            self.loading = None;
            match result {
                Ok(runs) => {
                    self.columns = table::TableColumns::of(&runs);
                    self.runs = Some(Arc::new(runs));
                    self.error = None;
                    self.refresh_shown();
                }
                Err(JobError::Cancelled) => {}
                Err(JobError::Failed(message)) => self.error = Some(message),
            }
        }
        if let Some(view) = &mut self.comparing {
            view.poll();
        }
        if let Some(view) = &mut self.detail {
            view.poll();
        }
    }

    /// Run ids currently selected.
    pub fn selected(&self) -> &BTreeSet<String> {
        &self.selected
    }

    /// Selects runs and opens the compare view (the Compare button does the same).
    pub fn compare_runs(
        &mut self,
        ids: Vec<String>,
        store: &kiln_core::store::Store,
        jobs: &kiln_core::jobs::JobRunner,
    ) {
        self.selected = ids.iter().cloned().collect();
        self.comparing = Some(compare::CompareView::start(store, ids, jobs));
    }

    /// Whether the compare view has its data.
    pub fn comparison_ready(&self) -> bool {
        self.comparing
            .as_ref()
            .is_some_and(compare::CompareView::ready)
    }

    /// Number of runs shown after filtering.
    pub fn shown_count(&self) -> usize {
        self.shown.len()
    }

    fn refresh_shown(&mut self) {
        let Some(runs) = &self.runs else { return };
        let mut order: Vec<RunDetail> = runs
            .iter()
            .filter(|r| self.filter.as_ref().is_none_or(|f| f.matches(r)))
            .cloned()
            .collect();
        if let Some(sort) = &self.sort {
            let _ = sort_runs(&mut order, sort);
        }
        let index: std::collections::HashMap<&str, usize> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.run.id.as_str(), i))
            .collect();
        self.shown = order
            .iter()
            .filter_map(|r| index.get(r.run.id.as_str()).copied())
            .collect();
    }

    /// Draws the workspace.
    pub fn experiments_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        let store = match cx.store {
            Ok(store) => store.clone(),
            Err(error) => {
                ui.heading("Experiments");
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
            let job_store = store.clone();
            self.loading = Some(cx.jobs.spawn("Loading runs", move |ctx| {
                ctx.message("reading the store");
                Ok(job_store.run_details(&RunQuery::default())?)
            }));
        }
        if let Some(view) = &mut self.detail {
            let mut close = false;
            view.detail_ui(ui, &store, cx, &mut close);
            if close {
                self.detail = None;
            }
            return;
        }
        if let Some(view) = &mut self.comparing {
            let mut close = false;
            view.compare_ui(ui, cx, &mut close);
            if close {
                self.comparing = None;
            }
            return;
        }
        ui.horizontal(|ui| {
            ui.heading("Experiments");
            if ui.button("Refresh").clicked() {
                self.runs = None;
                self.error = None;
            }
            let compare = ui.add_enabled(self.selected.len() >= 2, egui::Button::new("Compare"));
            if compare
                .on_hover_text("Select two or more runs with their check boxes")
                .clicked()
            {
                let ids: Vec<String> = self.selected.iter().cloned().collect();
                self.comparing = Some(compare::CompareView::start(&store, ids, cx.jobs));
            }
            if let Some(runs) = &self.runs {
                ui.label(format!(
                    "{} of {} runs · {} selected",
                    self.shown.len(),
                    runs.len(),
                    self.selected.len()
                ));
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Filter runs");
            let response = ui
                .add(
                    egui::TextEdit::singleline(&mut self.filter_text)
                        .hint_text("metrics.accuracy > 0.9 and (params.model = 'svm' or status = 'failed')")
                        .desired_width(520.0),
                )
                .labelled_by(label.id);
            let submitted = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if submitted || ui.button("Apply filter").clicked() {
                if self.filter_text.trim().is_empty() {
                    self.filter = None;
                    self.filter_error = None;
                } else {
                    match parse_run_filter(&self.filter_text) {
                        Ok(f) => {
                            self.filter = Some(f);
                            self.filter_error = None;
                        }
                        Err(e) => self.filter_error = Some(e.to_string()),
                    }
                }
                self.refresh_shown();
            }
        });
        if let Some(error) = &self.filter_error {
            ui.colored_label(cx.tokens.bad, format!("Filter: {error}"));
        }
        if let Some(error) = &self.error {
            ui.colored_label(cx.tokens.bad, error);
        }
        let Some(runs) = self.runs.clone() else {
            ui.spinner();
            return;
        };
        if runs.is_empty() {
            ui.label(
                "No runs yet. Train a model (Explore, Train tab, or kiln train) and it appears here.",
            );
            return;
        }
        let action = table::runs_table_ui(
            ui,
            &runs,
            &self.shown,
            &self.columns,
            &mut self.selected,
            self.sort.as_deref(),
            cx.tokens,
        );
        match action {
            Some(table::TableAction::Sort(sort)) => {
                self.sort = Some(sort);
                self.refresh_shown();
            }
            Some(table::TableAction::Open(run_id)) => {
                self.detail = Some(detail::DetailView::start(&store, run_id, cx.jobs));
            }
            None => {}
        }
    }
}
