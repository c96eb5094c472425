//! Several processes share one store: nothing committed is lost, nothing half-written appears.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use kiln_core::store::{RunQuery, RunStatus, Store};
use kiln_tests::WRITER_FIELDS_PER_RUN;

fn writer(home: &std::path::Path, experiment: &str, count: usize) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln-store-writer"));
    cmd.arg(home).arg(experiment).arg(count.to_string());
    cmd
}

fn assert_complete(store: &Store, run_id: &str) {
    let detail = store.run_detail(run_id).expect("committed run is readable");
    assert_eq!(detail.run.status, RunStatus::Finished);
    assert_eq!(
        detail.params.len(),
        WRITER_FIELDS_PER_RUN,
        "all params of {run_id}"
    );
    assert_eq!(
        detail.metrics.len(),
        WRITER_FIELDS_PER_RUN,
        "all metrics of {run_id}"
    );
}

#[test]
fn two_processes_writing_runs_at_once_lose_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    drop(Store::open(home.path()).expect("create store"));
    let per_process = 150;
    let children: Vec<_> = ["left", "right"]
        .iter()
        .map(|name| {
            writer(home.path(), name, per_process)
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn writer")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("wait");
        assert!(status.success(), "writer failed: {status}");
    }
    let store = Store::open(home.path()).expect("reopen");
    let runs = store.runs(&RunQuery::default()).expect("runs");
    assert_eq!(runs.len(), 2 * per_process);
    for experiment in ["left", "right"] {
        let query = RunQuery {
            experiment: Some(experiment.into()),
            ..RunQuery::default()
        };
        assert_eq!(store.runs(&query).expect("runs").len(), per_process);
    }
    for run in &runs {
        assert_complete(&store, &run.id);
    }
}

#[test]
fn a_writer_killed_mid_write_leaves_every_committed_run_and_no_half_run() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut child = writer(home.path(), "crash", 100_000)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut committed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(id) = line.strip_prefix("committed ") {
            committed.push(id.to_owned());
        }
        if committed.len() == 40 {
            break;
        }
    }
    // SIGKILL: no destructor, no rollback handler, no chance to tidy up.
    child.kill().expect("kill");
    let _ = child.wait();

    let store = Store::open(home.path()).expect("store opens after a crash");
    let runs = store.runs(&RunQuery::default()).expect("runs");
    assert!(runs.len() >= committed.len());
    for id in &committed {
        assert_complete(&store, id);
    }
    for run in &runs {
        assert_complete(&store, &run.id);
    }
}
