//! The Pipelines workspace: a project's `kiln.toml` as a graph of stages with their status,
//! what changed since the last run and why a stage will re-run, "Run now" as a job whose
//! stages turn green as they pass, the last run's gates and failure, and the history of
//! pipeline runs. Everything is read and run by core's `pipeline` module in jobs; drawing only
//! looks at what they handed over.

mod graph;
mod views;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::pipeline::{
    self, PIPELINE_FILE, PipelineFile, PipelineOutcome, RunEvent, RunOptions, StageState,
    StageStatus,
};
use kiln_core::store::{PipelineRunRecord, Store};

use crate::ui::command::Command;
use crate::ui::context::PanelContext;

/// Most pipeline runs listed in the history.
const HISTORY_ROWS: usize = 50;

/// What the Pipelines workspace asks the app for.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineCommand {
    /// Ask for a project folder (or its `kiln.toml`) with the folder dialog.
    Pick,
    /// Open the project of this folder or `kiln.toml`.
    Open(PathBuf),
    /// Run the pipeline (`force`: every stage, up to date or not).
    Run {
        /// Run every stage.
        force: bool,
    },
    /// Read the pipeline file, its stages' status and the history again.
    Reload,
    /// Ask where to save a new `kiln.toml` (the Train tab's "Save as pipeline…").
    Save(Box<PipelineDraft>),
    /// Write a new `kiln.toml` at `path` and open it.
    Write {
        /// The file to write.
        path: PathBuf,
        /// What it holds.
        draft: Box<PipelineDraft>,
    },
}

/// A pipeline not yet written: a training and how its model is registered.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineDraft {
    /// The training, as the Train tab would start it.
    pub request: kiln_core::train::TrainRequest,
    /// Name, registration, gates and sweep.
    pub options: kiln_core::pipeline::scaffold::ScaffoldOptions,
}

/// The `kiln.toml` that `path` names: the file itself, or the one in the folder.
fn pipeline_file_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(PIPELINE_FILE)
    } else {
        path.to_path_buf()
    }
}

/// What reading a project hands over.
struct Read {
    file: PipelineFile,
    states: Vec<StageState>,
    history: Vec<PipelineRunRecord>,
}

/// How a stage is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// Up to date: a run now skips it.
    UpToDate,
    /// A run now does it, and why.
    WillRun(String),
    /// Running now.
    Running,
    /// The last run did it.
    Ran(String, f64),
    /// The last run skipped it (up to date, or not reached).
    Skipped(String),
    /// The last run failed here.
    Failed(String),
}

/// One stage as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct StageView {
    /// `validate:train`, `train`, ...
    pub name: String,
    /// Its status.
    pub shown: Shown,
}

/// The Pipelines workspace's state.
#[derive(Default)]
pub struct PipelinesPanel {
    /// The `kiln.toml` shown (absolute), once one was asked for.
    path: Option<PathBuf>,
    path_text: String,
    reading: Option<JobHandle<Read>>,
    file: Option<PipelineFile>,
    states: Vec<StageState>,
    history: Vec<PipelineRunRecord>,
    /// Why the project could not be read (the file's line and column when it is invalid).
    error: Option<String>,
    running: Option<JobHandle<PipelineOutcome>>,
    /// Events of the running pipeline, pushed from its job's thread.
    events: Arc<Mutex<Vec<RunEvent>>>,
    /// The stages as drawn: recomputed in `poll` when anything above changes.
    stages: Vec<StageView>,
    outcome: Option<Result<PipelineOutcome, String>>,
    /// Another process holds the project; its pid when known.
    waiting_for: Option<Option<u32>>,
    /// The store's change token when the project was read.
    read_at: Option<(u64, i64)>,
}

impl PipelinesPanel {
    /// Opens the project of `path` (a folder or its `kiln.toml`); it is read when next shown.
    pub fn open(&mut self, path: &Path) {
        let file = pipeline_file_of(path);
        let file = std::path::absolute(&file).unwrap_or(file);
        self.path_text = file.display().to_string();
        self.path = Some(file);
        self.file = None;
        self.states.clear();
        self.history.clear();
        self.outcome = None;
        self.error = None;
        self.read_at = None;
        self.rebuild_stages();
    }

    /// The `kiln.toml` shown, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The stages as drawn (tests).
    pub fn stages(&self) -> &[StageView] {
        &self.stages
    }

    /// How the last run in this window ended (tests).
    pub fn outcome(&self) -> Option<&Result<PipelineOutcome, String>> {
        self.outcome.as_ref()
    }

    /// Why the project could not be read (tests).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Whether the project was read (tests).
    pub fn is_read(&self) -> bool {
        self.file.is_some() && self.reading.is_none()
    }

