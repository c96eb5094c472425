//! `kiln import mlflow`: the `mlruns/` folder and the `mlflow.db` that the real MLflow 3.17.2
//! client wrote (`tests/fixtures/mlflow/`, made by `scripts/fixtures/make_mlflow_stores.py`)
//! are copied into a fresh Kiln store and hold what `expected.json` says: experiments, run
//! names, params, tags, full metric histories, statuses, parent links, artifact bytes,
//! dataset inputs, LoggedModels, registered versions with stage, tags and alias. A second
//! import adds nothing; a damaged `meta.yaml` is reported by name and costs only its run; a
//! running `kiln server` is imported from over its REST API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kiln_core::mlflow::import::{
    ImportSummary, OpenOptions, VERSION_TAG, import_mlflow, open_source,
};
use kiln_core::mlflow::{TrackingConfig, serve_tracking};
use kiln_core::store::{RunStatus, Stage, Store, ms_to_rfc3339};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/mlflow")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    (dir, store)
}

fn import(store: &Store, place: &str, artifacts: Option<PathBuf>) -> ImportSummary {
    let source = open_source(
        place,
        &OpenOptions {
            artifacts,
            token: None,
        },
    )
    .unwrap();
    import_mlflow(store, source.as_ref(), &|_, _| true).unwrap()
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// The fixture's id of a run, experiment or logged model in store `kind`.
fn id_of(kind: &str, what: &str, name: &str) -> String {
    str_of(&expected()["stores"][kind][what][name]).to_owned()
}

/// Where the fixture keeps a run's artifact `name` in store `kind`.
fn artifact_file(kind: &str, experiment: &str, run: &str, name: &str) -> PathBuf {
    let exp = id_of(kind, "experiments", experiment);
    let run = id_of(kind, "runs", run);
    match kind {
        "mlruns" => fixtures()
            .join("mlruns")
            .join(exp)
            .join(run)
            .join("artifacts")
            .join(name),
        _ => fixtures()
            .join("sqlite/artifacts")
            .join(exp)
            .join(run)
            .join("artifacts")
            .join(name),
    }
}

fn status_of(text: &str) -> RunStatus {
    match text {
        "FINISHED" => RunStatus::Finished,
        "FAILED" => RunStatus::Failed,
        "KILLED" => RunStatus::Killed,
        _ => RunStatus::Running,
    }
}

/// Everything `expected.json` lists is in `store`, under the ids of fixture store `kind`.
fn assert_holds_the_fixture(store: &Store, kind: &str) {
    let expected = expected();
    let names: Vec<String> = store
        .experiment_infos()
        .unwrap()
        .into_iter()
        .map(|e| e.experiment.name)
        .collect();
    for name in expected["experiments"].as_array().unwrap() {
        assert!(
            names.contains(&str_of(name).to_owned()),
            "{name} not in {names:?}"
        );
    }
    assert!(
        !names.contains(&"Default".to_owned()),
        "the empty Default experiment is left out"
    );

    for run in expected["runs"].as_array().unwrap() {
        let name = str_of(&run["name"]);
        let id = id_of(kind, "runs", name);
        let detail = store.run_detail(&id).unwrap();
        assert_eq!(detail.run.name, name);
        assert_eq!(detail.run.experiment, str_of(&run["experiment"]), "{name}");
        assert_eq!(
            detail.run.status,
            status_of(str_of(&run["status"])),
            "{name}"
        );
        assert!(detail.run.end_time.is_some(), "{name} has its end time");
        let parent = run["parent"].as_str().map(|p| id_of(kind, "runs", p));
        assert_eq!(detail.run.parent_run_id, parent, "{name}'s parent");
        for (key, value) in run["params"].as_object().unwrap() {
            assert_eq!(
                detail.params.get(key).map(String::as_str),
                value.as_str(),
                "{name} param {key}"
            );
        }
        for (key, value) in run["tags"].as_object().unwrap() {
            assert_eq!(
                detail.tags.get(key).map(String::as_str),
                value.as_str(),
                "{name} tag {key}"
            );
        }
        assert_eq!(
            detail.tags.get("mlflow.runName").map(String::as_str),
            Some(name)
        );
        for (key, metric) in run["metrics"].as_object().unwrap() {
            let history = store.metric_history(&id, key).unwrap();
            assert_eq!(
                history.len() as u64,
                metric["history_length"].as_u64().unwrap(),
                "{name} {key}"
            );
            for (point, want) in history.iter().zip(metric["history"].as_array().unwrap()) {
                assert_eq!(point.step, want["step"].as_i64().unwrap());
                assert_eq!(point.value, want["value"].as_f64().unwrap());
                assert_eq!(
                    point.wall_time,
                    ms_to_rfc3339(want["timestamp"].as_i64().unwrap())
                );
            }
            assert_eq!(
                detail.metrics.get(key).copied(),
                metric["last"].as_f64(),
                "{name} {key}"
            );
        }
        let mut files: Vec<&str> = detail.artifacts.iter().map(|a| a.name.as_str()).collect();
        files.sort_unstable();
        let mut want: Vec<&str> = run["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(str_of)
            .collect();
        want.sort_unstable();
        assert_eq!(files, want, "{name}'s artifacts");
        for artifact in &detail.artifacts {
            let bytes = store.read_artifact(&artifact.sha256).unwrap();
            let source = artifact_file(kind, str_of(&run["experiment"]), name, &artifact.name);
            assert_eq!(
                bytes,
                std::fs::read(&source).unwrap(),
                "{}",
                source.display()
            );
        }
        let inputs = store.run_inputs(&id).unwrap();
        let want = run["dataset_inputs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(inputs.len(), want.len(), "{name}'s dataset inputs");
        for (input, want) in inputs.iter().zip(&want) {
            assert_eq!(input.name, str_of(&want["name"]));
            let context = input.tags.iter().find(|(k, _)| k == "mlflow.data.context");
            assert_eq!(context.map(|(_, v)| v.as_str()), want["context"].as_str());
        }
        if let Some(logged) = run.get("logged_model").filter(|m| !m.is_null()) {
            let model_id = id_of(kind, "logged_models", name);
            let model = store.logged_model(&model_id).unwrap();
            assert_eq!(model.name, str_of(&logged["name"]));
            assert_eq!(model.source_run_id.as_deref(), Some(id.as_str()));
            assert_eq!(model.status, "LOGGED_MODEL_READY");
            for (key, value) in logged["params"].as_object().unwrap() {
                assert!(
                    model
                        .params
                        .contains(&(key.clone(), str_of(value).to_owned()))
                );
            }
            let metrics: Vec<String> = store
                .model_metrics(&model_id)
                .unwrap()
                .into_iter()
                .map(|m| m.key)
                .collect();
            for key in logged["metrics"].as_array().unwrap() {
                assert!(
                    metrics.contains(&str_of(key).to_owned()),
                    "{model_id} metric {key}"
                );
            }
            let files: Vec<String> = store
                .logged_model_files(&model_id)
                .unwrap()
                .into_iter()
                .map(|f| f.name)
                .collect();
            assert!(
                files.contains(&"MLmodel".to_owned()) && files.contains(&"model.pkl".to_owned()),
                "{files:?}"
            );
            assert!(
                store
                    .run_outputs(&id)
                    .unwrap()
                    .iter()
                    .any(|(m, _)| *m == model_id)
            );
        }
    }

    for model in expected["registered_models"].as_array().unwrap() {
        let name = str_of(&model["name"]);
        let info = store.registered_model_info(name).unwrap();
        assert_eq!(info.description, str_of(&model["description"]));
        for (key, value) in model["tags"].as_object().unwrap() {
            assert_eq!(info.tags.get(key).map(String::as_str), value.as_str());
        }
        let versions = store.model_versions(name).unwrap();
        let want = model["versions"].as_array().unwrap();
        assert_eq!(versions.len(), want.len(), "{name}'s versions");
        for (version, want) in versions.iter().zip(want) {
            let number = str_of(&want["version"]);
            assert_eq!(version.version.to_string(), number);
            assert_eq!(
                version.run_id,
                Some(id_of(kind, "runs", str_of(&want["run"])))
            );
            let stage = match str_of(&want["stage"]) {
                "Staging" => Stage::Staging,
                "Production" => Stage::Production,
                "Archived" => Stage::Archived,
                _ => Stage::None,
            };
            assert_eq!(version.stage, stage, "{name}:{number}");
            let tags = store.model_version_tags(name, version.version).unwrap();
            assert_eq!(tags.get(VERSION_TAG).map(String::as_str), Some(number));
            for (key, value) in want["tags"].as_object().unwrap() {
                assert_eq!(tags.get(key).map(String::as_str), value.as_str());
            }
            // A pickle is tracked and downloadable, not run: the exact files are listed.
            assert_eq!(version.signature["runnable"], Value::Bool(false));
            assert!(
                version.signature["files"].get("model.pkl").is_some(),
                "{}",
                version.signature
            );
        }
        for (alias, version) in model["aliases"].as_object().unwrap() {
            assert_eq!(
                info.aliases.get(alias).map(i64::to_string).as_deref(),
                version.as_str()
            );
        }
        let audited: Vec<(String, String)> = store
            .audit_log(Some(name))
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.reason))
            .collect();
        for action in ["stage", "alias"] {
            assert!(
                audited.contains(&(action.to_owned(), "imported from MLflow".to_owned())),
                "{action} audited as imported: {audited:?}"
            );
        }
    }
}

fn assert_nothing_new(summary: &ImportSummary) {
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    for (what, counts) in [
        ("experiments", summary.experiments),
        ("runs", summary.runs),
        ("metric points", summary.metric_points),
        ("artifacts", summary.artifacts),
        ("logged models", summary.logged_models),
        ("registered models", summary.registered_models),
        ("versions", summary.versions),
    ] {
        assert_eq!(counts.new, 0, "{what}: {summary:?}");
        assert!(counts.existing > 0, "{what}: {summary:?}");
    }
    assert_eq!(
        summary.runs_completed + summary.stages_set + summary.aliases_set,
        0
    );
}

#[test]
fn an_mlruns_folder_is_imported_whole() {
    let (_dir, store) = fresh_store();
    let summary = import(&store, fixtures().join("mlruns").to_str().unwrap(), None);
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    assert_eq!(
        (summary.experiments.new, summary.runs.new),
        (2, 8),
        "{summary:?}"
    );
    assert_eq!((summary.logged_models.new, summary.versions.new), (2, 2));
    assert_eq!((summary.stages_set, summary.aliases_set), (1, 1));
    assert_holds_the_fixture(&store, "mlruns");
}

#[test]
fn an_mlflow_db_is_imported_with_its_artifact_root() {
    let (_dir, store) = fresh_store();
    let db = fixtures().join("sqlite/mlflow.db");
    let summary = import(
        &store,
        db.to_str().unwrap(),
        Some(fixtures().join("sqlite/artifacts")),
    );
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    assert_eq!(
        (summary.experiments.new, summary.runs.new),
        (2, 8),
        "{summary:?}"
    );
    assert_holds_the_fixture(&store, "sqlite");
}

#[test]
fn an_mlflow_db_finds_proxied_artifacts_beside_it() {
    let (_dir, store) = fresh_store();
    let uri = format!(
        "sqlite:///{}",
        fixtures()
            .join("sqlite/mlflow.db")
            .canonicalize()
            .unwrap()
            .display()
    );
    let summary = import(&store, &uri, None);
    assert!(summary.artifacts.new >= 8, "{summary:?}");
    assert_holds_the_fixture(&store, "sqlite");
}

#[test]
fn importing_again_adds_nothing() {
    let (_dir, store) = fresh_store();
    let mlruns = fixtures().join("mlruns");
    import(&store, mlruns.to_str().unwrap(), None);
    let again = import(&store, mlruns.to_str().unwrap(), None);
    assert_nothing_new(&again);
    assert_eq!(again.runs.existing, 8);
    assert_eq!(store.model_versions("iris-classifier").unwrap().len(), 2);

    let db = fixtures().join("sqlite/mlflow.db");
    let artifacts = Some(fixtures().join("sqlite/artifacts"));
    let first = import(&store, db.to_str().unwrap(), artifacts.clone());
    // Other run ids, the same experiment names and model: only the versions are matched by
    // the MLflow number they recorded, so the second store's versions 1 and 2 are there.
    assert_eq!(
        (
            first.runs.new,
            first.experiments.existing,
            first.versions.new
        ),
        (8, 2, 0)
    );
    assert_nothing_new(&import(&store, db.to_str().unwrap(), artifacts));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_damaged_meta_yaml_is_named_and_costs_only_its_run() {
    let (dir, store) = fresh_store();
    let mlruns = dir.path().join("mlruns");
    copy_dir(&fixtures().join("mlruns"), &mlruns);
    let exp = id_of("mlruns", "experiments", "fixture-train");
    let crashed = mlruns
        .join(&exp)
        .join(id_of("mlruns", "runs", "crashed"))
        .join("meta.yaml");
    let tuned = mlruns
        .join(&exp)
        .join(id_of("mlruns", "runs", "tuned"))
        .join("meta.yaml");
    let original = std::fs::read_to_string(&crashed).unwrap();
    // Cut off part-way through a line, as a full disk leaves it.
    std::fs::write(
        &crashed,
        &original[..original.find("experiment_id").unwrap() + 20],
    )
    .unwrap();
    // And garbage where the YAML was.
    std::fs::write(&tuned, b"\xff\xfe\x00garbage").unwrap();

    let summary = import(&store, mlruns.to_str().unwrap(), None);
    let messages: Vec<String> = summary.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("{}: line 4: ", crashed.display()))),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with(&format!("{}: not UTF-8 text", tuned.display()))),
        "{messages:?}"
    );
    assert_eq!(summary.runs.new, 6, "the other runs are imported");
    // The version made from the unreadable run is still registered, without its lineage.
    assert_eq!(summary.versions.new, 2);

    // Mended, the next import brings just the two runs.
    copy_dir(&fixtures().join("mlruns"), &mlruns);
    let mended = import(&store, mlruns.to_str().unwrap(), None);
    assert!(mended.problems.is_empty(), "{:?}", mended.problems);
    assert_eq!((mended.runs.new, mended.runs.existing), (2, 6));
    assert_eq!(
        store
            .run(&id_of("mlruns", "runs", "crashed"))
            .unwrap()
            .status,
        RunStatus::Failed
    );
}

