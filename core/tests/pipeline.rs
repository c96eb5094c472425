//! Pipelines (`kiln.toml` + `kiln.lock`), as issue 12 specifies them: the first run does every
//! stage and stages a version, a second run skips everything, a changed data file re-runs from
//! validation on, a broken expectation or a failed gate stops before anything is registered or
//! promoted, errors in `kiln.toml` name their line, concurrent runs are serialised, and every
//! run is recorded so a version's lineage reaches it.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kiln_core::jobs::JobRunner;
use kiln_core::pipeline::{
    self, ConfigError, PipelineFile, PipelineOutcome, RunEvent, RunOptions, StageStatus,
};
use kiln_core::store::{Stage, Store};

const PENGUINS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/penguins.csv");

/// The issue's example, with gates a logistic regression passes on the penguins.
/// The issue's example pipeline (inputs `data/train.csv` and `data/test.csv`), shared by the
/// core and command-line pipeline tests.
const KILN_TOML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/pipeline/kiln.toml"
));

struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    store: Store,
}

/// The penguins split in two (every 4th row is test data), `kiln.toml` and a store.
fn project(kiln_toml: &str) -> Project {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("project");
    std::fs::create_dir_all(root.join("data")).expect("mkdir");
    let text = std::fs::read_to_string(PENGUINS).expect("penguins.csv");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let (mut train, mut test) = (vec![header], vec![header]);
    for (i, line) in lines.enumerate() {
        if i % 4 == 0 {
            test.push(line);
        } else {
            train.push(line);
        }
    }
    std::fs::write(root.join("data/train.csv"), train.join("\n") + "\n").expect("train");
    std::fs::write(root.join("data/test.csv"), test.join("\n") + "\n").expect("test");
    std::fs::write(root.join("kiln.toml"), kiln_toml).expect("kiln.toml");
    let store = Store::open(dir.path().join("store")).expect("store");
    Project {
        _dir: dir,
        root,
        store,
    }
}

impl Project {
    fn file(&self) -> PipelineFile {
        PipelineFile::load(&self.root.join("kiln.toml")).expect("kiln.toml parses")
    }

    fn run_with(&self, options: RunOptions) -> PipelineOutcome {
        let (store, file) = (self.store.clone(), self.file());
        JobRunner::new()
            .spawn("pipeline", move |ctx| {
                Ok(pipeline::run(&store, &file, &options, ctx)?)
            })
            .wait()
            .expect("the pipeline runs")
    }

    fn run(&self) -> PipelineOutcome {
        self.run_with(RunOptions::default())
    }

    fn rewrite(&self, relative: &str, edit: impl Fn(&str) -> String) {
        let path = self.root.join(relative);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, edit(&text)).expect("write");
    }
}

fn status_of<'a>(outcome: &'a PipelineOutcome, stage: &str) -> (StageStatus, &'a str) {
    let s = outcome
        .stages
        .iter()
        .find(|s| s.name == stage)
        .unwrap_or_else(|| panic!("no stage {stage} in {:?}", outcome.stages));
    (s.status, s.reason.as_str())
}

const STAGES: [&str; 7] = [
    "validate:test",
    "validate:train",
    "train",
    "evaluate",
    "gates",
    "register",
    "promote",
];

#[test]
fn the_first_run_does_every_stage_and_stages_a_version() {
    let p = project(KILN_TOML);
    let outcome = p.run();
    assert!(outcome.passed(), "{:?}", outcome.failure);
    let names: Vec<&str> = outcome.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, STAGES);
    for stage in STAGES {
        let (status, reason) = status_of(&outcome, stage);
        assert_eq!(status, StageStatus::Ran, "{stage}: {reason}");
        assert!(reason.starts_with("first run"), "{stage}: {reason}");
    }
    let model = outcome.model.as_ref().expect("a version");
    assert_eq!((model.name.as_str(), model.version), ("penguin-clf", 1));
    assert_eq!(model.stage, "staging");
    assert_eq!(
        p.store.model_version("penguin-clf", 1).expect("v1").stage,
        Stage::Staging
    );
    assert!(outcome.gates.iter().all(|g| g.passed) && !outcome.gates.is_empty());
    let lock = std::fs::read_to_string(p.root.join("kiln.lock")).expect("kiln.lock written");
    assert!(lock.contains("[stages.train]"), "{lock}");
    assert!(
        lock.contains(outcome.inputs["train"].sha256.as_str()),
        "{lock}"
    );
}