    /// Handles what the workspace asked for that needs the store and the jobs.
    pub fn handle(&mut self, command: PipelineCommand, store: &Store, jobs: &JobRunner) {
        match command {
            PipelineCommand::Run { force } => self.start_run(force, store, jobs),
            PipelineCommand::Reload => {
                self.read_at = None;
                self.start_reading(store, jobs);
            }
            PipelineCommand::Open(path) => {
                self.open(&path);
                self.start_reading(store, jobs);
            }
            PipelineCommand::Write { path, draft } => {
                let dir = path.parent().unwrap_or(Path::new("."));
                let text = kiln_core::pipeline::scaffold::scaffold_toml(
                    &draft.request,
                    &draft.options,
                    dir,
                );
                // A kiln.toml is a few hundred bytes: written here, not in a job, so that
                // the project opens on the file that is already there.
                match std::fs::write(&path, text) {
                    Ok(()) => {
                        self.open(&path);
                        self.start_reading(store, jobs);
                    }
                    Err(e) => {
                        self.error = Some(format!("could not write {}: {e}", path.display()));
                    }
                }
            }
            // The app answers Pick and Save with its file dialogs.
            PipelineCommand::Pick | PipelineCommand::Save(_) => {}
        }
    }

    /// Per-frame work that draws nothing: collects jobs, reads the project when it is shown
    /// and not read yet (or the store changed), and rebuilds the stages to draw.
    pub fn poll(&mut self, store: Option<&Store>, jobs: &JobRunner, visible: bool) {
        let mut changed = self.drain_events();
        if let Some(result) = JobHandle::take_finished(&mut self.reading) {
            match result {
                Ok(read) => {
                    self.file = Some(read.file);
                    self.states = read.states;
                    self.history = read.history;
                    self.error = None;
                }
                Err(JobError::Cancelled) => {}
                Err(JobError::Failed(message)) => {
                    self.file = None;
                    self.states.clear();
                    self.error = Some(message);
                }
            }
            changed = true;
        }
        if let Some(result) = JobHandle::take_finished(&mut self.running) {
            self.waiting_for = None;
            self.outcome = Some(match result {
                Ok(outcome) => Ok(outcome),
                Err(JobError::Cancelled) => Err("cancelled".to_owned()),
                Err(JobError::Failed(message)) => Err(message),
            });
            // What is up to date now, and the new history row.
            self.read_at = None;
            changed = true;
        }
        if let Some(store) = store
            && visible
            && self.running.is_none()
        {
            let token = Some(store.change_token());
            if self.path.is_some() && (self.read_at.is_none() || self.read_at != token) {
                self.read_at = token;
                self.start_reading(store, jobs);
            }
        }
        if changed {
            self.rebuild_stages();
        }
    }

    fn start_reading(&mut self, store: &Store, jobs: &JobRunner) {
        let Some(path) = self.path.clone() else {
            return;
        };
        if self.reading.is_some() {
            return;
        }
        let store = store.clone();
        self.reading = Some(jobs.spawn("Reading the pipeline", move |ctx| {
            ctx.progress(0.0, "reading kiln.toml");
            let file = PipelineFile::load(&path).map_err(JobError::failed)?;
            ctx.progress(0.3, "checking what changed");
            let states = pipeline::status(&store, &file).map_err(JobError::from)?;
            let project = file.path.display().to_string();
            let history = store
                .pipeline_runs(&project, HISTORY_ROWS)
                .map_err(JobError::failed)?;
            Ok(Read {
                file,
                states,
                history,
            })
        }));
    }

    fn start_run(&mut self, force: bool, store: &Store, jobs: &JobRunner) {
        let Some(file) = self.file.clone() else {
            return;
        };
        if self.running.is_some() {
            return;
        }
        if let Ok(mut events) = self.events.lock() {
            events.clear();
        }
        let events = Arc::clone(&self.events);
        let options = RunOptions {
            force,
            no_wait: false,
            observer: Some(Arc::new(move |event: &RunEvent| {
                if let Ok(mut list) = events.lock() {
                    list.push(event.clone());
                }
            })),
        };
        let store = store.clone();
        self.outcome = None;
        self.running = Some(
            jobs.spawn(format!("Running pipeline {}", file.name), move |ctx| {
                pipeline::run(&store, &file, &options, ctx).map_err(JobError::from)
            }),
        );
        self.rebuild_stages();
    }

    /// Moves the running pipeline's events into the stage views; true when there were any.
    fn drain_events(&mut self) -> bool {
        let events: Vec<RunEvent> = match self.events.lock() {
            Ok(mut list) => std::mem::take(&mut *list),
            Err(_) => return false,
        };
        for event in &events {
            match event {
                RunEvent::Waiting { holder } => self.waiting_for = Some(*holder),
                RunEvent::StageStarted { name } => {
                    self.waiting_for = None;
                    self.set_stage(name, Shown::Running);
                }
                RunEvent::StageFinished(report) => {
                    self.set_stage(&report.name, shown_of(report));
                }
            }
        }
        !events.is_empty()
    }

