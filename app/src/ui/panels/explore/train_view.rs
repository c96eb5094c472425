//! The Train tab of a dataset: target, model, hyper-parameters or sweep values, holdout or
//! cross-validation; training runs as a job (progress and cancel in the status bar) and the
//! result links to Experiments.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kiln_core::data::schema::ColumnRole;
use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::models::{ModelSpec, model_params};
use kiln_core::store::Store;
use kiln_core::train::{SweepOutcome, TrainOutcome, TrainRequest, sweep, train};

use super::state::Dataset;
use crate::ui::command::Command;
use crate::ui::context::PanelContext;
use crate::ui::workspace::Workspace;

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
            trials: kiln_core::tune::TrialBoard::default(),
            result: None,
        }
    }
}

impl TrainForm {
    /// Collects a finished job; call once per frame.
    pub fn poll(&mut self) {
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
                .desired_width(220.0),
        )
        .labelled_by(l.id);
    });
}

fn parse_sweep(text: &str) -> Result<BTreeMap<String, kiln_core::tune::Space>, String> {
    text.split_whitespace()
        .map(|part| kiln_core::tune::parse_axis(part).map_err(|e| format!("sweep '{part}': {e}")))
        .collect()
}

/// Draws the Train tab.
pub fn train_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    let Some(frame) = dataset.opened.as_ref().map(|o| o.table.frame.clone()) else {
        ui.label("Reading the file…");
        return;
    };
    let store = match cx.store {
        Ok(store) => store.clone(),
        Err(e) => {
            ui.colored_label(cx.tokens.bad, format!("Training needs the store: {e}"));
            return;
        }
    };
    let columns: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
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
            let task_is_classification = form.target.as_ref().is_some_and(|t| {
                kiln_core::train::infer_task(&frame, t) == kiln_core::models::Task::Classification
            });
            let models = if task_is_classification {
                CLASSIFIERS
            } else {
                REGRESSORS
            };
            if !models.contains(&form.model.as_str()) {
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
            let drop = dataset
                .overrides
                .with_role(ColumnRole::Ignore)
                .into_iter()
                .chain(dataset.overrides.with_role(ColumnRole::Id))
                .collect::<Vec<_>>();
            if !drop.is_empty() {
                ui.label(
                    egui::RichText::new(format!("left out (ignore / id): {}", drop.join(", ")))
                        .color(cx.tokens.muted),
                );
            }
            ui.add_space(cx.tokens.section_gap);
            ui.horizontal(|ui| {
                let ready = form.target.is_some() && form.job.is_none();
                if ui
                    .add_enabled(ready, egui::Button::new("Start training"))
                    .clicked()
                {
                    start(form, dataset.path.clone(), drop, store, cx.jobs);
                }
                if form.job.is_some() {
                    ui.spinner();
                    ui.label("training… (progress and Cancel in the status bar)");
                }
            });
            trials_ui(ui, &form.trials, cx);
            result_ui(ui, form, cx);
        });
}

fn start(form: &mut TrainForm, data: PathBuf, drop: Vec<String>, store: Store, jobs: &JobRunner) {
    let params: BTreeMap<String, String> = form
        .params
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_owned()))
        .collect();
    let parsed =
        (|| -> Result<(TrainRequest, BTreeMap<String, kiln_core::tune::Space>), String> {
            let cv = match form.cv.trim() {
                "" => None,
                k => Some(
                    k.parse::<usize>()
                        .map_err(|_| format!("cv folds '{k}' is not a whole number"))?,
                ),
            };
            let test_size = form
                .test_size
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("test size '{}' is not a number", form.test_size))?;
            let seed = form
                .seed
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("seed '{}' is not a whole number", form.seed))?;
            let request = TrainRequest {
                data,
                test: None,
                test_size,
                target: form.target.clone().unwrap_or_default(),
                drop,
                model: form.model.clone(),
                params,
                experiment: if form.experiment.trim().is_empty() {
                    "Default".into()
                } else {
                    form.experiment.trim().to_owned()
                },
                seed,
                cv,
                steps: Default::default(),
                schema: Default::default(),
            };
            Ok((request, parse_sweep(&form.sweep)?))
        })();
    match parsed {
        Err(message) => form.result = Some(Err(message)),
        Ok((request, grid)) => {
            form.result = None;
            form.trials = kiln_core::tune::TrialBoard::default();
            let board = form.trials.clone();
            let name = format!("Training {}", request.model);
            form.job = Some(jobs.spawn(name, move |ctx| {
                if grid.is_empty() {
                    train(&store, &request, ctx).map(Trained::Single)
                } else {
                    sweep(&store, &request, &grid, None, None, Some(&board), ctx)
                        .map(Trained::Sweep)
                }
            }));
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
                    .desired_width(220.0),
            );
            ui.label(params.join(" "));
        });
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
        }
    }
    if ui.button("Open in Experiments").clicked() {
        cx.send(Command::SelectWorkspace(Workspace::Experiments));
    }
}
