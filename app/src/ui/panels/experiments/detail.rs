//! One run in full: everything logged to it, its artifacts and lineage, the model versions
//! registered from it (each a link to the Registry workspace), and the edits a user
//! makes afterwards (name, note, tags, soft delete and restore), sent as commands that the app
//! runs as jobs.

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::store::{DatasetVersion, ModelVersion, Run, RunDetail, RunQuery, Store};

use crate::ui::command::{Command, RunEdit};
use crate::ui::context::PanelContext;
use crate::ui::widgets;

/// What the detail view shows, loaded as one job.
pub struct DetailData {
    detail: RunDetail,
    dataset: Option<DatasetVersion>,
    children: Vec<Run>,
    /// The versions registered from this run, by model then version.
    versions: Vec<ModelVersion>,
}

/// The detail view's state.
pub struct DetailView {
    run_id: String,
    job: Option<JobHandle<DetailData>>,
    data: Option<Result<DetailData, String>>,
    name: String,
    note: String,
    tag: String,
    message: Option<Result<String, String>>,
    /// An edit was sent and has not finished: its buttons wait.
    editing: bool,
}

fn load(store: &Store, run_id: &str) -> Result<DetailData, JobError> {
    let detail = store.run_detail(run_id)?;
    let dataset = detail
        .run
        .dataset_version_id
        .and_then(|id| store.dataset_version(id).ok());
    let all = RunQuery {
        include_deleted: true,
        ..RunQuery::default()
    };
    let children = store
        .runs(&all)?
        .into_iter()
        .filter(|r| r.parent_run_id.as_deref() == Some(run_id))
        .collect();
    let versions = store.versions_of_run(run_id)?;
    Ok(DetailData {
        detail,
        dataset,
        children,
        versions,
    })
}

impl DetailView {
    /// Starts loading run `run_id`.
    pub fn start(store: &Store, run_id: String, jobs: &JobRunner) -> Self {
        let (job_store, id) = (store.clone(), run_id.clone());
        Self {
            run_id,
            job: Some(jobs.spawn("Loading the run", move |_| load(&job_store, &id))),
            data: None,
            name: String::new(),
            note: String::new(),
            tag: String::new(),
            message: None,
            editing: false,
        }
    }

    /// The run shown.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// An edit of this run was started.
    pub fn edit_started(&mut self) {
        self.editing = true;
        self.message = None;
    }

    /// An edit of this run ended: says how, shows the change at once and reads the run again.
    pub fn edit_finished(
        &mut self,
        edit: &RunEdit,
        result: Result<&'static str, String>,
        store: Option<&Store>,
        jobs: &JobRunner,
    ) {
        self.editing = false;
        if result.is_ok()
            && let Some(Ok(data)) = &mut self.data
        {
            let detail = &mut data.detail;
            match edit {
                RunEdit::Rename(name) => detail.run.name.clone_from(name),
                RunEdit::Note(note) => detail.run.note.clone_from(note),
                RunEdit::Tag { key, value } => {
                    detail.tags.insert(key.clone(), value.clone());
                }
                RunEdit::Delete => detail.run.deleted_at = Some(kiln_core::store::now_rfc3339()),
                RunEdit::Restore => detail.run.deleted_at = None,
            }
            if matches!(edit, RunEdit::Tag { .. }) {
                self.tag.clear();
            }
        }
        self.message = Some(result.map(str::to_owned));
        if let Some(store) = store {
            self.reload(store, jobs);
        }
    }

    /// Collects the finished job.
    pub fn poll(&mut self) {
        if let Some(result) = JobHandle::take_finished(&mut self.job) {
            // A reload after an edit keeps what the user is typing.
            if let Ok(data) = &result
                && !matches!(self.data, Some(Ok(_)))
            {
                self.name = data.detail.run.name.clone();
                self.note = data.detail.run.note.clone();
            }
            self.data = Some(result.map_err(|e| e.to_string()));
        }
    }

    fn reload(&mut self, store: &Store, jobs: &JobRunner) {
        self.job = Some({
            let (job_store, id) = (store.clone(), self.run_id.clone());
            jobs.spawn("Loading the run", move |_| load(&job_store, &id))
        });
    }

