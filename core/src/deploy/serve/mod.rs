//! One model behind an HTTP endpoint that speaks MLflow's scoring protocol.
//!
//! [`serve`] binds the address, then runs axum on a tokio runtime of its own threads and
//! returns a [`ServerHandle`]: the CLI waits on it until Ctrl+C, the GUI starts and stops
//! endpoints with it, and a promotion swaps the model in place ([`ServerHandle::swap`])
//! without failing a request.
//!
//! Endpoints: `POST /invocations` (JSON `dataframe_split` / `dataframe_records` /
//! `instances` / `inputs`, or `text/csv`; `{"params": {"predict_proba": true}}` adds class
//! probabilities), `GET /ping`, `/health`, `/version`, `/metrics` (Prometheus).

mod candidate;
mod error;
mod follow;
mod metrics;
mod request;
mod routes;
mod score;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use serde::Serialize;
use tokio::sync::oneshot;

pub use candidate::{Candidate, CandidateMode, candidate_change, set_candidate};
pub use error::{ApiError, ServeError};
pub use follow::{FOLLOW_EVERY, Follower, is_moving};
pub use metrics::{ServeMetrics, ShadowStats};
pub use request::{INPUT_FIELDS, Params, ScoringRequest, parse_csv, parse_json};
pub use score::{BodyFormat, Scored, score};

use crate::inference::{Model, load_artifact};
use crate::registry::{load_version_model, resolve};
use crate::store::{ModelVersion, Store};

/// Default limit of a request body: 50 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 50 * 1024 * 1024;

/// Default time limit of one scoring request.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(30);

/// How to serve: where, with which limits, and whether a token is required.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// Address to bind; loopback unless told otherwise, so nothing is exposed by accident.
    pub host: String,
    /// Port; 0 picks a free one (read it back with [`ServerHandle::local_addr`]).
    pub port: u16,
    /// With a token, every request needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Largest request body in bytes (413 above).
    pub body_limit: usize,
    /// Longest time one scoring request may take (504 above).
    pub time_limit: Duration,
    /// Worker threads of the runtime ([`default_workers`] when `None`).
    pub workers: Option<usize>,
}

/// Request threads when none are asked for: half the cores, at least one. A local server
/// shares its machine with its clients (the GUI, a simulator, a load generator): on 2 cores,
/// one thread answered 14,500 single-row requests/s with a p99 of 1.7 ms under wrk, where
/// two threads competing with wrk's answered 18,900/s with a p99 of 3.7 ms
/// (`benches/serve/run.sh`). Requests over a few rows score on the blocking pool anyway.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            token: None,
            body_limit: DEFAULT_BODY_LIMIT,
            time_limit: DEFAULT_TIME_LIMIT,
            workers: None,
        }
    }
}

/// What is being served, as `/version` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// The reference it was loaded by (`churn@production`, `churn:3`, a run id).
    pub model_ref: String,
    /// Registered model name (`None` for a run id).
    pub name: Option<String>,
    /// Registered version (`None` for a run id).
    pub version: Option<i64>,
    /// The run that trained it, when known.
    pub run_id: Option<String>,
}

/// A model and what it is: the unit the server holds and swaps.
#[derive(Debug, Clone)]
pub struct ServedModel {
    /// The model.
    pub model: Model,
    /// What it is.
    pub info: ModelInfo,
}

impl ServedModel {
    /// Loads the model a `MODEL_REF` names (`NAME@ALIAS_OR_STAGE`, `NAME:VERSION`, run id),
    /// as `kiln predict` resolves it.
    pub fn load(store: &Store, model_ref: &str) -> Result<Self, ServeError> {
        let model_error = |e: String| ServeError::Model(e);
        let model_ref = model_ref.trim();
        match resolve(store, model_ref).map_err(|e| model_error(e.to_string()))? {
            Some(version) => Self::of_version(store, model_ref, &version),
            None => Ok(Self {
                model: Model::Native(Box::new(
                    load_artifact(store, model_ref).map_err(|e| model_error(e.to_string()))?,
                )),
                info: ModelInfo {
                    model_ref: model_ref.to_owned(),
                    name: None,
                    version: None,
                    run_id: Some(model_ref.to_owned()),
                },
            }),
        }
    }
}

impl ServedModel {
    /// Registered `version` loaded, named by `model_ref`, the reference that led to it (an
    /// environment's swap resolves first, then loads only when the version moved).
    pub fn of_version(
        store: &Store,
        model_ref: &str,
        version: &ModelVersion,
    ) -> Result<Self, ServeError> {
        Ok(Self {
            model: load_version_model(store, version)
                .map_err(|e| ServeError::Model(e.to_string()))?,
            info: ModelInfo {
                model_ref: model_ref.to_owned(),
                name: Some(version.name.clone()),
                version: Some(version.version),
                run_id: version.run_id.clone(),
            },
        })
    }
}

