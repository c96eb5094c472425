//! Experiments workspace: every run in the store, filtered with the run filter language, sorted
//! by any column; select runs to compare them.

mod charts;
mod compare;
mod detail;
pub mod import;
mod table;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::store::{RunDetail, RunQuery, Store};
use kiln_core::tracking::filter::{RunFilter, RunGroup, parse_run_filter, select_runs};

use crate::ui::command::{Command, RunEdit};
use crate::ui::context::PanelContext;

/// The Experiments workspace's state.
#[derive(Default)]
pub struct ExperimentsPanel {
    runs: Option<Arc<Vec<RunDetail>>>,
    /// The store's change token when the runs on screen were read.
    loaded_at: Option<(u64, i64)>,
    loading: Option<JobHandle<Loaded>>,
    /// The runs must be read again (Refresh, an edit made here, a new step summary).
    stale: bool,
    error: Option<String>,
    filter_text: String,
    filter: Option<RunFilter>,
    filter_error: Option<String>,
    sort: Option<String>,
    /// Rows shown: indices into `runs`, filtered and sorted (shared with jobs, never copied).
    shown: Arc<Vec<usize>>,
    /// The filter or sort changed: compute `shown` again before the next frame is drawn.
    reshow: bool,
    selected: BTreeSet<String>,
    comparing: Option<compare::CompareView>,
    detail: Option<detail::DetailView>,
    columns: table::TableColumns,
    charts: Option<charts::ChartsState>,
    group_by: String,
    compare_newest: bool,
    view_name: String,
    /// How step-series metrics are summarised (`min`, `max`, `mean`; empty for the last value).
    step_summary: String,
    groups: Option<Groups>,
    export: Option<JobHandle<std::path::PathBuf>>,
    /// What the last export, compare request or edit of the list told the user.
    notice: Option<Result<String, String>>,
    /// Store edits running as jobs: the run, what changes, the job.
    edits: Vec<(String, RunEdit, JobHandle<&'static str>)>,
    /// Bumped whenever the shown runs change (charts and groups recompute then).
    generation: u64,
    /// "Import from MLflow…".
    import: import::MlflowImport,
}

/// Most aggregate rows drawn.
const MAX_GROUP_ROWS: usize = 50;

/// Aggregate rows for (group key, runs generation).
type Groups = (String, u64, Result<Vec<RunGroup>, String>);

/// What the loading job hands over: the runs and everything computed from all of them.
struct Loaded {
    runs: Vec<RunDetail>,
    columns: table::TableColumns,
    shown: Vec<usize>,
}

/// Reads every run; applies the step-series summary; finds the columns and the shown order.
/// Runs as a job: at 10,000 runs this is the expensive part of opening the workspace.
fn load_runs(
    store: &Store,
    summary: &str,
    filter: Option<&RunFilter>,
    sort: Option<&str>,
) -> Result<Loaded, JobError> {
    let mut runs = store.run_details(&RunQuery::default())?;
    if !summary.is_empty() {
        // Series metrics show their chosen summary instead of the last value.
        let values = store.series_summaries(summary)?;
        let mut by_run: HashMap<&str, Vec<(&str, f64)>> = HashMap::new();
        for ((run, key), value) in &values {
            by_run
                .entry(run.as_str())
                .or_default()
                .push((key.as_str(), *value));
        }
        for run in &mut runs {
            if let Some(summaries) = by_run.get(run.run.id.as_str()) {
                for (key, value) in summaries {
                    if let Some(v) = run.metrics.get_mut(*key) {
                        *v = *value;
                    }
                }
            }
        }
    }
    let columns = table::TableColumns::of(&runs);
    // A sort the runs cannot take (an unknown key) shows them unsorted.
    let shown = select_runs(&runs, filter, sort)
        .or_else(|_| select_runs(&runs, filter, None))
        .map_err(JobError::Failed)?;
    Ok(Loaded {
        runs,
        columns,
        shown,
    })
}

/// A file-name-safe timestamp (UTC), from the store's clock format.
fn chrono_stamp() -> String {
    kiln_core::store::now_rfc3339()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(14)
        .collect()
}

impl ExperimentsPanel {
    /// Reads the runs again (the table stays on screen until they arrive).
    pub fn reload(&mut self) {
        self.stale = true;
        self.error = None;
    }

