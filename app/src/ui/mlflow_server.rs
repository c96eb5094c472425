//! "Accept MLflow clients on port N": the status bar's toggle for core's MLflow tracking
//! server, so scripts with `MLFLOW_TRACKING_URI` log into the open store while the window
//! shows their runs arrive (Experiments reloads on the store's change token).

use kiln_core::mlflow::{TrackingConfig, TrackingServer, serve_tracking};
use kiln_core::store::Store;

/// The default port, MLflow's own.
pub const DEFAULT_PORT: u16 = 5000;

/// The toggle's state: off, on (with the server), or failed to start (and why).
#[derive(Default)]
pub struct MlflowToggle {
    server: Option<TrackingServer>,
    error: Option<String>,
}

/// What the status bar shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlflowStatus {
    /// The URL clients use, while it runs.
    pub url: Option<String>,
    /// Why it could not start.
    pub error: Option<String>,
    /// The port it uses.
    pub port: u16,
}

impl MlflowToggle {
    /// Starts the server on `port` over its own handle of the store at `home` (its writes
    /// then reach the window as another connection's), or stops it.
    pub fn set(&mut self, on: bool, home: Option<&std::path::Path>, port: u16) {
        self.error = None;
        if !on {
            if let Some(server) = self.server.take() {
                server.shutdown();
            }
            return;
        }
        if self.server.is_some() {
            return;
        }
        let Some(home) = home else {
            self.error = Some("no store is open".into());
            return;
        };
        let started = Store::open(home)
            .map_err(|e| e.to_string())
            .and_then(|store| {
                let config = TrackingConfig {
                    port,
                    ..TrackingConfig::default()
                };
                serve_tracking(store, &config).map_err(|e| e.to_string())
            });
        match started {
            Ok(server) => self.server = Some(server),
            Err(error) => {
                tracing::warn!(%error, "could not start the MLflow tracking server");
                self.error = Some(error);
            }
        }
    }

    /// For the status bar.
    pub fn status(&self, port: u16) -> MlflowStatus {
        MlflowStatus {
            url: self.server.as_ref().map(TrackingServer::url),
            error: self.error.clone(),
            port,
        }
    }
}