#[test]
fn a_second_run_skips_everything_and_leaves_kiln_lock_untouched() {
    let p = project(KILN_TOML);
    let first = p.run();
    let lock = std::fs::read_to_string(p.root.join("kiln.lock")).expect("lock");
    let second = p.run();
    assert!(second.up_to_date(), "{:?}", second.stages);
    for stage in STAGES {
        let (_, reason) = status_of(&second, stage);
        assert!(reason.starts_with("up to date"), "{stage}: {reason}");
    }
    assert_eq!(second.run_id, first.run_id);
    assert_eq!(second.model, first.model);
    assert_eq!(second.gates, first.gates);
    assert_eq!(
        std::fs::read_to_string(p.root.join("kiln.lock")).expect("lock"),
        lock
    );
    assert_eq!(
        p.store
            .model_versions("penguin-clf")
            .expect("versions")
            .len(),
        1
    );
}

#[test]
fn a_changed_data_file_reruns_from_validation_on_and_makes_version_2() {
    let p = project(KILN_TOML);
    let first = p.run();
    // Drop the last 20 training rows.
    p.rewrite("data/train.csv", |text| {
        let lines: Vec<&str> = text.lines().collect();
        lines[..lines.len() - 20].join("\n") + "\n"
    });
    let status = pipeline::status(&p.store, &p.file()).expect("status");
    let train = status
        .iter()
        .find(|s| s.name == "validate:train")
        .expect("stage");
    assert!(
        !train.up_to_date && train.reason.contains("data/train.csv"),
        "{train:?}"
    );
    assert!(
        status
            .iter()
            .find(|s| s.name == "validate:test")
            .expect("test")
            .up_to_date
    );

    let second = p.run();
    assert!(second.passed(), "{:?}", second.failure);
    assert_eq!(status_of(&second, "validate:test").0, StageStatus::Skipped);
    for stage in &STAGES[1..] {
        let (status, reason) = status_of(&second, stage);
        assert_eq!(status, StageStatus::Ran, "{stage}: {reason}");
    }
    assert!(status_of(&second, "train").1.contains("data/train.csv"));
    assert_ne!(second.run_id, first.run_id);
    let model = second.model.expect("version");
    assert_eq!((model.version, model.stage.as_str()), (2, "staging"));
    assert!(second.inputs["train"].changed && !second.inputs["test"].changed);
    // The version that held staging left it.
    assert_eq!(
        p.store.model_version("penguin-clf", 1).expect("v1").stage,
        Stage::None
    );
}

#[test]
fn a_missing_required_column_fails_names_the_column_and_registers_nothing() {
    let p = project(&KILN_TOML.replace(
        r#"columns = ["species", "island", "bill_length_mm"]"#,
        r#"columns = ["species", "island", "wing_span_mm"]"#,
    ));
    let outcome = p.run();
    let failure = outcome.failure.as_ref().expect("the pipeline fails");
    assert_eq!(failure.stage, "validate:train");
    assert!(
        failure.message.contains("column 'wing_span_mm'") && failure.message.contains("columns"),
        "{}",
        failure.message
    );
    for stage in ["train", "evaluate", "gates", "register", "promote"] {
        let (status, reason) = status_of(&outcome, stage);
        assert_eq!(status, StageStatus::Skipped, "{stage}");
        assert_eq!(reason, "not run: validate:train failed");
    }
    assert!(outcome.model.is_none() && outcome.run_id.is_none());
    assert!(p.store.registered_models().expect("models").is_empty());
    // A failed stage is not recorded as done: the next run tries it again.
    let again = p.run();
    assert_eq!(status_of(&again, "validate:train").0, StageStatus::Failed);
}

#[test]
fn each_broken_rule_names_its_column_and_rule() {
    let p = project(
        &KILN_TOML
            .replace(
                "range = { bill_length_mm = [20, 70] }",
                "range = { bill_length_mm = [40, 70] }\nrows = { min = 100, max = 50 }",
            )
            .replace("rows = { min = 100 }\n", "")
            .replace(
                "max_missing = { sex = 0.10 }",
                "max_missing = { sex = 0.001 }",
            )
            .replace(
                r#"types = { island = "categorical" }"#,
                r#"types = { island = "numeric" }"#,
            ),
    );
    let outcome = p.run();
    let message = &outcome.failure.expect("fails").message;
    for expected in [
        "column 'bill_length_mm': range",
        "column 'sex': max_missing",
        "column 'island': types: expected numeric, found categorical",
        "rows: 258 rows, more than the maximum 50",
    ] {
        assert!(message.contains(expected), "{expected} not in {message}");
    }
}