    /// Per-frame work that draws nothing: collects finished jobs, starts the runs loading
    /// when the workspace is `visible` and they are missing or the store changed, and
    /// recomputes the shown rows and groups when their inputs changed.
    pub fn poll(&mut self, store: Option<&Store>, jobs: &JobRunner, visible: bool) {
        if let Some(result) = JobHandle::take_finished(&mut self.loading) {
            match result {
                Ok(loaded) => {
                    let mut columns = loaded.columns;
                    columns.keep_choices(&self.columns);
                    self.columns = columns;
                    self.runs = Some(Arc::new(loaded.runs));
                    self.shown = Arc::new(loaded.shown);
                    self.error = None;
                    self.generation += 1;
                }
                Err(JobError::Cancelled) => {}
                Err(JobError::Failed(message)) => self.error = Some(message),
            }
        }
        self.poll_edits(store, jobs);
        if self.import.poll() {
            self.stale = true;
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
        if let Some(result) = JobHandle::take_finished(&mut self.export) {
            self.notice = Some(
                result
                    .map(|path| format!("exported to {}", path.display()))
                    .map_err(|e| e.to_string()),
            );
        }
        let Some(store) = store else { return };
        if visible {
            self.start_loading(store, jobs);
        }
        if self.reshow && self.loading.is_none() {
            self.reshow = false;
            self.refresh_shown();
        }
        self.refresh_groups();
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
                self.compare_runs(ids, store, jobs);
            }
        }
    }

    /// Starts reading the runs when there are none yet, the user asked, or anything (a
    /// training job, another process, an edit) wrote to the store since they were read.
    fn start_loading(&mut self, store: &Store, jobs: &JobRunner) {
        if self.loading.is_some() {
            return;
        }
        let token = store.change_token();
        let changed = self.loaded_at.is_some_and(|t| t != token);
        let first = self.runs.is_none() && self.error.is_none();
        if !(first || changed || self.stale) {
            return;
        }
        self.stale = false;
        self.loaded_at = Some(token);
        // The job sorts and filters too, so the first frame with runs has them in order.
        self.reshow = false;
        let (store, summary) = (store.clone(), self.step_summary.clone());
        let (filter, sort) = (self.filter.clone(), self.sort.clone());
        self.loading = Some(jobs.spawn("Loading runs", move |ctx| {
            ctx.message("reading the store");
            load_runs(&store, &summary, filter.as_ref(), sort.as_deref())
        }));
    }

    /// Hands over a store edit started by the app's command handling (see
    /// [`Command::EditRun`]); the panel shows how it ended and reloads.
    pub fn watch_edit(&mut self, run_id: String, edit: RunEdit, job: JobHandle<&'static str>) {
        if let Some(view) = &mut self.detail
            && view.run_id() == run_id
        {
            view.edit_started();
        }
        self.edits.push((run_id, edit, job));
    }

    fn poll_edits(&mut self, store: Option<&Store>, jobs: &JobRunner) {
        let mut i = 0;
        while i < self.edits.len() {
            let Some(result) = self.edits[i].2.try_result() else {
                i += 1;
                continue;
            };
            let (run_id, edit, _) = self.edits.remove(i);
            let result = result.map_err(|e| e.to_string());
            if result.is_ok() {
                // Reload explicitly: do not depend on the store noticing its own write.
                self.stale = true;
            }
            if let Some(view) = &mut self.detail
                && view.run_id() == run_id
            {
                view.edit_finished(&edit, result, store, jobs);
            } else if let Err(message) = result {
                self.notice = Some(Err(message));
            }
        }
    }

    /// Shows one run in full (its detail view), as a click on its row's open button does.
    pub fn open_run(&mut self, store: &Store, run_id: String, jobs: &JobRunner) {
        self.detail = Some(detail::DetailView::start(store, run_id, jobs));
    }

    /// How the last "Import from MLflow…" ended: its summary lines and what it could not
    /// read, or why it failed (tests).
    pub fn import_outcome(&self) -> Option<&Result<import::Imported, String>> {
        self.import.outcome()
    }

    /// Whether the "Import from MLflow" dialog is showing (tests).
    pub fn import_open(&self) -> bool {
        self.import.is_open()
    }

