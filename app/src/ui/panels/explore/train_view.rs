//! The Train tab of a dataset: target, model, hyper-parameters or sweep values, holdout or
//! cross-validation; training runs as a job (progress and cancel in the status bar) and the
//! result links to Experiments.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kiln_core::data::schema::{ColumnRole, SchemaOverrides};
use kiln_core::jobs::{JobError, JobHandle};
use kiln_core::models::{ModelSpec, Task, model_params};
use kiln_core::train::{SweepOutcome, TrainOutcome};

use super::state::{Dataset, Derived};
use crate::ui::command::{Command, TrainCommand};
use crate::ui::context::PanelContext;
use crate::ui::panels::pipelines::PipelineCommand;
use crate::ui::workspace::Workspace;

mod request;

/// Models offered, by task.
const CLASSIFIERS: &[&str] = &[
    "logistic_regression",
    "random_forest",
    "decision_tree",
    "gaussian_nb",
];
const REGRESSORS: &[&str] = &[
    "ridge",
    "linear_regression",
    "lasso",
    "elastic_net",
    "random_forest",
    "decision_tree",
];

/// What a finished training reports.
pub enum Trained {
    /// One run.
    Single(TrainOutcome),
    /// A sweep.
    Sweep(SweepOutcome),
}

/// The form's state.
pub struct TrainForm {
    target: Option<String>,
    model: String,
    params: BTreeMap<String, String>,
    sweep: String,
    cv: String,
    test_size: String,
    experiment: String,
    seed: String,
    job: Option<JobHandle<Trained>>,
    /// A Train command was sent and its job not yet handed back.
    pending: bool,
    /// Classification or regression, worked out from the target column's values (a pass
    /// over every row, so a job) once per table and target.
    task: Derived<(u64, String), Task>,
    trials: kiln_core::tune::TrialBoard,
    /// Outcome of the last training.
    pub result: Option<Result<Trained, String>>,
}

impl Default for TrainForm {
    fn default() -> Self {
        Self {
            target: None,
            model: "logistic_regression".into(),
            params: BTreeMap::new(),
            sweep: String::new(),
            cv: String::new(),
            test_size: "0.25".into(),
            experiment: "Default".into(),
            seed: "42".into(),
            job: None,
            pending: false,
            task: Derived::default(),
            trials: kiln_core::tune::TrialBoard::default(),
            result: None,
        }
    }
}

impl TrainForm {
    /// Shows the training job the app started for this form's Train command.
    pub fn watch(&mut self, job: JobHandle<Trained>) {
        self.pending = false;
        self.job = Some(job);
    }

    /// Chooses the column to predict.
    pub fn set_target(&mut self, column: &str) {
        self.target = Some(column.to_owned());
    }

    /// Collects a finished job; call once per frame.
    pub fn poll(&mut self) {
        self.task.poll();
        if let Some(result) = JobHandle::take_finished(&mut self.job) {
            self.result = Some(result.map_err(|e| match e {
                JobError::Cancelled => "training was cancelled".to_owned(),
                JobError::Failed(message) => message,
            }));
        }
    }
}

fn labelled_field(ui: &mut egui::Ui, label: &str, value: &mut String, hint: &str) {
    ui.horizontal(|ui| {
        let l = ui.add_sized([130.0, 20.0], egui::Label::new(label));
        ui.add(
            egui::TextEdit::singleline(value)
                .hint_text(hint)
                .desired_width(320.0),
        )
        .labelled_by(l.id);
    });
}

