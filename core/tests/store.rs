//! The store keeps everything a user logs, survives old schemas and damaged files, and says
//! clearly what is wrong when it cannot open.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use kiln_core::store::{
    NewDatasetVersion, NewRun, RunQuery, RunStatus, Store, StoreError, schema, sha256_hex,
};

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open store");
    (dir, store)
}

/// A run in `experiment` with nothing else set.
fn new_run(experiment: &str) -> NewRun {
    NewRun {
        experiment: experiment.into(),
        ..NewRun::default()
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_new_store_has_the_latest_schema() {
    let (_dir, store) = fresh();
    assert_eq!(
        store.schema_version().expect("version"),
        schema::latest_version()
    );
    assert!(store.home().join("artifacts").is_dir());
}

#[test]
fn experiments_are_created_once_by_name() {
    let (_dir, store) = fresh();
    let a = store.ensure_experiment("churn").expect("create");
    let b = store.ensure_experiment("churn").expect("get");
    assert_eq!(a, b);
    assert_eq!(store.experiments().expect("list").len(), 1);
    assert!(matches!(
        store.ensure_experiment("  "),
        Err(StoreError::Invalid { .. })
    ));
}

#[test]
fn a_run_round_trips_with_everything_logged_to_it() {
    let (_dir, store) = fresh();
    let new = NewRun {
        experiment: "churn".into(),
        name: Some("baseline".into()),
        seed: Some(7),
        dataset_fingerprint: Some("ab".repeat(32)),
        git_commit: Some("c".repeat(40)),
        params: pairs(&[("C", "1.0"), ("max_iter", "100")]),
        tags: pairs(&[("owner", "ada")]),
        ..NewRun::default()
    };
    let run = store.start_run(&new).expect("start");
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.id.len(), 32);
    assert_eq!(run.kiln_version, kiln_core::KILN_VERSION);

    store
        .log_params(&run.id, &pairs(&[("penalty", "l2")]))
        .expect("params");
    store
        .log_metrics(&run.id, &[("accuracy".into(), 0.91)])
        .expect("metrics");
    store
        .log_metric_steps(&run.id, "loss", &[(0, 0.9), (1, 0.5), (2, 0.25)])
        .expect("steps");
    store
        .set_tags(&run.id, &pairs(&[("stage", "dev")]))
        .expect("tags");
    let artifact = store
        .log_artifact(&run.id, "model.json", b"{\"w\": [1, 2]}")
        .expect("artifact");
    store
        .finish_run(&run.id, RunStatus::Finished, None)
        .expect("finish");

    let detail = store.run_detail(&run.id).expect("detail");
    assert_eq!(detail.run.name, "baseline");
    assert_eq!(detail.run.status, RunStatus::Finished);
    assert_eq!(detail.run.seed, Some(7));
    assert_eq!(
        detail.run.git_commit.as_deref(),
        Some("c".repeat(40).as_str())
    );
    assert!(detail.run.end_time.is_some());
    assert!(detail.run.duration_s().expect("duration") >= 0.0);
    assert_eq!(detail.params["C"], "1.0");
    assert_eq!(detail.params["penalty"], "l2");
    assert_eq!(detail.metrics["accuracy"], 0.91);
    assert_eq!(
        detail.metrics["loss"], 0.25,
        "the last step is the scalar value"
    );
    assert_eq!(detail.tags["owner"], "ada");
    assert_eq!(detail.tags["stage"], "dev");
    assert_eq!(detail.series, vec!["loss".to_string()]);
    assert_eq!(detail.artifacts, vec![artifact.clone()]);
    let history = store.metric_history(&run.id, "loss").expect("history");
    let steps: Vec<_> = history.iter().map(|p| (p.step, p.value)).collect();
    assert_eq!(steps, vec![(0, 0.9), (1, 0.5), (2, 0.25)]);
    assert_eq!(
        store.read_artifact(&artifact.sha256).expect("read"),
        b"{\"w\": [1, 2]}"
    );
}

#[test]
fn a_failed_run_keeps_its_error() {
    let (_dir, store) = fresh();
    let run = store.start_run(&new_run("e")).expect("start");
    store
        .finish_run(
            &run.id,
            RunStatus::Failed,
            Some("target column 'y' not found"),
        )
        .expect("finish");
    let run = store.run(&run.id).expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.error.as_deref(), Some("target column 'y' not found"));
}

