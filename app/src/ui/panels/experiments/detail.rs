//! One run in full: everything logged to it, its artifacts and lineage, and the edits a user
//! makes afterwards (name, note, tags, soft delete and restore).

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::store::{DatasetVersion, Run, RunDetail, RunQuery, Store};

use crate::ui::context::PanelContext;
use crate::ui::widgets;

/// An edit of the run, applied to the store when the frame's drawing is done.
type StoreEdit = Box<dyn FnOnce(&Store) -> Result<String, String>>;

/// What the detail view shows, loaded as one job.
pub struct DetailData {
    detail: RunDetail,
    dataset: Option<DatasetVersion>,
    children: Vec<Run>,
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
    Ok(DetailData {
        detail,
        dataset,
        children,
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
        }
    }

    /// Collects the finished job.
    pub fn poll(&mut self) {
        if let Some(result) = JobHandle::take_finished(&mut self.job) {
            if let Ok(data) = &result {
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
    pub fn detail_ui(
        &mut self,
        ui: &mut egui::Ui,
        store: &Store,
        cx: &mut PanelContext<'_>,
        close: &mut bool,
    ) {
        widgets::back_heading(ui, "Run", close);
        let Some(data) = widgets::job_result(ui, self.data.as_ref(), cx.tokens.bad) else {
            return;
        };
        let detail = &data.detail;
        let run = &detail.run;
        let mut action: Option<StoreEdit> = None;
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
                ui.horizontal(|ui| {
                    let l = ui.label("Name");
                    ui.text_edit_singleline(&mut self.name).labelled_by(l.id);
                    if ui.button("Rename").clicked() {
                        let (id, name) = (run.id.clone(), self.name.clone());
                        action = Some(Box::new(move |s: &Store| {
                            s.rename_run(&id, &name)
                                .map(|()| "renamed".into())
                                .map_err(|e| e.to_string())
                        }));
                    }
                });
                let l = ui.label("Note");
                ui.add(egui::TextEdit::multiline(&mut self.note).desired_rows(3))
                    .labelled_by(l.id);
                if ui.button("Save note").clicked() {
                    let (id, note) = (run.id.clone(), self.note.clone());
                    action = Some(Box::new(move |s: &Store| {
                        s.set_note(&id, &note)
                            .map(|()| "note saved".into())
                            .map_err(|e| e.to_string())
                    }));
                }
                ui.horizontal(|ui| {
                    let l = ui.label("Tag");
                    ui.add(egui::TextEdit::singleline(&mut self.tag).hint_text("key=value"))
                        .labelled_by(l.id);
                    if ui.button("Add tag").clicked() {
                        let id = run.id.clone();
                        let tag = self.tag.clone();
                        action = Some(Box::new(move |s: &Store| match tag.split_once('=') {
                            Some((k, v)) if !k.trim().is_empty() => s
                                .set_tags(&id, &[(k.trim().to_owned(), v.trim().to_owned())])
                                .map(|()| "tag added".into())
                                .map_err(|e| e.to_string()),
                            _ => Err("a tag is key=value".into()),
                        }));
                    }
                });
                let deleted = run.deleted_at.is_some();
                let label = if deleted { "Restore run" } else { "Delete run" };
                if ui
                    .button(label)
                    .on_hover_text("Soft delete: hidden from the list, restorable")
                    .clicked()
                {
                    let id = run.id.clone();
                    action = Some(Box::new(move |s: &Store| {
                        let result = if deleted {
                            s.restore_run(&id)
                        } else {
                            s.delete_run(&id)
                        };
                        result
                            .map(|()| {
                                if deleted {
                                    "restored".into()
                                } else {
                                    "deleted".into()
                                }
                            })
                            .map_err(|e| e.to_string())
                    }));
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
        if let Some(action) = action {
            // One-row updates: quick enough to run here; the list reloads on the change.
            self.message = Some(action(store));
            self.reload(store, cx.jobs);
        }
    }
}