/// Draws the Train tab.
pub fn train_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    let Some(frame) = dataset.opened.as_ref().map(|o| o.table.frame.clone()) else {
        ui.label("Reading the file…");
        return;
    };
    if let Err(e) = cx.store {
        ui.colored_label(cx.tokens.bad, format!("Training needs the store: {e}"));
        return;
    }
    let columns: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let table_version = dataset.table_version();
    let form = &mut dataset.train;
    if form.target.is_none() {
        form.target = dataset
            .overrides
            .with_role(ColumnRole::Target)
            .into_iter()
            .next();
    }
    egui::ScrollArea::vertical()
        .id_salt("train-form")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.add_sized([130.0, 20.0], egui::Label::new("target"));
                egui::ComboBox::new("train-target", "column to predict")
                    .selected_text(form.target.clone().unwrap_or_else(|| "(choose)".into()))
                    .show_ui(ui, |ui| {
                        for c in &columns {
                            ui.selectable_value(&mut form.target, Some(c.clone()), c);
                        }
                    });
            });
            if let Some(target) = &form.target {
                let key = (table_version, target.clone());
                if form.task.is_stale(&key) {
                    let (frame, target) = (frame.clone(), target.clone());
                    form.task
                        .request(key, cx.jobs, format!("Inspecting {target}"), move || {
                            Ok(kiln_core::train::infer_task(&frame, &target))
                        });
                }
            }
            // Until the target's task is known the model list stays as it is.
            let task = form
                .target
                .as_ref()
                .and_then(|_| form.task.current())
                .and_then(|r| r.as_ref().ok())
                .copied();
            let task_is_classification = match task {
                Some(task) => task == Task::Classification,
                None => CLASSIFIERS.contains(&form.model.as_str()),
            };
            let models = if task_is_classification {
                CLASSIFIERS
            } else {
                REGRESSORS
            };
            if task.is_some() && !models.contains(&form.model.as_str()) {
                form.model = models[0].to_owned();
                form.params.clear();
            }
            ui.horizontal(|ui| {
                ui.add_sized([130.0, 20.0], egui::Label::new("model"));
                let before = form.model.clone();
                egui::ComboBox::new(
                    "train-model",
                    if task_is_classification {
                        "classifier"
                    } else {
                        "regressor"
                    },
                )
                .selected_text(form.model.clone())
                .show_ui(ui, |ui| {
                    for m in models {
                        ui.selectable_value(&mut form.model, (*m).to_owned(), *m);
                    }
                });
                if form.model != before {
                    form.params.clear();
                }
            });
            // Every hyper-parameter with scikit-learn's default as the hint.
            let defaults = ModelSpec::from_params(&form.model, &BTreeMap::new())
                .map(|s| s.params())
                .unwrap_or_default();
            for name in model_params(&form.model).unwrap_or_default() {
                let hint = defaults.get(*name).cloned().unwrap_or_default();
                let value = form.params.entry((*name).to_owned()).or_default();
                labelled_field(ui, name, value, &hint);
            }
            labelled_field(
                ui,
                "sweep",
                &mut form.sweep,
                "e.g. max_depth=3,5,8 or C=0.01:100:log",
            );
            labelled_field(ui, "cv folds", &mut form.cv, "empty: holdout split");
            labelled_field(ui, "test size", &mut form.test_size, "0.25");
            labelled_field(ui, "experiment", &mut form.experiment, "Default");
            labelled_field(ui, "seed", &mut form.seed, "42");
            let drop = dataset.overrides.left_out();
            if !drop.is_empty() {
                ui.label(
                    egui::RichText::new(format!("left out (ignore / id): {}", drop.join(", ")))
                        .color(cx.tokens.muted),
                );
            }
            ui.add_space(cx.tokens.section_gap);
            ui.horizontal(|ui| {
                // Training does not wait for the task: core works it out again, and says so
                // when the model does not fit it.
                let ready = form.target.is_some() && form.job.is_none() && !form.pending;
                if ui
                    .add_enabled(ready, egui::Button::new("Start training"))
                    .clicked()
                {
                    // Explore's type and role choices go with the request: core applies the
                    // types and leaves the ignore / id columns out.
                    let schema = dataset.overrides.clone();
                    start(form, dataset.path.clone(), schema, cx);
                }
                // The same choices as a kiln.toml that `kiln run` and CI re-run.
                if ui
                    .add_enabled(
                        form.target.is_some(),
                        egui::Button::new("Save as pipeline…"),
                    )
                    .on_hover_text(
                        "Write these choices into a new kiln.toml and open it in Pipelines",
                    )
                    .clicked()
                {
                    match request::draft_of(form, &dataset.path, &dataset.overrides) {
                        Ok(draft) => {
                            cx.send(Command::Pipeline(PipelineCommand::Save(Box::new(draft))))
                        }
                        Err(message) => form.result = Some(Err(message)),
                    }
                }
                if form.job.is_some() {
                    ui.spinner();
                    ui.label("training… (progress and Cancel in the status bar)");
                } else if form.target.is_some() && task.is_none() {
                    ui.spinner();
                    ui.label("looking at the target's values…");
                }
            });
            trials_ui(ui, &form.trials, cx);
            result_ui(ui, form, cx);
        });
}

fn start(form: &mut TrainForm, data: PathBuf, schema: SchemaOverrides, cx: &mut PanelContext<'_>) {
    let dataset = data.clone();
    match request::request_of(form, data, schema) {
        Err(message) => form.result = Some(Err(message)),
        Ok((request, grid)) => {
            form.result = None;
            form.trials = kiln_core::tune::TrialBoard::default();
            form.pending = true;
            // Training writes to the store: it is a command, run as a job by the app.
            cx.send(Command::Train(Box::new(TrainCommand {
                dataset,
                request,
                grid,
                board: form.trials.clone(),
            })));
        }
    }
}

