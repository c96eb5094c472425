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

#[test]
fn a_policy_is_saved_only_when_it_parses_and_the_change_is_audited() {
    let (_dir, store) = store_with_versions(&[0.9]);
    let error = set_policy(&store, "churn", "[gates]\naccuracy = 0.9\n", "stricter")
        .expect_err("not a threshold");
    assert!(error.to_string().contains("line 2, column 1"), "{error}");
    assert_eq!(store.model_policy("churn").expect("policy"), "");
    assert!(
        set_policy(&store, "churn", "[gates]\n", " ").is_err(),
        "a reason is required"
    );
    let policy = set_policy(
        &store,
        "churn",
        "[gates]\nrequire_approval = true\n",
        "four eyes",
    )
    .expect("saved");
    assert!(policy.gates.require_approval);
    let last = store
        .audit_log(Some("churn"))
        .expect("log")
        .pop()
        .expect("entry");
    assert_eq!(
        (last.action.as_str(), last.reason.as_str()),
        ("policy", "four eyes")
    );
    assert_eq!(last.after["policy"], "[gates]\nrequire_approval = true\n");
}

#[test]
fn approvals_show_who_requested_and_who_approved() {
    let (dir, _store) = store_with_versions(&[0.9]);
    let as_user = |user: &str| {
        Store::open(dir.path()).expect("store").with_actor(
            crate::store::Actor::fixed(user, "2026-01-15T10:00:00Z", 1000).expect("actor"),
        )
    };
    let (ana, bob) = (as_user("ana"), as_user("bob"));
    set_policy(
        &ana,
        "churn",
        "[gates]\nrequire_approval = true\n",
        "four eyes",
    )
    .expect("policy");
    let asked = promote(&ana, "churn", 1, Stage::Production, "ship", false, true).expect("runs");
    assert!(!asked.promoted, "nobody approved yet");
    approve(&bob, "churn", 1, Stage::Production, "reviewed").expect("approve");
    let version = ana.model_version("churn", 1).expect("v1");
    let states = approvals(&ana, &version).expect("approvals");
    let production = states
        .iter()
        .find(|s| s.stage == Stage::Production)
        .expect("prod");
    assert_eq!(
        production.requested.as_ref().map(|s| s.user.as_str()),
        Some("ana")
    );
    assert_eq!(production.approvals[0].user, "bob");
    assert_eq!(production.approvals[0].reason, "reviewed");
    assert!(states[0].requested.is_none() && states[0].approvals.is_empty());
    let shipped = promote(&ana, "churn", 1, Stage::Production, "ship", false, true).expect("runs");
    assert!(shipped.promoted, "{:?}", shipped.gates);
    assert_eq!(verify_audit(&ana).expect("read"), Ok(6));
}

#[test]
fn a_fixed_actor_makes_the_same_chain_every_time() {
    let hashes = || {
        let (dir, _) = store_with_versions(&[]);
        let store = Store::open(dir.path()).expect("store").with_actor(
            crate::store::Actor::fixed("ana", "2026-01-15T10:00:00Z", 60_000).expect("actor"),
        );
        store
            .register_model_version(
                &NewModelVersion {
                    name: "churn".into(),
                    artifact_sha256: "00".into(),
                    ..NewModelVersion::default()
                },
                "fixture",
            )
            .expect("register");
        store
            .set_alias("churn", 1, "champion", "best")
            .expect("alias");
        let log = store.audit_log(None).expect("log");
        assert_eq!(log[1].at, "2026-01-15T10:03:00.000Z");
        assert_eq!(
            store.model_version("churn", 1).expect("v1").created_by,
            "ana"
        );
        log.into_iter().map(|e| e.hash).collect::<Vec<_>>()
    };
    assert_eq!(hashes(), hashes());
}

#[test]
fn the_timeline_exports_as_csv_and_as_the_history_json() {
    let (dir, store) = store_with_versions(&[0.9, 0.8]);
    store
        .set_alias("churn", 2, "challenger", "try, \"carefully\"")
        .expect("alias");
    let csv_path = dir.path().join("audit.csv");
    assert_eq!(
        export_audit(&store, Some("churn"), AuditFormat::Csv, &csv_path).expect("csv"),
        3
    );
    let csv = std::fs::read_to_string(&csv_path).expect("read");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("seq,at,user,model,version,action,reason,before,after,prev_hash,hash")
    );
    assert!(csv.contains("\"try, \"\"carefully\"\"\""), "{csv}");
    assert_eq!(csv.lines().count(), 4);
    let json_path = dir.path().join("audit.json");
    export_audit(&store, None, AuditFormat::Json, &json_path).expect("json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("read")).expect("json");
    assert_eq!(json, audit_json(&store.audit_log(None).expect("log")));
    assert_eq!(json["entries"][2]["action"], "alias");
    assert!(export_audit(&store, Some("nope"), AuditFormat::Csv, &csv_path).is_err());
}

#[test]
fn lineage_names_data_and_run_and_says_it_is_not_deployed() {
    let (_dir, store) = store_with_versions(&[]);
    store
        .register_model_version(
            &NewModelVersion {
                name: "churn".into(),
                dataset_fingerprint: Some("ab12".into()),
                artifact_sha256: "00".into(),
                ..NewModelVersion::default()
            },
            "test",
        )
        .expect("register");
    let version = store.model_version("churn", 1).expect("v1");
    let lineage = lineage(&store, &version).expect("lineage");
    let dataset = lineage.dataset.expect("fingerprint known");
    assert_eq!((dataset.name, dataset.fingerprint.as_str()), (None, "ab12"));
    assert!(lineage.run.is_none(), "an imported model has no run");
    assert!(lineage.deployment.is_none());
    assert!(store.versions_of_run("other").expect("versions").is_empty());
}
