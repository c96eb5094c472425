//! The real MLflow Python client (3.17.2) against `kiln server`: each workflow script in
//! `tests/mlflow/` logs, searches, autologs, registers or loads through MLFLOW_TRACKING_URI and
//! asserts what it reads back; then the binary shows the same runs as ordinary Kiln data.
//!
//! The client lives in a virtualenv outside the repository: `scripts/bench-venvs mlflow` makes
//! `$KILN_BENCH_DIR/venv-mlflow` (default `/var/tmp/kiln-bench`), or `KILN_MLFLOW_PYTHON`
//! names another interpreter. Without one, every test here says so and passes.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the server may take to print its URL, and a workflow script to finish.
const SERVER_START: Duration = Duration::from_secs(60);
const SCRIPT_LIMIT: Duration = Duration::from_secs(600);

/// The environment of every workflow script, besides MLFLOW_TRACKING_URI: no retries (a 5xx
/// would be retried with backoff for minutes), no telemetry (it reaches the network), no
/// `__pycache__` written into the repository.
const CLIENT_ENV: &[(&str, &str)] = &[
    ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0"),
    ("MLFLOW_HTTP_REQUEST_TIMEOUT", "60"),
    ("MLFLOW_DISABLE_TELEMETRY", "true"),
    ("DO_NOT_TRACK", "true"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
];

/// Variables of the developer's shell that would change what the client does.
const CLIENT_ENV_REMOVED: &[&str] = &[
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_WORKSPACE",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
    "MLFLOW_REGISTRY_URI",
];

/// The Python with mlflow 3.17.2, or None (the caller skips).
fn python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KILN_MLFLOW_PYTHON") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "KILN_MLFLOW_PYTHON={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let bench = std::env::var_os("KILN_BENCH_DIR")
        .map_or_else(|| PathBuf::from("/var/tmp/kiln-bench"), PathBuf::from);
    let path = bench.join("venv-mlflow").join("bin").join("python");
    path.exists().then_some(path)
}

/// The Python, or a line on stderr saying why the test does nothing.
fn python_or_skip(test: &str) -> Option<PathBuf> {
    let found = python();
    if found.is_none() {
        eprintln!(
            "{test}: skipped: no MLflow client (set KILN_MLFLOW_PYTHON, or run \
             scripts/bench-venvs mlflow to make $KILN_BENCH_DIR/venv-mlflow)"
        );
    }
    found
}

/// A fresh folder under cargo's temp dir for the tests.
fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// `kiln --home <fresh store> server --host 127.0.0.1 --port 0`, killed on drop.
struct Server {
    child: Child,
    url: String,
    home: tempfile::TempDir,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start() -> Server {
        let home = temp_dir("mlflow-client-home-");
        let mut child = Command::new(common::kiln_bin())
            .arg("--home")
            .arg(home.path())
            .args(["server", "--host", "127.0.0.1", "--port", "0"])
            .env_remove("KILN_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kiln server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (found, url) = mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap());
        let kept = Arc::clone(&stderr);
        std::thread::Builder::new()
            .name("kiln-server-stderr".into())
            .spawn(move || {
                for line in lines.lines() {
                    let Ok(line) = line else { break };
                    if line.contains("http://127.0.0.1:")
                        && let Some(url) =
                            line.split_whitespace().find(|w| w.starts_with("http://"))
                    {
                        let _ = found.send(url.trim_end_matches('/').to_owned());
                    }
                    let mut text = kept.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            })
            .unwrap();
        let mut server = Server {
            child,
            url: String::new(),
            home,
            stderr,
        };
        match url.recv_timeout(SERVER_START) {
            Ok(url) => server.url = url,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "kiln server printed no http://127.0.0.1: URL within {SERVER_START:?}; stderr:\n{}",
                server.stderr()
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.child.wait();
                panic!(
                    "kiln server exited ({status:?}) without printing its URL; stderr:\n{}",
                    server.stderr()
                )
            }
        }
        server
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Runs `tests/mlflow/SCRIPT` against this server; panics with everything it and the
    /// server printed unless it exits 0.
    fn run_workflow(&self, python: &Path, script: &str) {
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/mlflow");
        let work = temp_dir("mlflow-client-work-");
        let stdout_path = work.path().join("stdout.txt");
        let stderr_path = work.path().join("stderr.txt");
        let mut command = Command::new(python);
        command
            .arg(scripts.join(script))
            .current_dir(work.path())
            .env("MLFLOW_TRACKING_URI", &self.url)
            .envs(CLIENT_ENV.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        for name in CLIENT_ENV_REMOVED {
            command.env_remove(name);
        }
        let mut child = command.spawn().expect("start the workflow's python");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > SCRIPT_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if status.is_some_and(|s| s.success()) {
            return;
        }
        let outcome = status.map_or_else(
            || format!("was killed after {SCRIPT_LIMIT:?}"),
            |s| format!("exited with {s}"),
        );
        panic!(
            "{script} {outcome} against {url}\n--- its stdout:\n{}\n--- its stderr:\n{}\n--- kiln server's stderr:\n{}",
            std::fs::read_to_string(&stdout_path).unwrap_or_default(),
            std::fs::read_to_string(&stderr_path).unwrap_or_default(),
            self.stderr(),
            url = self.url,
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh server that ran `script` successfully (None when there is no client to run).
fn server_after(test: &str, script: &str) -> Option<Server> {
    let python = python_or_skip(test)?;
    let server = Server::start();
    server.run_workflow(&python, script);
    Some(server)
}

/// `kiln runs ARGS --json` on the server's store (while it serves), as the runs array.
fn kiln_runs(server: &Server, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["runs"];
    all.extend_from_slice(args);
    all.push("--json");
    let doc = common::json(&common::kiln(server.home(), &all));
    doc["runs"].as_array().expect("a runs array").clone()
}

/// The one run named `name` in `runs`.
fn named<'a>(runs: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<&Value> = runs.iter().filter(|r| r["name"] == name).collect();
    assert_eq!(found.len(), 1, "one run named {name} in {runs:#?}");
    found[0]
}

fn names(runs: &[Value]) -> Vec<String> {
    let mut names = common::texts(&Value::Array(runs.to_vec()), "name");
    names.sort();
    names
}

#[test]
fn runs_logged_by_the_mlflow_client_are_kiln_runs() {
    let Some(server) = server_after("tracking", "wf_tracking.py") else {
        return;
    };
    let runs = kiln_runs(&server, &[]);
    assert_eq!(runs.len(), 7, "{runs:#?}");
    let statuses = [
        ("basic-run", "finished"),
        ("batch-run", "finished"),
        ("failing-run", "failed"),
        ("parent", "finished"),
        ("child", "finished"),
        ("killed-run", "killed"),
    ];
    for (name, status) in statuses {
        assert_eq!(named(&runs, name)["status"], status, "{name}");
    }
    let unnamed: Vec<&Value> = runs
        .iter()
        .filter(|r| !statuses.iter().any(|(n, _)| r["name"] == *n))
        .collect();
    assert_eq!(unnamed.len(), 1);
    assert!(
        !unnamed[0]["name"].as_str().unwrap().is_empty(),
        "the server named it"
    );
    assert_eq!(unnamed[0]["status"], "finished");
    assert!(
        runs.iter().all(|r| r["experiment"] == "kiln-tracking"),
        "{runs:#?}"
    );

    let id = named(&runs, "basic-run")["run_id"].as_str().unwrap();
    let basic = common::json(&common::kiln(
        server.home(),
        &["runs", "show", id, "--json"],
    ));
    for (key, value) in [
        ("lr", "0.01"),
        ("epochs", "5"),
        ("optimizer", "sgd"),
        ("layers", "[64, 32]"),
    ] {
        assert_eq!(basic["params"][key], value, "param {key}: {basic:#}");
    }
    for (key, value) in [
        ("loss", 0.2),
        ("acc", 0.93),
        ("f1", 0.91),
        ("resumed_metric", 1.0),
    ] {
        assert_eq!(
            basic["metrics"][key].as_f64(),
            Some(value),
            "metric {key}: {basic:#}"
        );
    }
    assert_eq!(basic["tags"]["team"], "rust-port", "{basic:#}");

    let parent = named(&runs, "parent")["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = named(&runs, "child")["run_id"].as_str().unwrap();
    let child = common::json(&common::kiln(
        server.home(),
        &["runs", "show", id, "--json"],
    ));
    assert_eq!(
        child["metrics"]["child_metric"].as_f64(),
        Some(1.5),
        "{child:#}"
    );
    assert!(
        child["parent_run_id"] == parent.as_str()
            || child["tags"]["mlflow.parentRunId"] == parent.as_str(),
        "the child knows its parent {parent}: {child:#}"
    );
}

#[test]
fn mlflow_search_filters_and_pages_as_the_reference_server_does() {
    let Some(server) = server_after("search", "wf_search.py") else {
        return;
    };
    let runs = kiln_runs(&server, &["--experiment", "kiln-search"]);
    assert_eq!(
        names(&runs),
        ["search-0", "search-1", "search-2", "search-3", "search-4"]
    );
    assert_eq!(named(&runs, "search-4")["status"], "failed");
    // Kiln's own filter language is MLflow's syntax: the same query, the same runs.
    let small = kiln_runs(
        &server,
        &["--experiment", "kiln-search", "--filter", "metrics.x < 2"],
    );
    assert_eq!(names(&small), ["search-0", "search-1"]);
    let other = kiln_runs(&server, &["--experiment", "kiln-search-other"]);
    assert_eq!(names(&other), ["other-0"]);
}

#[test]
fn sklearn_autolog_logs_a_model_the_client_downloads_byte_for_byte() {
    let Some(server) = server_after("autolog", "wf_autolog.py") else {
        return;
    };
    let runs = kiln_runs(&server, &[]);
    let run = named(&runs, "autolog-run");
    assert_eq!(run["status"], "finished");
    assert_eq!(run["params"]["max_iter"], "200", "{run:#}");
    assert!(
        run["metrics"]["training_accuracy_score"].as_f64().is_some(),
        "{run:#}"
    );
}

#[test]
fn the_model_registry_keeps_versions_aliases_stages_and_tags() {
    let Some(server) = server_after("registry", "wf_registry.py") else {
        return;
    };
    let runs = kiln_runs(&server, &["--experiment", "kiln-registry"]);
    assert_eq!(names(&runs), ["registry-autolog", "registry-explicit"]);
}

#[test]
fn a_registered_model_loads_back_and_predicts_what_the_estimator_predicts() {
    let Some(server) = server_after("load", "wf_load.py") else {
        return;
    };
    let runs = kiln_runs(&server, &["--experiment", "kiln-load"]);
    assert_eq!(names(&runs), ["load-run"]);
    assert_eq!(runs[0]["status"], "finished");
}