    fn set_stage(&mut self, name: &str, shown: Shown) {
        match self.stages.iter_mut().find(|s| s.name == name) {
            Some(stage) => stage.shown = shown,
            None => self.stages.push(StageView {
                name: name.to_owned(),
                shown,
            }),
        }
    }

    /// The stages from what a run reported, else from what a run now would do.
    fn rebuild_stages(&mut self) {
        if self.running.is_some() {
            // Live: the status before the run, each stage replaced as events arrive.
            if self.stages.is_empty() {
                self.stages = self.planned();
            }
            return;
        }
        self.stages = match &self.outcome {
            Some(Ok(outcome)) if self.reading.is_none() && self.states.is_empty() => outcome
                .stages
                .iter()
                .map(|r| StageView {
                    name: r.name.clone(),
                    shown: shown_of(r),
                })
                .collect(),
            Some(Ok(outcome)) => {
                // The last run's result, over the names of the current plan.
                let mut stages = self.planned();
                for stage in &mut stages {
                    if let Some(report) = outcome.stages.iter().find(|r| r.name == stage.name) {
                        stage.shown = shown_of(report);
                    }
                }
                stages
            }
            _ => self.planned(),
        };
    }

    fn planned(&self) -> Vec<StageView> {
        self.states
            .iter()
            .map(|s| StageView {
                name: s.name.clone(),
                shown: if s.up_to_date {
                    Shown::UpToDate
                } else {
                    Shown::WillRun(s.reason.clone())
                },
            })
            .collect()
    }

    /// Draws the workspace.
    pub fn pipelines_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        ui.horizontal(|ui| {
            ui.heading("Pipelines");
            if ui
                .button("Open project…")
                .on_hover_text("A folder with a kiln.toml")
                .clicked()
            {
                cx.send(Command::Pipeline(PipelineCommand::Pick));
            }
            let label = ui.label("kiln.toml");
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.path_text)
                        .hint_text("path to a project's kiln.toml")
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if entered || ui.button("Open").clicked() {
                let path = PathBuf::from(self.path_text.trim());
                cx.send(Command::Pipeline(PipelineCommand::Open(path)));
            }
            if self.path.is_some() && ui.button("Refresh").clicked() {
                cx.send(Command::Pipeline(PipelineCommand::Reload));
            }
        });
        if self.path.is_none() {
            views::welcome_ui(ui, cx);
            return;
        }
        if let Some(error) = &self.error {
            ui.colored_label(cx.tokens.bad, error);
        }
        let Some(file) = &self.file else {
            if self.reading.is_some() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("reading the pipeline");
                });
            }
            return;
        };
        ui.add_space(cx.tokens.section_gap / 2.0);
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new(&file.name).strong().size(16.0));
            let running = self.running.is_some();
            let run = ui.add_enabled(!running, egui::Button::new("Run now"));
            if run
                .on_hover_text("Run the stages that are not up to date (kiln run)")
                .clicked()
            {
                cx.send(Command::Pipeline(PipelineCommand::Run { force: false }));
            }
            let all = ui.add_enabled(!running, egui::Button::new("Run every stage"));
            if all
                .on_hover_text("Run every stage, up to date or not (kiln run --force)")
                .clicked()
            {
                cx.send(Command::Pipeline(PipelineCommand::Run { force: true }));
            }
            if let Some(job) = &self.running {
                if ui.button("Cancel").clicked() {
                    job.cancel();
                }
                ui.spinner();
                match self.waiting_for {
                    Some(holder) => ui.label(format!(
                        "waiting for {}",
                        pipeline::runlock::holder_text(holder)
                    )),
                    None => ui.label("running"),
                };
            }
        });
        ui.add_space(cx.tokens.section_gap / 2.0);
        graph::stages_ui(ui, &self.stages, cx.tokens);
        ui.add_space(cx.tokens.section_gap / 2.0);
        egui::ScrollArea::vertical()
            .id_salt("pipelines-body")
            .show(ui, |ui| {
                views::changes_ui(ui, &self.stages, cx.tokens);
                if let Some(outcome) = &self.outcome {
                    views::outcome_ui(ui, outcome, file, cx);
                }
                views::history_ui(ui, &self.history, cx);
            });
    }
}

fn shown_of(report: &pipeline::StageReport) -> Shown {
    match report.status {
        StageStatus::Ran => Shown::Ran(report.reason.clone(), report.duration_s),
        StageStatus::Skipped if report.reason.starts_with("up to date") => Shown::UpToDate,
        StageStatus::Skipped => Shown::Skipped(report.reason.clone()),
        StageStatus::Failed => Shown::Failed(report.reason.clone()),
    }
}
