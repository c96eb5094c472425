//! One opened dataset and the background work around it: preview, full load, profile,
//! filtering and sorting, plot data. Every heavy step is a job; the UI only polls.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use egui_plot::PlotPoint;
use kiln_core::data::filter::{filter_rows, parse_filter};
use kiln_core::data::profile::{Profile, ProfileOptions};
use kiln_core::data::schema::{ColumnChoice, SchemaOverrides};
use kiln_core::data::views::{BoxStats, ScatterData, box_stats, scatter_sample, sort_rows};
use kiln_core::data::{
    DataError, LoadOptions, LoadedTable, OpenedTable, load_table, open_table, profile_options,
    profile_table, with_overrides,
};
use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::polars::prelude::DataFrame;

pub use crate::ui::derived::Derived;
use crate::ui::widgets::data_grid::SortKey;

/// Rows read for the instant preview.
const PREVIEW_ROWS: usize = 1000;
/// Rows opened when a file is too large to load whole.
pub const SAMPLE_ROWS: usize = 1_000_000;
/// Points drawn in a scatter plot.
const SCATTER_POINTS: usize = 20_000;

/// The tabs of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// The data grid.
    #[default]
    Table,
    /// One column's statistics and plot.
    Column,
    /// Correlation heatmap.
    Correlations,
    /// Scatter plot of two columns.
    Scatter,
    /// Box plots grouped by a category.
    BoxPlots,
    /// Missing values per column.
    Missing,
    /// Data-quality alerts.
    Alerts,
    /// Train a model on this dataset.
    Train,
}

impl Tab {
    /// All tabs in display order.
    pub const ALL: [Tab; 8] = [
        Tab::Table,
        Tab::Column,
        Tab::Correlations,
        Tab::Scatter,
        Tab::BoxPlots,
        Tab::Missing,
        Tab::Alerts,
        Tab::Train,
    ];

    /// Tab title.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Table => "Table",
            Tab::Column => "Column",
            Tab::Correlations => "Correlations",
            Tab::Scatter => "Scatter",
            Tab::BoxPlots => "Box plots",
            Tab::Missing => "Missing values",
            Tab::Alerts => "Alerts",
            Tab::Train => "Train",
        }
    }
}

/// A scatter sample with its points already in the plot's type, so drawing a frame borrows
/// them instead of copying every point.
pub struct ScatterPlot {
    /// (group label, points); one unnamed group without a colour column.
    pub groups: Vec<(String, Vec<PlotPoint>)>,
    /// Rows with both coordinates present.
    pub total_points: usize,
    /// Points kept (an even sample when there are more).
    pub shown_points: usize,
}

impl From<ScatterData> for ScatterPlot {
    fn from(data: ScatterData) -> Self {
        Self {
            groups: data
                .groups
                .into_iter()
                .map(|(label, points)| {
                    let points = points.into_iter().map(|[x, y]| PlotPoint::new(x, y));
                    (label, points.collect())
                })
                .collect(),
            total_points: data.total_points,
            shown_points: data.shown_points,
        }
    }
}

/// The row view of the grid: filter and sort.
#[derive(Debug, Clone, PartialEq)]
pub struct RowQuery {
    /// Filter expression ("" for none).
    pub filter: String,
    /// Sort column and direction.
    pub sort: Option<SortKey>,
}

