//! Deploy workspace: a registered version behind a real HTTP endpoint on this machine, traffic
//! replayed against it with drift injected on demand, and live charts of what the monitor
//! sees (latency, throughput, errors, accuracy, drift per feature, predictions, alerts).
//!
//! Everything heavy runs as a job: finding what can be served, starting and stopping the
//! server (loading a model reads the store), and the simulation itself. The charts are
//! prepared from the monitor's snapshot in `poll`, a few times a second, never in draw code.

mod charts;
mod controls;

pub use controls::DRIFT_LABEL;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln_core::data::{LoadOptions, open_table};
use kiln_core::deploy::retrain::{RetrainOutcome, retrain_if_fired};
use kiln_core::deploy::simulate::{
    DriftInjection, LiveStats, Monitor, ServedTarget, SimulateOptions, Simulation,
    SimulationReport, servable_refs, serve_model, simulate,
};
use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::store::Store;

use crate::ui::context::PanelContext;
use charts::ChartData;

/// How often the live charts are prepared again while traffic runs.
const REFRESH: Duration = Duration::from_millis(250);

/// The simulator's settings as the controls edit them.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficSettings {
    /// Requests per second.
    pub rps: f64,
    /// Seconds.
    pub duration: f64,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// One drift spec per line (`shift:age=10@5..15`).
    pub drift_text: String,
}

impl Default for TrafficSettings {
    fn default() -> Self {
        Self {
            rps: 100.0,
            duration: 20.0,
            concurrency: 4,
            drift_text: String::new(),
        }
    }
}

impl TrafficSettings {
    /// The drift specs, or the first that does not parse.
    pub fn injections(&self) -> Result<Vec<DriftInjection>, String> {
        self.drift_text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| l.parse::<DriftInjection>().map_err(|e| e.to_string()))
            .collect()
    }
}

/// A running endpoint: the server and what traffic to it sends.
struct Endpoint {
    model_ref: String,
    served: ServedTarget,
}

/// A simulation in progress.
struct Traffic {
    job: JobHandle<Simulation>,
    model_ref: String,
}

/// The Deploy workspace's state.
#[derive(Default)]
pub struct DeployPanel {
    refs: Option<Result<Vec<String>, String>>,
    loading_refs: Option<JobHandle<Vec<String>>>,
    refs_token: Option<(u64, i64)>,
    /// The reference chosen in the picker.
    chosen: Option<String>,
    starting: Option<JobHandle<ServedTarget>>,
    endpoint: Option<Endpoint>,
    stopping: Option<JobHandle<()>>,
    settings: TrafficSettings,
    traffic: Option<Traffic>,
    /// The monitor of the running (or last) simulation, and when its charts were prepared.
    monitor: Option<Arc<Monitor>>,
    refreshed: Option<Instant>,
    live: LiveStats,
    charts: ChartData,
    report: Option<Result<SimulationReport, String>>,
    retraining: Option<JobHandle<Option<RetrainOutcome>>>,
    /// What the retraining policy did after the last traffic (`None`: it did not fire).
    retrained: Option<Result<Option<RetrainOutcome>, String>>,
    error: Option<String>,
}

/// What the controls asked for this frame.
enum Action {
    Start(String),
    Stop,
    Simulate(Vec<DriftInjection>),
    Cancel,
}

impl DeployPanel {
    /// The address being served, when an endpoint runs.
    pub fn endpoint_url(&self) -> Option<String> {
        self.endpoint.as_ref().map(|e| e.served.server.url())
    }

    /// What the monitor has seen (the charts' data).
    pub fn live(&self) -> &LiveStats {
        &self.live
    }

    /// The simulator's settings (the controls edit them; tests set them).
    pub fn traffic_settings_mut(&mut self) -> &mut TrafficSettings {
        &mut self.settings
    }

    /// Shows `live` as if the monitor had seen it (the snapshot tests draw fixed figures).
    pub fn show_stats(&mut self, live: LiveStats) {
        self.monitor = None;
        self.charts = ChartData::of(&live);
        self.live = live;
    }

