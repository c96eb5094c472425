//! MLflow compatibility: `kiln server` speaks MLflow's tracking, model-registry and
//! artifact-proxy REST API (as the 3.17 Python client uses it) over the Kiln store, so
//! existing training scripts log into Kiln unchanged.
//!
//! What a client logs lands as ordinary Kiln data: runs with params, metric step series,
//! tags, artifacts and dataset inputs; MLflow 3's LoggedModels; registry versions under
//! Kiln's gates and audit trail. The recorded traffic of the real client and server
//! (`shared/mlflow-wire/`) is the specification; `wire.rs` holds the JSON shapes.

mod args;
mod artifacts;
mod error;
pub mod import;
mod models;
mod names;
mod register;
mod registry;
mod routes;
mod search;
mod tracking;
mod wire;

pub use args::Args;
pub use artifacts::{Location, Owner, parse_location, safe_relative};
pub use error::{MlflowError, MlflowResult};
pub use register::{MLFLOW_KIND, MlflowVersion, flavors, register};
pub use registry::API_REASON;
pub use routes::API_VERSION;
pub use search::parse_filter;
pub use wire::DEFAULT_EXPERIMENT;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use axum::Router;
use tokio::sync::oneshot;

use crate::store::Store;

/// How `kiln server` listens.
#[derive(Debug, Clone)]
pub struct TrackingConfig {
    /// Address to bind (loopback unless told otherwise).
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// When set, every request needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The largest request body (an artifact upload) in bytes.
    pub body_limit: usize,
}

impl Default for TrackingConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 5000,
            token: None,
            body_limit: 512 * 1024 * 1024,
        }
    }
}

/// Why the tracking server could not start.
#[derive(Debug, thiserror::Error)]
pub enum TrackingServerError {
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// What was asked for.
        address: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The runtime or its thread could not be started.
    #[error("cannot start the tracking server: {0}")]
    Start(std::io::Error),
}

/// A running tracking server; dropping it stops it.
pub struct TrackingServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The router over a store (tests drive it without a socket).
pub fn router(store: Store, token: Option<String>, body_limit: usize) -> Router {
    let ctx = routes::Ctx {
        store,
        token: token.map(std::sync::Arc::from),
        body_limit,
    };
    Router::new().fallback(routes::handle).with_state(ctx)
}

/// Binds, then serves MLflow's API over `store` on threads of its own.
pub fn serve_tracking(
    store: Store,
    config: &TrackingConfig,
) -> Result<TrackingServer, TrackingServerError> {
    let address = format!("{}:{}", config.host, config.port);
    let bind = |source| TrackingServerError::Bind {
        address: address.clone(),
        source,
    };
    let listener = TcpListener::bind(&address).map_err(bind)?;
    listener.set_nonblocking(true).map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kiln-mlflow")
        .enable_all()
        .build()
        .map_err(TrackingServerError::Start)?;
    let app = router(store, config.token.clone(), config.body_limit);
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("kiln-mlflow-{}", addr.port()))
        .spawn(move || {
            let served = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            });
            if let Err(e) = served {
                tracing::warn!("the tracking server stopped: {e}");
            }
            runtime.shutdown_timeout(Duration::from_secs(2));
        })
        .map_err(TrackingServerError::Start)?;
    tracing::info!("MLflow tracking API on http://{addr}");
    Ok(TrackingServer {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl TrackingServer {
    /// The bound address (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`, what `MLFLOW_TRACKING_URI` is set to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets those in flight finish, and waits.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the tracking server's thread panicked");
        }
    }
}

impl Drop for TrackingServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
