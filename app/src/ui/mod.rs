//! The eframe app: navigation, workspaces, status bar, and the one place commands are handled.

pub mod command;
pub mod context;
pub mod derived;
pub mod file_picker;
pub mod mlflow_server;
pub mod nav;
pub mod palette;
pub mod panels;
pub mod screenshot;
pub mod settings;
pub mod status_bar;
pub mod theme;
pub mod widgets;
pub mod workspace;

use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::Receiver;
use kiln_core::jobs::JobRunner;
use kiln_core::store::Store;

use command::{Command, CommandEntry};
use context::PanelContext;
use file_picker::{FilePicker, NativeFilePicker};
use kiln_core::pipeline::PIPELINE_FILE;
use palette::Palette;
use panels::deploy::DeployPanel;
use panels::experiments::ExperimentsPanel;
use panels::explore::ExplorePanel;
use panels::pipelines::{PipelineCommand, PipelineDraft, PipelinesPanel};
use panels::registry::RegistryPanel;
use screenshot::ScreenshotController;
use settings::UiSettings;
use theme::{ThemeChoice, Tokens};
use workspace::Workspace;

/// Ended jobs stay in the status bar this long, so the user sees how they ended.
const KEEP_ENDED_JOBS: Duration = Duration::from_secs(8);

/// Everything needed to start the app.
pub struct AppOptions {
    /// The store folder, already resolved (`--home`, `KILN_HOME`, platform default).
    pub store_home: Option<PathBuf>,
    /// Remembered UI choices.
    pub settings: UiSettings,
    /// How the "Open file" dialog is shown.
    pub picker: Box<dyn FilePicker>,
    /// Files to open at start.
    pub open_files: Vec<PathBuf>,
    /// Workspace to show first (overrides the remembered one).
    pub workspace: Option<Workspace>,
    /// Capture the window and close (`kiln gui --screenshot`).
    pub screenshot: Option<ScreenshotController>,
    /// Explore view for the first opened file: `tab` or `tab:column`.
    pub explore_view: Option<String>,
    /// Build the demo project when the store has no runs yet (the real app; not tests).
    pub first_run_demo: bool,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            store_home: None,
            settings: UiSettings::default(),
            picker: Box::new(NativeFilePicker),
            open_files: Vec::new(),
            workspace: None,
            screenshot: None,
            explore_view: None,
            first_run_demo: false,
        }
    }
}

/// The Kiln window.
pub struct KilnApp {
    settings: UiSettings,
    store: Result<Store, String>,
    jobs: JobRunner,
    commands: Vec<Command>,
    explore: ExplorePanel,
    experiments: ExperimentsPanel,
    registry: RegistryPanel,
    deploy: DeployPanel,
    pipelines: PipelinesPanel,
    picker: Box<dyn FilePicker>,
    /// A file dialog waiting for its answer, and what the answer is for.
    pending_pick: Option<(Receiver<Option<PathBuf>>, PickFor)>,
    /// An audit export waiting for the save dialog's answer.
    pending_export: Option<(Receiver<Option<PathBuf>>, panels::registry::AuditExport)>,
    applied_theme: Option<ThemeChoice>,
    notifier_installed: bool,
    screenshot: Option<ScreenshotController>,
    /// The commands a user can run by name or key ([`command::command_table`]).
    command_table: Vec<CommandEntry>,
    palette: Palette,
    /// The MLflow tracking server the status bar's toggle starts.
    mlflow: mlflow_server::MlflowToggle,
}

