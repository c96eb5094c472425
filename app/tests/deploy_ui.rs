//! The Deploy workspace through egui_kittest: a registered version is served on a real
//! loopback port from the GUI, a short simulation with an injected shift runs against it, and
//! the live charts fill: requests, latency by second, drift per feature with the shifted
//! column drifting, and the alert.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kiln::ui::panels::deploy::DRIFT_LABEL;
use kiln::ui::workspace::Workspace;
use kiln::ui::{AppOptions, KilnApp};

mod kittest;

use kittest::{registered_penguins, step_until};

fn deploy_harness(home: &std::path::Path) -> Harness<'static, KilnApp> {
    let size = egui::vec2(1280.0, 900.0);
    kittest::workspace_harness(home, Workspace::Deploy, AppOptions::default(), size)
}

#[test]
fn a_version_is_served_from_the_gui_and_a_short_simulation_fills_the_charts() {
    let home = tempfile::tempdir().expect("tempdir");
    registered_penguins(home.path());
    let mut harness = deploy_harness(home.path());
    step_until(&mut harness, "the servable versions", |h| {
        h.query_by_label("Start").is_some()
    });
    harness.get_by_label("Start").click();
    step_until(&mut harness, "the endpoint", |h| {
        h.state().deploy().endpoint_url().is_some()
    });
    let url = harness.state().deploy().endpoint_url().unwrap();
    harness.get_by_label_contains(&format!("{url}/invocations"));

    let settings = harness.state_mut().deploy_mut().traffic_settings_mut();
    settings.rps = 150.0;
    settings.duration = 2.5;
    // One sender draws the same rows on every run, so the verdicts are the same too.
    settings.concurrency = 1;
    harness.get_by_label(DRIFT_LABEL).focus();
    harness.run_steps(1);
    harness
        .get_by_label(DRIFT_LABEL)
        .type_text("shift:bill_length_mm=15");
    harness.run_steps(2);
    harness.get_by_label("Run traffic").click();
    step_until(&mut harness, "the traffic to end", |h| {
        h.state().deploy().report().is_some()
    });

    let report = harness.state().deploy().report().unwrap().as_ref().unwrap();
    assert!(report.requests > 300, "{} requests", report.requests);
    assert_eq!(report.errors, 0);
    let drifted: Vec<&str> = report
        .drift
        .columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| c.column.as_str())
        .collect();
    assert_eq!(drifted, ["bill_length_mm"]);
    let live = harness.state().deploy().live();
    assert!(live.seconds.len() >= 2, "{} seconds", live.seconds.len());
    assert!(!live.drift.is_empty(), "the sliding window was measured");
    // The labels are joined: a shift this large costs the model accuracy.
    assert!(
        (0.0..0.9).contains(&live.accuracy.unwrap()),
        "{:?}",
        live.accuracy
    );
    harness.get_by_label("Latency (ms) by second");
    harness.get_by_label("Drift score per feature (sliding window)");
    harness.get_by_label_contains("column_drift · bill_length_mm");
}

#[test]
fn a_production_endpoint_follows_a_promotion_rolls_back_with_one_click_and_runs_beside_another() {
    use kiln_core::registry;
    use kiln_core::store::{Stage, Store};
    let home = tempfile::tempdir().expect("tempdir");
    let run = registered_penguins(home.path());
    let store = Store::open(home.path()).unwrap();
    registry::register_run(&store, &run, "penguins", "the same, again").unwrap();
    registry::promote(
        &store,
        "penguins",
        1,
        Stage::Production,
        "first",
        false,
        true,
    )
    .unwrap();
    let mut harness = deploy_harness(home.path());
    step_until(&mut harness, "the servable versions", |h| {
        h.query_by_label("Start").is_some()
    });
    // The production holder is offered first.
    harness.get_by_label("Start").click();
    step_until(&mut harness, "the endpoint", |h| {
        h.state().deploy().served_version() == Some(1)
    });
    harness.get_by_label_contains("penguins@production (version 1) on");

    registry::promote(
        &store,
        "penguins",
        2,
        Stage::Production,
        "second",
        false,
        true,
    )
    .unwrap();
    step_until(&mut harness, "the hot swap", |h| {
        h.state().deploy().served_version() == Some(2)
    });
    harness.get_by_label("Roll back").click();
    step_until(&mut harness, "the rollback", |h| {
        h.state().deploy().served_version() == Some(1)
    });
    let log = store.audit_log(Some("penguins")).unwrap();
    assert!(
        log.iter()
            .any(|e| e.reason == "rollback: one-click rollback from the Deploy workspace")
    );
    assert_eq!(log.iter().filter(|e| e.action == "deploy").count(), 2);

    // A second environment runs beside the first: pick version 2 and start it.
    // The first combo box is the endpoint's (the second picks a candidate).
    harness
        .get_all_by_role(egui::accesskit::Role::ComboBox)
        .next()
        .unwrap()
        .click();
    harness.run_steps(2);
    harness.get_by_label("penguins:2").click();
    harness.run_steps(2);
    harness.get_by_label("Start").click();
    step_until(&mut harness, "the second endpoint", |h| {
        h.state().deploy().served_version() == Some(2)
    });
    harness.get_by_label_contains("penguins@production (version 1) on");
    harness.get_by_label("Watch").click();
    harness.run_steps(2);
    assert_eq!(harness.state().deploy().served_version(), Some(1));
}
