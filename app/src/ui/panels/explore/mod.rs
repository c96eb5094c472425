//! Explore workspace: open a file, see its rows at once, then its profile, plots and alerts.

mod charts;
mod columns;
pub mod state;
pub mod train_view;

use std::path::{Path, PathBuf};

use kiln_core::jobs::JobRunner;

use crate::ui::command::{Command, RegisterDatasetCommand};
use crate::ui::context::PanelContext;
use crate::ui::widgets::data_grid::{GridAction, data_grid_ui};
use state::{Dataset, RowQuery, Tab};

/// The Explore workspace's state: the opened datasets, one of them shown.
#[derive(Default)]
pub struct ExplorePanel {
    datasets: Vec<Dataset>,
    active: usize,
    samples: Vec<PathBuf>,
    initial_view: Option<String>,
}

impl ExplorePanel {
    /// Files offered on the welcome page (the shipped samples).
    pub fn set_samples(&mut self, samples: Vec<PathBuf>) {
        self.samples = samples;
    }

    /// The view (`tab` or `tab:column`; for the Train tab the column is the target) to show
    /// once the first file is profiled.
    pub fn set_initial_view(&mut self, view: Option<String>) {
        self.initial_view = view;
    }

    /// Handles a file the user opened (dialog, drop, recent list, command line).
    pub fn open_file(&mut self, path: &Path, jobs: &JobRunner) {
        self.datasets.retain(|d| d.path != path);
        self.datasets.insert(0, Dataset::open(path, jobs));
        self.active = 0;
    }

    /// Selects the tab (and column) named like `column:age`.
    fn apply_initial_view(&mut self) {
        let Some(dataset) = self.datasets.get_mut(self.active) else {
            return;
        };
        let Some(profile) = &dataset.profile else {
            return;
        };
        let Some(view) = self.initial_view.take() else {
            return;
        };
        let (tab, column) = view
            .split_once(':')
            .map_or((view.as_str(), None), |(t, c)| (t, Some(c)));
        if let Some(tab) = Tab::ALL
            .into_iter()
            .find(|t| t.label().replace(' ', "").eq_ignore_ascii_case(tab))
        {
            dataset.tab = tab;
        }
        if let Some(column) = column {
            dataset.selected = profile.columns.iter().position(|c| c.name == column);
            if dataset.tab == Tab::Train && dataset.selected.is_some() {
                // `train:species`: the Train tab with that target.
                dataset.train.set_target(column);
            }
        }
    }

    /// Shows a training job (started by the app's command handling) in a dataset's Train tab.
    pub fn watch_training(
        &mut self,
        dataset: &Path,
        job: kiln_core::jobs::JobHandle<train_view::Trained>,
    ) {
        if let Some(d) = self.datasets.iter_mut().find(|d| d.path == dataset) {
            d.train.watch(job);
        }
    }

    /// Shows a dataset registration job (started by the app's command handling).
    pub fn watch_registration(&mut self, dataset: &Path, job: kiln_core::jobs::JobHandle<String>) {
        if let Some(d) = self.datasets.iter_mut().find(|d| d.path == dataset) {
            d.registered.watch((), job);
        }
    }

    /// Collects finished jobs; call once per frame.
    pub fn poll(&mut self, jobs: &JobRunner) {
        for dataset in &mut self.datasets {
            dataset.poll(jobs);
        }
        self.apply_initial_view();
    }

    /// Paths of the files open in this workspace, newest first.
    pub fn open_paths(&self) -> Vec<&Path> {
        self.datasets.iter().map(|d| d.path.as_path()).collect()
    }

    /// The dataset on screen.
    pub fn active(&self) -> Option<&Dataset> {
        self.datasets.get(self.active)
    }