impl KilnApp {
    /// Opens the store and prepares the window; a store that cannot be opened is reported in
    /// the status bar instead of stopping the app.
    pub fn new(options: AppOptions) -> Self {
        let store = match options.store_home {
            Some(home) => Store::open(&home).map_err(|e| e.to_string()),
            None => Err("no store folder: set --home or KILN_HOME".to_owned()),
        };
        if let Err(error) = &store {
            tracing::error!(%error, "store unavailable");
        }
        let mut settings = options.settings;
        if let Some(workspace) = options.workspace {
            settings.workspace = workspace;
        }
        let mut explore = ExplorePanel::default();
        let mut experiments = ExperimentsPanel::default();
        match options.explore_view.as_deref() {
            Some("charts") => experiments.show_charts(),
            Some("compare") => experiments.compare_newest_when_loaded(),
            _ => {}
        }
        let mut pipelines = PipelinesPanel::default();
        if let Some(project) = &settings.pipeline_project {
            pipelines.open(project);
        }
        let mut deploy = DeployPanel::default();
        deploy.set_initial_view(options.explore_view.as_deref());
        explore.set_initial_view(options.explore_view);
        let jobs = JobRunner::new();
        if let Ok(store) = &store {
            match crate::samples::ensure_samples(store.home()) {
                Ok(paths) => {
                    if options.first_run_demo {
                        start_first_run_demo(store, &paths, &jobs);
                    }
                    explore.set_samples(paths);
                    // Pipelines opens on the demo project until the user picks their own.
                    if options.first_run_demo && settings.pipeline_project.is_none() {
                        open_demo_pipeline(store.home(), &mut settings, &mut pipelines);
                    }
                }
                Err(error) => tracing::warn!(%error, "could not write the sample datasets"),
            }
        }
        let mut app = Self {
            settings,
            store,
            jobs,
            commands: Vec::new(),
            explore,
            experiments,
            registry: RegistryPanel::default(),
            deploy,
            pipelines,
            picker: options.picker,
            pending_pick: None,
            pending_export: None,
            applied_theme: None,
            notifier_installed: false,
            screenshot: options.screenshot,
            command_table: command::command_table(),
            palette: Palette::default(),
            mlflow: mlflow_server::MlflowToggle::default(),
        };
        for path in options.open_files {
            app.send(Command::OpenFile(path));
        }
        app
    }

    /// The port the MLflow toggle uses.
    fn mlflow_port(&self) -> u16 {
        match self.settings.mlflow_port {
            0 => mlflow_server::DEFAULT_PORT,
            port => port,
        }
    }

    /// What the MLflow toggle shows (tests).
    pub fn mlflow_status(&self) -> mlflow_server::MlflowStatus {
        self.mlflow.status(self.mlflow_port())
    }

    /// The job runner (tests start jobs through it).
    pub fn jobs(&self) -> &JobRunner {
        &self.jobs
    }

    /// The remembered UI choices.
    pub fn settings(&self) -> &UiSettings {
        &self.settings
    }

