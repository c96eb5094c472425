//! A tracked job leaves the store telling the truth about how the run ended.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use kiln_core::jobs::{JobError, JobRunner, JobState};
use kiln_core::store::{NewRun, RunStatus, Store};
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
            Ok(())
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
    let (run, value) = track_run(&store, &new_run(), |_| Ok(3)).expect("runs");
    assert_eq!(value, 3);
    assert_eq!(run.status, RunStatus::Finished);
}
