//! Background jobs: anything that can take longer than a frame runs here, off the UI thread.
//!
//! A job reports progress (a fraction and a short message) and checks a cancellation flag
//! between units of work. The GUI polls [`JobRunner::statuses`] each frame and is woken by the
//! runner's notifier when a job reports; the CLI draws the same progress as a terminal bar.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, bounded};

/// Identifies a job within one [`JobRunner`].
pub type JobId = u64;

/// Where a job is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Still working.
    Running,
    /// Returned a result.
    Finished,
    /// Returned an error (or panicked); the message says why.
    Failed(String),
    /// Stopped because cancellation was requested.
    Cancelled,
}

/// Why a job did not return a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The user cancelled the job.
    #[error("cancelled")]
    Cancelled,
    /// The work failed; the message is for the user.
    #[error("{0}")]
    Failed(String),
}

impl JobError {
    /// A failure with a message built from any displayable error.
    pub fn failed(error: impl std::fmt::Display) -> Self {
        Self::Failed(error.to_string())
    }
}

impl From<crate::store::StoreError> for JobError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::failed(error)
    }
}

/// A snapshot of one job, for drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    /// The job's id.
    pub id: JobId,
    /// What the job is doing, as shown to the user ("Profiling iris.csv").
    pub name: String,
    /// Fraction done in `0.0..=1.0`, when the job can tell.
    pub fraction: Option<f32>,
    /// The latest progress message.
    pub message: String,
    /// Life-cycle state.
    pub state: JobState,
    /// Time since the job started.
    pub elapsed: Duration,
    /// Whether cancellation was requested (the job may not have noticed yet).
    pub cancel_requested: bool,
}

type Notifier = Arc<dyn Fn() + Send + Sync>;

struct Shared {
    id: JobId,
    name: String,
    started: Instant,
    progress: Mutex<(Option<f32>, String)>,
    state: Mutex<JobState>,
    ended: Mutex<Option<Duration>>,
    cancel: AtomicBool,
    notifier: Option<Notifier>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn notify(&self) {
        if let Some(notify) = &self.notifier {
            notify();
        }
    }

    fn status(&self) -> JobStatus {
        let (fraction, message) = lock(&self.progress).clone();
        JobStatus {
            id: self.id,
            name: self.name.clone(),
            fraction,
            message,
            state: lock(&self.state).clone(),
            elapsed: lock(&self.ended).unwrap_or_else(|| self.started.elapsed()),
            cancel_requested: self.cancel.load(Ordering::Relaxed),
        }
    }
}

/// Handed to the job's closure: report progress, check for cancellation.
pub struct JobContext {
    shared: Arc<Shared>,
}

impl JobContext {
    /// Reports progress: `fraction` in `0.0..=1.0` (clamped) and a short message.
    pub fn progress(&self, fraction: f32, message: impl Into<String>) {
        *lock(&self.shared.progress) = (Some(fraction.clamp(0.0, 1.0)), message.into());
        self.shared.notify();
    }

    /// Reports a message without a known fraction (an indeterminate phase).
    pub fn message(&self, message: impl Into<String>) {
        lock(&self.shared.progress).1 = message.into();
        self.shared.notify();
    }

    /// Whether the user asked to cancel.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancel.load(Ordering::Relaxed)
    }

    /// `Err(JobError::Cancelled)` once cancellation was requested; call between units of work.
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        if self.is_cancelled() {
            Err(JobError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// The caller's end of one job: its status, its cancel switch and, once done, its result.
pub struct JobHandle<T> {
    shared: Arc<Shared>,
    result: Receiver<Result<T, JobError>>,
}

impl<T> JobHandle<T> {
    /// The job's id.
    pub fn id(&self) -> JobId {
        self.shared.id
    }

    /// Asks the job to stop at its next check.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
        self.shared.notify();
    }

    /// A snapshot of the job's progress and state.
    pub fn status(&self) -> JobStatus {
        self.shared.status()
    }

    /// The result, if the job has ended; never blocks. Returns it once.
    pub fn try_result(&self) -> Option<Result<T, JobError>> {
        match self.result.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => None,
        }
    }

    /// The result of the job in `slot` once it has ended, emptying the slot; `None` while
    /// it runs or when the slot is empty. Views call this once per frame.
    pub fn take_finished(slot: &mut Option<Self>) -> Option<Result<T, JobError>> {
        let result = slot.as_ref()?.try_result()?;
        *slot = None;
        Some(result)
    }

    /// Blocks until the job ends and returns its result.
    pub fn wait(self) -> Result<T, JobError> {
        self.result
            .recv()
            .unwrap_or_else(|_| Err(JobError::Failed("the job ended without a result".into())))
    }

    /// Blocks up to `timeout` for the result.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<T, JobError>> {
        self.result.recv_timeout(timeout).ok()
    }
}

/// Starts jobs on named threads and keeps their statuses for the status bar.
#[derive(Clone, Default)]
pub struct JobRunner {
    inner: Arc<RunnerInner>,
}

#[derive(Default)]
struct RunnerInner {
    next_id: AtomicU64,
    jobs: Mutex<Vec<Arc<Shared>>>,
    notifier: Mutex<Option<Notifier>>,
}

