//! The registry as a specification: gates decide, overrides are recorded, stages hold one
//! version, and any edit of the audit log is found.

use super::*;
use crate::store::{NewModelVersion, Stage, Store};

fn store_with_versions(accuracies: &[f64]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    for accuracy in accuracies {
        store
            .register_model_version(
                &NewModelVersion {
                    name: "churn".into(),
                    artifact_sha256: "00".into(),
                    signature: serde_json::json!({}),
                    metrics: serde_json::json!({ "accuracy": accuracy }),
                    ..NewModelVersion::default()
                },
                "test",
            )
            .expect("register");
    }
    (dir, store)
}

#[test]
fn a_failing_gate_blocks_the_promotion_and_an_override_is_recorded() {
    let (_dir, store) = store_with_versions(&[0.85]);
    store
        .set_model_policy("churn", "[gates]\naccuracy = \">= 0.9\"\n", "policy")
        .expect("policy");
    let blocked = promote(&store, "churn", 1, Stage::Staging, "try", false, true).expect("runs");
    assert!(!blocked.promoted);
    assert!(!blocked.gates[0].passed);
    assert_eq!(
        store.model_version("churn", 1).expect("v1").stage,
        Stage::None
    );
    let forced = promote(
        &store,
        "churn",
        1,
        Stage::Staging,
        "needed for a demo",
        true,
        true,
    )
    .expect("override");
    assert!(forced.promoted && forced.overridden);
    assert_eq!(
        store.model_version("churn", 1).expect("v1").stage,
        Stage::Staging
    );
    let actions: Vec<String> = store
        .audit_log(Some("churn"))
        .expect("log")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["register", "policy", "gates", "gates", "override", "stage"]
    );
}

#[test]
fn a_promotion_needs_a_reason() {
    let (_dir, store) = store_with_versions(&[0.95]);
    assert!(promote(&store, "churn", 1, Stage::Staging, " ", false, true).is_err());
}

#[test]
fn production_holds_one_version_and_the_previous_one_is_archived() {
    let (_dir, store) = store_with_versions(&[0.91, 0.93]);
    promote(&store, "churn", 1, Stage::Production, "first", false, true).expect("v1");
    promote(&store, "churn", 2, Stage::Production, "better", false, true).expect("v2");
    let versions = store.model_versions("churn").expect("versions");
    assert_eq!(versions[0].stage, Stage::Archived);
    assert_eq!(versions[1].stage, Stage::Production);
    assert_eq!(
        resolve(&store, "churn@production")
            .expect("ref")
            .map(|v| v.version),
        Some(2)
    );
}

#[test]
fn an_alias_points_at_one_version_and_moves() {
    let (_dir, store) = store_with_versions(&[0.9, 0.9]);
    store
        .set_alias("churn", 1, "champion", "first")
        .expect("alias");
    store
        .set_alias("churn", 2, "champion", "moved")
        .expect("alias");
    let versions = store.model_versions("churn").expect("versions");
    assert!(versions[0].aliases.is_empty());
    assert_eq!(versions[1].aliases, vec!["champion"]);
    assert!(store.set_alias("churn", 1, "production", "x").is_err());
    assert_eq!(
        resolve(&store, "churn@champion")
            .expect("ref")
            .map(|v| v.version),
        Some(2)
    );
    assert_eq!(
        resolve(&store, "churn:1").expect("ref").map(|v| v.version),
        Some(1)
    );
}

#[test]
fn an_altered_audit_entry_is_found_and_named() {
    let (dir, store) = store_with_versions(&[0.9]);
    promote(&store, "churn", 1, Stage::Staging, "ok", false, true).expect("promote");
    assert!(verify_audit(&store).expect("verify").is_ok());
    // Someone edits the log with sqlite3, triggers and all.
    let conn = rusqlite::Connection::open(dir.path().join(crate::store::DB_FILE)).expect("db");
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 2;",
    )
    .expect("tamper");
    let broken = verify_audit(&store).expect("verify").expect_err("tampered");
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("altered"));
}

#[test]
fn a_removed_audit_entry_is_found() {
    let (dir, store) = store_with_versions(&[0.9, 0.9]);
    let conn = rusqlite::Connection::open(dir.path().join(crate::store::DB_FILE)).expect("db");
    conn.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 1;")
        .expect("tamper");
    let broken = verify_audit(&store).expect("verify").expect_err("tampered");
    assert_eq!(broken.seq, 1);
}

#[test]
fn the_audit_log_refuses_updates_through_sql() {
    let (dir, _store) = store_with_versions(&[0.9]);
    let conn = rusqlite::Connection::open(dir.path().join(crate::store::DB_FILE)).expect("db");
    assert!(
        conn.execute("UPDATE audit_log SET reason = 'x'", [])
            .is_err()
    );
}

#[test]
fn references_parse_as_the_cli_documents_them() {
    assert_eq!(
        ModelRef::parse("churn@Production").expect("ref"),
        ModelRef::Stage("churn".into(), Stage::Production)
    );
    assert_eq!(
        ModelRef::parse("churn@champion").expect("ref"),
        ModelRef::Alias("churn".into(), "champion".into())
    );
    assert_eq!(
        ModelRef::parse("churn:3").expect("ref"),
        ModelRef::Version("churn".into(), 3)
    );
    assert_eq!(
        ModelRef::parse("0123abcd").expect("ref"),
        ModelRef::Run("0123abcd".into())
    );
    assert!(ModelRef::parse("churn:x").is_err());
}

#[test]
fn a_bad_policy_is_an_error_naming_what_is_wrong() {
    assert!(Policy::parse("[gates]\naccuracy = \"at least 0.9\"\n").is_err());
    let error = Policy::parse("[gatez]\n").expect_err("unknown table");
    assert!(error.to_string().contains("gatez"), "{error}");
}

#[test]
fn the_approval_gate_needs_someone_other_than_the_promoter() {
    let (_dir, store) = store_with_versions(&[0.9]);
    store
        .set_model_policy("churn", "[gates]\nrequire_approval = true\n", "policy")
        .expect("policy");
    approve(&store, "churn", 1, Stage::Production, "looks good").expect("approve");
    let own = promote(&store, "churn", 1, Stage::Production, "ship", false, true).expect("runs");
    assert!(!own.promoted, "approving your own promotion does not count");
    assert!(own.gates[0].detail.contains("only approved by"));
}
