//! `kiln train` and `kiln predict` as a script uses them: JSON out, a tracked run with its model,
//! reproducible with a seed, and one-line errors for bad requests.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{error, json, kiln};

fn asset(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn a_classifier_is_trained_tracked_and_predicts() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = asset("penguins.csv");
    let args = [
        "train",
        "--data",
        &penguins,
        "--target",
        "species",
        "--model",
        "logistic_regression",
        "--param",
        "C=0.5",
        "--experiment",
        "penguins",
        "--seed",
        "7",
        "--json",
    ];
    let run = json(&kiln(home.path(), &args));
    assert_eq!(run["model"], "logistic_regression");
    assert_eq!(run["experiment"], "penguins");
    assert_eq!(run["params"]["C"], "0.5");
    let accuracy = run["metrics"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.95, "accuracy {accuracy}");
    for metric in [
        "balanced_accuracy",
        "f1_macro",
        "f1_weighted",
        "roc_auc",
        "log_loss",
        "precision_macro",
    ] {
        assert!(run["metrics"][metric].is_number(), "{metric}");
    }

    // The same seed gives the same model and metrics.
    let again = json(&kiln(home.path(), &args));
    assert_eq!(again["metrics"], run["metrics"]);

    let run_id = run["run_id"].as_str().unwrap();
    let shown = json(&kiln(home.path(), &["runs", "show", run_id, "--json"]));
    assert_eq!(shown["status"], "finished");
    assert_eq!(shown["seed"], 7);
    let artifacts: Vec<&str> = shown["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(artifacts, vec!["evaluation.json", "model.json"]);
    assert!(shown["dataset_fingerprint"].as_str().unwrap().len() == 64);

    let predicted = kiln(
        home.path(),
        &["predict", run_id, "--data", &penguins, "--proba"],
    );
    assert!(
        predicted.status.success(),
        "{}",
        String::from_utf8_lossy(&predicted.stderr)
    );
    let text = String::from_utf8_lossy(&predicted.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("prediction,proba_Adelie,proba_Chinstrap,proba_Gentoo")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 344, "one row per input row");
    assert!(rows[0].starts_with("Adelie,"), "{}", rows[0]);
}

#[test]
fn a_regressor_is_trained_with_regression_metrics() {
    let home = tempfile::tempdir().expect("tempdir");
    let diabetes = asset("diabetes.csv");
    let run = json(&kiln(
        home.path(),
        &[
            "train",
            "--data",
            &diabetes,
            "--target",
            "progression",
            "--model",
            "ridge",
            "--json",
        ],
    ));
    for metric in ["r2", "rmse", "mae", "mse", "mape"] {
        assert!(run["metrics"][metric].is_number(), "{metric}");
    }
    assert!(run["metrics"]["r2"].as_f64().unwrap() > 0.3);
}

#[test]
fn bad_requests_get_one_line_errors() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = asset("penguins.csv");
    let cases: [(&[&str], &str); 5] = [
        (&["--target", "nope"], "unknown target column 'nope'"),
        (
            &["--target", "species", "--model", "xgboost"],
            "unknown model 'xgboost'",
        ),
        (
            &["--target", "species", "--param", "C=-2"],
            "C=-2: must be a positive number",
        ),
        (
            &["--target", "species", "--model", "ridge"],
            "regression needs numbers",
        ),
        (
            &["--target", "species", "--param", "alpha=1"],
            "has no parameter 'alpha'",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["train", "--data", penguins.as_str()];
        args.extend_from_slice(extra);
        let message = error(&kiln(home.path(), &args));
        assert!(message.starts_with("error: "), "{message}");
        assert!(message.contains(expected), "{extra:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}

#[test]
fn a_sweep_trains_every_combination_as_child_runs_and_names_the_best() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = asset("penguins.csv");
    let args = [
        "train",
        "--data",
        &penguins,
        "--target",
        "species",
        "--model",
        "logistic_regression",
        "--sweep",
        "C=0.001,0.1,10",
        "--sweep",
        "max_iter=50,100",
        "--metric",
        "f1_macro",
        "--json",
    ];
    let doc = json(&kiln(home.path(), &args));
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 6, "3 x 2 combinations");
    let best = doc["best_run_id"].as_str().expect("best");
    let score = |r: &serde_json::Value| r["metrics"]["f1_macro"].as_f64().unwrap();
    let top = runs.iter().map(score).fold(f64::MIN, f64::max);
    let best_run = runs
        .iter()
        .find(|r| r["run_id"] == best)
        .expect("best is a trial");
    assert_eq!(score(best_run), top);
    let sweep = json(&kiln(
        home.path(),
        &["runs", "show", doc["sweep_id"].as_str().unwrap(), "--json"],
    ));
    assert_eq!(sweep["status"], "finished");
    assert_eq!(sweep["tags"]["best_run_id"], best);
    let child = json(&kiln(home.path(), &["runs", "show", best, "--json"]));
    assert_eq!(child["parent_run_id"], doc["sweep_id"]);
}

#[test]
fn cross_validation_reports_mean_and_spread_and_logs_every_fold() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = asset("penguins.csv");
    let args = [
        "train", "--data", &penguins, "--target", "species", "--cv", "5", "--seed", "3", "--json",
    ];
    let run = json(&kiln(home.path(), &args));
    let metrics = &run["metrics"];
    assert!(metrics["accuracy"].as_f64().unwrap() > 0.9);
    assert!(metrics["accuracy_std"].as_f64().unwrap() >= 0.0);
    assert_eq!(run["params"]["cv"], "5");
    let shown = json(&kiln(
        home.path(),
        &["runs", "show", run["run_id"].as_str().unwrap(), "--json"],
    ));
    assert!(
        shown["series"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "fold_accuracy")
    );
    assert_eq!(
        json(&kiln(home.path(), &args))["metrics"],
        run["metrics"],
        "same seed, same folds"
    );

    let too_many = kiln(
        home.path(),
        &[
            "train", "--data", &penguins, "--target", "species", "--cv", "1000",
        ],
    );
    assert!(
        error(&too_many).contains("fewer than the 1000 folds")
            || error(&too_many).contains("needs at least 1000 rows")
    );
}

#[test]
fn two_cross_validated_runs_are_compared_with_a_corrected_t_test() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = asset("penguins.csv");
    let train = |model: &str| {
        let args = [
            "train", "--data", &penguins, "--target", "species", "--model", model, "--cv", "5",
            "--json",
        ];
        json(&kiln(home.path(), &args))["run_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (a, b) = (train("logistic_regression"), train("gaussian_nb"));
    let doc = json(&kiln(home.path(), &["runs", "compare", &a, &b, "--json"]));
    assert!(
        doc["differing_params"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "model")
    );
    assert_eq!(doc["metrics"]["accuracy"].as_array().unwrap().len(), 2);
    let test = doc["t_tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["metric"] == "accuracy")
        .expect("a t-test on accuracy");
    assert_eq!(test["folds"], 5);
    let p = test["p_value"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
}

#[test]
fn a_random_search_draws_the_asked_number_of_trials_from_ranges() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = asset("penguins.csv");
    let args = [
        "train",
        "--data",
        &penguins,
        "--target",
        "species",
        "--model",
        "logistic_regression",
        "--sweep",
        "C=0.001:100:log",
        "--trials",
        "5",
        "--json",
    ];
    let doc = json(&kiln(home.path(), &args));
    let runs = doc["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 5);
    for run in runs {
        let c: f64 = run["params"]["C"].as_str().unwrap().parse().unwrap();
        assert!((0.001..=100.0).contains(&c), "{c}");
    }
    let bad = kiln(
        home.path(),
        &[
            "train", "--data", &penguins, "--target", "species", "--sweep", "C=5:1",
        ],
    );
    assert!(error(&bad).contains("lower bound"), "{}", error(&bad));
}

#[test]
fn preprocessing_can_be_chosen_per_column() {
    let home = tempfile::tempdir().expect("tempdir");
    let penguins = asset("penguins.csv");
    let run = json(&kiln(
        home.path(),
        &[
            "train",
            "--data",
            &penguins,
            "--target",
            "species",
            "--step",
            "bill_length_mm=mean,noscale",
            "--step",
            "island=drop",
            "--json",
        ],
    ));
    let shown = json(&kiln(
        home.path(),
        &["runs", "show", run["run_id"].as_str().unwrap(), "--json"],
    ));
    assert_eq!(shown["status"], "finished");
    let bad = kiln(
        home.path(),
        &[
            "train",
            "--data",
            &penguins,
            "--target",
            "species",
            "--step",
            "island=square",
        ],
    );
    assert!(
        error(&bad).contains("unknown step 'square'"),
        "{}",
        error(&bad)
    );
}
