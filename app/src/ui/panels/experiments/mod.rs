//! Experiments workspace: every run in the store, filtered with the run filter language, sorted
//! by any column; select runs to compare them.

mod charts;
mod compare;
mod detail;
mod table;

use std::collections::BTreeSet;
use std::sync::Arc;

use kiln_core::jobs::{JobError, JobHandle};
use kiln_core::runs_filter::{RunFilter, parse_run_filter, select_runs};
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
    charts: Option<charts::ChartsState>,
    group_by: String,
    compare_newest: bool,
    view_name: String,
    step_summary: String,
    summaries: Option<(String, JobHandle<SeriesSummaries>)>,
    groups: Option<(
        String,
        u64,
        Result<Vec<kiln_core::runs_filter::RunGroup>, String>,
    )>,
    export: Option<JobHandle<std::path::PathBuf>>,
    export_message: Option<Result<String, String>>,
    /// Bumped whenever the shown runs change (charts recompute then).
    generation: u64,
}

/// Per (run, series) summary values loaded for the step-metric chooser.
type SeriesSummaries = std::collections::HashMap<(String, String), f64>;

/// A file-name-safe timestamp (UTC), from the store's clock format.
fn chrono_stamp() -> String {
    kiln_core::store::now_rfc3339()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(14)
        .collect()
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
                    let mut columns = table::TableColumns::of(&runs);
                    columns.keep_choices(&self.columns);
                    self.columns = columns;
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
        if let Some(charts) = &mut self.charts {
            charts.poll();
        }
        if let Some((how, job)) = &self.summaries
            && let Some(result) = job.try_result()
        {
            let how = how.clone();
            self.summaries = None;
            if let (Ok(values), Some(runs)) = (result, &self.runs) {
                // Series metrics show their chosen summary instead of the last value.
                let mut runs = runs.as_ref().clone();
                for run in &mut runs {
                    for (key, value) in run.metrics.iter_mut() {
                        if let Some(v) = values.get(&(run.run.id.clone(), key.clone())) {
                            *value = *v;
                        }
                    }
                }
                self.runs = Some(Arc::new(runs));
                self.step_summary = how;
                self.refresh_shown();
            }
        }
        if let Some(result) = JobHandle::take_finished(&mut self.export) {
            self.export_message = Some(
                result
                    .map(|path| format!("exported to {}", path.display()))
                    .map_err(|e| e.to_string()),
            );
        }
    }

    /// Run ids currently selected.
    pub fn selected(&self) -> &BTreeSet<String> {
        &self.selected
    }

    /// Compares the newest runs (up to four) as soon as the runs are loaded (for screenshots).
    pub fn compare_newest_when_loaded(&mut self) {
        self.compare_newest = true;
    }

    /// Shows the charts view (parallel coordinates and parameter importance).
    pub fn show_charts(&mut self) {
        self.charts = Some(charts::ChartsState::new(
            self.columns.first_metric().unwrap_or_default(),
        ));
    }

    /// Selects runs and opens the compare view (the Compare button does the same).
    pub fn compare_runs(
        &mut self,
        ids: Vec<String>,
        store: &kiln_core::store::Store,
        jobs: &kiln_core::jobs::JobRunner,
    ) {
        self.selected = ids.iter().cloned().collect();
        self.comparing = Some(compare::CompareView::start(
            store,
            ids,
            (!self.group_by.is_empty()).then(|| self.group_by.clone()),
            jobs,
        ));
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
        // Indices only: filtering and sorting 10,000 runs copies none of them.
        if let Ok(rows) = select_runs(runs, self.filter.as_ref(), self.sort.as_deref()) {
            self.shown = rows;
        }
        self.generation += 1;
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
        if self.compare_newest
            && let Some(runs) = &self.runs
        {
            self.compare_newest = false;
            let ids: Vec<String> = runs
                .iter()
                .filter(|r| r.tags.get("kind").is_none_or(|k| k != "sweep"))
                .take(4)
                .map(|r| r.run.id.clone())
                .collect();
            if ids.len() >= 2 {
                self.compare_runs(ids, &store, cx.jobs);
            }
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
            self.columns.chooser_ui(ui);
            let charts_label = if self.charts.is_some() {
                "Table"
            } else {
                "Charts"
            };
            if ui
                .button(charts_label)
                .on_hover_text("Parallel coordinates and parameter importance of the shown runs")
                .clicked()
            {
                if self.charts.is_some() {
                    self.charts = None;
                } else {
                    self.show_charts();
                }
            }
            let compare = ui.add_enabled(self.selected.len() >= 2, egui::Button::new("Compare"));
            if compare
                .on_hover_text("Select two or more runs with their check boxes")
                .clicked()
            {
                let ids: Vec<String> = self.selected.iter().cloned().collect();
                self.comparing = Some(compare::CompareView::start(
                    &store,
                    ids,
                    (!self.group_by.is_empty()).then(|| self.group_by.clone()),
                    cx.jobs,
                ));
            }
            if let Some(runs) = &self.runs {
                let export = ui.add_enabled(self.export.is_none(), egui::Button::new("Export CSV"));
                if export
                    .on_hover_text(
                        "Write the shown runs, in this order, to a CSV file in the store",
                    )
                    .clicked()
                {
                    // The job gets the shared runs and the shown order: no copies on the UI thread.
                    let (runs, order) = (Arc::clone(runs), self.shown.clone());
                    let dir = store.home().join("exports");
                    self.export = Some(cx.jobs.spawn("Exporting runs", move |_| {
                        std::fs::create_dir_all(&dir).map_err(JobError::failed)?;
                        let path = dir.join(format!("runs-{}.csv", chrono_stamp()));
                        let rows: Vec<&RunDetail> = order.iter().map(|&i| &runs[i]).collect();
                        std::fs::write(&path, kiln_core::export::runs_csv(&rows))
                            .map_err(JobError::failed)?;
                        Ok(path)
                    }));
                }
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
        match &self.export_message {
            Some(Ok(m)) => {
                ui.colored_label(cx.tokens.good, m);
            }
            Some(Err(m)) => {
                ui.colored_label(cx.tokens.bad, m);
            }
            None => {}
        }
        self.views_ui(ui, cx, &store);
        self.group_ui(ui, cx);
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
        if self.charts.is_some() {
            let metrics = self.columns.metrics().to_vec();
            if let Some(charts) = &mut self.charts
                && let Some(ids) =
                    charts.charts_ui(ui, &runs, &self.shown, self.generation, &metrics, cx)
            {
                self.selected = ids.into_iter().collect();
            }
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

    /// The group-by chooser and, when a key is chosen, one aggregate row per group.
    fn group_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        let Some(runs) = self.runs.clone() else {
            return;
        };
        let mut keys = vec![
            String::new(),
            "model".to_owned(),
            "status".to_owned(),
            "experiment".to_owned(),
        ];
        keys.extend(self.columns.params().iter().map(|p| format!("params.{p}")));
        ui.horizontal(|ui| {
            ui.label("Group by");
            egui::ComboBox::new("group-by", "aggregate rows")
                .selected_text(if self.group_by.is_empty() {
                    "(none)".to_owned()
                } else {
                    self.group_by.clone()
                })
                .show_ui(ui, |ui| {
                    for k in &keys {
                        let label = if k.is_empty() { "(none)" } else { k.as_str() };
                        ui.selectable_value(&mut self.group_by, k.clone(), label);
                    }
                });
        });
        if self.group_by.is_empty() {
            self.groups = None;
            return;
        }
        let stale = self.groups.as_ref().is_none_or(|(key, generation, _)| {
            *key != self.group_by || *generation != self.generation
        });
        if stale {
            let shown: Vec<&RunDetail> = self.shown.iter().map(|&i| &runs[i]).collect();
            let groups = kiln_core::runs_filter::group_runs(&shown, &self.group_by);
            self.groups = Some((self.group_by.clone(), self.generation, groups));
        }
        let metrics: Vec<String> = self.columns.metrics().iter().take(4).cloned().collect();
        match self.groups.as_ref().map(|(_, _, g)| g) {
            Some(Ok(groups)) => {
                egui::Grid::new("run-groups").striped(true).show(ui, |ui| {
                    ui.strong(self.group_by.as_str());
                    ui.strong("runs");
                    for m in &metrics {
                        ui.strong(format!("{m} (mean ± std)"));
                    }
                    ui.end_row();
                    for g in groups {
                        ui.label(&g.value);
                        ui.label(g.runs.to_string());
                        for m in &metrics {
                            ui.monospace(g.metrics.get(m).map_or(String::new(), |a| {
                                format!("{:.4} ± {:.4}", a.mean, a.std)
                            }));
                        }
                        ui.end_row();
                    }
                });
            }
            Some(Err(e)) => {
                ui.colored_label(cx.tokens.bad, e);
            }
            None => {}
        }
    }

    /// Saved views (filter, sort, grouping) and the summary shown for step-series metrics.
    fn views_ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut PanelContext<'_>,
        store: &kiln_core::store::Store,
    ) {
        ui.horizontal(|ui| {
            let mut chosen = None;
            egui::ComboBox::new("saved-views", "saved views")
                .selected_text("(choose)")
                .show_ui(ui, |ui| {
                    for view in &cx.settings.saved_views {
                        if ui.selectable_label(false, &view.name).clicked() {
                            chosen = Some(view.clone());
                        }
                    }
                });
            if let Some(view) = chosen {
                self.filter_text = view.filter.clone();
                self.filter = if view.filter.trim().is_empty() {
                    None
                } else {
                    parse_run_filter(&view.filter).ok()
                };
                self.filter_error = None;
                self.sort = (!view.sort.is_empty()).then(|| view.sort.clone());
                self.group_by = view.group_by.clone();
                self.view_name = view.name.clone();
                self.refresh_shown();
            }
            let l = ui.label("name");
            ui.add(egui::TextEdit::singleline(&mut self.view_name).desired_width(120.0))
                .labelled_by(l.id);
            if ui
                .add_enabled(
                    !self.view_name.trim().is_empty(),
                    egui::Button::new("Save view"),
                )
                .clicked()
            {
                cx.send(crate::ui::command::Command::SaveRunsView(
                    crate::ui::settings::SavedView {
                        name: self.view_name.trim().to_owned(),
                        filter: self.filter_text.clone(),
                        sort: self.sort.clone().unwrap_or_default(),
                        group_by: self.group_by.clone(),
                    },
                ));
            }
            if cx
                .settings
                .saved_views
                .iter()
                .any(|v| v.name == self.view_name.trim())
                && ui.button("Delete view").clicked()
            {
                cx.send(crate::ui::command::Command::DeleteRunsView(
                    self.view_name.trim().to_owned(),
                ));
            }
            ui.separator();
            let current = if self.step_summary.is_empty() {
                "last".to_owned()
            } else {
                self.step_summary.clone()
            };
            let mut wanted = current.clone();
            egui::ComboBox::new("step-summary", "step metrics")
                .selected_text(wanted.clone())
                .show_ui(ui, |ui| {
                    for how in ["last", "min", "max", "mean"] {
                        ui.selectable_value(&mut wanted, how.to_owned(), how);
                    }
                });
            if wanted != current {
                if wanted == "last" {
                    // The stored scalar is the last value: reload.
                    self.step_summary.clear();
                    self.runs = None;
                } else {
                    let (job_store, how) = (store.clone(), wanted.clone());
                    let job = cx
                        .jobs
                        .spawn(format!("Summarising step metrics ({how})"), move |_| {
                            Ok(job_store.series_summaries(&how)?)
                        });
                    self.summaries = Some((wanted, job));
                }
            }
        });
    }
}