#[test]
fn a_failing_gate_stops_before_register_and_leaves_staging_as_it_was() {
    let p = project(KILN_TOML);
    assert!(p.run().passed());
    p.rewrite("kiln.toml", |t| {
        t.replace(r#"accuracy = ">= 0.9""#, r#"accuracy = ">= 1.01""#)
    });
    p.rewrite("data/train.csv", |text| {
        let lines: Vec<&str> = text.lines().collect();
        lines[..lines.len() - 10].join("\n") + "\n"
    });
    let outcome = p.run();
    let failure = outcome.failure.as_ref().expect("the gate fails");
    assert_eq!(failure.stage, "gates");
    assert!(
        failure.message.contains("accuracy >= 1.01"),
        "{}",
        failure.message
    );
    assert_eq!(status_of(&outcome, "register").0, StageStatus::Skipped);
    assert_eq!(status_of(&outcome, "promote").0, StageStatus::Skipped);
    assert!(outcome.model.is_none());
    assert!(outcome.gates.iter().any(|g| !g.passed));
    let versions = p.store.model_versions("penguin-clf").expect("versions");
    assert_eq!(versions.len(), 1, "nothing registered past the failure");
    assert_eq!(versions[0].stage, Stage::Staging);
}

#[test]
fn a_versions_lineage_reaches_the_pipeline_run_that_made_it() {
    let p = project(KILN_TOML);
    let outcome = p.run();
    let version = p.store.model_version("penguin-clf", 1).expect("v1");
    let lineage = kiln_core::registry::lineage(&p.store, &version).expect("lineage");
    let node = lineage.pipeline.expect("a pipeline node");
    assert_eq!(node.id, outcome.pipeline_run_id);
    assert_eq!(node.pipeline, "penguins");
    let runs = p
        .store
        .pipeline_runs(&p.root.join("kiln.toml").display().to_string(), 10)
        .expect("history");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].run_id, outcome.run_id);
    assert_eq!(runs[0].status, "passed");
    assert_eq!(
        runs[0].inputs["train"]["sha256"].as_str(),
        Some(outcome.inputs["train"].sha256.as_str())
    );
    let run = p
        .store
        .run_detail(outcome.run_id.as_deref().expect("run"))
        .expect("run");
    assert_eq!(
        run.tags.get("kiln.pipeline").map(String::as_str),
        Some("penguins")
    );
}

#[test]
fn two_concurrent_runs_are_serialised() {
    let p = project(KILN_TOML);
    let waited = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&waited);
    let options = RunOptions {
        observer: Some(Arc::new(move |event: &RunEvent| {
            if let RunEvent::Waiting { holder } = event {
                seen.lock().unwrap().push(*holder);
            }
        })),
        ..RunOptions::default()
    };
    let runner = JobRunner::new();
    let spawn = |options: RunOptions| {
        let (store, file) = (p.store.clone(), p.file());
        runner.spawn("pipeline", move |ctx| {
            Ok(pipeline::run(&store, &file, &options, ctx)?)
        })
    };
    let first = spawn(options.clone());
    let second = spawn(options);
    let (a, b) = (first.wait().expect("a"), second.wait().expect("b"));
    assert!(a.passed() && b.passed());
    // One did the work, the other waited for it and found everything up to date.
    let trained = [&a, &b]
        .iter()
        .filter(|o| status_of(o, "train").0 == StageStatus::Ran)
        .count();
    assert_eq!(trained, 1);
    assert!(a.up_to_date() || b.up_to_date());
    // The waiting run names the holder's pid once the holder has written it (it locks the
    // file first, then writes its pid, so a run arriving in between cannot name it yet).
    let waited = waited.lock().unwrap().clone();
    assert_eq!(waited.len(), 1, "{waited:?}");
    assert!(
        waited[0].is_none_or(|pid| pid == std::process::id()),
        "{waited:?}"
    );
    assert_eq!(p.store.model_versions("penguin-clf").expect("v").len(), 1);
}

#[test]
fn no_wait_names_the_process_holding_the_lock() {
    let p = project(KILN_TOML);
    let _held = pipeline::runlock::acquire(&p.root, false, |_| {}, || true).expect("lock");
    let (store, file) = (p.store.clone(), p.file());
    let options = RunOptions {
        no_wait: true,
        ..RunOptions::default()
    };
    let result = JobRunner::new()
        .spawn("pipeline", move |ctx| {
            Ok(pipeline::run(&store, &file, &options, ctx)?)
        })
        .wait();
    let error = result.expect_err("locked").to_string();
    assert!(
        error.contains(&format!("process {}", std::process::id())),
        "{error}"
    );
}