#[test]
fn a_missing_start_time_is_named() {
    let (dir, store) = fresh_store();
    let mlruns = dir.path().join("mlruns");
    copy_dir(&fixtures().join("mlruns"), &mlruns);
    let exp = id_of("mlruns", "experiments", "fixture-eval");
    let meta = mlruns
        .join(exp)
        .join(id_of("mlruns", "runs", "eval-baseline"))
        .join("meta.yaml");
    let text = std::fs::read_to_string(&meta).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("start_time"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&meta, without).unwrap();
    let summary = import(&store, mlruns.to_str().unwrap(), None);
    let messages: Vec<String> = summary.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        messages,
        [format!("{}: missing start_time", meta.display())]
    );
}

#[test]
fn a_path_that_is_no_mlflow_store_says_what_would_be() {
    let dir = tempfile::tempdir().unwrap();
    let error = open_source(dir.path().to_str().unwrap(), &OpenOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("is not an MLflow store"), "{error}");
    assert!(
        error.contains("mlruns folder, an mlflow.db file or an http://"),
        "{error}"
    );
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let error = open_source(file.to_str().unwrap(), &OpenOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("not a SQLite database"), "{error}");
}

#[test]
fn a_running_tracking_server_is_imported_over_rest() {
    let (_dir_a, served) = fresh_store();
    import(&served, fixtures().join("mlruns").to_str().unwrap(), None);
    let server = serve_tracking(
        served.clone(),
        &TrackingConfig {
            port: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let (_dir_b, store) = fresh_store();
    let summary = import(&store, &server.url(), None);
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    assert_eq!(
        (summary.runs.new, summary.versions.new),
        (8, 2),
        "{summary:?}"
    );
    assert_holds_the_fixture(&store, "mlruns");
    assert_nothing_new(&import(&store, &server.url(), None));
    server.shutdown();
}
