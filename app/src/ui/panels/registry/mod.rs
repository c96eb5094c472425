//! Registry workspace: registered models (left), the versions of the selected one with stage,
//! aliases, key metrics and lineage, a dialog that shows a stage change's gate results before
//! it is confirmed, and the audit timeline with a check of its hash chain.
//!
//! Everything read from the store is read by a job (`load`); every change is sent as
//! [`Command::EditRegistry`] and written by a job the app starts ([`RegistryEdit::spawn`]),
//! after which the workspace reads the registry again.

mod dialog;
mod rows;
mod views;

use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::registry::AuditBreak;
use kiln_core::store::{Stage, Store};

use crate::ui::command::Command;
use crate::ui::context::PanelContext;
use rows::{AuditRow, VersionRow};

/// A change to the registry, as the workspace asks for it (written by a job).
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryEdit {
    /// Move a version to a stage through its gates (`kiln_core::registry::promote`).
    Promote {
        /// Model name.
        name: String,
        /// Version.
        version: i64,
        /// Stage wanted.
        stage: Stage,
        /// Why (required).
        reason: String,
        /// Promote even though gates fail (recorded).
        override_gates: bool,
    },
    /// Point an alias at a version.
    SetAlias {
        /// Model name.
        name: String,
        /// Version.
        version: i64,
        /// Alias.
        alias: String,
        /// Why (required).
        reason: String,
    },
}

impl RegistryEdit {
    /// The job's name in the status bar.
    pub fn job_name(&self) -> String {
        match self {
            Self::Promote {
                name,
                version,
                stage,
                ..
            } => format!("Moving {name}:{version} to {stage}"),
            Self::SetAlias {
                name,
                version,
                alias,
                ..
            } => format!("Pointing {name}@{alias} at version {version}"),
        }
    }

    /// Writes the change; returns what to tell the user. A promotion its gates blocked is an
    /// error that names the failing gates.
    pub fn apply(&self, store: &Store) -> Result<String, JobError> {
        match self {
            Self::Promote {
                name,
                version,
                stage,
                reason,
                override_gates,
            } => {
                let outcome = kiln_core::registry::promote(
                    store,
                    name,
                    *version,
                    *stage,
                    reason,
                    *override_gates,
                    true,
                )
                .map_err(JobError::failed)?;
                if !outcome.promoted {
                    let failed: Vec<String> = outcome
                        .gates
                        .iter()
                        .filter(|g| !g.passed)
                        .map(|g| format!("{} ({})", g.gate, g.detail))
                        .collect();
                    return Err(JobError::Failed(format!(
                        "{name}:{version} was not moved to {stage}: failing gates {}",
                        failed.join(", ")
                    )));
                }
                let overridden = if outcome.overridden {
                    " (failing gates overridden)"
                } else {
                    ""
                };
                Ok(format!("{name}:{version} is now {stage}{overridden}"))
            }
            Self::SetAlias {
                name,
                version,
                alias,
                reason,
            } => {
                if reason.trim().is_empty() {
                    return Err(JobError::Failed("an alias change needs a reason".into()));
                }
                store
                    .set_alias(name, *version, alias, reason)
                    .map_err(JobError::failed)?;
                Ok(format!("{name}@{alias} now points at version {version}"))
            }
        }
    }

    /// Starts the job that writes the change (called by the app's command handling).
    pub fn spawn(self, store: &Store, jobs: &JobRunner) -> JobHandle<String> {
        let store = store.clone();
        jobs.spawn(self.job_name(), move |_| self.apply(&store))
    }
}

/// What the loading job reads: the models, and the versions and audit entries shown.
struct Loaded {
    models: Vec<String>,
    /// The model the versions belong to (the selected one, else the first).
    model: Option<String>,
    versions: Vec<VersionRow>,
    audit: Vec<AuditRow>,
    /// What the data was read for.
    key: LoadKey,
}

/// What the shown data depends on besides the store's content.
#[derive(Debug, Clone, PartialEq, Default)]
struct LoadKey {
    selected: Option<String>,
    whole_registry: bool,
}

fn load(store: &Store, key: LoadKey) -> Result<Loaded, JobError> {
    let models = store.registered_models()?;
    let model = key
        .selected
        .clone()
        .filter(|m| models.contains(m))
        .or_else(|| models.first().cloned());
    let (versions, audit) = match &model {
        Some(name) => {
            let versions = store.model_versions(name)?;
            let scope = if key.whole_registry {
                None
            } else {
                Some(name.as_str())
            };
            // Newest first: the timeline reads like a history.
            let audit = store
                .audit_log(scope)?
                .iter()
                .rev()
                .map(AuditRow::of)
                .collect();
            (versions.iter().map(VersionRow::of).collect(), audit)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Loaded {
        models,
        model,
        versions,
        audit,
        key,
    })
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

    /// Hands over a change started by the app's command handling; the workspace shows how it
    /// ended and reads the registry again.
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
            ui.heading(format!("Model {model}"));
            ui.label(format!(
                "{} versions · change a stage or an alias with the buttons of its row",
                data.versions.len()
            ));
            views::versions_ui(ui, &data.versions, cx.tokens, &mut action);
            ui.add_space(cx.tokens.section_gap);
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
        match action {
            Some(views::Action::Select(name)) => {
                self.key.selected = Some(name);
                self.notice = None;
                ui.ctx().request_repaint();
            }
            Some(views::Action::Stage(version, stage)) => {
                if let Some(model) = data.model.clone() {
                    self.dialog = Some(dialog::ActionDialog::stage(model, version, stage));
                }
            }
            Some(views::Action::Alias(version)) => {
                if let Some(model) = data.model.clone() {
                    self.dialog = Some(dialog::ActionDialog::alias(model, version));
                }
            }
            Some(views::Action::Verify) => {
                self.verify_requested = true;
                ui.ctx().request_repaint();
            }
            Some(views::Action::Rekey) => ui.ctx().request_repaint(),
            Some(views::Action::OpenRun(run_id)) => {
                cx.send(crate::ui::command::Command::OpenRun(run_id));
            }
            None => {}
        }
    }
}
