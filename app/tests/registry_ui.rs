//! The Registry workspace through egui_kittest: a trained and registered model is promoted to
//! staging and then production through the dialog, each with a reason, and the timeline and
//! the stage badge show it; its gate policy is edited, its promotion approved by a second
//! person, its timeline exported, and its lineage links to the run and back.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kiln::ui::file_picker::FixedFilePicker;
use kiln::ui::panels::registry::{POLICY_LABEL, POLICY_REASON_LABEL};
use kiln::ui::workspace::Workspace;
use kiln::ui::{AppOptions, KilnApp};
use kiln_core::registry;
use kiln_core::store::{Actor, Stage, Store};

mod kittest;

use kittest::{registered_penguins, step_until, type_into};

const REASON_LABEL: &str = "Reason (required, recorded in the audit trail)";

fn registry_harness(home: &std::path::Path) -> Harness<'static, KilnApp> {
    registry_harness_with(home, AppOptions::default())
}

fn registry_harness_with(home: &std::path::Path, options: AppOptions) -> Harness<'static, KilnApp> {
    kittest::workspace_harness(
        home,
        Workspace::Registry,
        options,
        egui::vec2(1280.0, 800.0),
    )
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
    type_into(harness, REASON_LABEL, reason);
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
    // The row's badge and the lineage's model-version node.
    assert_eq!(harness.get_all_by_label("none").count(), 2);

    change_stage(
        &mut harness,
        "Staging",
        "passed the offline review",
        "none -> staging",
    );
    assert_eq!(harness.get_all_by_label("staging").count(), 2);
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
    assert_eq!(harness.get_all_by_label("production").count(), 2);
    assert!(
        harness.query_by_label("staging").is_none(),
        "one stage badge per place"
    );
    // The lineage's node names the version; one model's timeline names versions by number
    // only (register, then gates and stage twice).
    assert_eq!(harness.get_all_by_label("penguins:1").count(), 1);
    assert_eq!(harness.get_all_by_label("gates").count(), 2);
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

#[test]
fn the_gate_policy_is_validated_at_its_line_and_column_and_saved_with_an_audit_entry() {
    let home = tempfile::tempdir().expect("tempdir");
    registered_penguins(home.path());
    let mut harness = registry_harness(home.path());
    step_until(&mut harness, "the registry to load", |h| {
        h.query_by_label("Gate policy").is_some()
    });
    harness.get_by_label("Gate policy").click();
    harness.run_steps(2);
    type_into(&mut harness, POLICY_LABEL, "[gates]\naccuracy = 0.9");
    harness.get_by_label("Validate").click();
    harness.run_steps(2);
    harness.get_by_label_contains("line 2, column 1: accuracy = 0.9: a metric gate is a string");
    harness.get_by_label("Nothing was saved.");

    // Save parses first: the same error, and the store keeps its (empty) policy.
    type_into(&mut harness, POLICY_REASON_LABEL, "accuracy matters");
    harness.get_by_label("Save policy").click();
    harness.run_steps(3);
    harness.get_by_label("Nothing was saved.");
    let store = harness.state().store().expect("store").clone();
    assert_eq!(store.model_policy("penguins").expect("policy"), "");

    // Fixed: "0.9" becomes the threshold ">= 0.5".
    harness.get_by_label(POLICY_LABEL).focus();
    harness.run_steps(1);
    for _ in 0.."0.9".len() {
        harness.key_press(egui::Key::Backspace);
    }
    harness.get_by_label(POLICY_LABEL).type_text("\">= 0.5\"");
    harness.run_steps(2);
    harness.get_by_label("Validate").click();
    harness.run_steps(2);
    harness.get_by_label("Valid: accuracy >= 0.5");
    harness.get_by_label("Save policy").click();
    step_until(&mut harness, "the policy to be saved", |h| {
        h.query_by_label_contains("Gate policy of penguins saved")
            .is_some()
    });
    assert_eq!(
        store.model_policy("penguins").expect("policy"),
        "[gates]\naccuracy = \">= 0.5\""
    );
    let last = store
        .audit_log(Some("penguins"))
        .expect("log")
        .pop()
        .expect("entry");
    assert_eq!(
        (last.action.as_str(), last.reason.as_str()),
        ("policy", "accuracy matters")
    );
    harness.get_by_label("Versions").click();
    step_until(&mut harness, "the timeline", |h| {
        h.query_by_label("gate policy replaced").is_some()
    });
}

