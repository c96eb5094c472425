//! The HTTP surface: the router, the handlers, and the layers around them (token, metrics,
//! body limit, panic catching).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;

use super::ServedModel;
use super::candidate::{Candidate, CandidateMode, goes_to_canary};
use super::error::ApiError;
use super::metrics::ServeMetrics;
use super::score::{BodyFormat, score};

/// What every handler shares: the swappable model, the counters and the limits.
#[derive(Clone)]
pub(super) struct AppState {
    pub slot: Arc<ArcSwap<ServedModel>>,
    /// A canary or shadow beside the served model.
    pub candidate: Arc<ArcSwapOption<Candidate>>,
    /// Scoring requests so far: spreads a canary's share evenly.
    pub sequence: Arc<AtomicU64>,
    pub metrics: Arc<ServeMetrics>,
    pub token: Option<Arc<str>>,
    pub body_limit: usize,
    pub time_limit: Duration,
}

/// Bodies up to this size (a few rows) are scored on the connection's own task.
const INLINE_BODY: usize = 8 * 1024;

/// The paths the metrics count by name; anything else counts as `other`, so a scan of
/// random paths cannot grow the label set without bound.
const PATHS: [&str; 5] = ["/invocations", "/ping", "/health", "/version", "/metrics"];

/// The router of one served model.
pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/invocations", post(invocations))
        .route("/ping", get(ping))
        .route("/health", get(ping))
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        // Innermost first: a panic becomes a 500 that the token and metrics layers still see.
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(DefaultBodyLimit::max(state.body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// `POST /invocations`: MLflow's scoring protocol.
async fn invocations(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let answer = invoke(&state, &headers, body).await;
    state.metrics.record_latency(started.elapsed());
    match answer {
        Ok(scored) => {
            state.metrics.record_predictions(&scored.labels);
            axum::Json(scored.body).into_response()
        }
        Err(error) => {
            if error.status.is_server_error() {
                tracing::warn!("POST /invocations: {error}");
            } else {
                tracing::debug!("POST /invocations: {error}");
            }
            error.into_response()
        }
    }
}

async fn invoke(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<super::score::Scored, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let format = BodyFormat::from_content_type(content_type)?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(state.body_limit)
        } else {
            ApiError::bad_request(format!("the body could not be read: {rejection}"))
        }
    })?;
    // One load per request: a swap in the middle of it cannot mix two models.
    let primary = state.slot.load_full();
    let candidate = state.candidate.load_full();
    let n = state.sequence.fetch_add(1, Ordering::Relaxed);
    let (served, variant, shadow) = match candidate.as_deref() {
        Some(Candidate {
            served,
            mode: CandidateMode::Canary { percent },
        }) if goes_to_canary(n, *percent) => (served.clone(), "canary", None),
        Some(
            c @ Candidate {
                mode: CandidateMode::Shadow,
                ..
            },
        ) => (primary, "primary", Some(c.served.clone())),
        _ => (primary, "primary", None),
    };
    state.metrics.record_variant(variant);
    let shadow_body = shadow.as_ref().map(|_| body.clone());
    let answer = if body.len() <= INLINE_BODY {
        // A few rows score in tens of microseconds: handing them to another thread would
        // cost more than the work, and add to the tail latency.
        score(&served.model, format, &body)
    } else {
        // Parsing and predicting more are CPU work: on the blocking pool they cannot stall
        // the connections of other clients. A request over the limit is answered with a 504;
        // its work finishes in the background and is dropped.
        let work = tokio::task::spawn_blocking(move || score(&served.model, format, &body));
        match tokio::time::timeout(state.time_limit, work).await {
            Err(_) => Err(ApiError::timeout(state.time_limit)),
            Ok(Err(join)) => Err(ApiError::internal(format!("scoring failed: {join}"))),
            Ok(Ok(answer)) => answer,
        }
    };
    // The shadow scores its copy after the answer is ready, off the request's path.
    if let (Some(shadow), Some(body), Ok(scored)) = (shadow, shadow_body, &answer) {
        let (expected, metrics) = (scored.body.clone(), state.metrics.clone());
        tokio::task::spawn_blocking(move || {
            let agreed = score(&shadow.model, format, &body).is_ok_and(|s| s.body == expected);
            metrics.record_shadow(agreed);
        });
    }
    answer
}

/// `GET /ping`, `GET /health`: the server answers only once its model is loaded.
async fn ping() -> StatusCode {
    StatusCode::OK
}

/// `GET /version`: Kiln's version and what is being served.
async fn version(State(state): State<AppState>) -> Response {
    let served = state.slot.load();
    axum::Json(json!({
        "kiln_version": crate::KILN_VERSION,
        "model": {
            "name": served.info.name,
            "version": served.info.version,
            "ref": served.info.model_ref,
            "run_id": served.info.run_id,
            "kind": served.model.kind_name(),
            "task": served.model.task(),
        },
        "candidate": state.candidate.load().as_deref().map(|c| json!({
            "ref": c.served.info.model_ref,
            "version": c.served.info.version,
            "mode": c.mode,
        })),
    }))
    .into_response()
}

/// `GET /metrics`: Prometheus' text format.
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::not_found(request.uri().path())
}

/// With a token, every request needs `Authorization: Bearer <token>`.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
            return ApiError::unauthenticated().into_response();
        }
    }
    next.run(request).await
}

/// Compares in time that depends only on the lengths, so the answer's timing does not tell
/// how much of a guessed token was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts every answer by path and, for errors, by status code.
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let label = PATHS.into_iter().find(|p| *p == path).unwrap_or("other");
    let response = next.run(request).await;
    state
        .metrics
        .record_request(label, response.status().as_u16());
    response
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no message");
    tracing::error!("a handler panicked: {detail}");
    ApiError::internal(format!("the server failed on this request: {detail}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cret", b"s3creT"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
    }
}
