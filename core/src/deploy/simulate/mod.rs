//! Simulated traffic against a real endpoint over HTTP: a dataset replayed in order or
//! resampled, at a target rate and concurrency for a duration, with drift injected on demand
//! ([`DriftInjection`]). Labels in the data are joined to the answers for live accuracy; a
//! [`Monitor`] sees every request as it happens, and the end is a [`SimulationReport`]: the
//! traffic figures plus Evidently's drift report of what was sent against the reference.

mod inject;
mod monitor;
mod source;
mod target;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use polars::prelude::{DataFrame, IntoColumn, NamedFrom, Series};
use serde::Serialize;
use serde_json::Value;

pub use inject::{Change, DriftInjection, InjectionError, Timing};
pub use monitor::{
    DRIFT_WINDOW_ROWS, DriftPoint, LiveStats, Monitor, Percentiles, SecondStats, Totals,
};
pub use target::{ServedTarget, servable_refs, serve_model, url_target};

use self::monitor::Outcome;
use self::source::{Cell, Source, Values, label_text};
use super::drift::{DriftOptions, DriftReport, drift_alerts, drift_report};
use super::serve::ServeMetrics;
use crate::data::profile::Alert;
use crate::rng::SeededRng;

/// Rows kept for the final drift report; beyond it a uniform sample of the sent rows.
const KEPT_ROWS: usize = 200_000;

/// Error rate above which an `error_rate` alert is raised.
const ERROR_RATE_ALERT: f64 = 0.01;

/// Where the traffic goes and what it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `http://host:port` of a server speaking MLflow's scoring protocol.
    pub url: String,
    /// `Authorization: Bearer` token, when the server needs one.
    pub token: Option<String>,
    /// Columns sent with each request, in order.
    pub inputs: Vec<String>,
    /// The label column of the data: joined to the answers for accuracy (classifiers) and
    /// kept with the sent rows for retraining.
    pub label: Option<String>,
    /// The classes labels may be flipped to; empty for a regressor (no accuracy).
    pub classes: Vec<String>,
}

/// How the traffic runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateOptions {
    /// Requests per second aimed at (one row each).
    pub rps: f64,
    /// How long.
    pub duration: Duration,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Rows in file order (wrapping around) instead of drawn at random with replacement.
    pub replay: bool,
    /// Seed of the resampling and of the injections' draws.
    pub seed: u64,
    /// Drift injected.
    pub drift: Vec<DriftInjection>,
    /// How often the sliding window's drift is measured.
    pub drift_every: Duration,
    /// Longest wait for one answer.
    pub request_timeout: Duration,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        Self {
            rps: 50.0,
            duration: Duration::from_secs(10),
            concurrency: 4,
            replay: false,
            seed: 42,
            drift: Vec::new(),
            drift_every: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What `kiln simulate --json` prints: the traffic figures and the drift report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationReport {
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed (an error status or no answer).
    pub errors: u64,
    /// Requests per second achieved.
    pub rps: f64,
    /// Latency percentiles over all requests.
    pub latency_ms: Percentiles,
    /// Accuracy of the predictions against the joined labels (`None` without labels).
    pub accuracy: Option<f64>,
    /// The sent rows against the reference, as `kiln drift` reports.
    pub drift: DriftReport,
    /// Drift, error-rate and accuracy alerts.
    pub alerts: Vec<Alert>,
}

/// A finished simulation: its report, and the rows it sent (a uniform sample beyond
/// 200,000) with their labels when the data had them: what a retraining adds to the
/// reference.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The figures and the drift report.
    pub report: SimulationReport,
    /// Sent rows: the input columns, and the label column when known.
    pub traffic: DataFrame,
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The options or the data do not fit together.
    #[error("{0}")]
    Invalid(String),
    /// No request was answered, so there is nothing to report.
    #[error("no request reached {url}: {reason}")]
    Unreachable {
        /// The target.
        url: String,
        /// The first failure.
        reason: String,
    },
    /// The drift report failed.
    #[error("the drift report failed: {0}")]
    Drift(String),
    /// Stopped by the user.
    #[error("cancelled")]
    Cancelled,
}