#[test]
fn a_second_user_approves_a_requested_promotion_from_the_gui() {
    let home = tempfile::tempdir().expect("tempdir");
    registered_penguins(home.path());
    // Bob, another OS user, asks for production; the policy wants a second person.
    let bob = Store::open(home.path())
        .expect("store")
        .with_actor(Actor::fixed("kiln-test-bob", "2026-01-15T10:00:00Z", 1000).expect("actor"));
    registry::set_policy(
        &bob,
        "penguins",
        "[gates]\nrequire_approval = true\n",
        "four eyes",
    )
    .expect("policy");
    let asked = registry::promote(
        &bob,
        "penguins",
        1,
        Stage::Production,
        "ship it",
        false,
        true,
    )
    .expect("asked");
    assert!(!asked.promoted, "nobody approved yet");

    let mut harness = registry_harness(home.path());
    step_until(&mut harness, "the approvals", |h| {
        h.query_by_label_contains("requested by kiln-test-bob")
            .is_some()
    });
    // Staging: not asked for; production: asked for by bob, approved by nobody yet.
    assert_eq!(harness.get_all_by_label("no approval yet").count(), 2);
    harness.get_by_label("Approve for production...").click();
    step_until(&mut harness, "the dialog", |h| {
        h.query_by_label("Approve penguins:1").is_some()
    });
    type_into(&mut harness, REASON_LABEL, "read the model card");
    harness.get_by_label("Confirm").click();
    step_until(&mut harness, "the approval", |h| {
        h.query_by_label("approved for production").is_some()
    });
    let me = harness.state().store().expect("store").actor().user();
    harness.get_by_label_contains(&format!("approved by {me} at "));

    // Bob promotes again: approved by someone else, the gate passes.
    let shipped = registry::promote(
        &bob,
        "penguins",
        1,
        Stage::Production,
        "approved",
        false,
        true,
    )
    .expect("promoted");
    assert!(shipped.promoted, "{:?}", shipped.gates);
}

#[test]
fn the_timeline_exports_to_csv_and_json_where_the_user_chose() {
    let home = tempfile::tempdir().expect("tempdir");
    registered_penguins(home.path());
    let out = tempfile::tempdir().expect("tempdir");
    let chosen = out.path().join("timeline.csv");
    let mut harness = registry_harness_with(
        home.path(),
        AppOptions {
            picker: Box::new(FixedFilePicker(Some(chosen.clone()))),
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the registry to load", |h| {
        h.query_by_label("Export CSV...").is_some()
    });
    harness.get_by_label("Export CSV...").click();
    step_until(&mut harness, "the CSV", |h| {
        h.query_by_label_contains("Exported 1 audit entries")
            .is_some()
    });
    let csv = std::fs::read_to_string(&chosen).expect("csv written");
    assert!(
        csv.starts_with("seq,at,user,model,version,action,reason,before,after,prev_hash,hash\n")
    );
    assert!(csv.contains(",penguins,1,register,"), "{csv}");
    harness.get_by_label("Export JSON...").click();
    step_until(&mut harness, "the JSON", |h| {
        h.query_by_label_contains("timeline.json").is_some()
    });
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("timeline.json")).expect("json"),
    )
    .expect("valid JSON");
    assert_eq!(json["entries"][0]["action"], "register");
}

#[test]
fn the_lineage_opens_the_run_and_the_run_links_back_to_its_version() {
    let home = tempfile::tempdir().expect("tempdir");
    let run_id = registered_penguins(home.path());
    let store = Store::open(home.path()).expect("store");
    let run = store.run(&run_id).expect("run");
    let mut harness = registry_harness(home.path());
    step_until(&mut harness, "the lineage", |h| {
        h.query_by_label("not deployed").is_some()
    });
    let fingerprint = run.dataset_fingerprint.expect("fingerprint");
    harness.get_by_label(&format!("sha256 {}...", &fingerprint[..10]));
    harness.get_by_label(&run.name).click();
    step_until(&mut harness, "the run's detail", |h| {
        h.query_by_label("Registered versions (1)").is_some()
    });
    assert_eq!(harness.state().settings().workspace, Workspace::Experiments);
    harness.get_by_label("penguins:1").click();
    step_until(&mut harness, "the version in the registry", |h| {
        h.state().registry().shown_version() == Some(1)
    });
    assert_eq!(harness.state().settings().workspace, Workspace::Registry);
    harness.get_by_label("Version 1 of penguins: lineage");
}
