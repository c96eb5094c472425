//! A tracked job leaves the store telling the truth about how the run ended.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use kiln_core::jobs::{JobError, JobRunner, JobState};
use kiln_core::store::{NewRun, RunResults, RunStatus, Store};
use kiln_core::tracking::track_run;

fn new_run() -> NewRun {
    NewRun {
        experiment: "jobs".into(),
        ..NewRun::default()
    }
}

#[test]
fn cancelling_a_tracked_job_marks_its_run_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let runner = JobRunner::new();
    let job_store = store.clone();
    let (started_tx, started_rx) = crossbeam_channel::bounded(1);
    let handle = runner.spawn("train forever", move |ctx| {
        track_run(&job_store, &new_run(), |run| {
            let _ = started_tx.send(run.id.clone());
            for step in 0.. {
                ctx.check_cancelled()?;
                job_store.log_metric_steps(&run.id, "loss", &[(step, 1.0 / (step + 1) as f64)])?;
                ctx.progress(0.0, format!("step {step}"));
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(((), RunResults::default()))
        })
    });
    let run_id = started_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("run started");
    std::thread::sleep(Duration::from_millis(30));
    handle.cancel();
    let status = loop {
        let status = handle.status();
        if status.state != JobState::Running {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.state, JobState::Cancelled);
    assert!(matches!(handle.wait(), Err(JobError::Cancelled)));
    let run = store.run(&run_id).expect("run");
    assert_eq!(run.status, RunStatus::Killed);
    assert!(run.end_time.is_some());
    assert!(
        !store
            .metric_history(&run_id, "loss")
            .expect("history")
            .is_empty()
    );
}

#[test]
fn a_failing_tracked_job_marks_its_run_failed_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let result: Result<(_, ()), _> = track_run(&store, &new_run(), |_| {
        Err(JobError::failed("constant target"))
    });
    assert_eq!(
        result.expect_err("fails"),
        JobError::Failed("constant target".into())
    );
    let runs = store.runs(&Default::default()).expect("runs");
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(runs[0].error.as_deref(), Some("constant target"));
}

#[test]
fn a_successful_tracked_job_marks_its_run_finished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let results = RunResults {
        metrics: vec![("accuracy".into(), 0.9)],
        artifacts: vec![("model.json".into(), b"{}".to_vec())],
        tags: vec![("kiln.warning.1".into(), "did not converge".into())],
        params: vec![],
    };
    let (run, value) = track_run(&store, &new_run(), |_| Ok((3, results))).expect("runs");
    assert_eq!(value, 3);
    assert_eq!(run.status, RunStatus::Finished);
    let detail = store.run_detail(&run.id).expect("detail");
    assert_eq!(detail.metrics.get("accuracy"), Some(&0.9));
    assert_eq!(detail.artifacts.len(), 1);
    assert!(detail.tags.contains_key("kiln.warning.1"));
}

#[test]
fn a_run_whose_process_died_is_killed_when_the_store_is_next_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let run = store.start_run(&new_run()).expect("start");
    // Pretend a process that no longer exists owned it, as sqlite3 would.
    rusqlite::Connection::open(dir.path().join(kiln_core::store::DB_FILE))
        .expect("db")
        .execute(
            "UPDATE runs SET owner_pid = ?2 WHERE id = ?1",
            rusqlite::params![run.id, i64::from(u32::MAX)],
        )
        .expect("update");
    drop(store);
    let store = Store::open(dir.path()).expect("reopen");
    let run = store.run(&run.id).expect("run");
    assert_eq!(run.status, RunStatus::Killed);
    assert!(
        run.error
            .unwrap_or_default()
            .contains("ended without finishing")
    );
}

#[test]
fn a_run_of_a_live_process_stays_running_when_another_handle_opens_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let run = store.start_run(&new_run()).expect("start");
    let other = Store::open(dir.path()).expect("second handle");
    assert_eq!(other.run(&run.id).expect("run").status, RunStatus::Running);
}