/// One progress bar per trial of a running (or finished) sweep.
fn trials_ui(ui: &mut egui::Ui, board: &kiln_core::tune::TrialBoard, cx: &PanelContext<'_>) {
    use kiln_core::tune::TrialState;
    let trials = board.snapshot();
    if trials.is_empty() {
        return;
    }
    ui.add_space(cx.tokens.section_gap);
    ui.strong(format!("Trials ({})", trials.len()));
    for (i, trial) in trials.iter().enumerate() {
        let params: Vec<String> = trial
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        ui.horizontal(|ui| {
            ui.add_sized([40.0, 18.0], egui::Label::new(format!("#{}", i + 1)));
            let (fraction, text, animate) = match &trial.state {
                TrialState::Queued => (0.0, "queued".to_owned(), false),
                TrialState::Running => (0.5, "training".to_owned(), true),
                TrialState::Finished(value) => (
                    1.0,
                    value.map_or("done".to_owned(), |v| format!("{v:.4}")),
                    false,
                ),
                TrialState::Failed(m) => (1.0, format!("failed: {m}"), false),
                TrialState::Cancelled => (0.0, "cancelled".to_owned(), false),
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .animate(animate)
                    .text(text)
                    .desired_width(320.0),
            );
            ui.label(params.join(" "));
        });
    }
}

/// What core says the user should know about a run: columns left out of the preprocessing and
/// why, a model that did not converge, metrics that could not be computed.
fn warnings_ui(ui: &mut egui::Ui, warnings: &[String], cx: &PanelContext<'_>) {
    for warning in warnings {
        ui.colored_label(cx.tokens.warn, format!("Warning: {warning}"));
    }
}

