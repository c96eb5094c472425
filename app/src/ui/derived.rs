//! Results computed as jobs from inputs the view remembers (Explore's filtered rows and
//! plots, the Train tab's task, Experiments' charts): the job reruns only when its inputs
//! change, and a job whose inputs changed while it ran is cancelled, not left to finish.

use kiln_core::jobs::{JobContext, JobError, JobHandle, JobRunner};

/// A computation whose inputs are remembered, so it reruns only when they change.
pub struct Derived<K, T> {
    key: Option<K>,
    job: Option<JobHandle<T>>,
    /// The latest result.
    pub value: Option<Result<T, String>>,
}

impl<K, T> Default for Derived<K, T> {
    fn default() -> Self {
        Self {
            key: None,
            job: None,
            value: None,
        }
    }
}

impl<K: PartialEq + Clone, T: Send + 'static> Derived<K, T> {
    /// Whether `key` differs from the last one asked for: callers whose work is costly to
    /// set up check this first.
    pub fn is_stale(&self, key: &K) -> bool {
        self.key.as_ref() != Some(key)
    }

    /// Starts `work` when `key` differs from the last one asked for; says whether it did.
    ///
    /// A job still computing the previous key is cancelled: it ends as cancelled (its
    /// result, if it gets one, is dropped) instead of finishing for nobody.
    pub fn request(
        &mut self,
        key: K,
        jobs: &JobRunner,
        name: String,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> bool {
        self.request_cancellable(key, jobs, name, move |_| work())
    }

    /// Like [`Self::request`], for work that can check `ctx.is_cancelled()` between units
    /// of work and stop early when it is replaced.
    pub fn request_cancellable(
        &mut self,
        key: K,
        jobs: &JobRunner,
        name: String,
        work: impl FnOnce(&JobContext) -> Result<T, String> + Send + 'static,
    ) -> bool {
        if !self.is_stale(&key) {
            return false;
        }
        if let Some(job) = self.job.take() {
            job.cancel();
        }
        self.key = Some(key);
        self.job = Some(jobs.spawn(name, move |ctx| {
            // Replaced before it started: do nothing.
            ctx.check_cancelled()?;
            let value = work(ctx).map_err(JobError::Failed)?;
            // Replaced while it ran: nobody wants this value.
            ctx.check_cancelled()?;
            Ok(value)
        }));
        true
    }

    /// Adopts a job started elsewhere (by the app's command handling) for `key`, cancelling
    /// one still running for an older key.
    pub fn watch(&mut self, key: K, job: JobHandle<T>) {
        if let Some(old) = self.job.take() {
            old.cancel();
        }
        self.key = Some(key);
        self.value = None;
        self.job = Some(job);
    }

    /// Forgets the inputs and the result (they no longer apply), cancelling a running job.
    pub fn reset(&mut self) {
        if let Some(job) = self.job.take() {
            job.cancel();
        }
        self.key = None;
        self.value = None;
    }

    /// Collects a finished job.
    pub fn poll(&mut self) {
        if let Some(result) = JobHandle::take_finished(&mut self.job) {
            match result {
                Ok(value) => self.value = Some(Ok(value)),
                Err(JobError::Failed(message)) => self.value = Some(Err(message)),
                Err(JobError::Cancelled) => {}
            }
        }
    }

    /// Whether a computation is running.
    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// The latest result, when it was computed for the inputs last asked for (not while a
    /// newer computation runs).
    pub fn current(&self) -> Option<&Result<T, String>> {
        if self.busy() {
            None
        } else {
            self.value.as_ref()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use std::time::{Duration, Instant};

    use kiln_core::jobs::{JobId, JobState, JobStatus};

    use super::*;

    fn status(jobs: &JobRunner, id: JobId) -> JobStatus {
        jobs.statuses()
            .into_iter()
            .find(|s| s.id == id)
            .expect("the job is listed")
    }

    fn wait_for_end(jobs: &JobRunner, id: JobId) -> JobState {
        let start = Instant::now();
        loop {
            let state = status(jobs, id).state;
            if state != JobState::Running {
                return state;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "job {id} never ended"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn new_inputs_cancel_the_job_computing_the_old_ones() {
        let jobs = JobRunner::new();
        let mut derived: Derived<u32, u32> = Derived::default();
        let (release, gate) = crossbeam_channel::bounded::<()>(0);
        assert!(derived.request(1, &jobs, "old".into(), move || {
            // Busy until the test lets it go, like a long sort.
            let _ = gate.recv_timeout(Duration::from_secs(10));
            Ok(1)
        }));
        let old = derived.job.as_ref().expect("old job").id();

        assert!(derived.request(2, &jobs, "new".into(), || Ok(2)));
        assert!(
            status(&jobs, old).cancel_requested,
            "the replaced job was asked to stop"
        );
        drop(release);
        assert_eq!(wait_for_end(&jobs, old), JobState::Cancelled);

        let new = derived.job.as_ref().expect("new job").id();
        assert_eq!(wait_for_end(&jobs, new), JobState::Finished);
        derived.poll();
        assert_eq!(derived.current(), Some(&Ok(2)));
    }

    #[test]
    fn cancellable_work_stops_early_when_replaced() {
        let jobs = JobRunner::new();
        let mut derived: Derived<u32, u32> = Derived::default();
        derived.request_cancellable(1, &jobs, "old".into(), |ctx| {
            let start = Instant::now();
            while !ctx.is_cancelled() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(1));
            }
            Ok(1)
        });
        let old = derived.job.as_ref().expect("old job").id();
        let asked = Instant::now();
        derived.request(2, &jobs, "new".into(), || Ok(2));
        assert_eq!(wait_for_end(&jobs, old), JobState::Cancelled);
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "stopped at its next check"
        );
    }

    #[test]
    fn the_same_inputs_start_nothing() {
        let jobs = JobRunner::new();
        let mut derived: Derived<u32, u32> = Derived::default();
        assert!(derived.request(1, &jobs, "first".into(), || Ok(1)));
        assert!(!derived.request(1, &jobs, "again".into(), || Ok(1)));
        assert_eq!(jobs.statuses().len(), 1);
    }

    #[test]
    fn a_reset_cancels_the_running_job_and_forgets_the_result() {
        let jobs = JobRunner::new();
        let mut derived: Derived<u32, u32> = Derived::default();
        let (release, gate) = crossbeam_channel::bounded::<()>(0);
        derived.request(1, &jobs, "stale".into(), move || {
            let _ = gate.recv_timeout(Duration::from_secs(10));
            Ok(1)
        });
        let id = derived.job.as_ref().expect("job").id();
        derived.reset();
        drop(release);
        assert_eq!(wait_for_end(&jobs, id), JobState::Cancelled);
        assert!(!derived.busy() && derived.value.is_none());
        assert!(derived.is_stale(&1), "the same inputs compute again");
    }
}
