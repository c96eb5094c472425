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

struct Second {
    requests: u64,
    errors: u64,
    latency: Histogram<u64>,
    labelled: u64,
    correct: u64,
}

struct Inner {
    seconds: Vec<Second>,
    latency: Histogram<u64>,
    requests: u64,
    errors: u64,
    labelled: u64,
    correct: u64,
    predictions: BTreeMap<String, u64>,
    window: VecDeque<Vec<Cell>>,
    drift: Vec<DriftPoint>,
    alerts: Vec<Alert>,
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
                latency: latency_histogram(),
                requests: 0,
                errors: 0,
                labelled: 0,
                correct: 0,
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
            inner.seconds.push(Second {
                requests: 0,
                errors: 0,
                latency: latency_histogram(),
                labelled: 0,
                correct: 0,
            });
        }
        let latency = outcome.latency_us.clamp(1, 60_000_000);
        let correct = match (&outcome.prediction, &outcome.label) {
            (Some(p), Some(l)) => Some(p == l),
            _ => None,
        };
        inner.requests += 1;
        inner.errors += u64::from(!outcome.ok);
        inner.latency.saturating_record(latency);
        if let Some(correct) = correct {
            inner.labelled += 1;
            inner.correct += u64::from(correct);
        }
        if let Some(p) = &outcome.prediction {
            *inner.predictions.entry(p.clone()).or_default() += 1;
        }
        let s = &mut inner.seconds[second];
        s.requests += 1;
        s.errors += u64::from(!outcome.ok);
        s.latency.saturating_record(latency);
        if let Some(correct) = correct {
            s.labelled += 1;
            s.correct += u64::from(correct);
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
        for alert in alerts {
            let seen = inner
                .alerts
                .iter()
                .any(|a| a.kind == alert.kind && a.column == alert.column);
            if !seen {
                inner.alerts.push(alert);
            }
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

    /// Everything seen so far.
    pub fn snapshot(&self) -> LiveStats {
        let inner = self.lock();
        let ratio =
            |correct: u64, labelled: u64| (labelled > 0).then(|| correct as f64 / labelled as f64);
        LiveStats {
            requests: inner.requests,
            errors: inner.errors,
            latency_ms: if inner.requests > 0 {
                Percentiles::of(&inner.latency)
            } else {
                Percentiles::default()
            },
            accuracy: ratio(inner.correct, inner.labelled),
            predictions: inner
                .predictions
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            seconds: inner
                .seconds
                .iter()
                .enumerate()
                .map(|(t, s)| SecondStats {
                    t: t as u32,
                    requests: s.requests,
                    errors: s.errors,
                    latency_ms: if s.requests > 0 {
                        Percentiles::of(&s.latency)
                    } else {
                        Percentiles::default()
                    },
                    accuracy: ratio(s.correct, s.labelled),
                })
                .collect(),
            drift: inner.drift.clone(),
            alerts: inner.alerts.clone(),
        }
    }
}