fn result_ui(ui: &mut egui::Ui, form: &TrainForm, cx: &mut PanelContext<'_>) {
    let Some(result) = &form.result else { return };
    ui.add_space(cx.tokens.section_gap);
    match result {
        Err(message) => {
            ui.colored_label(cx.tokens.bad, message);
        }
        Ok(Trained::Single(run)) => {
            ui.strong(format!("Run {} ({})", &run.run_id[..8], run.model));
            egui::Grid::new("train-metrics")
                .striped(true)
                .show(ui, |ui| {
                    for (name, value) in &run.metrics {
                        ui.label(name);
                        ui.monospace(format!("{value:.4}"));
                        ui.end_row();
                    }
                });
            warnings_ui(ui, &run.warnings, cx);
        }
        Ok(Trained::Sweep(outcome)) => {
            ui.strong(format!(
                "Sweep of {} trials; best by {}",
                outcome.runs.len(),
                outcome.metric
            ));
            for run in &outcome.runs {
                let value = run
                    .metrics
                    .get(&outcome.metric)
                    .copied()
                    .unwrap_or(f64::NAN);
                let best = if run.run_id == outcome.best_run_id {
                    " (best)"
                } else {
                    ""
                };
                ui.monospace(format!(
                    "{} {}={value:.4}{best}",
                    &run.run_id[..8],
                    outcome.metric
                ));
            }
            if let Some(best) = outcome
                .runs
                .iter()
                .find(|r| r.run_id == outcome.best_run_id)
            {
                warnings_ui(ui, &best.warnings, cx);
            }
        }
    }
    if ui.button("Open in Experiments").clicked() {
        cx.send(Command::SelectWorkspace(Workspace::Experiments));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used)]

    use std::time::{Duration, Instant};

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use crate::ui::{AppOptions, KilnApp};

    fn penguins() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/profile/penguins.csv")
    }

    /// The app with penguins open on `view`, loaded and profiled.
    fn penguins_on(home: &std::path::Path, view: &str) -> Harness<'static, KilnApp> {
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1200.0, 760.0))
            .build_ui_state(
                |ui, app: &mut KilnApp| {
                    app.logic(&ui.ctx().clone());
                    app.ui(ui);
                },
                KilnApp::new(AppOptions {
                    store_home: Some(home.to_path_buf()),
                    open_files: vec![penguins()],
                    explore_view: Some(view.to_owned()),
                    ..AppOptions::default()
                }),
            );
        settle(&mut harness, |app| {
            app.explore().active().is_some_and(|d| d.profile.is_some())
        });
        harness
    }

    /// Steps until no job runs and `done` holds.
    fn settle(harness: &mut Harness<'_, KilnApp>, done: impl Fn(&KilnApp) -> bool) {
        let start = Instant::now();
        harness.run_steps(1);
        while harness.state().jobs().running_count() > 0 || !done(harness.state()) {
            assert!(start.elapsed() < Duration::from_secs(60), "timed out");
            std::thread::sleep(Duration::from_millis(10));
            harness.step();
        }
        harness.run_steps(2);
    }

    fn jobs_named(harness: &Harness<'_, KilnApp>, name: &str) -> usize {
        harness
            .state()
            .jobs()
            .statuses()
            .iter()
            .filter(|j| j.name == name)
            .count()
    }

    #[test]
    fn the_task_is_worked_out_once_per_target_as_a_job_not_in_every_frame() {
        let home = tempfile::tempdir().expect("tempdir");
        let mut harness = penguins_on(home.path(), "train:species");
        harness.get_by_label("classifier");
        assert_eq!(jobs_named(&harness, "Inspecting species"), 1);
        let newest = |h: &Harness<'_, KilnApp>| h.state().jobs().statuses().last().map(|j| j.id);
        let before = newest(&harness);
        harness.run_steps(20);
        assert_eq!(newest(&harness), before, "redrawing starts no job");

        harness.get_by_label("column to predict").click();
        harness.run_steps(2);
        harness
            .get_all_by_label("body_mass_g")
            .last()
            .expect("body_mass_g in the list of targets")
            .click();
        settle(&mut harness, |_| true);
        harness.get_by_label("regressor");
        assert_eq!(jobs_named(&harness, "Inspecting body_mass_g"), 1);
        assert_eq!(jobs_named(&harness, "Inspecting species"), 1);
    }

    #[test]
    fn explore_s_types_and_roles_reach_the_trained_model() {
        let home = tempfile::tempdir().expect("tempdir");
        let mut harness = penguins_on(home.path(), "column:island");
        harness.get_by_label("role").click();
        harness.run_steps(2);
        harness.get_by_label("ignore").click();
        harness.run_steps(2);
        harness
            .get_all_by_label("year")
            .next()
            .expect("year in the column list")
            .click();
        harness.run_steps(2);
        harness.get_by_label("type").click();
        harness.run_steps(2);
        harness.get_by_label("categorical").click();
        settle(&mut harness, |_| true);
        harness
            .get_all_by_label("species")
            .next()
            .expect("species in the column list")
            .click();
        harness.run_steps(2);
        harness.get_by_label("role").click();
        harness.run_steps(2);
        harness.get_by_label("target").click();
        harness.run_steps(2);
        harness.get_by_label("Train").click();
        settle(&mut harness, |_| true);
        harness.get_by_label("left out (ignore / id): island");
        harness.get_by_label("Start training").click();
        settle(&mut harness, |app| {
            app.explore()
                .active()
                .is_some_and(|d| d.train.result.is_some())
        });
        let run_id = match &harness
            .state()
            .explore()
            .active()
            .expect("dataset")
            .train
            .result
        {
            Some(Ok(super::Trained::Single(outcome))) => outcome.run_id.clone(),
            Some(Err(message)) => panic!("training failed: {message}"),
            _ => panic!("not a single run"),
        };
        let store = harness.state().store().expect("store").clone();
        let detail = store.run_detail(&run_id).expect("run");
        let schema: serde_json::Value =
            serde_json::from_str(detail.params.get("schema").expect("the schema param"))
                .expect("schema is JSON");
        assert_eq!(schema["columns"]["island"]["role"], "ignore", "{schema}");
        let model = detail
            .artifacts
            .iter()
            .find(|a| a.name == "model.json")
            .expect("model.json");
        let model: serde_json::Value =
            serde_json::from_slice(&store.read_artifact(&model.sha256).expect("read"))
                .expect("model is JSON");
        let inputs: Vec<&str> = model["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .map(|input| input[0].as_str().expect("input name"))
            .collect();
        assert!(!inputs.is_empty(), "{model}");
        assert!(!inputs.contains(&"island"), "island is ignored: {inputs:?}");
        assert!(
            !inputs.contains(&"species"),
            "species is the target: {inputs:?}"
        );
        assert!(inputs.contains(&"bill_length_mm"), "{inputs:?}");
        let year = model["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .find(|input| input[0] == "year")
            .expect("year is an input");
        assert_eq!(
            year[1], "str",
            "year is read as the category it was made in Explore"
        );
    }
}
