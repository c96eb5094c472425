//! Errors of the server: what a client is told (an HTTP status and MLflow's error document
//! `{"error_code", "message"}`), and why a server could not start.

use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An answer other than predictions: its status and MLflow's `error_code`.
///
/// Every client mistake is a 4xx; a 500 (`INTERNAL_ERROR`) means Kiln or the model failed
/// on a request that was valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// MLflow's error code (`BAD_REQUEST`, `INVALID_PARAMETER_VALUE`, ...).
    pub code: &'static str,
    /// What went wrong, for the person who sent the request.
    pub message: String,
}

/// MLflow's error document.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: &'a str,
    message: &'a str,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the body cannot be read, or its rows do not fit the model.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }

    /// 400: a parameter has a value it cannot have.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 401: a token is required and the request did not carry it.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "this endpoint needs the header Authorization: Bearer <token>",
        )
    }

    /// 404: no such endpoint.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
            format!(
                "no endpoint {path}; there are POST /invocations, GET /ping, /health, /version, /metrics"
            ),
        )
    }

    /// 413: the body is over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_LIMIT_EXCEEDED",
            format!(
                "the body is larger than the limit of {limit} bytes; send fewer rows per request"
            ),
        )
    }

    /// 415: neither JSON nor CSV.
    pub fn unsupported_media_type(got: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            format!("content type '{got}' is not supported; send application/json or text/csv"),
        )
    }

    /// 504: the prediction took longer than the limit.
    pub fn timeout(limit: Duration) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "DEADLINE_EXCEEDED",
            format!(
                "the request took longer than the limit of {} ms; send fewer rows per request",
                limit.as_millis()
            ),
        )
    }

    /// 500: Kiln or the model failed on a valid request.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error_code: self.code,
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

/// Why a server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound (in use, not allowed, not an address).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// What was asked for.
        address: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The runtime or its thread could not be started.
    #[error("cannot start the server: {0}")]
    Start(std::io::Error),
    /// The model to serve could not be loaded.
    #[error("{0}")]
    Model(String),
    /// The server stopped with an error.
    #[error("the server failed: {0}")]
    Failed(String),
}
