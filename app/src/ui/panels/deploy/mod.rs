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
use kiln_core::deploy::retrain::{RetrainOutcome, retrain_history, retrain_if_fired};
use kiln_core::deploy::simulate::{
    DriftInjection, LiveStats, Monitor, ServedTarget, SimulateOptions, Simulation,
    SimulationReport, servable_refs, serve_model, simulate,
};
use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::store::Store;

use kiln_core::deploy::serve::{Candidate, CandidateMode, candidate_change};
use kiln_core::registry::ModelRef;

use crate::ui::command::Command;
use crate::ui::context::PanelContext;
use crate::ui::panels::registry::RegistryEdit;
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

/// One retraining from the audit trail: when, the version it made (`model:version`), why.
type HistoryRow = (String, String, String);

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
    /// Retrainings in the audit trail, newest first.
    history: Vec<HistoryRow>,
    loading_refs: Option<JobHandle<(Vec<String>, Vec<HistoryRow>)>>,
    refs_token: Option<(u64, i64)>,
    /// The reference chosen in the picker.
    chosen: Option<String>,
    starting: Option<JobHandle<ServedTarget>>,
    endpoint: Option<Endpoint>,
    /// Other environments running at the same time (staging beside production, say).
    others: Vec<Endpoint>,
    stopping: Option<JobHandle<()>>,
    settings: TrafficSettings,
    /// The canary or shadow controls' choices.
    candidate: controls::CandidateChoice,
    /// Loading (and auditing) a candidate; the UI thread puts it in place.
    setting_candidate: Option<JobHandle<(Option<Candidate>, String)>>,
    candidate_notice: Option<Result<String, String>>,
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
    /// `kiln gui --panel deploy --view traffic`: serve the first version and run traffic
    /// with a ramped drift by itself (the README's screenshot of the real window).
    demo: bool,
}

/// What the controls asked for this frame.
enum Action {
    Start(String),
    Stop,
    /// Give the served stage back to its previous holder.
    Rollback,
    /// Make another running environment the watched one.
    Watch(usize),
    /// Stop another running environment.
    StopOther(usize),
    /// Put a candidate beside the served model (`None` removes it).
    Candidate(Option<String>, CandidateMode),
    Simulate(Vec<DriftInjection>),
    Cancel,
}

impl DeployPanel {
    /// The address being served, when an endpoint runs.
    pub fn endpoint_url(&self) -> Option<String> {
        self.endpoint.as_ref().map(|e| e.served.server.url())
    }