/// A running server: its address, its model slot, its counters, and the way to stop it.
/// Dropping the handle stops the server too.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    slot: Arc<ArcSwap<ServedModel>>,
    candidate: Arc<ArcSwapOption<Candidate>>,
    metrics: Arc<ServeMetrics>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
    follower: Option<Follower>,
}

/// Starts serving `model` as `config` says. Returns once the address is bound, so
/// [`ServerHandle::local_addr`] is usable at once and a port in use is an error here.
pub fn serve(model: ServedModel, config: ServeConfig) -> Result<ServerHandle, ServeError> {
    let address = format!("{}:{}", config.host, config.port);
    let bind_error = |source| ServeError::Bind {
        address: address.clone(),
        source,
    };
    let listener = TcpListener::bind(&address).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime
        .enable_all()
        .thread_name("kiln-serve")
        .worker_threads(config.workers.unwrap_or_else(default_workers).max(1));
    let runtime = runtime.build().map_err(ServeError::Start)?;

    let slot = Arc::new(ArcSwap::from_pointee(model));
    let metrics = Arc::new(ServeMetrics::new());
    let candidate = Arc::new(ArcSwapOption::empty());
    let state = routes::AppState {
        slot: slot.clone(),
        candidate: candidate.clone(),
        sequence: Arc::default(),
        metrics: metrics.clone(),
        token: config.token.as_deref().map(Arc::from),
        body_limit: config.body_limit,
        time_limit: config.time_limit,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("kiln-serve-{}", addr.port()))
        .spawn(move || {
            let served = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .map_err(|e| ServeError::Failed(e.to_string()))?;
                axum::serve(listener, routes::router(state))
                    .with_graceful_shutdown(async {
                        // A dropped sender (the handle is gone) stops the server as well.
                        let _ = stopped.await;
                    })
                    .await
                    .map_err(|e| ServeError::Failed(e.to_string()))
            });
            // Work of requests cut off by a time limit may still run on the blocking pool:
            // give it a moment, then let it go rather than hang the shutdown.
            runtime.shutdown_timeout(Duration::from_secs(2));
            served
        })
        .map_err(ServeError::Start)?;
    tracing::info!("serving on http://{addr}");
    Ok(ServerHandle {
        addr,
        slot,
        candidate,
        metrics,
        stop: Some(stop),
        thread: Some(thread),
        follower: None,
    })
}

impl ServerHandle {
    /// The bound address (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the served model. Requests already running finish with the model they
    /// started with; every later one gets the new model: no request fails for a swap.
    pub fn swap(&self, model: Model, info: ModelInfo) {
        tracing::info!("now serving {} ({})", info.model_ref, model.kind_name());
        self.slot.store(Arc::new(ServedModel { model, info }));
    }

    /// Keeps serving whatever version the served reference names, when it can move (a stage
    /// or an alias: an environment): each promotion, rollback or alias move is swapped in
    /// without failing a request, and audited. Returns whether it follows.
    pub fn follow(&mut self, store: &Store) -> Result<bool, ServeError> {
        if !is_moving(&self.info().model_ref) {
            return Ok(false);
        }
        self.follower = Some(follow::follow(
            store.clone(),
            self.slot.clone(),
            self.url(),
            FOLLOW_EVERY,
        )?);
        Ok(true)
    }

    /// Puts a canary or a shadow beside the served model, or (with `None`) removes it.
    /// [`set_candidate`] also loads it by reference and audits the change.
    pub fn set_candidate(&self, candidate: Option<Candidate>) {
        self.candidate.store(candidate.map(Arc::new));
    }

    /// The candidate beside the served model, and how it takes part.
    pub fn candidate(&self) -> Option<(ModelInfo, CandidateMode)> {
        self.candidate
            .load()
            .as_deref()
            .map(|c| (c.served.info.clone(), c.mode))
    }

    /// What is being served right now.
    pub fn info(&self) -> ModelInfo {
        self.slot.load().info.clone()
    }

    /// The server's counters (and the drift monitor's hook, [`ServeMetrics::set_drift`]).
    pub fn metrics(&self) -> Arc<ServeMetrics> {
        self.metrics.clone()
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the
    /// server's thread to end.
    pub fn shutdown(mut self) -> Result<(), ServeError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ServeError> {
        // No swap while the server stops.
        self.follower = None;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(ServeError::Failed("the server thread panicked".into())),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Err(e) = self.stop_and_join() {
            tracing::warn!("stopping the server on {}: {e}", self.addr);
        }
    }
}
