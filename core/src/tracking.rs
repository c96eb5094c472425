//! Runs that are tracked while they happen: started in the store, ended with the right status.

use crate::jobs::JobError;
use crate::store::{NewRun, Run, RunStatus, Store};

/// Starts a run, does `work`, and ends the run `finished`, `failed` (with the error) or
/// `killed` (when cancelled) — so the store never claims a cancelled run succeeded.
pub fn track_run<T>(
    store: &Store,
    new: &NewRun,
    work: impl FnOnce(&Run) -> Result<T, JobError>,
) -> Result<(Run, T), JobError> {
    let run = store.start_run(new)?;
    let outcome = work(&run);
    let (status, error) = match &outcome {
        Ok(_) => (RunStatus::Finished, None),
        Err(JobError::Cancelled) => (RunStatus::Killed, None),
        Err(JobError::Failed(message)) => (RunStatus::Failed, Some(message.as_str())),
    };
    store.finish_run(&run.id, status, error)?;
    let run = store.run(&run.id)?;
    outcome.map(|value| (run, value))
}