fn config_error(text: &str) -> (usize, usize, String) {
    match PipelineFile::parse(text, Path::new("/p/kiln.toml")) {
        Err(ConfigError::Invalid {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn an_unknown_key_or_a_wrong_type_in_kiln_toml_names_the_line() {
    let (line, _, message) = config_error(&KILN_TOML.replace("seed = 0", "seed = 0\nepochs = 3"));
    assert_eq!(line, 23, "{message}");
    assert!(message.contains("epochs"), "{message}");
    let (line, _, message) = config_error(&KILN_TOML.replace("seed = 0", "seed = \"zero\""));
    assert_eq!(line, 22, "{message}");
    let (line, _, message) =
        config_error(&KILN_TOML.replace("rows = { min = 100 }", "rows = { minimum = 100 }"));
    assert_eq!(line, 8, "{message}");
    assert!(message.contains("minimum"), "{message}");
    let (line, _, message) =
        config_error(&KILN_TOML.replace("test = \"test\"", "test = \"holdout\""));
    assert_eq!(line, 18, "{message}");
    assert!(message.contains("holdout"), "{message}");
    let (line, _, message) = config_error(&KILN_TOML.replace(r#"">= 0.9""#, r#""at least 0.9""#));
    assert_eq!(line, 25, "{message}");
    let (line, _, message) =
        config_error(&KILN_TOML.replace(r#"promote_to = "staging""#, r#"promote_to = "prod""#));
    assert_eq!(line, 29, "{message}");
    let (line, _, message) = config_error(&format!(
        "{KILN_TOML}\n[hooks]\nversion_registered = {{ url = \"http://example.com/x\" }}\n"
    ));
    assert_eq!(line, 32, "{message}");
    assert!(message.contains("loopback"), "{message}");
}

#[test]
fn hooks_run_on_registration_and_a_failing_hook_is_audited_not_undone() {
    let p = project(&format!(
        "{KILN_TOML}\n[hooks]\nversion_registered = {{ command = \"cat > registered.json\" }}\nstage_changed = {{ command = \"echo no >&2; exit 3\" }}\n"
    ));
    let outcome = p.run();
    assert!(outcome.passed(), "{:?}", outcome.failure);
    let payload: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.root.join("registered.json")).expect("the hook ran"),
    )
    .expect("JSON on stdin");
    assert_eq!(payload["event"], "version_registered");
    assert_eq!(payload["version"], 1);
    assert_eq!(outcome.warnings.len(), 1, "{:?}", outcome.warnings);
    assert!(outcome.warnings[0].contains("stage_changed"));
    let audit = p.store.audit_log(Some("penguin-clf")).expect("audit");
    let failed = audit
        .iter()
        .find(|e| e.action == "hook_failed")
        .expect("audited");
    assert!(failed.reason.contains("exited with"), "{}", failed.reason);
    assert_eq!(
        p.store.model_version("penguin-clf", 1).expect("v1").stage,
        Stage::Staging,
        "the promotion stands"
    );
}

#[test]
fn an_up_to_date_run_reads_no_data() {
    let p = project(KILN_TOML);
    p.run();
    // Make the cache trust the files: their mtimes are older than the racy window.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(10);
    for f in ["data/train.csv", "data/test.csv"] {
        let file = std::fs::File::options()
            .write(true)
            .open(p.root.join(f))
            .expect("open");
        file.set_modified(old).expect("mtime");
    }
    let mut cache = pipeline::cache::HashCache::load(&p.root);
    let first = cache
        .fingerprint(&p.root.join("data/train.csv"), |_, _| true)
        .expect("hash");
    assert!(first.hashed);
    cache.save();
    let mut cache = pipeline::cache::HashCache::load(&p.root);
    let again = cache
        .fingerprint(&p.root.join("data/train.csv"), |_, _| true)
        .expect("hash");
    assert!(!again.hashed, "size and mtime match: not read");
    assert_eq!(again.sha256, first.sha256);
}

#[test]
fn an_inputs_violations_come_with_its_profile_for_the_gui() {
    let p = project(&KILN_TOML.replace(r#""bill_length_mm"]"#, r#""wing_span_mm"]"#));
    let checked = pipeline::check_input(&p.file(), "train", &|_, _| true).expect("readable");
    assert_eq!(checked.rows, 258);
    assert_eq!(checked.profile.expect("profiled").columns.len(), 8);
    assert_eq!(checked.violations.len(), 1);
    assert_eq!(
        checked.violations[0].column.as_deref(),
        Some("wing_span_mm")
    );
    assert_eq!(checked.violations[0].rule, "columns");
}
