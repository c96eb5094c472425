//! Live monitoring of traffic: per-second throughput, latency percentiles (hdrhistogram),
//! errors, accuracy against the joined labels, the prediction mix, and drift of a sliding
//! window of requests against the reference. The simulator records into it from its workers;
//! the Deploy workspace and the CLI read [`Monitor::snapshot`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::source::Cell;
use crate::data::profile::Alert;
use crate::deploy::drift::DriftReport;

/// Rows of the sliding window drift is measured on.
pub const DRIFT_WINDOW_ROWS: usize = 1_000;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Self {
        let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1_000.0;
        Self {
            p50: ms(0.50),
            p95: ms(0.95),
            p99: ms(0.99),
        }
    }
}

/// One second of traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondStats {
    /// Seconds since the start.
    pub t: u32,
    /// Requests answered in this second.
    pub requests: u64,
    /// Of which failed (an error status or no answer).
    pub errors: u64,
    /// Latency of this second's requests.
    pub latency_ms: Percentiles,
    /// Accuracy of this second's labelled predictions.
    pub accuracy: Option<f64>,
}

/// Drift of the sliding window at a moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftPoint {
    /// Seconds since the start.
    pub t: f64,
    /// Share of drifted columns.
    pub share: f64,
    /// Whether the dataset drifts.
    pub dataset_drift: bool,
    /// Per column: name, Evidently's score, whether it drifted.
    pub columns: Vec<(String, f64, bool)>,
}

/// What the monitor has seen so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveStats {
    /// Requests answered.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Latency over all requests.
    pub latency_ms: Percentiles,
    /// Accuracy over all labelled predictions (`None` without labels).
    pub accuracy: Option<f64>,
    /// Predictions by label.
    pub predictions: Vec<(String, u64)>,
    /// Second by second.
    pub seconds: Vec<SecondStats>,
    /// Drift of the sliding window over time.
    pub drift: Vec<DriftPoint>,
    /// Alerts raised, first time each.
    pub alerts: Vec<Alert>,
}

/// Counts of a stretch of traffic: the whole run, or one second of it.
struct Tally {
    requests: u64,
    errors: u64,
    latency: Histogram<u64>,
    labelled: u64,
    correct: u64,
}

impl Tally {
    fn new() -> Self {
        Self {
            requests: 0,
            errors: 0,
            latency: latency_histogram(),
            labelled: 0,
            correct: 0,
        }
    }

    fn add(&mut self, latency_us: u64, ok: bool, correct: Option<bool>) {
        self.requests += 1;
        self.errors += u64::from(!ok);
        self.latency.saturating_record(latency_us);
        if let Some(correct) = correct {
            self.labelled += 1;
            self.correct += u64::from(correct);
        }
    }

    fn percentiles(&self) -> Percentiles {
        if self.requests > 0 {
            Percentiles::of(&self.latency)
        } else {
            Percentiles::default()
        }
    }

    fn accuracy(&self) -> Option<f64> {
        (self.labelled > 0).then(|| self.correct as f64 / self.labelled as f64)
    }
}

struct Inner {
    seconds: Vec<Tally>,
    /// Each second's figures as last computed; `None` once a request of that second was
    /// recorded since. A snapshot computes only those, so a long run's views stay cheap.
    summaries: Vec<Option<SecondStats>>,
    total: Tally,
    predictions: BTreeMap<String, u64>,
    window: VecDeque<Vec<Cell>>,
    drift: Vec<DriftPoint>,
    alerts: Vec<Alert>,
}

/// The run so far in three numbers, cheap enough for a progress line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// Requests answered.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: f64,
}

/// One answered (or failed) request, as a worker records it.
pub(super) struct Outcome {
    pub t: f64,
    pub latency_us: u64,
    pub ok: bool,
    pub prediction: Option<String>,
    pub label: Option<String>,
    pub cells: Vec<Cell>,
}

/// Live statistics of one stream of traffic, shared by the threads that send it and the
/// views that draw it.
pub struct Monitor {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

/// 1 µs to 60 s at 3 significant digits.
// Constant bounds that hdrhistogram accepts (it refuses only low < 1, high < 2 * low or more
// than 5 digits): nothing a user sends can make this fail.
#[allow(clippy::expect_used)]
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant, valid histogram bounds")
}

