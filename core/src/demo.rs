//! The demo project: a handful of real runs on the shipped sample datasets, so a new user's
//! Experiments workspace shows something true on first launch (and `kiln demo` can rebuild it),
//! and a registered model with a version in production and one in staging, so the Registry
//! workspace shows versions, lineage and an audit trail too.

use std::collections::BTreeMap;
use std::path::Path;

use crate::jobs::{JobContext, JobError};
use crate::registry;
use crate::store::{Stage, Store};
use crate::train::{TrainRequest, train};

/// Experiment the demo runs go to.
pub const DEMO_EXPERIMENT: &str = "demo";

/// The registered model of the demo: penguin classifiers.
pub const DEMO_MODEL: &str = "penguins-classifier";

/// Which demo runs become versions of [`DEMO_MODEL`], the stage each is promoted to, and why.
const DEMO_VERSIONS: &[(usize, Stage, &str)] = &[
    (1, Stage::Production, "demo: the baseline, C = 1"),
    (
        2,
        Stage::Staging,
        "demo: a weaker regularisation to try, C = 100",
    ),
];

/// One demo run: dataset file name, target, model, params.
type DemoRun = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Every demo run.
const DEMO_RUNS: &[DemoRun] = &[
    (
        "penguins.csv",
        "species",
        "logistic_regression",
        &[("C", "0.01")],
    ),
    (
        "penguins.csv",
        "species",
        "logistic_regression",
        &[("C", "1.0")],
    ),
    (
        "penguins.csv",
        "species",
        "logistic_regression",
        &[("C", "100")],
    ),
    ("penguins.csv", "species", "gaussian_nb", &[]),
    (
        "iris.csv",
        "species",
        "logistic_regression",
        &[("C", "1.0")],
    ),
    ("diabetes.csv", "progression", "linear_regression", &[]),
    ("diabetes.csv", "progression", "ridge", &[("alpha", "10")]),
    ("diabetes.csv", "progression", "lasso", &[("alpha", "1.0")]),
    (
        "diabetes.csv",
        "progression",
        "elastic_net",
        &[("alpha", "0.5"), ("l1_ratio", "0.5")],
    ),
];

/// Trains the demo runs from the sample files in `samples_dir` and registers two of them;
/// returns how many runs were made.
pub fn build_demo(store: &Store, samples_dir: &Path, ctx: &JobContext) -> Result<usize, JobError> {
    let mut run_ids = Vec::with_capacity(DEMO_RUNS.len());
    for (i, (file, target, model, params)) in DEMO_RUNS.iter().enumerate() {
        ctx.check_cancelled()?;
        ctx.progress(
            i as f32 / DEMO_RUNS.len() as f32,
            format!("{model} on {file}"),
        );
        let request = TrainRequest {
            data: samples_dir.join(file),
            test: None,
            test_size: 0.25,
            target: (*target).to_owned(),
            drop: Vec::new(),
            model: (*model).to_owned(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            experiment: DEMO_EXPERIMENT.to_owned(),
            seed: 42,
            cv: None,
            steps: Default::default(),
            schema: Default::default(),
        };
        run_ids.push(train(store, &request, ctx)?.run_id);
    }
    for (run, stage, reason) in DEMO_VERSIONS {
        let Some(run_id) = run_ids.get(*run) else {
            continue;
        };
        let version =
            registry::register_run(store, run_id, DEMO_MODEL, reason).map_err(JobError::failed)?;
        registry::promote(
            store,
            DEMO_MODEL,
            version.version,
            *stage,
            reason,
            false,
            true,
        )
        .map_err(JobError::failed)?;
    }
    Ok(DEMO_RUNS.len())
}