    /// "Import from MLflow…": the dialog and its job.
    pub fn mlflow_import(&mut self) -> &mut import::MlflowImport {
        &mut self.import
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

    /// Switches between the table and the charts.
    pub fn toggle_charts(&mut self) {
        if self.charts.is_some() {
            self.charts = None;
        } else {
            self.show_charts();
        }
    }

    /// Selects runs and opens the compare view (the Compare button does the same).
    pub fn compare_runs(&mut self, ids: Vec<String>, store: &Store, jobs: &JobRunner) {
        self.selected = ids.iter().cloned().collect();
        self.detail = None;
        self.comparing = Some(compare::CompareView::start(
            store,
            ids,
            (!self.group_by.is_empty()).then(|| self.group_by.clone()),
            jobs,
        ));
    }

    /// Compares the runs ticked in the table, or says why it cannot.
    pub fn compare_selected(&mut self, store: &Store, jobs: &JobRunner) {
        if self.selected.len() < 2 {
            self.notice = Some(Err(
                "Select two or more runs with their check boxes to compare them".to_owned(),
            ));
            return;
        }
        self.notice = None;
        let ids: Vec<String> = self.selected.iter().cloned().collect();
        self.compare_runs(ids, store, jobs);
    }

    /// Writes the shown runs, in their shown order, to a CSV file in the store, as a job.
    pub fn export_shown(&mut self, store: &Store, jobs: &JobRunner) {
        let Some(runs) = &self.runs else {
            self.notice = Some(Err("The runs are still loading".to_owned()));
            return;
        };
        if self.export.is_some() {
            return;
        }
        // The job gets the shared runs and the shown order: no copies on the UI thread.
        let (runs, order) = (Arc::clone(runs), Arc::clone(&self.shown));
        let dir = store.home().join("exports");
        self.export = Some(jobs.spawn("Exporting runs", move |_| {
            std::fs::create_dir_all(&dir).map_err(JobError::failed)?;
            let path = dir.join(format!("runs-{}.csv", chrono_stamp()));
            let rows: Vec<&RunDetail> = order.iter().map(|&i| &runs[i]).collect();
            std::fs::write(&path, kiln_core::tracking::export::runs_csv(&rows))
                .map_err(JobError::failed)?;
            Ok(path)
        }));
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

    /// Filters and sorts again (in `poll`, not while drawing).
    fn refresh_shown(&mut self) {
        let Some(runs) = &self.runs else { return };
        // Indices only: filtering and sorting 10,000 runs copies none of them.
        if let Ok(rows) = select_runs(runs, self.filter.as_ref(), self.sort.as_deref()) {
            self.shown = Arc::new(rows);
        }
        self.generation += 1;
    }

    /// Aggregates the shown runs by the chosen key when the key or the runs changed.
    fn refresh_groups(&mut self) {
        if self.group_by.is_empty() {
            self.groups = None;
            return;
        }
        let Some(runs) = &self.runs else { return };
        let stale = self.groups.as_ref().is_none_or(|(key, generation, _)| {
            *key != self.group_by || *generation != self.generation
        });
        if stale {
            let shown: Vec<&RunDetail> = self.shown.iter().map(|&i| &runs[i]).collect();
            let groups = kiln_core::tracking::filter::group_runs(&shown, &self.group_by);
            self.groups = Some((self.group_by.clone(), self.generation, groups));
        }
    }

    /// Draws the workspace.
    pub fn experiments_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        if let Err(error) = cx.store {
            ui.heading("Experiments");
            ui.colored_label(
                cx.tokens.bad,
                format!("The store could not be opened: {error}"),
            );
            return;
        }
        if let Some(view) = &mut self.detail {
            let mut close = false;
            view.detail_ui(ui, cx, &mut close);
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
                cx.send(Command::ReloadRuns);
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
                // The panel's own view, not global state: switched at once, so the charting
                // job starts this frame (the palette's ToggleRunCharts calls the same method).
                self.toggle_charts();
            }
            let compare = ui.add_enabled(self.selected.len() >= 2, egui::Button::new("Compare"));
            if compare
                .on_hover_text("Select two or more runs with their check boxes")
                .clicked()
            {
                cx.send(Command::CompareSelectedRuns);
            }
            if let Some(runs) = &self.runs {
                let export = ui.add_enabled(self.export.is_none(), egui::Button::new("Export CSV"));
                if export
                    .on_hover_text(
                        "Write the shown runs, in this order, to a CSV file in the store",
                    )
                    .clicked()
                {
                    cx.send(Command::ExportRuns);
                }
                ui.label(format!(
                    "{} of {} runs · {} selected",
                    self.shown.len(),
                    runs.len(),
                    self.selected.len()
                ));
            }
            if ui
                .add_enabled(
                    !self.import.running(),
                    egui::Button::new("Import from MLflow…"),
                )
                .on_hover_text(
                    "Copy an mlruns/ folder, an mlflow.db or a tracking server's runs and models",
                )
                .clicked()
            {
                cx.send(Command::OpenMlflowImport);
            }
            if self.loading.is_some() && self.runs.is_some() {
                ui.spinner().on_hover_text("Reading the runs again");
            }
        });
        self.import.dialog_ui(ui.ctx(), ui.max_rect(), cx);
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
                self.reshow = true;
                ui.ctx().request_repaint();
            }
        });
        match &self.notice {
            Some(Ok(m)) => {
                ui.colored_label(cx.tokens.good, m);
            }
            Some(Err(m)) => {
                ui.colored_label(cx.tokens.bad, m);
            }
            None => {}
        }
        self.views_ui(ui, cx);
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
            let metrics = self.columns.metrics();
            if let Some(charts) = &mut self.charts
                && let Some(ids) =
                    charts.charts_ui(ui, &runs, &self.shown, self.generation, metrics, cx)
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
                self.reshow = true;
                ui.ctx().request_repaint();
            }
            Some(table::TableAction::Open(run_id)) => {
                if let Ok(store) = cx.store {
                    self.detail = Some(detail::DetailView::start(store, run_id, cx.jobs));
                }
            }
            None => {}
        }
    }

    /// The group-by chooser and, when a key is chosen, one aggregate row per group.
    fn group_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        if self.runs.is_none() {
            return;
        }
        let before = self.group_by.clone();
        ui.horizontal(|ui| {
            ui.label("Group by");
            egui::ComboBox::new("group-by", "aggregate rows")
                .selected_text(if self.group_by.is_empty() {
                    "(none)"
                } else {
                    self.group_by.as_str()
                })
                .show_ui(ui, |ui| {
                    let fixed = ["", "model", "status", "experiment"].map(str::to_owned);
                    let params = self.columns.params().iter().map(|p| format!("params.{p}"));
                    for k in fixed.into_iter().chain(params) {
                        let label = if k.is_empty() {
                            "(none)".to_owned()
                        } else {
                            k.clone()
                        };
                        ui.selectable_value(&mut self.group_by, k, label);
                    }
                });
        });
        if self.group_by != before {
            // The groups are computed in `poll`, before the next frame.
            ui.ctx().request_repaint();
        }
        if self.group_by.is_empty() {
            return;
        }
        let metrics: Vec<String> = self.columns.metrics().iter().take(4).cloned().collect();
        let current = self
            .groups
            .as_ref()
            .filter(|(key, _, _)| *key == self.group_by);
        match current.map(|(_, _, g)| g) {
            Some(Ok(groups)) => {
                egui::Grid::new("run-groups").striped(true).show(ui, |ui| {
                    ui.strong(self.group_by.as_str());
                    ui.strong("runs");
                    for m in &metrics {
                        ui.strong(format!("{m} (mean ± std)"));
                    }
                    ui.end_row();
                    // Grouping by a key every run has its own value of would list every run.
                    for g in groups.iter().take(MAX_GROUP_ROWS) {
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
        if let Some((_, _, Ok(groups))) = current
            && groups.len() > MAX_GROUP_ROWS
        {
            ui.weak(format!(
                "… and {} more groups",
                groups.len() - MAX_GROUP_ROWS
            ));
        }
    }

    /// Saved views (filter, sort, grouping) and the summary shown for step-series metrics.
    fn views_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
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
                self.reshow = true;
                ui.ctx().request_repaint();
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
                cx.send(Command::SaveRunsView(crate::ui::settings::SavedView {
                    name: self.view_name.trim().to_owned(),
                    filter: self.filter_text.clone(),
                    sort: self.sort.clone().unwrap_or_default(),
                    group_by: self.group_by.clone(),
                }));
            }
            if cx
                .settings
                .saved_views
                .iter()
                .any(|v| v.name == self.view_name.trim())
                && ui.button("Delete view").clicked()
            {
                cx.send(Command::DeleteRunsView(self.view_name.trim().to_owned()));
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
                // The runs are read again with the summary applied (the stored scalar is the
                // last value).
                self.step_summary = if wanted == "last" {
                    String::new()
                } else {
                    wanted
                };
                self.reload();
                ui.ctx().request_repaint();
            }
        });
    }
}
