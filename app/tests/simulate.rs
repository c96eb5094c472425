//! `kiln simulate` through the binary: traffic over real HTTP to a model Kiln serves itself or
//! to a URL, drift found in the injected column and nowhere else, quiet on an unshifted
//! replay, flipped labels lowering live accuracy, and one-line errors for bad specs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
mod serve_support;

use common::{error, json, kiln, texts};
use serde_json::Value;
use serve_support::*;

/// `kiln simulate --target TARGET --data iris.csv --json` with one worker (so the drawn rows
/// are the same every run) and `extra` arguments.
fn simulate(target: &str, extra: &[&str]) -> Value {
    let data = repo("assets/iris.csv");
    let mut args = vec![
        "simulate",
        "--target",
        target,
        "--data",
        &data,
        "--rps",
        "250",
        "--duration",
        "1.2",
        "--concurrency",
        "1",
        "--json",
    ];
    args.extend_from_slice(extra);
    json(&kiln(&models().home, &args))
}

fn drifted_columns(report: &Value) -> Vec<String> {
    report["drift"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["drifted"].as_bool().unwrap())
        .map(|c| c["column"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_unshifted_replay_against_a_served_model_stays_quiet_and_scores_live_accuracy() {
    let report = simulate("iris@champion", &[]);
    let requests = report["requests"].as_u64().unwrap();
    assert!((250..=310).contains(&requests), "{report}");
    assert_eq!(report["errors"], 0);
    // Well under the 250 asked for: a busy CI machine answers more slowly.
    assert!(report["rps"].as_f64().unwrap() > 50.0, "{report}");
    let latency = &report["latency_ms"];
    assert!(latency["p50"].as_f64().unwrap() <= latency["p99"].as_f64().unwrap());
    assert!(report["accuracy"].as_f64().unwrap() > 0.9, "{report}");
    assert_eq!(report["drift"]["dataset_drift"], false);
    assert_eq!(drifted_columns(&report), Vec::<String>::new());
    // Iris has 150 reference rows: Evidently's small-data tests, KS for numbers.
    assert_eq!(texts(&report["drift"]["columns"], "method"), ["ks"; 4]);
    assert_eq!(report["alerts"], serde_json::json!([]));
}

#[test]
fn a_shift_injected_in_one_column_is_found_in_that_column_only() {
    let report = simulate("iris@champion", &["--drift", "shift:petal_length=3"]);
    assert_eq!(drifted_columns(&report), ["petal_length"], "{report}");
    assert_eq!(texts(&report["alerts"], "kind"), ["column_drift"]);
}

#[test]
fn flipped_labels_lower_live_accuracy() {
    let clean = simulate("iris@champion", &[]);
    let flipped = simulate("iris@champion", &["--drift", "flip:species=0.5"]);
    let (clean, flipped) = (
        clean["accuracy"].as_f64().unwrap(),
        flipped["accuracy"].as_f64().unwrap(),
    );
    assert!(flipped < clean - 0.3, "clean {clean}, flipped {flipped}");
}

#[test]
fn a_url_target_with_a_label_column_is_scored_too() {
    let server = start_default("iris:1");
    let report = simulate(&server.url(), &["--label", "species"]);
    assert_eq!(report["errors"], 0, "{report}");
    assert!(report["accuracy"].as_f64().unwrap() > 0.9, "{report}");
    // Every sent row reached the server.
    assert_eq!(
        server.metrics().requests_total(),
        report["requests"].as_u64().unwrap()
    );
}

#[test]
fn bad_specs_and_unusable_columns_are_one_line_errors() {
    let home = &models().home;
    let data = repo("assets/iris.csv");
    let run = |drift: &str| {
        error(&kiln(
            home,
            &[
                "simulate",
                "--target",
                "iris:1",
                "--data",
                &data,
                "--duration",
                "0.2",
                "--drift",
                drift,
            ],
        ))
    };
    let wobble = run("wobble:petal_length=1");
    assert!(
        wobble.starts_with("error: --drift 'wobble:petal_length=1': unknown kind"),
        "{wobble}"
    );
    let not_read = run("shift:colour=1");
    assert!(
        not_read.contains("'colour' is not a column the model reads"),
        "{not_read}"
    );
    let mix_number = run("mix:petal_length=a:1");
    assert!(
        mix_number.contains("is numeric; use shift or scale"),
        "{mix_number}"
    );
    let unknown = error(&kiln(
        home,
        &["simulate", "--target", "nosuch:1", "--data", &data],
    ));
    assert!(
        unknown.starts_with("error: cannot serve nosuch:1"),
        "{unknown}"
    );
}

#[test]
fn no_answering_endpoint_is_an_error_not_a_report() {
    let data = repo("assets/iris.csv");
    // A port nothing listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let message = error(&kiln(
        &models().home,
        &[
            "simulate",
            "--target",
            &url,
            "--data",
            &data,
            "--duration",
            "0.3",
        ],
    ));
    assert!(message.contains("no request reached"), "{message}");
}

/// `iris` v1 registered as `name` and promoted to Production, with `policy` as its policy.
fn production_model_with_policy(name: &str, policy: &str) {
    let home = &models().home;
    let ok = |output: std::process::Output| {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    ok(kiln(
        home,
        &["models", "register", &models().iris_run, "--name", name],
    ));
    let promote = [
        "models",
        "promote",
        name,
        "1",
        "--to",
        "production",
        "--reason",
        "start",
    ];
    ok(kiln(home, &promote));
    ok(common::set_policy(home, home, name, policy));
}

fn stage_of(name: &str, version: i64) -> String {
    let store = kiln_core::store::Store::open(&models().home).unwrap();
    store
        .model_version(name, version)
        .unwrap()
        .stage
        .to_string()
}

#[test]
fn drift_past_the_retraining_policy_retrains_stages_and_auto_promotes_the_new_version() {
    let name = "iris-retrain-auto";
    production_model_with_policy(
        name,
        "[gates]\naccuracy = \">= 0.5\"\n[retrain]\ndrift_share = 0.25\nauto_promote = true\n",
    );
    let report = simulate(
        &format!("{name}@production"),
        &["--drift", "shift:petal_length=3"],
    );
    let retrain = &report["retrain"];
    assert_eq!(retrain["trigger"]["kind"], "drift", "{report}");
    assert_eq!(retrain["version"], 2);
    assert_eq!(retrain["from_version"], 1);
    // Iris' 150 reference rows plus every answered request.
    assert_eq!(retrain["rows"][0], 150);
    assert_eq!(retrain["rows"][1], report["requests"]);
    assert_eq!(retrain["staged"]["promoted"], true);
    assert_eq!(retrain["promoted"]["stage"], "production");
    assert_eq!(stage_of(name, 2), "production");
    assert_eq!(stage_of(name, 1), "archived");
    let history = json(&kiln(
        &models().home,
        &["models", "history", name, "--json"],
    ));
    let actions = texts(&history["entries"], "action");
    assert!(actions.iter().any(|a| a == "retrain"), "{actions:?}");
}

#[test]
fn without_auto_promotion_the_retrained_version_waits_in_staging_and_quiet_traffic_retrains_nothing()
 {
    let name = "iris-retrain-manual";
    production_model_with_policy(name, "[retrain]\ndrift_share = 0.25\n");
    let quiet = simulate(&format!("{name}@production"), &[]);
    assert_eq!(quiet["retrain"], Value::Null, "{quiet}");
    let drifted = simulate(
        &format!("{name}@production"),
        &["--drift", "shift:petal_length=3"],
    );
    assert_eq!(
        drifted["retrain"]["staged"]["stage"], "staging",
        "{drifted}"
    );
    assert_eq!(drifted["retrain"]["promoted"], Value::Null);
    assert_eq!(stage_of(name, 2), "staging");
    assert_eq!(stage_of(name, 1), "production");
}