impl Monitor {
    /// An empty monitor.
    pub fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                seconds: Vec::new(),
                summaries: Vec::new(),
                total: Tally::new(),
                predictions: BTreeMap::new(),
                window: VecDeque::new(),
                drift: Vec::new(),
                alerts: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A worker that panicked mid-record leaves counts that are still counts.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn record(&self, outcome: Outcome) {
        let mut inner = self.lock();
        let second = outcome.t.max(0.0) as usize;
        while inner.seconds.len() <= second {
            inner.seconds.push(Tally::new());
            inner.summaries.push(None);
        }
        let latency = outcome.latency_us.clamp(1, 60_000_000);
        let correct = match (&outcome.prediction, &outcome.label) {
            (Some(p), Some(l)) => Some(p == l),
            _ => None,
        };
        inner.total.add(latency, outcome.ok, correct);
        inner.seconds[second].add(latency, outcome.ok, correct);
        inner.summaries[second] = None;
        if let Some(p) = &outcome.prediction {
            *inner.predictions.entry(p.clone()).or_default() += 1;
        }
        inner.window.push_back(outcome.cells);
        if inner.window.len() > DRIFT_WINDOW_ROWS {
            inner.window.pop_front();
        }
    }

    /// The rows of the sliding window.
    pub(super) fn window(&self) -> Vec<Vec<Cell>> {
        self.lock().window.iter().cloned().collect()
    }

    /// Records the window's drift at `t` and raises each alert the first time it appears.
    pub(super) fn record_drift(&self, t: f64, report: &DriftReport, alerts: Vec<Alert>) {
        let mut inner = self.lock();
        inner.drift.push(DriftPoint {
            t,
            share: report.share,
            dataset_drift: report.dataset_drift,
            columns: report
                .columns
                .iter()
                .map(|c| (c.column.clone(), c.score, c.drifted))
                .collect(),
        });
        drop(inner);
        for alert in alerts {
            self.raise(alert);
        }
    }

    /// Raises an alert unless one of its kind and column was raised already.
    pub(super) fn raise(&self, alert: Alert) {
        let mut inner = self.lock();
        if !inner
            .alerts
            .iter()
            .any(|a| a.kind == alert.kind && a.column == alert.column)
        {
            inner.alerts.push(alert);
        }
    }

    /// Requests, errors and the p99 latency so far.
    pub fn totals(&self) -> Totals {
        let inner = self.lock();
        Totals {
            requests: inner.total.requests,
            errors: inner.total.errors,
            p99_ms: inner.total.percentiles().p99,
        }
    }

    /// Everything seen so far.
    pub fn snapshot(&self) -> LiveStats {
        let mut inner = self.lock();
        let Inner {
            seconds, summaries, ..
        } = &mut *inner;
        for (t, (tally, summary)) in seconds.iter().zip(summaries.iter_mut()).enumerate() {
            summary.get_or_insert_with(|| SecondStats {
                t: t as u32,
                requests: tally.requests,
                errors: tally.errors,
                latency_ms: tally.percentiles(),
                accuracy: tally.accuracy(),
            });
        }
        LiveStats {
            requests: inner.total.requests,
            errors: inner.total.errors,
            latency_ms: inner.total.percentiles(),
            accuracy: inner.total.accuracy(),
            predictions: inner
                .predictions
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            seconds: inner.summaries.iter().flatten().cloned().collect(),
            drift: inner.drift.clone(),
            alerts: inner.alerts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(t: f64, latency_us: u64, ok: bool) -> Outcome {
        Outcome {
            t,
            latency_us,
            ok,
            prediction: Some("a".into()),
            label: Some("a".into()),
            cells: Vec::new(),
        }
    }

    #[test]
    fn seconds_count_their_own_requests_and_a_late_one_updates_its_second() {
        let monitor = Monitor::new();
        monitor.record(outcome(0.2, 1_000, true));
        monitor.record(outcome(1.5, 3_000, false));
        let first = monitor.snapshot();
        assert_eq!((first.requests, first.errors), (2, 1));
        assert_eq!(first.seconds.len(), 2);
        assert_eq!(first.seconds[0].requests, 1);
        assert_eq!(first.seconds[1].errors, 1);
        // A request of second 0 answered after second 1 began.
        monitor.record(outcome(0.9, 2_000, true));
        let later = monitor.snapshot();
        assert_eq!(later.seconds[0].requests, 2);
        assert!((later.seconds[0].latency_ms.p99 - 2.0).abs() < 0.01);
        assert_eq!(later.seconds[1], first.seconds[1]);
        assert_eq!(monitor.totals().requests, 3);
        assert_eq!(later.accuracy, Some(1.0));
    }
}
