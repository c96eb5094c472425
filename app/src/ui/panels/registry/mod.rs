//! Registry workspace: registered models (left), the versions of the selected one with stage,
//! aliases and key metrics, the selected version's lineage and approvals, a dialog that shows
//! a stage change's gate results before it is confirmed, the audit timeline with a check of
//! its hash chain and its export, and the model's gate policy in an editor.
//!
//! Everything read from the store is read by a job (`load`); every change is sent as
//! [`Command::EditRegistry`] and written by a job the app starts ([`RegistryEdit::spawn`]),
//! after which the workspace reads the registry again.

mod card;
mod dialog;
mod edit;
mod policy;
mod rows;
mod version;
mod views;

pub use edit::{AuditExport, RegistryEdit};
pub use policy::{POLICY_LABEL, POLICY_REASON_LABEL};

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::registry::{AuditBreak, AuditFormat, Policy};
use kiln_core::store::Store;

use crate::ui::command::Command;
use crate::ui::context::PanelContext;
use rows::{AuditRow, VersionRow};
use version::{ApprovalRow, VersionDetail};

/// The two views of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Tab {
    /// Versions, the selected version's lineage, the timeline.
    #[default]
    Versions,
    /// The gate policy editor.
    Policy,
    /// The shown version's model card.
    Card,
}

/// What the loading job reads: the models, and the versions and audit entries shown.
struct Loaded {
    models: Vec<String>,
    /// The model the versions belong to (the selected one, else the first).
    model: Option<String>,
    versions: Vec<VersionRow>,
    audit: Vec<AuditRow>,
    /// The model's gate policy (TOML) as stored.
    policy: String,
    /// The selected version (the chosen one, else the newest) in detail.
    detail: Option<VersionDetail>,
    /// That version's model card, or why it could not be made (a model file gone, say).
    card: Option<Result<kiln_core::registry::ModelCard, String>>,
    /// What the data was read for.
    key: LoadKey,
}

/// What the shown data depends on besides the store's content.
#[derive(Debug, Clone, PartialEq, Default)]
struct LoadKey {
    selected: Option<String>,
    /// The version chosen in the table (else the newest is shown in detail).
    version: Option<i64>,
    whole_registry: bool,
}

fn load(store: &Store, key: LoadKey) -> Result<Loaded, JobError> {
    let models = store.registered_models()?;
    let model = key
        .selected
        .clone()
        .filter(|m| models.contains(m))
        .or_else(|| models.first().cloned());
    let mut loaded = Loaded {
        models,
        model: model.clone(),
        versions: Vec::new(),
        audit: Vec::new(),
        policy: String::new(),
        detail: None,
        card: None,
        key,
    };
    let Some(name) = model else {
        return Ok(loaded);
    };
    let versions = store.model_versions(&name)?;
    let scope = (!loaded.key.whole_registry).then_some(name.as_str());
    // Newest first: the timeline reads like a history.
    let log = store.audit_log(scope)?;
    loaded.audit = log
        .iter()
        .rev()
        .map(|e| AuditRow::of(e, loaded.key.whole_registry))
        .collect();
    loaded.policy = store.model_policy(&name)?;
    let shown = versions
        .iter()
        .find(|v| Some(v.version) == loaded.key.version)
        .or(versions.last());
    if let Some(version) = shown {
        // A stored policy that no longer parses asks for no approval here; the policy tab
        // shows its error.
        let requires_approval =
            Policy::parse(&loaded.policy).is_ok_and(|p| p.gates.require_approval);
        let approvals = if requires_approval {
            kiln_core::registry::approvals_in(&log, version)
                .iter()
                .map(ApprovalRow::of)
                .collect()
        } else {
            Vec::new()
        };
        loaded.card =
            Some(kiln_core::registry::model_card(store, version).map_err(|e| e.to_string()));
        loaded.detail = Some(VersionDetail {
            lineage: kiln_core::registry::lineage(store, version)?,
            approvals,
            me: store.actor().user(),
        });
    }
    loaded.versions = versions.iter().map(VersionRow::of).collect();
    Ok(loaded)
}

/// The Registry workspace's state.
#[derive(Default)]
pub struct RegistryPanel {
    data: Option<Loaded>,
    loading: Option<JobHandle<Loaded>>,
    /// The store's change token when the data on screen was read.
    loaded_at: Option<(u64, i64)>,
    /// Read again (an edit made here finished).
    stale: bool,
    error: Option<String>,
    key: LoadKey,
    dialog: Option<dialog::ActionDialog>,
    edits: Vec<JobHandle<String>>,
    /// What the last edit told the user.
    notice: Option<Result<String, String>>,
    verify_requested: bool,
    verifying: Option<JobHandle<Result<usize, AuditBreak>>>,
    verified: Option<Result<String, String>>,
    tab: Tab,
    policy: policy::PolicyEditor,
}