    /// What the retraining policy did after the last traffic, once known.
    pub fn retrained(&self) -> Option<&Result<Option<RetrainOutcome>, String>> {
        self.retrained.as_ref()
    }

    /// Whether a simulation is running.
    pub fn is_simulating(&self) -> bool {
        self.traffic.is_some()
    }

    /// The last simulation's report, once it ended.
    pub fn report(&self) -> Option<&Result<SimulationReport, String>> {
        self.report.as_ref()
    }

    /// Per-frame work that draws nothing: collects finished jobs, lists what can be served
    /// when `visible` (again when the store changed), and prepares the live charts.
    pub fn poll(&mut self, store: Option<&Store>, jobs: &JobRunner, visible: bool) {
        if let Some(result) = JobHandle::take_finished(&mut self.loading_refs) {
            self.refs = Some(result.map_err(|e| e.to_string()));
            if self.chosen.is_none() {
                // A production endpoint is what a user most often wants to watch.
                let refs = self.refs.as_ref().and_then(|r| r.as_ref().ok());
                self.chosen = refs.and_then(|r| {
                    r.iter()
                        .find(|r| r.ends_with("@production"))
                        .or(r.first())
                        .cloned()
                });
            }
        }
        if let Some(result) = JobHandle::take_finished(&mut self.starting) {
            match result {
                Ok(served) => {
                    self.error = None;
                    let model_ref = self.chosen.clone().unwrap_or_default();
                    self.endpoint = Some(Endpoint { model_ref, served });
                }
                Err(e) => self.error = Some(e.to_string()),
            }
        }
        JobHandle::take_finished(&mut self.stopping);
        if let Some(traffic) = &self.traffic
            && let Some(result) = traffic.job.try_result()
        {
            let model_ref = traffic.model_ref.clone();
            self.traffic = None;
            self.refreshed = None;
            match result {
                Ok(simulation) => {
                    self.report = Some(Ok(simulation.report));
                    if let (Some(store), Some(monitor)) = (store, &self.monitor) {
                        self.retraining = Some(retrain_job(
                            store,
                            jobs,
                            model_ref,
                            monitor.snapshot(),
                            simulation.traffic,
                        ));
                    }
                }
                Err(e) => self.report = Some(Err(e.to_string())),
            }
        }
        if let Some(result) = JobHandle::take_finished(&mut self.retraining) {
            self.retrained = Some(result.map_err(|e| e.to_string()));
        }
        let due = self.refreshed.is_none_or(|t| t.elapsed() >= REFRESH);
        if let Some(monitor) = &self.monitor
            && due
        {
            self.live = monitor.snapshot();
            self.charts = ChartData::of(&self.live);
            self.refreshed = Some(Instant::now());
        }
        if let Some(store) = store
            && visible
            && self.loading_refs.is_none()
        {
            let token = store.change_token();
            if self.refs_token != Some(token) {
                self.refs_token = Some(token);
                let store = store.clone();
                self.loading_refs = Some(jobs.spawn("Listing servable models", move |_| {
                    Ok(servable_refs(&store)?)
                }));
            }
        }
    }