    /// The version the endpoint answers with now.
    pub fn served_version(&self) -> Option<i64> {
        self.endpoint
            .as_ref()
            .and_then(|e| e.served.server.info().version)
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

    /// `traffic` starts serving and a short run of traffic with drift on its own.
    pub fn set_initial_view(&mut self, view: Option<&str>) {
        self.demo = view == Some("traffic");
    }

    /// Whether the `traffic` view is still on its way to a finished run (the screenshot
    /// waits for it).
    pub fn demo_pending(&self) -> bool {
        let listed_nothing = matches!(&self.refs, Some(Ok(r)) if r.is_empty());
        let failed = matches!(&self.refs, Some(Err(_))) || self.error.is_some();
        self.demo
            && !failed
            && (listed_nothing || self.report.is_none() || self.retraining.is_some())
    }

    /// The `traffic` view's next step: serve once listed, then traffic once serving.
    fn demo_step(&mut self, store: &Store, jobs: &JobRunner) {
        if !self.demo || self.starting.is_some() || self.traffic.is_some() || self.report.is_some()
        {
            return;
        }
        match &self.endpoint {
            None => {
                if let Some(chosen) = self.chosen.clone() {
                    self.start(store, jobs, chosen);
                }
            }
            Some(endpoint) => {
                self.settings.rps = 200.0;
                self.settings.duration = 12.0;
                self.settings.drift_text = endpoint
                    .served
                    .numeric_inputs
                    .first()
                    .map(|c| format!("scale:{c}=1.3@4..8"))
                    .unwrap_or_default();
                if let Ok(drift) = self.settings.injections() {
                    self.simulate(jobs, drift);
                }
            }
        }
    }

    /// Per-frame work that draws nothing: collects finished jobs, lists what can be served
    /// when `visible` (again when the store changed), and prepares the live charts.
    pub fn poll(&mut self, store: Option<&Store>, jobs: &JobRunner, visible: bool) {
        if let Some(result) = JobHandle::take_finished(&mut self.loading_refs) {
            let (refs, history) = match result {
                Ok((refs, history)) => (Ok(refs), history),
                Err(e) => (Err(e.to_string()), Vec::new()),
            };
            self.refs = Some(refs);
            self.history = history;
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
        if let Some(result) = JobHandle::take_finished(&mut self.setting_candidate) {
            self.candidate_notice = Some(match result {
                Ok((candidate, notice)) => {
                    if let Some(endpoint) = &self.endpoint {
                        // An atomic pointer swap: no request fails for it.
                        endpoint.served.server.set_candidate(candidate);
                    }
                    Ok(notice)
                }
                Err(e) => Err(e.to_string()),
            });
        }
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
        if let Some(store) = store {
            self.demo_step(store, jobs);
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
                    let history = retrain_history(&store, None)?
                        .into_iter()
                        .map(|e| {
                            let version = e.version.map(|v| format!(":{v}")).unwrap_or_default();
                            (e.at, format!("{}{version}", e.model), e.reason)
                        })
                        .collect();
                    Ok((servable_refs(&store)?, history))
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
                    endpoint: self.endpoint.as_ref().map(|e| controls::Serving {
                        model_ref: &e.model_ref,
                        url: e.served.server.url(),
                        // Atomic loads: what the endpoint serves this instant.
                        version: e.served.server.info().version,
                        candidate: e.served.server.candidate(),
                        follows_stage: stage_of(&e.model_ref).is_some(),
                    }),
                    others: self
                        .others
                        .iter()
                        .map(|e| {
                            let server = &e.served.server;
                            (e.model_ref.clone(), server.url(), server.info().version)
                        })
                        .collect(),
                    starting: self.starting.is_some() || self.stopping.is_some(),
                    traffic: self.traffic.as_ref().map(|t| t.job.status()),
                    error: self.error.as_deref(),
                };
                controls::endpoint_ui(ui, &view, &mut self.chosen, cx.tokens, &mut action);
                controls::candidate_ui(
                    ui,
                    &view,
                    &mut self.candidate,
                    self.setting_candidate.is_some(),
                    self.candidate_notice.as_ref(),
                    cx.tokens,
                    &mut action,
                );
                controls::others_ui(ui, &view, cx.tokens, &mut action);
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
                    &self.history,
                    cx.tokens,
                );
            });
        match action {
            Some(Action::Start(model_ref)) => {
                if let Ok(store) = cx.store {
                    self.start(store, cx.jobs, model_ref);
                }
            }
            Some(Action::Stop) => self.stop(cx.jobs),
            Some(Action::Watch(i)) if i < self.others.len() && self.traffic.is_none() => {
                let watched = self.others.remove(i);
                self.chosen = Some(watched.model_ref.clone());
                if let Some(previous) = self.endpoint.replace(watched) {
                    self.others.push(previous);
                }
            }
            Some(Action::StopOther(i)) if i < self.others.len() => {
                let other = self.others.remove(i);
                shut_down(cx.jobs, other);
            }
            Some(Action::Watch(_) | Action::StopOther(_)) => {}
            Some(Action::Rollback) => {
                let followed = self.endpoint.as_ref().and_then(|e| stage_of(&e.model_ref));
                if let Some((name, stage)) = followed {
                    cx.send(Command::EditRegistry(RegistryEdit::Rollback {
                        name,
                        stage,
                        reason: "one-click rollback from the Deploy workspace".into(),
                    }));
                }
            }
            Some(Action::Candidate(candidate_ref, mode)) => {
                self.set_candidate(cx, candidate_ref, mode)
            }
            Some(Action::Simulate(drift)) => self.simulate(cx.jobs, drift),
            Some(Action::Cancel) => {
                if let Some(traffic) = &self.traffic {
                    traffic.job.cancel();
                }
            }
            None => {}
        }
    }

    /// Serves `model_ref` and watches it; a running endpoint of another reference keeps
    /// running beside it (an environment), one of the same reference is replaced.
    fn start(&mut self, store: &Store, jobs: &JobRunner, model_ref: String) {
        if let Some(i) = self.others.iter().position(|e| e.model_ref == model_ref) {
            shut_down(jobs, self.others.remove(i));
        }
        if self
            .endpoint
            .as_ref()
            .is_some_and(|e| e.model_ref != model_ref)
        {
            if let Some(traffic) = &self.traffic {
                traffic.job.cancel();
            }
            self.others.extend(self.endpoint.take());
        }
        self.stop(jobs);
        let store = store.clone();
        self.chosen = Some(model_ref.clone());
        self.error = None;
        self.starting = Some(jobs.spawn(format!("Serving {model_ref}"), move |ctx| {
            ctx.message("loading the model");
            serve_model(&store, &model_ref).map_err(JobError::failed)
        }));
    }

    /// Loads (and audits) the endpoint's new candidate on a job; `poll` puts it in place.
    fn set_candidate(
        &mut self,
        cx: &mut PanelContext<'_>,
        candidate_ref: Option<String>,
        mode: CandidateMode,
    ) {
        let (Ok(store), Some(endpoint)) = (cx.store, &self.endpoint) else {
            return;
        };
        let store = store.clone();
        let (primary, url) = (endpoint.served.server.info(), endpoint.served.server.url());
        self.candidate_notice = None;
        self.setting_candidate = Some(cx.jobs.spawn("Setting the candidate", move |_| {
            let reason = "set in the Deploy workspace";
            let candidate = candidate_change(
                &store,
                &primary,
                &url,
                candidate_ref.as_deref(),
                mode,
                reason,
            )
            .map_err(JobError::failed)?;
            let notice = match &candidate_ref {
                Some(r) => format!("{r} {mode}"),
                None => "No candidate".into(),
            };
            Ok((candidate, notice))
        }));
    }

    /// Stops the endpoint on a job: the server lets requests in flight finish first.
    fn stop(&mut self, jobs: &JobRunner) {
        if let Some(traffic) = &self.traffic {
            traffic.job.cancel();
        }
        if let Some(endpoint) = self.endpoint.take() {
            self.stopping = Some(shut_down(jobs, endpoint));
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

/// The model and stage a served reference follows (`churn@production`), for rollback.
fn stage_of(model_ref: &str) -> Option<(String, kiln_core::store::Stage)> {
    match ModelRef::parse(model_ref) {
        Ok(ModelRef::Stage(name, stage)) => Some((name, stage)),
        _ => None,
    }
}

/// Stops an endpoint on a job: the server lets requests in flight finish first.
fn shut_down(jobs: &JobRunner, endpoint: Endpoint) -> JobHandle<()> {
    jobs.spawn(format!("Stopping {}", endpoint.model_ref), move |_| {
        endpoint.served.server.shutdown().map_err(JobError::failed)
    })
}