/// Sends `data`'s rows to `target` as `options` say, recording into `monitor`, and reports.
/// `reference` is what drift is measured against (the training data). `on_progress`
/// returns `false` to stop; `gauges`, when Kiln serves the target, get each window's drift
/// (`/metrics`' `kiln_drift_score`).
pub fn simulate(
    target: &Target,
    data: &DataFrame,
    reference: &DataFrame,
    options: &SimulateOptions,
    monitor: &Monitor,
    on_progress: &(dyn Fn(f32, &str) -> bool + Sync),
    gauges: Option<&ServeMetrics>,
) -> Result<Simulation, SimulateError> {
    let invalid = SimulateError::Invalid;
    if !(options.rps.is_finite() && options.rps > 0.0) {
        return Err(invalid(format!(
            "the rate must be above 0 requests per second, not {}",
            options.rps
        )));
    }
    if options.duration.is_zero() {
        return Err(invalid("the duration must be above 0 seconds".into()));
    }
    let source = Source::new(data, &target.inputs, target.label.as_deref()).map_err(invalid)?;
    check_injections(&source, target, &options.drift).map_err(invalid)?;

    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let first_failure = std::sync::Mutex::new(None::<String>);
    let kept = std::sync::Mutex::new(Kept::new(options.seed));
    let workers = options.concurrency.clamp(1, 256);
    let worker = |w: usize| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(options.request_timeout))
            .build()
            .into();
        let mut rng = SeededRng::new(options.seed ^ (0x5EED_0000 + w as u64));
        let url = format!("{}/invocations", target.url.trim_end_matches('/'));
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let due = Duration::from_secs_f64(i as f64 / options.rps);
            if due >= options.duration || stop.load(Ordering::Relaxed) {
                break;
            }
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
            let row = if options.replay {
                i % source.rows
            } else {
                rng.below(source.rows)
            };
            let t = started.elapsed().as_secs_f64();
            let (cells, label) = source.row(row, t, &options.drift, &target.classes, &mut rng);
            let sent = Instant::now();
            let answer = send(&agent, &url, target.token.as_deref(), source.body(&cells));
            let latency_us = sent.elapsed().as_micros() as u64;
            let (ok, prediction) = match answer {
                Ok(prediction) => (true, prediction),
                Err(reason) => {
                    let mut first = first_failure
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    first.get_or_insert(reason);
                    (false, None)
                }
            };
            if ok {
                kept.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(&cells, label.clone());
            }
            // Accuracy and the prediction mix are a classifier's; a regressor's label is kept
            // for retraining only.
            let classifier = !target.classes.is_empty();
            let (prediction, label) = if classifier {
                (prediction, label)
            } else {
                (None, None)
            };
            monitor.record(Outcome {
                t,
                latency_us,
                ok,
                prediction,
                label,
                cells,
            });
        }
    };
    let drift_options = DriftOptions::default();
    std::thread::scope(|scope| -> Result<(), SimulateError> {
        let handles: Vec<_> = (0..workers)
            .filter_map(|w| {
                std::thread::Builder::new()
                    .name(format!("kiln-simulate-{w}"))
                    .spawn_scoped(scope, move || worker(w))
                    .ok()
            })
            .collect();
        if handles.is_empty() {
            return Err(invalid(
                "no thread could be started to send the traffic".into(),
            ));
        }
        let mut last_drift = Instant::now();
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(100));
            let elapsed = started.elapsed();
            // Totals only: the per-second percentiles are the views' to compute.
            let totals = monitor.totals();
            if let Some(alert) = error_rate_alert(totals.requests, totals.errors) {
                monitor.raise(alert);
            }
            let message = format!(
                "{} requests, {} errors, p99 {:.2} ms",
                totals.requests, totals.errors, totals.p99_ms
            );
            let fraction = (elapsed.as_secs_f64() / options.duration.as_secs_f64()).min(1.0);
            if !on_progress(fraction as f32, &message) {
                stop.store(true, Ordering::Relaxed);
            }
            if last_drift.elapsed() >= options.drift_every {
                last_drift = Instant::now();
                window_drift(
                    &source,
                    reference,
                    &drift_options,
                    monitor,
                    elapsed.as_secs_f64(),
                    gauges,
                );
            }
        }
        Ok(())
    })?;
    if stop.load(Ordering::Relaxed) {
        return Err(SimulateError::Cancelled);
    }
    let elapsed = started.elapsed().as_secs_f64();
    window_drift(&source, reference, &drift_options, monitor, elapsed, gauges);
    let live = monitor.snapshot();
    let kept = kept
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if kept.rows.is_empty() {
        return Err(SimulateError::Unreachable {
            url: target.url.clone(),
            reason: first_failure
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unwrap_or_else(|| "no request was sent".into()),
        });
    }
    let rows: Vec<&[Cell]> = kept
        .rows
        .iter()
        .map(|(cells, _)| cells.as_slice())
        .collect();
    let frame_error = |e: polars::prelude::PolarsError| SimulateError::Drift(e.to_string());
    let current = source.frame_of(&rows).map_err(frame_error)?;
    let drift = drift_report(reference, &current, &drift_options)
        .map_err(|e| SimulateError::Drift(e.to_string()))?;
    let mut alerts = drift_alerts(&drift);
    alerts.extend(error_rate_alert(live.requests, live.errors));
    let mut traffic = current;
    if let Some(label) = &target.label {
        let labels: Vec<Option<&str>> = kept.rows.iter().map(|(_, l)| l.as_deref()).collect();
        let column = Series::new(label.as_str().into(), labels).into_column();
        traffic.with_column(column).map_err(frame_error)?;
    }
    Ok(Simulation {
        report: SimulationReport {
            requests: live.requests,
            errors: live.errors,
            rps: live.requests as f64 / elapsed.max(1e-9),
            latency_ms: live.latency_ms,
            accuracy: live.accuracy,
            drift,
            alerts,
        },
        traffic,
    })
}

