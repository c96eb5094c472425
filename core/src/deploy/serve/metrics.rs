//! What `/metrics` reports, in Prometheus' text format (prometheus-client): requests, errors
//! by status code, the scoring latency histogram, predictions by class, and drift gauges that
//! the drift monitor sets through [`ServeMetrics::set_drift`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label of a request counter: the endpoint's path.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PathLabel {
    path: String,
}

/// Label of the error counter: the HTTP status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: u16,
}

/// Label of the prediction counter: the predicted class.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabel {
    class: String,
}

/// Label of a drift gauge: the input column.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ColumnLabel {
    column: String,
}

/// Label of the variant counter: which model answered (`primary` or `canary`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VariantLabel {
    variant: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// A shadow candidate's record: requests it scored alongside the primary, and how many of
/// its answers differed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ShadowStats {
    /// Requests the shadow scored.
    pub compared: u64,
    /// Of which its answer differed from the primary's.
    pub disagreed: u64,
}

/// The server's counters, shared by every request and readable by monitoring.
#[derive(Debug)]
pub struct ServeMetrics {
    registry: Registry,
    requests: Family<PathLabel, Counter>,
    errors: Family<CodeLabel, Counter>,
    latency: Histogram,
    predictions: Family<ClassLabel, Counter>,
    drift_score: Family<ColumnLabel, FloatGauge>,
    drift_share: FloatGauge,
    requests_total: AtomicU64,
    errors_total: AtomicU64,
    variants: Family<VariantLabel, Counter>,
    shadow_compared: Counter,
    shadow_disagreed: Counter,
}

impl Default for ServeMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ServeMetrics {
    /// Empty counters, registered under `kiln_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kiln");
        let requests = Family::<PathLabel, Counter>::default();
        let errors = Family::<CodeLabel, Counter>::default();
        // 50 µs to ~26 s: single-row predictions sit in the first buckets, a slow batch in
        // the last ones.
        let latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 20));
        let predictions = Family::<ClassLabel, Counter>::default();
        let drift_score = Family::<ColumnLabel, FloatGauge>::default();
        let drift_share = FloatGauge::default();
        registry.register("requests", "HTTP requests by endpoint", requests.clone());
        registry.register(
            "errors",
            "answers with a 4xx or 5xx status, by code",
            errors.clone(),
        );
        registry.register(
            "invocation_duration_seconds",
            "time to answer POST /invocations",
            latency.clone(),
        );
        registry.register(
            "predictions",
            "predicted rows by class (classifiers)",
            predictions.clone(),
        );
        registry.register(
            "drift_score",
            "Evidently drift score of each input column against the training reference",
            drift_score.clone(),
        );
        registry.register(
            "drift_share",
            "share of input columns that drift",
            drift_share.clone(),
        );
        let variants = Family::<VariantLabel, Counter>::default();
        let shadow_compared = Counter::default();
        let shadow_disagreed = Counter::default();
        registry.register(
            "variant_requests",
            "scoring requests by the model that answered (primary, canary)",
            variants.clone(),
        );
        registry.register(
            "shadow_compared",
            "requests a shadow candidate scored alongside the primary",
            shadow_compared.clone(),
        );
        registry.register(
            "shadow_disagreed",
            "shadow answers that differed from the primary's",
            shadow_disagreed.clone(),
        );
        Self {
            variants,
            shadow_compared,
            shadow_disagreed,
            registry,
            requests,
            errors,
            latency,
            predictions,
            drift_score,
            drift_share,
            requests_total: AtomicU64::new(0),
            errors_total: AtomicU64::new(0),
        }
    }

    /// Counts one answered request.
    pub(crate) fn record_request(&self, path: &str, status: u16) {
        self.requests
            .get_or_create(&PathLabel { path: path.into() })
            .inc();
        self.requests_total.fetch_add(1, Ordering::Relaxed);
        if status >= 400 {
            self.errors.get_or_create(&CodeLabel { code: status }).inc();
            self.errors_total.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a scoring request answered by `variant` (`primary` or `canary`).
    pub(crate) fn record_variant(&self, variant: &str) {
        self.variants
            .get_or_create(&VariantLabel {
                variant: variant.into(),
            })
            .inc();
    }

    /// Counts one shadow comparison.
    pub(crate) fn record_shadow(&self, agreed: bool) {
        self.shadow_compared.inc();
        if !agreed {
            self.shadow_disagreed.inc();
        }
    }

    /// Requests answered by `variant` so far.
    pub fn variant_total(&self, variant: &str) -> u64 {
        self.variants
            .get_or_create(&VariantLabel {
                variant: variant.into(),
            })
            .get()
    }

    /// The shadow candidate's comparisons so far.
    pub fn shadow_stats(&self) -> ShadowStats {
        ShadowStats {
            compared: self.shadow_compared.get(),
            disagreed: self.shadow_disagreed.get(),
        }
    }

    /// Records the time one scoring request took.
    pub(crate) fn record_latency(&self, elapsed: Duration) {
        self.latency.observe(elapsed.as_secs_f64());
    }

    /// Counts the predicted labels of one request (classifiers).
    pub(crate) fn record_predictions(&self, labels: &[String]) {
        for label in labels {
            self.predictions
                .get_or_create(&ClassLabel {
                    class: label.clone(),
                })
                .inc();
        }
    }

    /// The drift monitor's hook: the latest drift score of `column` and the share of drifting
    /// columns, shown by `/metrics` as `kiln_drift_score{column}` and `kiln_drift_share`.
    pub fn set_drift(&self, scores: &[(String, f64)], share: f64) {
        for (column, score) in scores {
            self.drift_score
                .get_or_create(&ColumnLabel {
                    column: column.clone(),
                })
                .set(*score);
        }
        self.drift_share.set(share);
    }

    /// [`Self::set_drift`] from a drift report (the simulator's live window).
    pub fn set_drift_report(&self, report: &crate::deploy::drift::DriftReport) {
        let scores: Vec<(String, f64)> = report
            .columns
            .iter()
            .map(|c| (c.column.clone(), c.score))
            .collect();
        self.set_drift(&scores, report.share);
    }

    /// Requests answered so far, on every endpoint.
    pub fn requests_total(&self) -> u64 {
        self.requests_total.load(Ordering::Relaxed)
    }

    /// Requests answered with a 4xx or 5xx status so far.
    pub fn errors_total(&self) -> u64 {
        self.errors_total.load(Ordering::Relaxed)
    }

    /// Everything in Prometheus' text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an encoder error would leave what was written.
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!("encoding metrics: {e}");
        }
        text
    }
}