    /// The open store, if it could be opened.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref().ok()
    }

    /// The Pipelines workspace.
    pub fn pipelines(&self) -> &PipelinesPanel {
        &self.pipelines
    }

    /// The Experiments workspace.
    pub fn experiments(&self) -> &ExperimentsPanel {
        &self.experiments
    }

    /// The files open in Explore.
    pub fn explore(&self) -> &ExplorePanel {
        &self.explore
    }

    /// Whether the command palette is showing.
    pub fn palette_open(&self) -> bool {
        self.palette.is_open()
    }

    /// The Registry workspace.
    pub fn registry(&self) -> &RegistryPanel {
        &self.registry
    }

    /// The Deploy workspace.
    pub fn deploy(&self) -> &DeployPanel {
        &self.deploy
    }

    /// The Deploy workspace, to change its settings (tests).
    pub fn deploy_mut(&mut self) -> &mut DeployPanel {
        &mut self.deploy
    }

    /// The Experiments workspace (tests and benchmarks drive it directly).
    pub fn experiments_mut(&mut self) -> &mut ExperimentsPanel {
        &mut self.experiments
    }

    /// Queues a command, handled before the next frame is drawn.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Per-frame work that draws nothing: input, jobs, commands, screenshot.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if !self.notifier_installed {
            let repaint = ctx.clone();
            self.jobs.set_notifier(move || repaint.request_repaint());
            self.notifier_installed = true;
        }
        if self.applied_theme != Some(self.settings.theme) {
            theme::apply(ctx, self.settings.theme);
            self.applied_theme = Some(self.settings.theme);
        }
        self.read_input(ctx);
        self.poll_file_dialog();
        self.explore.poll(&self.jobs);
        self.handle_commands();
        // After the commands, so what they asked for (a reload, a comparison) starts now.
        self.experiments.poll(
            self.store.as_ref().ok(),
            &self.jobs,
            self.settings.workspace == Workspace::Experiments,
        );
        self.registry.poll(
            self.store.as_ref().ok(),
            &self.jobs,
            self.settings.workspace == Workspace::Registry,
        );
        self.deploy.poll(
            self.store.as_ref().ok(),
            &self.jobs,
            self.settings.workspace == Workspace::Deploy,
        );
        self.pipelines.poll(
            self.store.as_ref().ok(),
            &self.jobs,
            self.settings.workspace == Workspace::Pipelines,
        );
        self.jobs.clear_ended(KEEP_ENDED_JOBS);
        if self
            .jobs
            .statuses()
            .iter()
            .any(|j| j.state != kiln_core::jobs::JobState::Running)
        {
            // Wake up to remove ended jobs from the status bar even when nothing else happens.
            ctx.request_repaint_after(KEEP_ENDED_JOBS);
        }
        let busy = self.jobs.running_count() > 0 || self.deploy.demo_pending();
        if let Some(screenshot) = &mut self.screenshot {
            screenshot.tick(ctx, busy);
        }
    }

    /// Draws the whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let tokens = Tokens::for_theme(self.settings.theme);
        let statuses = self.jobs.statuses();
        let store_label = match &self.store {
            Ok(store) => Ok(store.home().display().to_string()),
            Err(error) => Err(error.as_str()),
        };
        let mlflow = self.mlflow.status(self.mlflow_port());
        egui::Panel::bottom("status-bar").show(ui, |ui| {
            status_bar::status_bar_ui(
                ui,
                &statuses,
                store_label,
                &mlflow,
                &tokens,
                &mut self.commands,
            );
        });
        egui::Panel::left("navigation")
            .exact_size(tokens.nav_width)
            .show(ui, |ui| {
                nav::nav_ui(ui, &self.settings, &tokens, &mut self.commands)
            });
        egui::CentralPanel::default().show(ui, |ui| {
            let mut cx = PanelContext {
                store: self.store.as_ref().map_err(String::as_str),
                jobs: &self.jobs,
                commands: &mut self.commands,
                tokens: &tokens,
                settings: &self.settings,
            };
            match self.settings.workspace {
                Workspace::Explore => self.explore.explore_ui(ui, &mut cx),
                Workspace::Experiments => self.experiments.experiments_ui(ui, &mut cx),
                Workspace::Registry => self.registry.registry_ui(ui, &mut cx),
                Workspace::Deploy => self.deploy.deploy_ui(ui, &mut cx),
                Workspace::Pipelines => self.pipelines.pipelines_ui(ui, &mut cx),
            }
        });
        if let Some(command) = self.palette.palette_ui(ui.ctx(), &self.command_table) {
            self.commands.push(command);
        }
        if !self.commands.is_empty() {
            // Handle what was clicked on the next pass without waiting for more input.
            ui.ctx().request_repaint();
        }
    }

    fn read_input(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        for path in dropped.into_iter().filter(|p| !p.as_os_str().is_empty()) {
            self.send(Command::OpenFile(path));
        }
        let table = &self.command_table;
        let shortcuts = ctx.input_mut(|input| command::pressed_shortcuts(input, table));
        self.commands.extend(shortcuts);
    }

    fn poll_file_dialog(&mut self) {
        if let Some((receiver, _)) = &self.pending_pick {
            match receiver.try_recv() {
                Ok(picked) => {
                    let Some((_, purpose)) = self.pending_pick.take() else {
                        return;
                    };
                    match (picked, purpose) {
                        (Some(path), PickFor::DataFile) => self.send(Command::OpenFile(path)),
                        (Some(path), PickFor::MlflowSource) => {
                            self.experiments.mlflow_import().set_source(&path);
                        }
                        (Some(path), PickFor::PipelineProject) => {
                            self.send(Command::Pipeline(PipelineCommand::Open(path)));
                        }
                        (Some(path), PickFor::SavePipeline(draft)) => {
                            self.send(Command::Pipeline(PipelineCommand::Write { path, draft }));
                        }
                        (None, _) => {}
                    }
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
                Err(crossbeam_channel::TryRecvError::Disconnected) => self.pending_pick = None,
            }
        }
        if let Some((receiver, export)) = &self.pending_export {
            match receiver.try_recv() {
                Ok(picked) => {
                    if let Some(path) = picked {
                        let export = panels::registry::AuditExport {
                            path: Some(path),
                            ..export.clone()
                        };
                        self.send(Command::ExportAudit(export));
                    }
                    self.pending_export = None;
                }
                Err(crossbeam_channel::TryRecvError::Empty) => {}
                Err(crossbeam_channel::TryRecvError::Disconnected) => self.pending_export = None,
            }
        }
    }

    fn handle_commands(&mut self) {
        for command in std::mem::take(&mut self.commands) {
            tracing::debug!(?command, "handling command");
            match command {
                Command::SelectWorkspace(workspace) => self.settings.workspace = workspace,
                Command::SetTheme(choice) => self.settings.theme = choice,
                Command::OpenFileDialog => {
                    if self.pending_pick.is_none() {
                        self.pending_pick = Some((self.picker.pick_data_file(), PickFor::DataFile));
                    }
                }
                Command::OpenMlflowImport => {
                    self.settings.workspace = Workspace::Experiments;
                    self.experiments.mlflow_import().open();
                }
                Command::PickMlflowSource { folder } => {
                    if self.pending_pick.is_none() {
                        let title = if folder {
                            "Choose an mlruns/ folder"
                        } else {
                            "Choose an mlflow.db"
                        };
                        let asked = self.picker.pick_existing(title, folder);
                        self.pending_pick = Some((asked, PickFor::MlflowSource));
                    }
                }
                Command::Pipeline(command) => self.pipeline_command(command),
                Command::ImportMlflow(source) => {
                    if let Ok(store) = &self.store {
                        self.experiments
                            .mlflow_import()
                            .start(source, store, &self.jobs);
                    }
                }
                Command::OpenFile(path) => {
                    self.settings.remember_file(path.clone());
                    self.settings.workspace = Workspace::Explore;
                    self.explore.open_file(&path, &self.jobs);
                }
                Command::ClearRecentFiles => self.settings.recent_files.clear(),
                Command::CancelJob(id) => self.jobs.cancel(id),
                Command::SaveRunsView(view) => {
                    self.settings.saved_views.retain(|v| v.name != view.name);
                    self.settings.saved_views.push(view);
                }
                Command::DeleteRunsView(name) => {
                    self.settings.saved_views.retain(|v| v.name != name)
                }
                Command::OpenPalette => self.palette.open(),
                Command::ShowTrain => {
                    self.settings.workspace = Workspace::Explore;
                    if self.explore.active().is_some() {
                        self.explore.set_initial_view(Some("train".to_owned()));
                    }
                }
                Command::ReloadRuns => {
                    self.settings.workspace = Workspace::Experiments;
                    self.experiments.reload();
                }
                Command::ToggleRunCharts => {
                    self.settings.workspace = Workspace::Experiments;
                    self.experiments.toggle_charts();
                }
                Command::CompareSelectedRuns => {
                    self.settings.workspace = Workspace::Experiments;
                    if let Ok(store) = &self.store {
                        self.experiments.compare_selected(store, &self.jobs);
                    }
                }
                Command::ExportRuns => {
                    self.settings.workspace = Workspace::Experiments;
                    if let Ok(store) = &self.store {
                        self.experiments.export_shown(store, &self.jobs);
                    }
                }
                Command::EditRun { run_id, edit } => self.edit_run(run_id, edit),
                Command::AcceptMlflowClients(on) => {
                    let home = self.store.as_ref().ok().map(|s| s.home().to_path_buf());
                    let port = self.mlflow_port();
                    self.mlflow.set(on, home.as_deref(), port);
                }
                Command::OpenRun(run_id) => {
                    if let Ok(store) = &self.store {
                        self.experiments.open_run(store, run_id, &self.jobs);
                        self.settings.workspace = Workspace::Experiments;
                    }
                }
                Command::OpenVersion { name, version } => {
                    self.registry.show_version(name, version);
                    self.settings.workspace = Workspace::Registry;
                }
                Command::ExportAudit(export) => self.export_audit(export),
                Command::EditRegistry(edit) => {
                    if let Ok(store) = &self.store {
                        self.registry.watch_edit(edit.spawn(store, &self.jobs));
                    }
                }
                Command::Train(command) => self.train(*command),
                Command::RegisterDataset(command) => self.register_dataset(*command),
            }
        }
    }
}