#[test]
fn runs_can_be_renamed_annotated_deleted_and_restored() {
    let (_dir, store) = fresh();
    let new = new_run("e");
    let run = store
        .record_run(&new, &[], RunStatus::Finished)
        .expect("run");
    store.rename_run(&run.id, "better name").expect("rename");
    store.set_note(&run.id, "looks overfit").expect("note");
    store.delete_run(&run.id).expect("delete");
    assert!(store.runs(&RunQuery::default()).expect("list").is_empty());
    let all = RunQuery {
        include_deleted: true,
        ..RunQuery::default()
    };
    assert_eq!(store.runs(&all).expect("list").len(), 1);
    store.restore_run(&run.id).expect("restore");
    let run = store.run(&run.id).expect("run");
    assert_eq!(run.name, "better name");
    assert_eq!(run.note, "looks overfit");
    assert_eq!(run.deleted_at, None);
}

#[test]
fn has_runs_counts_only_live_runs() {
    let (_dir, store) = fresh();
    assert!(!store.has_runs().expect("empty"));
    let new = new_run("e");
    let run = store
        .record_run(&new, &[], RunStatus::Finished)
        .expect("run");
    assert!(store.has_runs().expect("one"));
    store.delete_run(&run.id).expect("delete");
    assert!(!store.has_runs().expect("deleted"));
}

#[test]
fn runs_are_listed_per_experiment() {
    let (_dir, store) = fresh();
    for experiment in ["a", "a", "b"] {
        let new = NewRun {
            experiment: experiment.into(),
            ..NewRun::default()
        };
        store
            .record_run(&new, &[("m".into(), 1.0)], RunStatus::Finished)
            .expect("run");
    }
    let only_a = RunQuery {
        experiment: Some("a".into()),
        ..RunQuery::default()
    };
    assert_eq!(store.runs(&only_a).expect("a").len(), 2);
    assert_eq!(store.runs(&RunQuery::default()).expect("all").len(), 3);
}

#[test]
fn unknown_runs_and_nan_metrics_are_refused_clearly() {
    let (_dir, store) = fresh();
    assert!(matches!(
        store.run("nope"),
        Err(StoreError::NotFound { .. })
    ));
    let run = store.start_run(&new_run("e")).expect("start");
    let err = store
        .log_metrics(&run.id, &[("ok".into(), 1.0), ("bad".into(), f64::NAN)])
        .expect_err("NaN refused");
    assert!(err.to_string().contains("bad is NaN"), "{err}");
    let detail = store.run_detail(&run.id).expect("detail");
    assert!(detail.metrics.is_empty(), "the whole batch is rolled back");
}

#[test]
fn artifacts_are_content_addressed_and_checked_on_read() {
    let (_dir, store) = fresh();
    let sha = store.put_artifact(b"hello").expect("put");
    assert_eq!(sha, sha256_hex(b"hello"));
    assert_eq!(store.put_artifact(b"hello").expect("again"), sha);
    let path = store.artifact_path(&sha);
    assert!(path.starts_with(store.home().join("artifacts").join(&sha[..2])));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".incoming"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files remain");
    std::fs::write(&path, b"tampered").expect("tamper");
    let err = store.read_artifact(&sha).expect_err("tampering detected");
    assert!(err.to_string().contains("do not match"), "{err}");
}

