//! MLflow's error answers: `{"error_code", "message"}` with the status codes its client
//! expects. A client's mistake is always a 4xx: the client retries 5xx for minutes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// An error answer of the tracking server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct MlflowError {
    /// HTTP status.
    pub status: StatusCode,
    /// MLflow's `error_code`.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Result of a handler.
pub type MlflowResult<T> = Result<T, MlflowError>;

impl MlflowError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `INVALID_PARAMETER_VALUE`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE", message)
    }

    /// 404 `RESOURCE_DOES_NOT_EXIST`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", message)
    }

    /// 400 `RESOURCE_ALREADY_EXISTS`.
    pub fn exists(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS", message)
    }

    /// 404 `ENDPOINT_NOT_FOUND`: the client treats it as "the server does not have this".
    pub fn no_endpoint(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
            format!("no endpoint {method} {path} on this Kiln tracking server"),
        )
    }

    /// 401: `--token` is set and the request did not carry it.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "this server needs the header Authorization: Bearer <token> (set MLFLOW_TRACKING_TOKEN)",
        )
    }

    /// 413: the body is over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_LIMIT_EXCEEDED",
            format!("the request body is larger than the server's limit of {limit} bytes"),
        )
    }

    /// 500: Kiln failed on a valid request (a damaged store, a full disk).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }
}

impl From<StoreError> for MlflowError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::NotFound { .. } => Self::not_found(error.to_string()),
            StoreError::AlreadyExists { .. } => Self::exists(error.to_string()),
            StoreError::Invalid { .. } => Self::invalid(error.to_string()),
            _ => Self::internal(error.to_string()),
        }
    }
}

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error_code": self.code, "message": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}
