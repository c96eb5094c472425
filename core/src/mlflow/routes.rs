//! The HTTP surface of the tracking server: one handler reads the body (within the limit),
//! checks the token, and hands the request to [`dispatch`] on the blocking pool, which maps
//! MLflow's routes (under `/api/2.0/` and the UI's `/ajax-api/2.0/`) to their handlers.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::args::Args;
use super::error::{MlflowError, MlflowResult};
use super::{artifacts, models, registry, search, tracking};
use crate::store::Store;

/// The MLflow version whose REST API this server speaks (the client's tracing export checks
/// `GET /version` for 3.4 or newer).
pub const API_VERSION: &str = "3.17.2";

/// What every request shares.
#[derive(Clone)]
pub(super) struct Ctx {
    pub store: Store,
    pub token: Option<Arc<str>>,
    pub body_limit: usize,
}

/// Every request comes here.
pub(super) async fn handle(State(ctx): State<Ctx>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    if let Some(token) = &ctx.token
        && path != "/health"
    {
        let expected = format!("Bearer {token}");
        let sent = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if sent != Some(expected.as_str()) {
            return MlflowError::unauthenticated().into_response();
        }
    }
    let body = match to_bytes(request.into_body(), ctx.body_limit).await {
        Ok(body) => body,
        Err(_) => return MlflowError::too_large(ctx.body_limit).into_response(),
    };
    let store = ctx.store.clone();
    let shown = format!("{method} {path}");
    let answer =
        tokio::task::spawn_blocking(move || dispatch(&store, &method, &path, &query, &body)).await;
    match answer {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            if error.status.is_server_error() {
                tracing::warn!("{shown}: {error}");
            } else {
                tracing::debug!("{shown}: {error}");
            }
            error.into_response()
        }
        Err(_) => MlflowError::internal(format!("{shown} failed inside Kiln")).into_response(),
    }
}

fn json_response(value: Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

fn text(body: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from(body),
    )
        .into_response()
}

/// The request's fields: the query's, then (for anything but GET) the JSON body's.
fn args_of(method: &Method, query: &str, body: &[u8]) -> MlflowResult<Args> {
    let mut args = Args::from_query(query);
    if method != Method::GET && method != Method::HEAD {
        let from_body = Args::from_json(body)?;
        for (key, value) in from_body.fields() {
            args = args.with(key, value.clone());
        }
    }
    Ok(args)
}

/// Routes one request.
pub(super) fn dispatch(
    store: &Store,
    method: &Method,
    path: &str,
    query: &str,
    body: &[u8],
) -> MlflowResult<Response> {
    match path {
        "/health" | "/ping" => return Ok(text("OK")),
        "/version" => return Ok(text(API_VERSION)),
        "/api/3.0/mlflow/server-info" | "/ajax-api/3.0/mlflow/server-info" => {
            return Ok(json_response(json!({
                "store_type": "SqlStore",
                "workspaces_enabled": false,
                "trace_archival_enabled": false,
                "multipart_uploads_enabled": false,
                "multipart_downloads_enabled": false,
                "presigned_upload_run_id_supported": false,
                "presigned_upload_model_id_supported": false,
                // Kiln has no AI gateway; the client reads this to decide whether to offer one.
                "features_enabled": { "gateway": false },
            })));
        }
        _ => {}
    }
    let rest = path
        .strip_prefix("/api/2.0/")
        .or_else(|| path.strip_prefix("/ajax-api/2.0/"))
        .ok_or_else(|| MlflowError::no_endpoint(method.as_str(), path))?;
    if let Some(artifact) = rest.strip_prefix("mlflow-artifacts/artifacts") {
        return artifact_route(store, method, artifact, query, body, path);
    }
    let endpoint = rest
        .strip_prefix("mlflow/")
        .ok_or_else(|| MlflowError::no_endpoint(method.as_str(), path))?;
    let args = args_of(method, query, body)?;
    api_route(store, method, endpoint, &args, path).map(json_response)
}

fn artifact_route(
    store: &Store,
    method: &Method,
    artifact: &str,
    query: &str,
    body: &[u8],
    path: &str,
) -> MlflowResult<Response> {
    let decoded = percent_encoding::percent_decode_str(artifact.trim_start_matches('/'))
        .decode_utf8()
        .map_err(|_| MlflowError::invalid("the artifact path is not valid UTF-8"))?
        .into_owned();
    match (method.as_str(), decoded.is_empty()) {
        ("GET", true) => {
            let args = Args::from_query(query);
            let listed = args.opt_str("path")?.unwrap_or_default();
            artifacts::list(store, &listed).map(json_response)
        }
        ("GET", false) => artifacts::download(store, &decoded),
        ("PUT", false) => {
            artifacts::upload(store, &decoded, body)?;
            Ok(StatusCode::OK.into_response())
        }
        _ => Err(MlflowError::no_endpoint(method.as_str(), path)),
    }
}