    /// Draws the workspace.
    pub fn explore_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>) {
        ui.horizontal(|ui| {
            ui.heading("Explore");
            if ui
                .button("Open file…")
                .on_hover_text("Ctrl+O, or drop a file on the window")
                .clicked()
            {
                cx.send(Command::OpenFileDialog);
            }
            if self.datasets.len() > 1 {
                let current = self
                    .datasets
                    .get(self.active)
                    .map(Dataset::name)
                    .unwrap_or_default();
                egui::ComboBox::from_id_salt("dataset-choice")
                    .selected_text(current)
                    .show_ui(ui, |ui| {
                        for (i, d) in self.datasets.iter().enumerate() {
                            ui.selectable_value(&mut self.active, i, d.name());
                        }
                    });
            }
        });
        let samples = self.samples.clone();
        let Some(dataset) = self.datasets.get_mut(self.active) else {
            welcome_ui(ui, cx, &samples);
            return;
        };
        dataset_ui(ui, dataset, cx);
    }
}

fn welcome_ui(ui: &mut egui::Ui, cx: &mut PanelContext<'_>, samples: &[PathBuf]) {
    ui.add_space(cx.tokens.section_gap);
    ui.label("Open a CSV, TSV, Parquet, JSON/NDJSON or Arrow file to see its rows, statistics, plots and data-quality alerts.");
    if !samples.is_empty() {
        ui.add_space(cx.tokens.section_gap);
        ui.strong("Sample datasets");
        for path in samples {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let description = crate::samples::SAMPLES
                .iter()
                .find(|s| s.file == name)
                .map_or("", |s| s.description);
            ui.horizontal(|ui| {
                if ui.button(&name).clicked() {
                    cx.send(Command::OpenFile(path.clone()));
                }
                ui.label(egui::RichText::new(description).color(cx.tokens.muted));
            });
        }
    }
    if !cx.settings.recent_files.is_empty() {
        ui.add_space(cx.tokens.section_gap);
        ui.horizontal(|ui| {
            ui.strong("Recent files");
            if ui.small_button("Clear").clicked() {
                cx.send(Command::ClearRecentFiles);
            }
        });
        for path in &cx.settings.recent_files {
            if ui.link(path.display().to_string()).clicked() {
                cx.commands.push(Command::OpenFile(path.clone()));
            }
        }
    }
}

fn dataset_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    summary_ui(ui, dataset, cx);
    if let Some(error) = &dataset.error {
        let mut sample = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.colored_label(cx.tokens.bad, format!("Could not open {}", dataset.name()));
            ui.label(error);
            if dataset.too_large() {
                sample = ui
                    .button(format!("Open the first {} rows", state::SAMPLE_ROWS))
                    .clicked();
            }
        });
        if sample {
            *dataset = Dataset::open_sample(&dataset.path.clone(), cx.jobs);
            return;
        }
        if dataset.frame().is_none() {
            return;
        }
    }
    let Some(frame) = dataset.frame().cloned() else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("Reading {}…", dataset.name()));
        });
        return;
    };
    egui::Panel::left("explore-columns")
        .resizable(true)
        .default_size(240.0)
        .show(ui, |ui| columns::column_list_ui(ui, dataset, &frame, cx));
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                ui.selectable_value(&mut dataset.tab, tab, tab.label());
            }
        });
        ui.separator();
        match dataset.tab {
            Tab::Table => table_ui(ui, dataset, cx),
            Tab::Column => columns::column_detail_ui(ui, dataset, cx),
            Tab::Correlations => charts::correlations_ui(ui, dataset, cx),
            Tab::Scatter => charts::scatter_ui(ui, dataset, cx),
            Tab::BoxPlots => charts::box_plots_ui(ui, dataset, cx),
            Tab::Missing => charts::missing_ui(ui, dataset, cx),
            Tab::Alerts => charts::alerts_ui(ui, dataset, cx),
            Tab::Train => train_view::train_ui(ui, dataset, cx),
        }
    });
}

