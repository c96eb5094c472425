//! `kiln run` and `kiln watch` through the binary, as issue 12 specifies them: the `--json`
//! contract, exit codes and `error:` lines naming the failure, the JUnit report parsing as
//! JUnit, errors in `kiln.toml` naming their line, concurrent runs serialised (the second names
//! the pid it waits for), and the watch mode seeing a change.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::kiln_bin;
use serde_json::Value;

const PENGUINS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/penguins.csv");

/// The issue's example pipeline (inputs `data/train.csv` and `data/test.csv`), shared by the
/// core and command-line pipeline tests.
const KILN_TOML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/pipeline/kiln.toml"
));

struct Project {
    dir: tempfile::TempDir,
    root: PathBuf,
}

fn project(kiln_toml: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    std::fs::create_dir_all(root.join("data")).unwrap();
    let text = std::fs::read_to_string(PENGUINS).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut train, mut test) = (vec![header], vec![header]);
    for (i, line) in lines.enumerate() {
        if i % 4 == 0 {
            test.push(line);
        } else {
            train.push(line);
        }
    }
    std::fs::write(root.join("data/train.csv"), train.join("\n") + "\n").unwrap();
    std::fs::write(root.join("data/test.csv"), test.join("\n") + "\n").unwrap();
    std::fs::write(root.join("kiln.toml"), kiln_toml).unwrap();
    Project { dir, root }
}

impl Project {
    fn home(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(kiln_bin());
        command
            .arg("--home")
            .arg(self.home())
            .args(args)
            .current_dir(&self.root)
            .env_remove("KILN_HOME");
        command
    }

