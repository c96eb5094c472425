//! Runs that are tracked while they happen: started in the store, ended with the right status.

use crate::jobs::JobError;
use crate::store::{NewRun, Run, RunResults, RunStatus, Store};

/// Starts a run (visible as `running` at once), does `work`, and ends the run in exactly one
/// of three states: `finished` with every result `work` returned, committed in one
/// transaction; `failed` with the error; or `killed` when cancelled. A process killed
/// mid-way leaves a `running` run that the next Kiln process to open the store marks
/// `killed` (see [`Store::recover_orphaned_runs`]).
pub fn track_run<T>(
    store: &Store,
    new: &NewRun,
    work: impl FnOnce(&Run) -> Result<(T, RunResults), JobError>,
) -> Result<(Run, T), JobError> {
    let run = store.start_run(new)?;
    let outcome = match work(&run) {
        Ok((value, results)) => match store.complete_run(&run.id, &results) {
            Ok(()) => Ok(value),
            Err(e) => Err(JobError::failed(format!(
                "the run's results could not be saved: {e}"
            ))),
        },
        Err(e) => Err(e),
    };
    match &outcome {
        Ok(_) => {}
        Err(JobError::Cancelled) => store.finish_run(&run.id, RunStatus::Killed, None)?,
        Err(JobError::Failed(message)) => {
            store.finish_run(&run.id, RunStatus::Failed, Some(message))?
        }
    }
    let run = store.run(&run.id)?;
    outcome.map(|value| (run, value))
}