fn summary_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    ui.horizontal_wrapped(|ui| {
        ui.strong(dataset.name()).on_hover_text(dataset.path.display().to_string());
        if let Some(opened) = &dataset.opened {
            let frame = &opened.table.frame;
            ui.label(format!(
                "{} rows × {} columns · {} · {}",
                frame.height(),
                frame.width(),
                opened.table.format.name(),
                human_bytes(opened.fingerprint.size)
            ));
            ui.label(egui::RichText::new(format!("sha256 {}…", &opened.fingerprint.sha256[..12])).monospace().color(cx.tokens.muted))
                .on_hover_text(&opened.fingerprint.sha256);
        } else if let Some(preview) = &dataset.preview {
            ui.label(format!("first {} rows (reading the rest…)", preview.height()));
        }
        if let Some(profile) = &dataset.profile {
            ui.label(format!("{} duplicate rows · {} missing cells", profile.duplicate_rows, profile.missing_cells));
        } else if dataset.busy() {
            ui.spinner();
        }
        if let (Some(opened), Ok(_)) = (&dataset.opened, cx.store) {
            match &dataset.registered.value {
                Some(Ok(text)) => {
                    ui.label(egui::RichText::new(text).color(cx.tokens.good));
                }
                Some(Err(e)) => {
                    ui.colored_label(cx.tokens.bad, e);
                }
                None => {
                    let button = ui.add_enabled(!dataset.registered.busy(), egui::Button::new("Register dataset"));
                    if button.on_hover_text("Record this exact file (by its sha256) as a dataset version in the store").clicked() {
                        let name = dataset.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                        cx.send(Command::RegisterDataset(Box::new(RegisterDatasetCommand {
                            dataset: dataset.path.clone(),
                            name,
                            opened: std::sync::Arc::clone(opened),
                            overrides: dataset.overrides.clone(),
                        })));
                    }
                }
            }
        }
    });
    if let Some(opened) = &dataset.opened {
        for warning in &opened.table.warnings {
            ui.colored_label(cx.tokens.warn, format!("Warning: {warning}"));
        }
    }
}

fn table_ui(ui: &mut egui::Ui, dataset: &mut Dataset, cx: &mut PanelContext<'_>) {
    let Some(frame) = dataset.frame().cloned() else {
        return;
    };
    ui.horizontal(|ui| {
        let label = ui.label("Filter");
        let response = ui.add(
            egui::TextEdit::singleline(&mut dataset.filter_text)
                .hint_text("age > 30 and city == \"Oslo\"")
                .desired_width(420.0),
        );
        let response = response.labelled_by(label.id);
        let submitted = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (submitted || ui.button("Apply").clicked())
            && dataset.filter_text != dataset.query.filter
        {
            let query = RowQuery {
                filter: dataset.filter_text.clone(),
                sort: dataset.query.sort,
            };
            dataset.apply_query(query, cx.jobs);
        }
        if !dataset.query.filter.is_empty() && ui.button("Clear").clicked() {
            dataset.filter_text.clear();
            let query = RowQuery {
                filter: String::new(),
                sort: dataset.query.sort,
            };
            dataset.apply_query(query, cx.jobs);
        }
        if dataset.rows.busy() {
            ui.spinner();
        }
    });
    let rows = match &dataset.rows.value {
        Some(Ok(rows)) if !(dataset.query.filter.is_empty() && dataset.query.sort.is_none()) => {
            Some(std::sync::Arc::clone(rows))
        }
        Some(Err(message)) => {
            ui.colored_label(cx.tokens.bad, format!("Filter: {message}"));
            None
        }
        _ => None,
    };
    if let Some(rows) = &rows {
        ui.label(
            egui::RichText::new(format!("{} of {} rows", rows.len(), frame.height()))
                .color(cx.tokens.muted),
        );
    }
    if let Some(GridAction::Sort(key)) = data_grid_ui(
        ui,
        &frame,
        rows.as_deref().map(Vec::as_slice),
        dataset.query.sort,
    ) {
        let query = RowQuery {
            filter: dataset.query.filter.clone(),
            sort: Some(key),
        };
        dataset.apply_query(query, cx.jobs);
    }
}

/// `1.5 MB`-style sizes (decimal units, as file managers show them).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500), "1.5 kB");
        assert_eq!(human_bytes(2_345_678), "2.3 MB");
    }
}