    fn kiln(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn drop_rows(&self, n: usize) {
        let path = self.root.join("data/train.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, lines[..lines.len() - n].join("\n") + "\n").unwrap();
    }
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "one JSON document ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn statuses(doc: &Value) -> Vec<(String, String)> {
    doc["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn run_json_has_the_contract_shape_and_a_second_run_skips_everything() {
    let p = project(KILN_TOML);
    let out = p.kiln(&["run", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = stdout_json(&out);
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["gates", "model", "pipeline", "run_id", "stages"]);
    assert_eq!(doc["pipeline"], "penguins");
    for stage in doc["stages"].as_array().unwrap() {
        let keys: Vec<&String> = stage.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["duration_s", "name", "reason", "status"]);
        assert_eq!(stage["status"], "ran", "{stage}");
        assert!(stage["duration_s"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(
        doc["model"],
        serde_json::json!({"name": "penguin-clf", "version": 1, "stage": "staging"})
    );
    let gate = &doc["gates"][0];
    assert_eq!(
        (gate["gate"].as_str(), gate["passed"].as_bool()),
        (Some("accuracy >= 0.9"), Some(true))
    );
    assert!(gate["detail"].as_str().unwrap().starts_with("accuracy = "));
    assert!(doc["run_id"].is_string());

    let again = p.kiln(&["run", "--json"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let again = stdout_json(&again);
    assert!(
        statuses(&again).iter().all(|(_, s)| s == "skipped"),
        "{again}"
    );
    assert_eq!(again["run_id"], doc["run_id"]);
    assert_eq!(again["model"], doc["model"]);

    // The text form says the same in lines.
    let text = p.kiln(&["run"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("pipeline penguins up to date"), "{text}");
}

#[test]
fn a_changed_data_file_makes_version_2() {
    let p = project(KILN_TOML);
    assert!(p.kiln(&["run"]).status.success());
    p.drop_rows(15);
    let out = p.kiln(&["run", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = stdout_json(&out);
    let ran: Vec<String> = statuses(&doc)
        .into_iter()
        .filter(|(_, s)| s == "ran")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        ran,
        [
            "validate:train",
            "train",
            "evaluate",
            "gates",
            "register",
            "promote"
        ]
    );
    assert_eq!(doc["model"]["version"], 2);
}

#[test]
fn a_missing_column_exits_1_naming_the_column_and_registers_nothing() {
    let p = project(&KILN_TOML.replace("\"bill_length_mm\"]", "\"beak_mm\"]"));
    let out = p.kiln(&["run", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let error = stderr(&out);
    let line = error
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert!(
        line.contains("validate:train") && line.contains("column 'beak_mm'"),
        "{line}"
    );
    let doc = stdout_json(&out);
    assert!(doc["model"].is_null());
    let list = p.kiln(&["models", "list"]);
    assert!(!String::from_utf8_lossy(&list.stdout).contains("penguin-clf"));
}

#[test]
fn a_failing_gate_exits_non_zero_and_leaves_staging_as_it_was() {
    let p = project(KILN_TOML);
    assert!(p.kiln(&["run"]).status.success());
    let strict = KILN_TOML.replace(r#"accuracy = ">= 0.9""#, r#"accuracy = ">= 1.01""#);
    std::fs::write(p.root.join("kiln.toml"), strict).unwrap();
    p.drop_rows(5);
    let out = p.kiln(&["run", "--json", "--report", "report.md"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = stderr(&out);
    assert!(
        error.contains("error: gates: gate failed: accuracy >= 1.01"),
        "{error}"
    );
    let doc = stdout_json(&out);
    assert_eq!(doc["gates"][0]["passed"], false);
    let show = p.kiln(&["models", "show", "penguin-clf", "--json"]);
    let show = stdout_json(&show);
    let versions = show["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["stage"], "staging");
    let report = std::fs::read_to_string(p.root.join("report.md")).unwrap();
    assert!(
        report.contains("failed at `gates`") && report.contains("**failed**"),
        "{report}"
    );
}

/// A JUnit document, read with an XML parser: each suite's counts match its test cases.
#[test]
fn the_junit_report_parses_as_junit() {
    use quick_xml::events::Event;
    let p = project(KILN_TOML);
    let out = p.kiln(&["run", "--report", "junit.xml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = std::fs::read_to_string(p.root.join("junit.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut stack: Vec<String> = Vec::new();
    let mut suites: Vec<(usize, usize, usize)> = Vec::new(); // declared tests, failures, counted
    let mut cases = Vec::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name.as_bytes())
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                    .unwrap()
                    .into_owned()
            })
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                match name.as_str() {
                    "testsuites" => assert!(stack.is_empty(), "testsuites is the root"),
                    "testsuite" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testsuites"));
                        let tests = attr(&e, "tests").unwrap().parse().unwrap();
                        let failures = attr(&e, "failures").unwrap().parse().unwrap();
                        suites.push((tests, failures, 0));
                    }
                    "testcase" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testsuite"));
                        attr(&e, "classname").expect("classname");
                        attr(&e, "time")
                            .unwrap()
                            .parse::<f64>()
                            .expect("time in seconds");
                        cases.push(attr(&e, "name").expect("name"));
                        suites.last_mut().unwrap().2 += 1;
                    }
                    _ => {}
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert!(["skipped", "failure"].contains(&name.as_str()), "{name}");
                assert_eq!(stack.last().map(String::as_str), Some("testcase"));
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty());
    assert_eq!(suites.len(), 2, "stages and gates");
    for (declared, failures, counted) in &suites {
        assert_eq!(declared, counted);
        assert_eq!(*failures, 0);
    }
    assert!(
        cases.contains(&"validate:train".to_owned())
            && cases.contains(&"accuracy >= 0.9".to_owned())
    );
}

#[test]
fn an_unknown_key_or_wrong_type_exits_2_naming_the_line() {
    let p = project(&KILN_TOML.replace("seed = 0", "seed = 0\nlearning_rate = 0.1"));
    let out = p.kiln(&["run"]);
    assert_eq!(out.status.code(), Some(2));
    let error = stderr(&out);
    assert!(
        error.starts_with("error: ") && error.contains("line 23, column 1"),
        "{error}"
    );
    assert!(error.contains("learning_rate"), "{error}");
    std::fs::write(
        p.root.join("kiln.toml"),
        KILN_TOML.replace("seed = 0", "seed = [0]"),
    )
    .unwrap();
    let error = stderr(&p.kiln(&["run", "--file", "kiln.toml"]));
    assert!(error.contains("line 22"), "{error}");
    assert_eq!(error.lines().count(), 1, "one line: {error}");
}

#[test]
fn two_concurrent_runs_are_serialised_and_the_second_names_the_pid() {
    // The first run holds the lock for at least the 2 s of its registration hook.
    let p = project(&format!(
        "{KILN_TOML}\n[hooks]\nversion_registered = {{ command = \"sleep 2\" }}\n"
    ));
    let first = p
        .command(&["run", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = first.id().to_string();
    let lock = p.root.join(".kiln/run.lock");
    let started = Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |t| t.trim() != pid) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first run never took the lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let no_wait = p.kiln(&["run", "--no-wait"]);
    assert_eq!(no_wait.status.code(), Some(3), "{}", stderr(&no_wait));
    assert!(
        stderr(&no_wait).contains(&format!("process {pid}")),
        "{}",
        stderr(&no_wait)
    );
    let second = p.kiln(&["run", "--json"]);
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!("waiting: process {pid} holds the pipeline lock")),
        "{}",
        stderr(&second)
    );
    let (a, b) = (stdout_json(&first), stdout_json(&second));
    assert!(statuses(&a).iter().all(|(_, s)| s == "ran"), "{a}");
    assert!(
        statuses(&b).iter().all(|(_, s)| s == "skipped"),
        "the second ran after the first: {b}"
    );
    assert_eq!(a["model"], b["model"]);
}

#[test]
fn watch_mode_sees_a_change() {
    let p = project(KILN_TOML);
    let mut child = p
        .command(&["watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::Builder::new()
        .name("watch-stdout".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    let until_done = |what: &str| -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("no {what}: {seen:?}"));
            let done = line.starts_with("pipeline penguins ") && line.contains(" in ");
            seen.push(line);
            if done {
                return seen;
            }
        }
    };
    let first = until_done("first run");
    assert!(first.last().unwrap().contains("passed"), "{first:?}");
    // Give the watcher a moment to be armed, then change the data.
    std::thread::sleep(Duration::from_millis(500));
    p.drop_rows(7);
    let second = until_done("run after the change");
    let _ = child.kill();
    let _ = child.wait();
    let train = second
        .iter()
        .find(|l| l.trim_start().starts_with("train "))
        .expect("train line");
    assert!(
        train.contains("ran") && train.contains("data/train.csv"),
        "{second:?}"
    );
    assert!(
        second
            .iter()
            .any(|l| l.contains("model penguin-clf:2 (staging)")),
        "{second:?}"
    );
}