impl RegistryPanel {
    /// Reads the registry again.
    pub fn reload(&mut self) {
        self.stale = true;
    }

    /// The model whose versions are shown, once loaded.
    pub fn shown_model(&self) -> Option<&str> {
        self.data.as_ref().and_then(|d| d.model.as_deref())
    }

    /// Shows version `version` of model `name` (from a run's list of its versions).
    pub fn show_version(&mut self, name: String, version: i64) {
        self.key.selected = Some(name);
        self.key.version = Some(version);
        self.tab = Tab::Versions;
        self.notice = None;
    }

    /// The version shown in detail, once loaded.
    pub fn shown_version(&self) -> Option<i64> {
        self.data
            .as_ref()
            .and_then(|d| d.detail.as_ref())
            .map(|d| d.lineage.version)
    }

    /// Hands over a job started by the app's command handling (a change, an export); the
    /// workspace shows how it ended and reads the registry again.
    pub fn watch_edit(&mut self, job: JobHandle<String>) {
        self.notice = None;
        self.edits.push(job);
    }

    /// Per-frame work that draws nothing: collects finished jobs, starts reading the
    /// registry when it is `visible` and missing, changed, or another model was chosen, and
    /// starts the jobs the dialog and the verify button asked for.
    pub fn poll(&mut self, store: Option<&Store>, jobs: &JobRunner, visible: bool) {
        if let Some(result) = JobHandle::take_finished(&mut self.loading) {
            match result {
                Ok(loaded) => {
                    self.error = None;
                    if let Some(model) = &loaded.model {
                        self.policy.sync(model, &loaded.policy);
                    }
                    self.data = Some(loaded);
                }
                Err(JobError::Cancelled) => {}
                Err(JobError::Failed(message)) => self.error = Some(message),
            }
        }
        let mut i = 0;
        while i < self.edits.len() {
            let Some(result) = self.edits[i].try_result() else {
                i += 1;
                continue;
            };
            self.edits.remove(i);
            // Read again even after a refusal: a blocked promotion audits its gates.
            self.stale = true;
            self.notice = Some(result.map_err(|e| e.to_string()));
        }
        if let Some(result) = JobHandle::take_finished(&mut self.verifying) {
            self.verified = Some(match result {
                Ok(Ok(n)) => Ok(format!("Audit trail intact: {n} entries check out")),
                Ok(Err(b)) => Err(format!(
                    "Audit trail broken at entry {}: {}",
                    b.seq, b.reason
                )),
                Err(e) => Err(e.to_string()),
            });
        }
        if let Some(dialog) = &mut self.dialog {
            dialog.poll(store, jobs);
        }
        let Some(store) = store else { return };
        if std::mem::take(&mut self.verify_requested) && self.verifying.is_none() {
            let store = store.clone();
            self.verified = None;
            self.verifying = Some(jobs.spawn("Verifying the audit trail", move |_| {
                Ok(kiln_core::registry::verify_audit(&store)?)
            }));
        }
        if visible {
            self.start_loading(store, jobs);
        }
    }

    fn start_loading(&mut self, store: &Store, jobs: &JobRunner) {
        if self.loading.is_some() {
            return;
        }
        let token = store.change_token();
        let changed = self.loaded_at.is_some_and(|t| t != token);
        let first = self.data.is_none() && self.error.is_none();
        let rekeyed = self.data.as_ref().is_some_and(|d| d.key != self.key);
        if !(first || changed || rekeyed || self.stale) {
            return;
        }
        self.stale = false;
        self.loaded_at = Some(token);
        let (store, key) = (store.clone(), self.key.clone());
        self.loading = Some(jobs.spawn("Loading the registry", move |ctx| {
            ctx.message("reading the registry");
            load(&store, key)
        }));
    }