impl JobRunner {
    /// A runner with no jobs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `notify` whenever any job reports progress or ends (the GUI passes
    /// `request_repaint`, so an idle window sleeps and a busy one redraws).
    pub fn set_notifier(&self, notify: impl Fn() + Send + Sync + 'static) {
        *lock(&self.inner.notifier) = Some(Arc::new(notify));
    }

    /// Starts `work` on its own thread and returns its handle.
    ///
    /// A panic inside `work` is caught and reported as a failed job, so one bad job never
    /// takes the window down.
    pub fn spawn<T, F>(&self, name: impl Into<String>, work: F) -> JobHandle<T>
    where
        T: Send + 'static,
        F: FnOnce(&JobContext) -> Result<T, JobError> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            name: name.into(),
            started: Instant::now(),
            progress: Mutex::new((None, String::new())),
            state: Mutex::new(JobState::Running),
            ended: Mutex::new(None),
            cancel: AtomicBool::new(false),
            notifier: lock(&self.inner.notifier).clone(),
        });
        lock(&self.inner.jobs).push(Arc::clone(&shared));
        let (sender, result) = bounded(1);
        let ctx = JobContext {
            shared: Arc::clone(&shared),
        };
        let thread_shared = Arc::clone(&shared);
        let body = move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| work(&ctx)))
                .unwrap_or_else(|panic| Err(JobError::Failed(panic_message(&panic))));
            let state = match &outcome {
                Ok(_) => JobState::Finished,
                Err(JobError::Cancelled) => JobState::Cancelled,
                Err(JobError::Failed(message)) => JobState::Failed(message.clone()),
            };
            if let JobState::Failed(message) = &state {
                tracing::debug!(job = %thread_shared.name, %message, "job failed");
            }
            *lock(&thread_shared.ended) = Some(thread_shared.started.elapsed());
            *lock(&thread_shared.state) = state;
            // The receiver may be gone (nobody waits for the result); that is fine.
            let _ = sender.send(outcome);
            thread_shared.notify();
        };
        let spawned = std::thread::Builder::new()
            .name(format!("kiln-job-{}", shared.id))
            .spawn(body);
        if let Err(error) = spawned {
            *lock(&shared.state) = JobState::Failed(format!("could not start a thread: {error}"));
        }
        JobHandle { shared, result }
    }

    /// Snapshots of all jobs still listed (running, and ended ones not yet cleared), oldest first.
    pub fn statuses(&self) -> Vec<JobStatus> {
        lock(&self.inner.jobs)
            .iter()
            .map(|job| job.status())
            .collect()
    }

    /// Number of jobs still running.
    pub fn running_count(&self) -> usize {
        lock(&self.inner.jobs)
            .iter()
            .filter(|job| *lock(&job.state) == JobState::Running)
            .count()
    }

    /// Requests cancellation of job `id` (no effect when it has ended).
    pub fn cancel(&self, id: JobId) {
        if let Some(job) = lock(&self.inner.jobs).iter().find(|job| job.id == id) {
            job.cancel.store(true, Ordering::Relaxed);
            job.notify();
        }
    }

    /// Forgets ended jobs older than `keep` (so the status bar shows recent outcomes briefly).
    pub fn clear_ended(&self, keep: Duration) {
        lock(&self.inner.jobs).retain(|job| {
            let ended = *lock(&job.ended);
            ended.is_none_or(|at| job.started.elapsed().saturating_sub(at) < keep)
        });
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error (please report): {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reaches_the_observer() {
        let runner = JobRunner::new();
        let (tx, rx) = crossbeam_channel::unbounded();
        runner.set_notifier(move || {
            let _ = tx.send(());
        });
        let (go_tx, go_rx) = bounded::<()>(0);
        let handle = runner.spawn("count", move |ctx| {
            ctx.progress(0.5, "half way");
            let _ = go_rx.recv();
            Ok(42)
        });
        rx.recv_timeout(Duration::from_secs(5)).expect("notified");
        let status = handle.status();
        assert_eq!(status.fraction, Some(0.5));
        assert_eq!(status.message, "half way");
        assert_eq!(status.state, JobState::Running);
        assert_eq!(runner.running_count(), 1);
        go_tx.send(()).expect("job waits");
        assert_eq!(handle.wait(), Ok(42));
        assert_eq!(runner.statuses()[0].state, JobState::Finished);
    }

    #[test]
    fn cancellation_stops_the_work() {
        let runner = JobRunner::new();
        let handle = runner.spawn("forever", |ctx| {
            loop {
                ctx.check_cancelled()?;
                std::thread::sleep(Duration::from_millis(1));
            }
            #[allow(unreachable_code)]
            Ok(())
        });
        runner.cancel(handle.id());
        assert_eq!(handle.wait(), Err(JobError::Cancelled));
        assert_eq!(runner.statuses()[0].state, JobState::Cancelled);
    }

    #[test]
    fn a_panicking_job_is_reported_as_failed() {
        let runner = JobRunner::new();
        let handle = runner.spawn("boom", |_| -> Result<(), JobError> { panic!("kaput") });
        let Err(JobError::Failed(message)) = handle.wait() else {
            panic!("expected a failure");
        };
        assert!(message.contains("kaput"), "{message}");
    }
}