#[test]
fn a_changed_file_becomes_a_new_dataset_version() {
    let (_dir, store) = fresh();
    let schema = serde_json::json!({"columns": [{"name": "x", "dtype": "f64"}]});
    let first = NewDatasetVersion {
        name: "iris",
        path: "/data/iris.csv",
        fingerprint: &"1".repeat(64),
        schema: &schema,
        rows: 150,
    };
    let v1 = store.register_dataset_version(&first).expect("v1");
    let again = store.register_dataset_version(&first).expect("same bytes");
    assert_eq!(v1, again);
    let changed = NewDatasetVersion {
        fingerprint: &"2".repeat(64),
        rows: 151,
        ..first.clone()
    };
    let v2 = store.register_dataset_version(&changed).expect("v2");
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(v2.schema, schema);
    let versions = store.dataset_versions("iris").expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(
        store.dataset_names().expect("names"),
        vec!["iris".to_string()]
    );

    let run = store
        .record_run(
            &NewRun {
                experiment: "e".into(),
                dataset_version_id: Some(v2.id),
                dataset_fingerprint: Some(v2.fingerprint.clone()),
                ..NewRun::default()
            },
            &[],
            RunStatus::Finished,
        )
        .expect("run");
    assert_eq!(run.dataset_version_id, Some(v2.id));
}

#[test]
fn a_store_from_an_older_schema_is_migrated_without_losing_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    Store::create_at_schema_version(dir.path(), 1).expect("old store");
    {
        // Write a run the way schema version 1 stored it.
        let conn = rusqlite::Connection::open(dir.path().join("kiln.db")).expect("open");
        conn.execute_batch(
            "INSERT INTO experiments (id, name, created_at) VALUES (1, 'old', '2025-01-01T00:00:00.000Z');
             INSERT INTO runs (id, experiment_id, name, status, start_time, end_time, kiln_version)
             VALUES ('0123456789abcdef0123456789abcdef', 1, 'legacy', 'finished',
                     '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:02.500Z', '0.0.1');
             INSERT INTO metrics VALUES ('0123456789abcdef0123456789abcdef', 'accuracy', 0.8);",
        )
        .expect("v1 rows");
    }
    let store = Store::open(dir.path()).expect("migrates");
    assert_eq!(
        store.schema_version().expect("version"),
        schema::latest_version()
    );
    let detail = store
        .run_detail("0123456789abcdef0123456789abcdef")
        .expect("legacy run");
    assert_eq!(detail.run.name, "legacy");
    assert_eq!(detail.run.note, "");
    assert_eq!(detail.run.duration_s(), Some(2.5));
    assert_eq!(detail.metrics["accuracy"], 0.8);
}

#[test]
fn a_store_from_a_newer_kiln_is_refused_not_damaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(Store::open(dir.path()).expect("create"));
    let conn = rusqlite::Connection::open(dir.path().join("kiln.db")).expect("open");
    conn.pragma_update(None, "user_version", 999).expect("bump");
    drop(conn);
    let err = Store::open(dir.path()).expect_err("too new");
    assert!(
        matches!(err, StoreError::TooNew { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade Kiln"), "{err}");
}

#[test]
fn a_corrupt_database_gives_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("kiln.db"), vec![0x5a; 8192]).expect("garbage");
    let err = Store::open(dir.path()).expect_err("corrupt");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("kiln.db"), "{message}");
    assert!(message.contains("move it aside"), "{message}");
}

#[test]
fn an_unusable_store_location_gives_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").expect("file");
    let err = Store::open(file.join("store")).expect_err("a file is in the way");
    assert!(matches!(err, StoreError::Location { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-folder"), "{err}");
}

#[test]
fn step_series_summarise_by_min_max_and_mean() {
    let (_dir, store) = fresh();
    let run = store.start_run(&new_run("e")).expect("start");
    store
        .log_metric_steps(&run.id, "loss", &[(0, 3.0), (1, 1.0), (2, 2.0)])
        .expect("steps");
    let key = (run.id.clone(), "loss".to_string());
    assert_eq!(store.series_summaries("min").expect("min")[&key], 1.0);
    assert_eq!(store.series_summaries("max").expect("max")[&key], 3.0);
    assert_eq!(store.series_summaries("mean").expect("mean")[&key], 2.0);
    assert!(store.series_summaries("median").is_err());
}