    /// Draws the workspace.
    pub fn registry_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        if let Err(error) = cx.store {
            ui.heading("Registry");
            ui.colored_label(
                cx.tokens.bad,
                format!("The store could not be opened: {error}"),
            );
            return;
        }
        if let Some(dialog) = &mut self.dialog {
            match dialog.dialog_ui(ui.ctx(), cx.tokens) {
                dialog::Outcome::Open => {}
                dialog::Outcome::Cancel => self.dialog = None,
                dialog::Outcome::Confirm(edit) => {
                    cx.send(Command::EditRegistry(edit));
                    self.dialog = None;
                }
            }
        }
        ui.horizontal(|ui| {
            ui.heading("Registry");
            if ui.button("Refresh").clicked() {
                self.reload();
                ui.ctx().request_repaint();
            }
            if self.loading.is_some() || !self.edits.is_empty() {
                ui.spinner().on_hover_text("Reading the registry");
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(cx.tokens.bad, error);
        }
        let Some(data) = &self.data else {
            ui.spinner();
            return;
        };
        if data.models.is_empty() {
            views::empty_state_ui(ui, cx.tokens);
            return;
        }
        let mut action = None;
        egui::Panel::left("registry-models")
            .resizable(false)
            .exact_size(150.0)
            .show(ui, |ui| {
                views::models_ui(ui, &data.models, data.model.as_deref(), &mut action);
            });
        let mut policy_edit = None;
        egui::CentralPanel::default().show(ui, |ui| {
            match &self.notice {
                Some(Ok(m)) => {
                    ui.colored_label(cx.tokens.good, m);
                }
                Some(Err(m)) => {
                    ui.colored_label(cx.tokens.bad, m);
                }
                None => {}
            }
            let Some(model) = data.model.as_deref() else {
                return;
            };
            ui.horizontal(|ui| {
                ui.heading(format!("Model {model}"));
                ui.add_space(12.0);
                ui.selectable_value(&mut self.tab, Tab::Versions, "Versions");
                ui.selectable_value(&mut self.tab, Tab::Policy, "Gate policy");
                ui.selectable_value(&mut self.tab, Tab::Card, "Model card");
            });
            match self.tab {
                Tab::Policy => {
                    policy_edit = self.policy.policy_ui(ui, cx.tokens);
                    return;
                }
                Tab::Card => {
                    card::card_ui(ui, data.card.as_ref(), cx.tokens);
                    return;
                }
                Tab::Versions => {}
            }
            ui.label(format!(
                "{} versions · click a version for its lineage; change a stage or an alias with the buttons of its row",
                data.versions.len()
            ));
            let shown = data.detail.as_ref().map(|d| d.lineage.version);
            views::versions_ui(ui, &data.versions, shown, cx.tokens, &mut action);
            if let Some(detail) = &data.detail {
                ui.add_space(cx.tokens.section_gap / 2.0);
                version::version_detail_ui(ui, detail, cx.tokens, &mut action);
            }
            ui.add_space(cx.tokens.section_gap / 2.0);
            views::timeline_header_ui(
                ui,
                model,
                &mut self.key.whole_registry,
                self.verifying.is_some(),
                self.verified.as_ref(),
                cx.tokens,
                &mut action,
            );
            views::timeline_ui(ui, &data.audit, self.key.whole_registry);
        });
        if let Some(edit) = policy_edit {
            cx.send(Command::EditRegistry(edit));
        }
        let model = data.model.clone();
        match action {
            Some(views::Action::Select(name)) => {
                self.key.selected = Some(name);
                self.key.version = None;
                self.notice = None;
                ui.ctx().request_repaint();
            }
            Some(views::Action::ShowVersion(version)) => {
                self.key.version = Some(version);
                ui.ctx().request_repaint();
            }
            Some(views::Action::Stage(version, stage)) => {
                if let Some(model) = model {
                    self.dialog = Some(dialog::ActionDialog::stage(model, version, stage));
                }
            }
            Some(views::Action::Alias(version)) => {
                if let Some(model) = model {
                    self.dialog = Some(dialog::ActionDialog::alias(model, version));
                }
            }
            Some(views::Action::Approve(version, stage)) => {
                if let Some(model) = model {
                    let me = data
                        .detail
                        .as_ref()
                        .map(|d| d.me.clone())
                        .unwrap_or_default();
                    self.dialog = Some(dialog::ActionDialog::approve(model, version, stage, me));
                }
            }
            Some(views::Action::Export(format)) => {
                let scope = (!self.key.whole_registry).then_some(model).flatten();
                cx.send(Command::ExportAudit(AuditExport {
                    model: scope,
                    format,
                    path: None,
                }));
            }
            Some(views::Action::Verify) => {
                self.verify_requested = true;
                ui.ctx().request_repaint();
            }
            Some(views::Action::Rekey) => ui.ctx().request_repaint(),
            Some(views::Action::OpenRun(run_id)) => {
                cx.send(Command::OpenRun(run_id));
            }
            None => {}
        }
    }
}

/// The formats the timeline's export buttons offer.
pub const EXPORT_FORMATS: [(AuditFormat, &str); 2] = [
    (AuditFormat::Csv, "Export CSV..."),
    (AuditFormat::Json, "Export JSON..."),
];