impl KilnApp {
    /// Writes a user's change to a run as a background job; the Experiments workspace shows
    /// how it ended and reads the runs again.
    /// Trains (or sweeps) as the Train tab asked, as a job the tab watches.
    fn train(&mut self, command: command::TrainCommand) {
        let Ok(store) = &self.store else { return };
        let store = store.clone();
        let command::TrainCommand {
            dataset,
            request,
            grid,
            board,
        } = command;
        let name = format!("Training {}", request.model);
        let job = self.jobs.spawn(name, move |ctx| {
            if grid.is_empty() {
                kiln_core::train::train(&store, &request, ctx)
                    .map(panels::explore::train_view::Trained::Single)
            } else {
                kiln_core::train::sweep(&store, &request, &grid, None, None, Some(&board), ctx)
                    .map(panels::explore::train_view::Trained::Sweep)
            }
        });
        self.explore.watch_training(&dataset, job);
    }

    /// Writes the audit timeline where the command says, or asks where first (the save
    /// dialog); the Registry workspace shows how the job ended.
    fn export_audit(&mut self, export: panels::registry::AuditExport) {
        let Ok(store) = &self.store else { return };
        match &export.path {
            Some(path) => {
                let job = export.spawn(path.clone(), store, &self.jobs);
                self.registry.watch_edit(job);
            }
            None if self.pending_export.is_none() => {
                let asked = self
                    .picker
                    .pick_save_file("Export the audit timeline", &export.suggested_name());
                self.pending_export = Some((asked, export));
            }
            None => {}
        }
    }