fn api_route(
    store: &Store,
    method: &Method,
    endpoint: &str,
    args: &Args,
    path: &str,
) -> MlflowResult<Value> {
    // Logged models carry their id in the path.
    if let Some(rest) = endpoint.strip_prefix("logged-models/")
        && rest != "search"
    {
        let (id, tail) = rest.split_once('/').unwrap_or((rest, ""));
        return match (method.as_str(), tail) {
            ("GET", "") => models::get(store, id),
            ("PATCH", "") => models::finalize(store, id, args),
            ("DELETE", "") => models::delete(store, id),
            ("PATCH", "tags") => models::set_tags(store, id, args),
            ("DELETE", t) if t.starts_with("tags/") => {
                models::delete_tag(store, id, t.trim_start_matches("tags/"))
            }
            _ => Err(MlflowError::no_endpoint(method.as_str(), path)),
        };
    }
    let m = method.as_str();
    match (m, endpoint) {
        ("GET", "experiments/get-by-name") => tracking::experiment_by_name(store, args),
        ("GET", "experiments/get") => tracking::experiment(store, args),
        ("POST", "experiments/create") => tracking::create_experiment(store, args),
        ("POST", "experiments/search") | ("GET", "experiments/search") => {
            search::search_experiments(store, args)
        }
        ("POST", "experiments/update") => tracking::update_experiment(store, args),
        ("POST", "experiments/delete") => tracking::delete_experiment(store, args, true),
        ("POST", "experiments/restore") => tracking::delete_experiment(store, args, false),
        ("POST", "experiments/set-experiment-tag") => tracking::set_experiment_tag(store, args),
        ("POST", "runs/create") => tracking::create_run(store, args),
        ("POST", "runs/update") => tracking::update_run(store, args),
        ("GET", "runs/get") => tracking::get_run(store, args),
        ("POST", "runs/delete") => tracking::delete_run(store, args, true),
        ("POST", "runs/restore") => tracking::delete_run(store, args, false),
        ("POST", "runs/log-parameter") => tracking::log_param(store, args),
        ("POST", "runs/log-metric") => tracking::log_metric(store, args),
        ("POST", "runs/log-batch") => tracking::log_batch(store, args),
        ("POST", "runs/set-tag") => tracking::set_tag(store, args),
        ("POST", "runs/delete-tag") => tracking::delete_tag(store, args),
        ("POST", "runs/log-inputs") => tracking::log_inputs(store, args),
        ("POST", "runs/outputs") => tracking::log_outputs(store, args),
        ("POST", "runs/search") => search::search_runs(store, args),
        ("GET", "metrics/get-history") => tracking::metric_history(store, args),
        ("POST", "logged-models") => models::create(store, args),
        ("POST", "logged-models/search") => models::search(store, args),
        ("POST", "registered-models/create") => registry::create_model(store, args),
        ("GET", "registered-models/get") => registry::get_model(store, args),
        ("GET", "registered-models/search") => registry::search_models(store, args),
        ("PATCH", "registered-models/update") => registry::update_model(store, args),
        ("POST", "registered-models/set-tag") => registry::model_tag(store, args, true),
        ("DELETE", "registered-models/delete-tag") => registry::model_tag(store, args, false),
        ("POST", "registered-models/alias") => registry::set_alias(store, args),
        ("DELETE", "registered-models/alias") => registry::delete_alias(store, args),
        ("GET", "registered-models/alias") => registry::version_by_alias(store, args),
        ("POST", "registered-models/get-latest-versions") => registry::latest_versions(store, args),
        ("POST", "registered-models/rename") => {
            registry::refuse_rewrite("rename registered models")
        }
        ("DELETE", "registered-models/delete") => {
            registry::refuse_rewrite("delete registered models")
        }
        ("POST", "model-versions/create") => registry::create_version(store, args),
        ("GET", "model-versions/get") => registry::get_version_answer(store, args),
        ("PATCH", "model-versions/update") => registry::update_version(store, args),
        ("POST", "model-versions/set-tag") => registry::version_tag(store, args, true),
        ("DELETE", "model-versions/delete-tag") => registry::version_tag(store, args, false),
        ("POST", "model-versions/transition-stage") => registry::transition(store, args),
        ("GET", "model-versions/search") => registry::search_versions(store, args),
        ("GET", "model-versions/get-download-uri") => registry::download_uri(store, args),
        ("DELETE", "model-versions/delete") => registry::refuse_rewrite("delete model versions"),
        _ => Err(MlflowError::no_endpoint(m, path)),
    }
}