/// One request; the predicted label on success, the reason on failure.
fn send(
    agent: &ureq::Agent,
    url: &str,
    token: Option<&str>,
    body: String,
) -> Result<Option<String>, String> {
    let mut request = agent.post(url).header("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.send(body).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    if status != 200 {
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or(text);
        return Err(format!("HTTP {status}: {message}"));
    }
    let answer: Value =
        serde_json::from_str(&text).map_err(|e| format!("the answer is not JSON: {e}"))?;
    Ok(answer["predictions"].get(0).and_then(label_text))
}

/// The sliding window against the reference, into the monitor (and the server's gauges).
fn window_drift(
    source: &Source,
    reference: &DataFrame,
    options: &DriftOptions,
    monitor: &Monitor,
    t: f64,
    gauges: Option<&ServeMetrics>,
) {
    let window = monitor.window();
    // Too few rows say nothing yet.
    if window.len() < 50 {
        return;
    }
    let rows: Vec<&[Cell]> = window.iter().map(Vec::as_slice).collect();
    let Ok(current) = source.frame_of(&rows) else {
        return;
    };
    match drift_report(reference, &current, options) {
        Ok(report) => {
            if let Some(gauges) = gauges {
                gauges.set_drift_report(&report);
            }
            monitor.record_drift(t, &report, drift_alerts(&report));
        }
        Err(e) => tracing::warn!("drift of the live window: {e}"),
    }
}

/// An `error_rate` alert when more than [`ERROR_RATE_ALERT`] of the requests failed.
fn error_rate_alert(requests: u64, errors: u64) -> Option<Alert> {
    let rate = errors as f64 / requests.max(1) as f64;
    (rate > ERROR_RATE_ALERT).then(|| Alert {
        column: None,
        kind: "error_rate".into(),
        detail: format!(
            "{errors} of {requests} requests failed ({:.1}%)",
            100.0 * rate
        ),
    })
}

/// Each injection names a column it can act on: shift and scale a numeric input, mix a text
/// input, flip the label column.
fn check_injections(
    source: &Source,
    target: &Target,
    drift: &[DriftInjection],
) -> Result<(), String> {
    for d in drift {
        let values = source
            .names
            .iter()
            .position(|n| n == &d.column)
            .map(|j| &source.columns[j]);
        match (&d.change, values) {
            (Change::Shift { .. } | Change::Scale { .. }, Some(Values::Numbers(_))) => {}
            (Change::Mix { .. }, Some(Values::Text(_))) => {}
            (Change::Flip { .. }, _) if target.label.as_deref() == Some(d.column.as_str()) => {
                if source.labels.is_none() {
                    return Err(format!(
                        "--drift {d}: the data has no label column '{}'",
                        d.column
                    ));
                }
            }
            (Change::Flip { .. }, _) => {
                return Err(format!(
                    "--drift {d}: labels can be flipped only in the label column ({})",
                    target
                        .label
                        .as_deref()
                        .unwrap_or("none: the model has no target")
                ));
            }
            (_, None) => {
                return Err(format!(
                    "--drift {d}: '{}' is not a column the model reads",
                    d.column
                ));
            }
            (Change::Mix { .. }, Some(_)) => {
                return Err(format!(
                    "--drift {d}: '{}' is numeric; use shift or scale",
                    d.column
                ));
            }
            (_, Some(_)) => {
                return Err(format!("--drift {d}: '{}' is text; use mix", d.column));
            }
        }
    }
    Ok(())
}

/// Sent rows kept for the final report: all up to [`KEPT_ROWS`], then a uniform sample
/// (reservoir sampling), so a long run's memory stays bounded.
struct Kept {
    rows: Vec<(Vec<Cell>, Option<String>)>,
    seen: usize,
    rng: SeededRng,
}

impl Kept {
    fn new(seed: u64) -> Self {
        Self {
            rows: Vec::new(),
            seen: 0,
            rng: SeededRng::new(seed),
        }
    }

    fn push(&mut self, cells: &[Cell], label: Option<String>) {
        self.seen += 1;
        if self.rows.len() < KEPT_ROWS {
            self.rows.push((cells.to_vec(), label));
        } else {
            let j = self.rng.below(self.seen);
            if j < KEPT_ROWS {
                self.rows[j] = (cells.to_vec(), label);
            }
        }
    }
}
