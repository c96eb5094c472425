//! Results computed as jobs from inputs the view remembers (Explore's filtered rows and
//! plots, Experiments' charts): the job reruns only when its inputs change.

use kiln_core::jobs::{JobError, JobHandle, JobRunner};

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
    pub fn request(
        &mut self,
        key: K,
        jobs: &JobRunner,
        name: String,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> bool {
        if !self.is_stale(&key) {
            return false;
        }
        if let Some(job) = &self.job {
            job.cancel();
        }
        self.key = Some(key);
        self.job = Some(jobs.spawn(name, move |_| work().map_err(JobError::Failed)));
        true
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
}