    /// Draws the run; sets `close` when the user goes back.
    /// Edits are sent as [`Command::EditRun`]; the app runs them as jobs.
    pub fn detail_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>, close: &mut bool) {
        widgets::back_heading(ui, "Run", close);
        let Some(data) = widgets::job_result(ui, self.data.as_ref(), cx.tokens.bad) else {
            return;
        };
        let detail = &data.detail;
        let run = &detail.run;
        let mut edit: Option<RunEdit> = None;
        egui::ScrollArea::vertical()
            .id_salt("run-detail")
            .show(ui, |ui| {
                egui::Grid::new("run-facts")
                    .striped(true)
                    .num_columns(2)
                    .show(ui, |ui| {
                        let mut fact = |name: &str, value: String| {
                            ui.label(name);
                            ui.monospace(value);
                            ui.end_row();
                        };
                        fact("run id", run.id.clone());
                        fact("experiment", run.experiment.clone());
                        fact("status", run.status.to_string());
                        fact("started", run.start_time.clone());
                        fact(
                            "duration",
                            run.duration_s().map_or("—".into(), |d| format!("{d:.3} s")),
                        );
                        fact("seed", run.seed.map_or("—".into(), |s| s.to_string()));
                        fact(
                            "dataset",
                            data.dataset.as_ref().map_or("—".into(), |d| {
                                format!("{} version {} ({} rows)", d.dataset, d.version, d.rows)
                            }),
                        );
                        fact(
                            "data sha256",
                            run.dataset_fingerprint
                                .clone()
                                .unwrap_or_else(|| "—".into()),
                        );
                        fact(
                            "sweep (parent run)",
                            run.parent_run_id.clone().unwrap_or_else(|| "—".into()),
                        );
                        fact(
                            "git commit",
                            run.git_commit.clone().unwrap_or_else(|| "—".into()),
                        );
                        fact("Kiln version", run.kiln_version.clone());
                        if let Some(error) = &run.error {
                            fact("error", error.clone());
                        }
                        if run.deleted_at.is_some() {
                            fact("deleted", run.deleted_at.clone().unwrap_or_default());
                        }
                    });
                ui.add_space(cx.tokens.section_gap);
                registered_versions_ui(ui, &data.versions, cx);
                for (title, map) in [("Parameters", &detail.params), ("Tags", &detail.tags)] {
                    if map.is_empty() {
                        continue;
                    }
                    ui.strong(title);
                    egui::Grid::new(title).striped(true).show(ui, |ui| {
                        for (k, v) in map {
                            ui.label(k);
                            ui.label(v);
                            ui.end_row();
                        }
                    });
                }
                if !detail.metrics.is_empty() {
                    ui.strong("Metrics");
                    egui::Grid::new("run-metrics").striped(true).show(ui, |ui| {
                        for (k, v) in &detail.metrics {
                            ui.label(k);
                            ui.monospace(format!("{v:.6}"));
                            ui.end_row();
                        }
                    });
                }
                if !detail.series.is_empty() {
                    ui.label(format!("Step series: {}", detail.series.join(", ")));
                }
                if !detail.artifacts.is_empty() {
                    ui.strong("Artifacts");
                    for a in &detail.artifacts {
                        ui.monospace(format!("{}  {} bytes  sha256 {}", a.name, a.size, a.sha256));
                    }
                }
                if !data.children.is_empty() {
                    ui.strong(format!("Trials of this sweep ({})", data.children.len()));
                    for child in &data.children {
                        ui.monospace(format!("{}  {}", child.id, child.status));
                    }
                }
                ui.add_space(cx.tokens.section_gap);
                ui.strong("Edit");
                let idle = !self.editing;
                ui.horizontal(|ui| {
                    let l = ui.label("Name");
                    ui.text_edit_singleline(&mut self.name).labelled_by(l.id);
                    if ui.add_enabled(idle, egui::Button::new("Rename")).clicked() {
                        edit = Some(RunEdit::Rename(self.name.clone()));
                    }
                });
                let l = ui.label("Note");
                ui.add(egui::TextEdit::multiline(&mut self.note).desired_rows(3))
                    .labelled_by(l.id);
                if ui
                    .add_enabled(idle, egui::Button::new("Save note"))
                    .clicked()
                {
                    edit = Some(RunEdit::Note(self.note.clone()));
                }
                ui.horizontal(|ui| {
                    let l = ui.label("Tag");
                    ui.add(egui::TextEdit::singleline(&mut self.tag).hint_text("key=value"))
                        .labelled_by(l.id);
                    if ui.add_enabled(idle, egui::Button::new("Add tag")).clicked() {
                        match self.tag.split_once('=') {
                            Some((k, v)) if !k.trim().is_empty() => {
                                edit = Some(RunEdit::Tag {
                                    key: k.trim().to_owned(),
                                    value: v.trim().to_owned(),
                                });
                            }
                            _ => self.message = Some(Err("a tag is key=value".into())),
                        }
                    }
                });
                let deleted = run.deleted_at.is_some();
                let label = if deleted { "Restore run" } else { "Delete run" };
                if ui
                    .add_enabled(idle, egui::Button::new(label))
                    .on_hover_text("Soft delete: hidden from the list, restorable")
                    .clicked()
                {
                    edit = Some(if deleted {
                        RunEdit::Restore
                    } else {
                        RunEdit::Delete
                    });
                }
                if self.editing {
                    ui.spinner();
                }
                match &self.message {
                    Some(Ok(m)) => {
                        ui.colored_label(cx.tokens.good, m);
                    }
                    Some(Err(m)) => {
                        ui.colored_label(cx.tokens.bad, m);
                    }
                    None => {}
                }
            });
        if let Some(edit) = edit {
            // The app runs the write as a job and hands it back (`ExperimentsPanel::watch_edit`).
            cx.send(Command::EditRun {
                run_id: run.id.clone(),
                edit,
            });
        }
    }
}

/// The model versions registered from the run: `name:version`, stage and aliases, each name a
/// link that opens the version in the Registry workspace.
fn registered_versions_ui(ui: &mut egui::Ui, versions: &[ModelVersion], cx: &mut PanelContext<'_>) {
    if versions.is_empty() {
        ui.weak("No model version is registered from this run.");
        ui.add_space(cx.tokens.section_gap / 2.0);
        return;
    }
    ui.strong(format!("Registered versions ({})", versions.len()));
    egui::Grid::new("run-versions")
        .striped(true)
        .show(ui, |ui| {
            for v in versions {
                let reference = format!("{}:{}", v.name, v.version);
                if ui
                    .link(egui::RichText::new(&reference).monospace())
                    .on_hover_text(format!("Open {reference} in the Registry workspace"))
                    .clicked()
                {
                    cx.send(Command::OpenVersion {
                        name: v.name.clone(),
                        version: v.version,
                    });
                }
                ui.label(v.stage.as_str());
                let aliases: Vec<String> = v.aliases.iter().map(|a| format!("@{a}")).collect();
                ui.label(aliases.join(" "));
                ui.end_row();
            }
        });
    ui.add_space(cx.tokens.section_gap / 2.0);
}