    /// Registers a dataset version as Explore asked, as a job Explore watches.
    fn register_dataset(&mut self, command: command::RegisterDatasetCommand) {
        let Ok(store) = &self.store else { return };
        let store = store.clone();
        let command::RegisterDatasetCommand {
            dataset,
            name,
            opened,
            overrides,
        } = command;
        let job = self.jobs.spawn(format!("Registering {name}"), move |_| {
            let version =
                kiln_core::data::register_dataset_with(&store, &name, &opened, &overrides)
                    .map_err(kiln_core::jobs::JobError::failed)?;
            Ok(format!(
                "dataset '{}' version {}",
                version.dataset, version.version
            ))
        });
        self.explore.watch_registration(&dataset, job);
    }

    /// Opens, reads or runs a pipeline; the Pipelines workspace shows how it goes.
    fn pipeline_command(&mut self, command: PipelineCommand) {
        if let PipelineCommand::Save(draft) = command {
            // The Train tab stays on screen until the file is written.
            if self.pending_pick.is_none() {
                let asked = self
                    .picker
                    .pick_save_file("Save the pipeline", PIPELINE_FILE);
                self.pending_pick = Some((asked, PickFor::SavePipeline(draft)));
            }
            return;
        }
        self.settings.workspace = Workspace::Pipelines;
        match command {
            PipelineCommand::Pick => {
                if self.pending_pick.is_none() {
                    let asked = self
                        .picker
                        .pick_existing("Choose a project folder (with kiln.toml)", true);
                    self.pending_pick = Some((asked, PickFor::PipelineProject));
                }
            }
            command => {
                if let Ok(store) = &self.store {
                    self.pipelines.handle(command, store, &self.jobs);
                }
                // The file the panel resolved the folder to, remembered for the next launch.
                self.settings.pipeline_project = self.pipelines.path().map(PathBuf::from);
            }
        }
    }

    fn edit_run(&mut self, run_id: String, edit: command::RunEdit) {
        // Runs are only on screen (and editable) when the store is open.
        let Ok(store) = &self.store else { return };
        let store = store.clone();
        let (id, job_edit) = (run_id.clone(), edit.clone());
        let job = self
            .jobs
            .spawn(edit.job_name(), move |_| Ok(job_edit.apply(&store, &id)?));
        self.experiments.watch_edit(run_id, edit, job);
    }
}

/// Writes the demo pipeline beside the samples and shows it in Pipelines.
fn open_demo_pipeline(
    home: &std::path::Path,
    settings: &mut UiSettings,
    pipelines: &mut PipelinesPanel,
) {
    match crate::samples::ensure_demo_pipeline(home) {
        Ok(path) => {
            pipelines.open(&path);
            settings.pipeline_project = Some(path);
        }
        Err(error) => tracing::warn!(%error, "could not write the demo pipeline"),
    }
}

/// On a store without any run, builds the demo project in the background (once).
fn start_first_run_demo(store: &Store, samples: &[PathBuf], jobs: &JobRunner) {
    // Only the existence of a run matters here; loading them all would slow start-up.
    let empty = store.has_runs().is_ok_and(|any| !any);
    let Some(dir) = samples
        .first()
        .and_then(|p| p.parent())
        .map(std::path::Path::to_path_buf)
    else {
        return;
    };
    if !empty {
        return;
    }
    let store = store.clone();
    // The handle is dropped: the status bar shows the job, and Experiments reads the store.
    let _ = jobs.spawn("Building the demo project", move |ctx| {
        kiln_core::demo::build_demo(&store, &dir, ctx)
    });
}

/// What a file dialog's answer is for.
#[derive(Debug, Clone)]
enum PickFor {
    /// A data file to open in Explore.
    DataFile,
    /// The MLflow store to import.
    MlflowSource,
    /// A pipeline project folder.
    PipelineProject,
    /// Where to write a new `kiln.toml`.
    SavePipeline(Box<PipelineDraft>),
}

/// Key under which [`UiSettings`] are persisted in eframe storage.
pub const SETTINGS_KEY: &str = "kiln-ui-settings";

impl eframe::App for KilnApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        KilnApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        KilnApp::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        // A scripted screenshot must not change what the user sees next time.
        if self.screenshot.is_none() {
            eframe::set_value(storage, SETTINGS_KEY, &self.settings);
        }
    }
}