/// One opened file and everything shown about it.
pub struct Dataset {
    /// The file.
    pub path: PathBuf,
    preview_job: Option<JobHandle<LoadedTable>>,
    open_job: Option<JobHandle<OpenedTable>>,
    profile_job: Option<JobHandle<Profile>>,
    /// The first rows, shown while the whole file loads.
    pub preview: Option<DataFrame>,
    /// The whole file, with the user's type choices applied.
    pub opened: Option<Arc<OpenedTable>>,
    /// The whole file as read.
    original: Option<Arc<OpenedTable>>,
    /// Counts the tables `opened` has held, so views computed from one know when it changed.
    table_version: u64,
    /// The user's type and role choices.
    pub overrides: SchemaOverrides,
    retype_job: Option<JobHandle<(OpenedTable, Profile)>>,
    /// Its profile.
    pub profile: Option<Arc<Profile>>,
    /// Why it could not be opened.
    pub error: Option<String>,
    /// Set by the open job when the failure was "would not fit in memory": the job
    /// still fails (the status bar says why), and the panel offers a sample without
    /// having to read the message.
    too_large: Arc<AtomicBool>,
    /// Selected tab.
    pub tab: Tab,
    /// Selected column (index into the frame).
    pub selected: Option<usize>,
    /// Text in the filter box.
    pub filter_text: String,
    /// Show Spearman instead of Pearson correlations.
    pub spearman: bool,
    /// Applied filter and sort.
    pub query: RowQuery,
    /// Rows to show for `query` (`None` while unfiltered and unsorted).
    pub rows: Derived<RowQuery, Arc<Vec<u32>>>,
    /// Scatter axes and colour.
    pub scatter_axes: (Option<String>, Option<String>, Option<String>),
    /// Scatter data, ready to draw.
    pub scatter: Derived<(String, String, Option<String>), ScatterPlot>,
    /// Box plot value and group columns.
    pub box_axes: (Option<String>, Option<String>),
    /// Box statistics.
    pub boxes: Derived<(String, Option<String>), Vec<BoxStats>>,
    /// Registration outcome.
    pub registered: Derived<(), String>,
    /// The Train tab's form.
    pub train: super::train_view::TrainForm,
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl Dataset {
    /// Starts reading `path`: a quick preview and the full load, side by side.
    pub fn open(path: &Path, jobs: &JobRunner) -> Self {
        Self::open_with(path, LoadOptions::default(), jobs)
    }

    /// Whether the file could not be opened because it would not fit in memory.
    pub fn too_large(&self) -> bool {
        self.error.is_some() && self.too_large.load(Ordering::Relaxed)
    }

    /// Opens only the first [`SAMPLE_ROWS`] rows of `path`.
    pub fn open_sample(path: &Path, jobs: &JobRunner) -> Self {
        let options = LoadOptions {
            max_rows: Some(SAMPLE_ROWS),
            ..LoadOptions::default()
        };
        Self::open_with(path, options, jobs)
    }

    fn open_with(path: &Path, options: LoadOptions, jobs: &JobRunner) -> Self {
        let name = display_name(path);
        let preview_path = path.to_path_buf();
        let preview_job = jobs.spawn(format!("Previewing {name}"), move |_| {
            let options = LoadOptions {
                max_rows: Some(PREVIEW_ROWS),
                ..LoadOptions::default()
            };
            load_table(&preview_path, &options, |_, _| true).map_err(JobError::from)
        });
        let full_path = path.to_path_buf();
        let too_large = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&too_large);
        let open_job = jobs.spawn(format!("Reading {name}"), move |ctx| {
            let progress = |fraction: f32, message: &str| {
                ctx.progress(fraction / 0.55, message);
                !ctx.is_cancelled()
            };
            open_table(&full_path, &options, &progress).map_err(|e| {
                flag.store(matches!(e, DataError::TooLarge { .. }), Ordering::Relaxed);
                JobError::from(e)
            })
        });
        Self {
            path: path.to_path_buf(),
            preview_job: Some(preview_job),
            open_job: Some(open_job),
            profile_job: None,
            preview: None,
            opened: None,
            original: None,
            table_version: 0,
            overrides: SchemaOverrides::default(),
            retype_job: None,
            profile: None,
            error: None,
            too_large,
            tab: Tab::Table,
            selected: None,
            filter_text: String::new(),
            spearman: false,
            query: RowQuery {
                filter: String::new(),
                sort: None,
            },
            rows: Derived::default(),
            scatter_axes: (None, None, None),
            scatter: Derived::default(),
            box_axes: (None, None),
            boxes: Derived::default(),
            registered: Derived::default(),
            train: Default::default(),
        }
    }

    /// The file name.
    pub fn name(&self) -> String {
        display_name(&self.path)
    }

    /// The frame to draw: the whole table once loaded, else the preview.
    pub fn frame(&self) -> Option<&DataFrame> {
        self.opened
            .as_ref()
            .map(|o| &o.table.frame)
            .or(self.preview.as_ref())
    }

    /// Changes whenever [`Self::opened`] holds another table (loaded, or re-read with new
    /// types): the key of anything computed from it.
    pub fn table_version(&self) -> u64 {
        self.table_version
    }

    /// Whether the table is still being read or profiled.
    pub fn busy(&self) -> bool {
        self.open_job.is_some() || self.profile_job.is_some() || self.retype_job.is_some()
    }

    /// Collects finished jobs and starts the ones that follow; call once per frame.
    pub fn poll(&mut self, jobs: &JobRunner) {
        if let Some(result) = JobHandle::take_finished(&mut self.preview_job) {
            // A failed preview is not reported: the full load says what is wrong, exactly.
            if let (Ok(table), None) = (result, &self.opened) {
                self.preview = Some(table.frame);
            }
        }
        if let Some(result) = JobHandle::take_finished(&mut self.open_job) {
            match result {
                Ok(opened) => {
                    let opened = Arc::new(opened);
                    self.preview = None;
                    self.start_profile(Arc::clone(&opened), jobs);
                    self.original = Some(Arc::clone(&opened));
                    self.opened = Some(opened);
                    self.table_version += 1;
                }
                Err(JobError::Cancelled) => self.error = Some("opening was cancelled".into()),
                Err(JobError::Failed(message)) => self.error = Some(message),
            }
        }
        if let Some(result) = JobHandle::take_finished(&mut self.profile_job) {
            match result {
                Ok(profile) => self.profile = Some(Arc::new(profile)),
                Err(JobError::Cancelled) => {}
                Err(JobError::Failed(message)) => {
                    self.error = Some(format!("profiling failed: {message}"))
                }
            }
        }
        if let Some(result) = JobHandle::take_finished(&mut self.retype_job) {
            match result {
                Ok((opened, profile)) => {
                    self.opened = Some(Arc::new(opened));
                    self.table_version += 1;
                    self.profile = Some(Arc::new(profile));
                    self.error = None;
                    // Views computed from the old types are stale.
                    self.rows.reset();
                    self.scatter.reset();
                    self.boxes.reset();
                    self.query = RowQuery {
                        filter: String::new(),
                        sort: None,
                    };
                }
                Err(JobError::Cancelled) => {}
                Err(JobError::Failed(message)) => self.error = Some(message),
            }
        }
        self.rows.poll();
        self.scatter.poll();
        self.boxes.poll();
        self.registered.poll();
        self.train.poll();
    }