    /// Draws the workspace.
    pub fn deploy_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        ui.heading("Deploy");
        if let Err(error) = cx.store {
            ui.colored_label(
                cx.tokens.bad,
                format!("The store could not be opened: {error}"),
            );
            return;
        }
        ui.label("Serve a registered version over HTTP on this machine, send it traffic with injected drift, and watch it live.");
        ui.add_space(cx.tokens.section_gap / 2.0);
        let mut action = None;
        egui::ScrollArea::vertical()
            .id_salt("deploy-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let view = controls::View {
                    refs: self.refs.as_ref(),
                    endpoint: self
                        .endpoint
                        .as_ref()
                        .map(|e| (e.model_ref.as_str(), e.served.server.url())),
                    starting: self.starting.is_some() || self.stopping.is_some(),
                    traffic: self.traffic.as_ref().map(|t| t.job.status()),
                    error: self.error.as_deref(),
                };
                controls::endpoint_ui(ui, &view, &mut self.chosen, cx.tokens, &mut action);
                ui.add_space(cx.tokens.section_gap / 2.0);
                controls::traffic_ui(ui, &view, &mut self.settings, cx.tokens, &mut action);
                ui.add_space(cx.tokens.section_gap / 2.0);
                charts::live_ui(
                    ui,
                    &self.live,
                    &self.charts,
                    self.report.as_ref(),
                    cx.tokens,
                );
                ui.add_space(cx.tokens.section_gap / 2.0);
                controls::retrain_ui(
                    ui,
                    self.retraining.as_ref().map(JobHandle::status),
                    self.retrained.as_ref(),
                    cx.tokens,
                );
            });
        match action {
            Some(Action::Start(model_ref)) => self.start(cx, model_ref),
            Some(Action::Stop) => self.stop(cx.jobs),
            Some(Action::Simulate(drift)) => self.simulate(cx.jobs, drift),
            Some(Action::Cancel) => {
                if let Some(traffic) = &self.traffic {
                    traffic.job.cancel();
                }
            }
            None => {}
        }
    }

    fn start(&mut self, cx: &mut PanelContext<'_>, model_ref: String) {
        let Ok(store) = cx.store else { return };
        self.stop(cx.jobs);
        let store = store.clone();
        self.chosen = Some(model_ref.clone());
        self.error = None;
        self.starting = Some(cx.jobs.spawn(format!("Serving {model_ref}"), move |ctx| {
            ctx.message("loading the model");
            serve_model(&store, &model_ref).map_err(JobError::failed)
        }));
    }

    /// Stops the endpoint on a job: the server lets requests in flight finish first.
    fn stop(&mut self, jobs: &JobRunner) {
        if let Some(traffic) = &self.traffic {
            traffic.job.cancel();
        }
        if let Some(endpoint) = self.endpoint.take() {
            self.stopping = Some(jobs.spawn("Stopping the endpoint", move |_| {
                endpoint.served.server.shutdown().map_err(JobError::failed)
            }));
        }
    }

    fn simulate(&mut self, jobs: &JobRunner, drift: Vec<DriftInjection>) {
        let Some(endpoint) = &self.endpoint else {
            return;
        };
        let target = endpoint.served.target.clone();
        let reference = endpoint.served.reference.clone();
        let gauges = endpoint.served.server.metrics();
        let options = SimulateOptions {
            rps: self.settings.rps,
            duration: Duration::from_secs_f64(self.settings.duration.max(0.1)),
            concurrency: self.settings.concurrency,
            drift,
            ..SimulateOptions::default()
        };
        let monitor = Arc::new(Monitor::new());
        self.monitor = Some(monitor.clone());
        self.report = None;
        self.retrained = None;
        self.refreshed = None;
        let shared = monitor;
        let job = jobs.spawn(format!("Traffic to {}", endpoint.model_ref), move |ctx| {
            ctx.message("reading the training data");
            let frame = open_table(&reference, &LoadOptions::default(), &|_, _| {
                !ctx.is_cancelled()
            })?
            .table
            .frame;
            let progress = |fraction: f32, message: &str| {
                ctx.progress(fraction, message);
                !ctx.is_cancelled()
            };
            simulate(
                &target,
                &frame,
                &frame,
                &options,
                &shared,
                &progress,
                Some(&gauges),
            )
            .map_err(|e| match e {
                kiln_core::deploy::simulate::SimulateError::Cancelled => JobError::Cancelled,
                other => JobError::failed(other),
            })
        });
        self.traffic = Some(Traffic {
            job,
            model_ref: endpoint.model_ref.clone(),
        });
    }
}

/// After traffic: the model's retraining policy is checked against what the monitor saw,
/// and when it fires the version is retrained, registered and staged (core's
/// `retrain_if_fired`).
fn retrain_job(
    store: &Store,
    jobs: &JobRunner,
    model_ref: String,
    live: LiveStats,
    traffic: kiln_core::polars::prelude::DataFrame,
) -> JobHandle<Option<RetrainOutcome>> {
    let store = store.clone();
    jobs.spawn(format!("Retraining policy of {model_ref}"), move |ctx| {
        retrain_if_fired(&store, &model_ref, &live, &traffic, ctx)
    })
}
