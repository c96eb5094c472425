//! The Registry workspace through egui_kittest: a trained and registered model is promoted to
//! staging and then production through the dialog, each with a reason, and the timeline and
//! the stage badge show it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kiln::ui::workspace::Workspace;
use kiln::ui::{AppOptions, KilnApp};
use kiln_core::jobs::JobRunner;
use kiln_core::store::{Stage, Store};
use kiln_core::train::TrainRequest;

mod kittest;

const REASON_LABEL: &str = "Reason (required, recorded in the audit trail)";

/// A store in `home` with one model, `penguins`, registered from a trained run.
fn registered_penguins(home: &std::path::Path) -> String {
    let store = Store::open(home).expect("store");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/penguins.csv");
    let request = TrainRequest {
        data,
        test: None,
        test_size: 0.25,
        target: "species".into(),
        drop: Vec::new(),
        model: "logistic_regression".into(),
        params: Default::default(),
        experiment: "Default".into(),
        seed: 42,
        cv: None,
        steps: Default::default(),
        schema: Default::default(),
    };
    let train_store = store.clone();
    let outcome = JobRunner::new()
        .spawn("train", move |ctx| {
            kiln_core::train::train(&train_store, &request, ctx)
        })
        .wait()
        .expect("trained");
    kiln_core::registry::register_run(&store, &outcome.run_id, "penguins", "penguin species")
        .expect("registered");
    outcome.run_id
}

/// Steps until `done` holds (jobs run on real threads), failing after 20 s.
fn step_until(
    harness: &mut Harness<'_, KilnApp>,
    what: &str,
    done: impl Fn(&Harness<'_, KilnApp>) -> bool,
) {
    let start = Instant::now();
    while !(done(harness) && harness.state().jobs().running_count() == 0) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    harness.run_steps(2);
}

fn registry_harness(home: &std::path::Path) -> Harness<'static, KilnApp> {
    let mut harness = kittest::app_harness(
        AppOptions {
            store_home: Some(home.to_path_buf()),
            workspace: Some(Workspace::Registry),
            ..AppOptions::default()
        },
        egui::vec2(1280.0, 800.0),
    );
    harness.run_steps(1);
    harness
}

/// Opens the stage dialog of the only version, chooses `stage`, waits for its gate results,
/// gives `reason` and confirms; waits until the timeline shows `change`.
fn change_stage(harness: &mut Harness<'_, KilnApp>, stage: &str, reason: &str, change: &str) {
    harness.get_by_label("Stage…").click();
    step_until(harness, "the dialog", |h| h.query_by_label(stage).is_some());
    harness.get_by_label(stage).click();
    step_until(harness, "the gate results", |h| {
        h.query_by_label_contains("policy sets no gates").is_some()
    });
    harness.get_by_label(REASON_LABEL).focus();
    harness.run_steps(1);
    harness.get_by_label(REASON_LABEL).type_text(reason);
    harness.run_steps(2);
    harness.get_by_label("Confirm").click();
    step_until(harness, change, |h| h.query_by_label(change).is_some());
}

#[test]
fn a_registered_version_is_promoted_to_staging_then_production_with_reasons() {
    let home = tempfile::tempdir().expect("tempdir");
    let run_id = registered_penguins(home.path());
    let mut harness = registry_harness(home.path());
    step_until(&mut harness, "the registry to load", |h| {
        h.query_by_label("penguins").is_some()
    });
    harness.get_by_label("penguins").click();
    harness.run_steps(2);
    harness.get_by_label("Model penguins");
    // The version's lineage and metrics are on its row.
    harness.get_by_label(&run_id.chars().take(12).collect::<String>());
    harness.get_by_label_contains("accuracy 0.");
    harness.get_by_label("none");

    change_stage(
        &mut harness,
        "Staging",
        "passed the offline review",
        "none -> staging",
    );
    harness.get_by_label("staging");
    change_stage(
        &mut harness,
        "Production",
        "a week in staging without alerts",
        "staging -> production",
    );

    // Both stage changes are in the timeline, with their reasons, and the badge says
    // production.
    harness.get_by_label("none -> staging");
    harness.get_by_label("staging -> production");
    // Each reason is on the gate check and on the stage change.
    assert_eq!(
        harness
            .get_all_by_label("passed the offline review")
            .count(),
        2
    );
    assert_eq!(
        harness
            .get_all_by_label("a week in staging without alerts")
            .count(),
        2
    );
    harness.get_by_label("production");
    assert!(
        harness.query_by_label("staging").is_none(),
        "one stage badge"
    );
    // register, then gates and stage twice.
    assert_eq!(harness.get_all_by_label("penguins:1").count(), 5);
    let store = harness.state().store().expect("store");
    assert_eq!(
        store.model_version("penguins", 1).expect("v1").stage,
        Stage::Production
    );

    harness.get_by_label("Verify audit trail").click();
    step_until(&mut harness, "the audit check", |h| {
        h.query_by_label_contains("Audit trail intact").is_some()
    });
}

#[test]
fn an_empty_registry_says_how_to_register_a_model() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = registry_harness(home.path());
    step_until(&mut harness, "the registry to load", |h| {
        h.query_by_label_contains("No model is registered")
            .is_some()
    });
    harness.get_by_label("kiln models register RUN_ID --name NAME");
}

#[test]
fn confirming_needs_a_reason_and_a_failing_gate_needs_the_override() {
    let home = tempfile::tempdir().expect("tempdir");
    registered_penguins(home.path());
    {
        let store = Store::open(home.path()).expect("store");
        store
            .set_model_policy("penguins", "[gates]\naccuracy = \">= 1.1\"\n", "strict")
            .expect("policy");
    }
    let mut harness = registry_harness(home.path());
    step_until(&mut harness, "the registry to load", |h| {
        h.query_by_label("Stage…").is_some()
    });
    harness.get_by_label("Stage…").click();
    step_until(&mut harness, "the gate results", |h| {
        h.query_by_label("FAIL").is_some()
    });
    harness.get_by_label(REASON_LABEL).focus();
    harness.run_steps(1);
    harness
        .get_by_label(REASON_LABEL)
        .type_text("demo tomorrow");
    harness.run_steps(2);
    // Gates fail: Confirm waits for the explicit override.
    harness.get_by_label("Confirm").click();
    harness.run_steps(3);
    assert!(harness.query_by_label("none -> staging").is_none());
    harness.get_by_label("Override failing gates").click();
    harness.run_steps(2);
    harness.get_by_label("Confirm").click();
    step_until(&mut harness, "the override", |h| {
        h.query_by_label("none -> staging").is_some()
    });
    harness.get_by_label_contains("failing gates overridden");
    harness.get_by_label_contains("overrode accuracy");
}