    fn start_profile(&mut self, opened: Arc<OpenedTable>, jobs: &JobRunner) {
        self.profile_job = Some(
            jobs.spawn(format!("Profiling {}", self.name()), move |ctx| {
                let progress = |fraction: f32, message: &str| {
                    ctx.progress((fraction - 0.55) / 0.45, message);
                    !ctx.is_cancelled()
                };
                profile_table(&opened, &ProfileOptions::default(), &progress)
                    .map_err(JobError::from)
            }),
        );
    }

    /// Records the user's choice for `column`; a new type re-reads and re-profiles (as a job).
    pub fn set_choice(&mut self, column: &str, choice: ColumnChoice, jobs: &JobRunner) {
        let previous = self
            .overrides
            .columns
            .get(column)
            .copied()
            .unwrap_or_default();
        self.overrides.columns.insert(column.to_owned(), choice);
        if previous.kind == choice.kind {
            return;
        }
        let Some(original) = self.original.clone() else {
            return;
        };
        let overrides = self.overrides.clone();
        if let Some(job) = &self.retype_job {
            job.cancel();
        }
        self.retype_job = Some(
            jobs.spawn(format!("Re-profiling {}", self.name()), move |ctx| {
                let opened = with_overrides(&original, &overrides)?;
                let progress = |fraction: f32, message: &str| {
                    ctx.progress((fraction - 0.55) / 0.45, message);
                    !ctx.is_cancelled()
                };
                let profile = profile_table(&opened, &profile_options(&overrides), &progress)?;
                Ok((opened, profile))
            }),
        );
    }

    /// Applies the filter box and sort (as a job); an empty query shows all rows in order.
    pub fn apply_query(&mut self, query: RowQuery, jobs: &JobRunner) {
        let Some(frame) = self.frame().cloned() else {
            return;
        };
        self.query = query.clone();
        if query.filter.trim().is_empty() && query.sort.is_none() {
            self.rows.reset();
            return;
        }
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        self.rows
            .request(query.clone(), jobs, "Filtering rows".into(), move || {
                let mut rows: Vec<u32> = if query.filter.trim().is_empty() {
                    (0..frame.height() as u32).collect()
                } else {
                    let filter = parse_filter(&query.filter).map_err(|e| e.to_string())?;
                    filter_rows(&frame, &filter).map_err(|e| e.to_string())?
                };
                if let Some(sort) = query.sort
                    && let Some(name) = names.get(sort.column)
                {
                    rows = sort_rows(&frame, name, sort.descending, &rows)
                        .map_err(|e| e.to_string())?;
                }
                Ok(Arc::new(rows))
            });
    }

    /// Asks for the scatter data of the chosen axes.
    pub fn request_scatter(&mut self, jobs: &JobRunner) {
        let (Some(x), Some(y)) = (self.scatter_axes.0.clone(), self.scatter_axes.1.clone()) else {
            return;
        };
        let Some(frame) = self.frame().cloned() else {
            return;
        };
        let color = self.scatter_axes.2.clone();
        let key = (x.clone(), y.clone(), color.clone());
        self.scatter
            .request(key, jobs, format!("Sampling {x} × {y}"), move || {
                scatter_sample(&frame, &x, &y, color.as_deref(), SCATTER_POINTS)
                    .map(ScatterPlot::from)
                    .map_err(|e| e.to_string())
            });
    }

    /// Asks for the box statistics of the chosen columns.
    pub fn request_boxes(&mut self, jobs: &JobRunner) {
        let Some(value) = self.box_axes.0.clone() else {
            return;
        };
        let Some(frame) = self.frame().cloned() else {
            return;
        };
        let group = self.box_axes.1.clone();
        self.boxes.request(
            (value.clone(), group.clone()),
            jobs,
            format!("Box plots of {value}"),
            move || box_stats(&frame, &value, group.as_deref()).map_err(|e| e.to_string()),
        );
    }
}
