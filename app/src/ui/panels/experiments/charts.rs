//! The charts view of the shown runs: parallel coordinates with brushing, a parameter or metric
//! against the chosen metric with its trend line, and parameter importance. Everything is
//! computed by core; the importance (it fits a random forest) runs as a job.

use std::sync::Arc;

use egui_plot::{Line, Plot, PlotPoint, PlotPoints, Points};
use kiln_core::jobs::JobRunner;
use kiln_core::store::RunDetail;
use kiln_core::tracking::compare::{
    ParallelCoordinates, ParamImportance, parallel_coordinates, param_importance, scatter_points,
    trend_line,
};

use crate::ui::context::PanelContext;
use crate::ui::derived::Derived;
use crate::ui::widgets;
use crate::ui::widgets::parallel_coords::{Brushes, parallel_coordinates_ui};

/// What the charts draw for one metric and set of runs.
struct ChartData {
    parallel: ParallelCoordinates,
    importance: Vec<ParamImportance>,
}

/// Scatter points for (x key, metric, runs generation), with the trend line and x range.
struct Scatter {
    points: Vec<PlotPoint>,
    trend: Option<(f64, f64)>,
    x_range: (f64, f64),
}

/// The charts view's state.
pub struct ChartsState {
    metric: String,
    scatter_x: String,
    /// Charts for (metric, runs generation).
    data: Derived<(String, u64), ChartData>,
    scatter: Derived<(String, String, u64), Scatter>,
    brushes: Brushes,
}

impl ChartsState {
    /// Charts of `metric` (the headline metric when empty, once runs are known).
    pub fn new(metric: String) -> Self {
        Self {
            metric,
            scatter_x: String::new(),
            data: Derived::default(),
            scatter: Derived::default(),
            brushes: Brushes::default(),
        }
    }

    /// Collects a finished computation.
    pub fn poll(&mut self) {
        self.data.poll();
        self.scatter.poll();
    }

    fn request(
        &mut self,
        runs: &Arc<Vec<RunDetail>>,
        shown: &Arc<Vec<usize>>,
        generation: u64,
        jobs: &JobRunner,
    ) {
        let key = (self.metric.clone(), generation);
        if !self.data.is_stale(&key) {
            return;
        }
        let (runs, rows, metric) = (Arc::clone(runs), Arc::clone(shown), self.metric.clone());
        let name = format!("Charting {metric}");
        let started = self.data.request(key, jobs, name, move || {
            let refs: Vec<&RunDetail> = rows.iter().map(|&i| &runs[i]).collect();
            Ok(ChartData {
                parallel: parallel_coordinates(&refs, &metric),
                importance: param_importance(&refs, &metric),
            })
        });
        if started {
            self.brushes.clear();
        }
    }

    /// Draws the charts; returns runs to select when the user asks for the brushed ones.
    pub fn charts_ui(
        &mut self,
        ui: &mut egui::Ui,
        runs: &Arc<Vec<RunDetail>>,
        shown: &Arc<Vec<usize>>,
        generation: u64,
        metrics: &[String],
        cx: &mut PanelContext<'_>,
    ) -> Option<Vec<String>> {
        // Charts opened before the runs arrived start on the headline metric.
        if self.metric.is_empty()
            && let Some(first) = metrics.first()
        {
            self.metric = first.clone();
        }
        ui.horizontal(|ui| {
            ui.label("metric");
            egui::ComboBox::new("charts-metric", "colour and last axis")
                .selected_text(self.metric.clone())
                .show_ui(ui, |ui| {
                    for m in metrics {
                        ui.selectable_value(&mut self.metric, m.clone(), m);
                    }
                });
            if !self.brushes.is_empty() && ui.button("Clear brushes").clicked() {
                self.brushes.clear();
            }
        });
        self.request(runs, shown, generation, cx.jobs);
        let mut select = None;
        let data = widgets::job_result(ui, self.data.value.as_ref(), cx.tokens.bad)?;
        ui.strong("Parallel coordinates (drag along an axis to brush, double-click to clear)");
        let passing = parallel_coordinates_ui(ui, &data.parallel, &mut self.brushes, cx.tokens);
        ui.label(format!(
            "{} of {} runs inside the brushes",
            passing.len(),
            data.parallel.lines.len()
        ));
        if !self.brushes.is_empty() && ui.button("Select these runs").clicked() {
            select = Some(passing);
        }
        ui.add_space(cx.tokens.section_gap);
        // Numeric parameters first (core's axes say which are numeric), so the scatter opens
        // on an axis that has numbers instead of on a model name.
        let numeric = |param: &str| {
            data.parallel
                .axes
                .iter()
                .any(|a| a.key == format!("params.{param}") && a.categories.is_empty())
        };
        let (numeric_params, other_params): (Vec<_>, Vec<_>) =
            data.importance.iter().partition(|p| numeric(&p.param));
        let choices: Vec<String> = numeric_params
            .iter()
            .chain(&other_params)
            .map(|p| format!("params.{}", p.param))
            .chain(
                metrics
                    .iter()
                    .filter(|m| **m != self.metric)
                    .map(|m| format!("metrics.{m}")),
            )
            .collect();
        scatter_ui(ui, self, runs, shown, generation, &choices, cx);
        ui.add_space(cx.tokens.section_gap);
        importance_ui(ui, &self.metric, self.data.value.as_ref());
        select
    }
}

fn scatter_ui(
    ui: &mut egui::Ui,
    state: &mut ChartsState,
    runs: &Arc<Vec<RunDetail>>,
    shown: &Arc<Vec<usize>>,
    generation: u64,
    choices: &[String],
    cx: &PanelContext<'_>,
) {
    if state.scatter_x.is_empty() {
        state.scatter_x = choices.first().cloned().unwrap_or_default();
    }
    ui.horizontal(|ui| {
        ui.strong(format!("{} against", state.metric));
        egui::ComboBox::new("scatter-x", "x axis")
            .selected_text(state.scatter_x.clone())
            .show_ui(ui, |ui| {
                for c in choices {
                    ui.selectable_value(&mut state.scatter_x, c.clone(), c);
                }
            });
    });
    let key = (state.scatter_x.clone(), state.metric.clone(), generation);
    if state.scatter.is_stale(&key) {
        let (runs, rows) = (Arc::clone(runs), Arc::clone(shown));
        let (x, metric) = (state.scatter_x.clone(), state.metric.clone());
        state
            .scatter
            .request(key, cx.jobs, format!("Plotting {metric}"), move || {
                let refs: Vec<&RunDetail> = rows.iter().map(|&i| &runs[i]).collect();
                let points = scatter_points(&refs, &x, &metric).unwrap_or_default();
                let x_range = points
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                        (a.min(p[0]), b.max(p[0]))
                    });
                Ok(Scatter {
                    trend: trend_line(&points),
                    points: points.into_iter().map(PlotPoint::from).collect(),
                    x_range,
                })
            });
    }
    let Some(scatter) = widgets::job_result(ui, state.scatter.value.as_ref(), cx.tokens.bad) else {
        return;
    };
    if scatter.points.is_empty() {
        ui.label("No run has numbers on both axes.");
        return;
    }
    let (lo, hi) = scatter.x_range;
    Plot::new("runs-scatter")
        .height(240.0)
        .x_axis_label(state.scatter_x.clone())
        .y_axis_label(state.metric.clone())
        .show(ui, |plot| {
            // A borrowed series: no copy of the points per frame.
            plot.points(
                Points::new("runs", PlotPoints::Borrowed(&scatter.points))
                    .radius(3.0)
                    .color(cx.tokens.palette[0]),
            );
            if let Some((slope, intercept)) = scatter.trend {
                let line = vec![[lo, slope * lo + intercept], [hi, slope * hi + intercept]];
                plot.line(Line::new("trend", line).color(cx.tokens.accent));
            }
        });
}

fn importance_ui(ui: &mut egui::Ui, metric: &str, data: Option<&Result<ChartData, String>>) {
    let Some(Ok(data)) = data else { return };
    ui.strong(format!(
        "Parameter importance for {metric} (rank correlation; random-forest permutation drop in R²)"
    ));
    if data.importance.is_empty() {
        ui.label("No parameter varies with this metric across the shown runs.");
        return;
    }
    egui::Grid::new("param-importance")
        .striped(true)
        .show(ui, |ui| {
            for p in &data.importance {
                ui.label(&p.param);
                let bar = egui::ProgressBar::new(p.correlation.abs() as f32)
                    .desired_width(200.0)
                    .text(format!("{:+.3}", p.correlation));
                ui.add(bar);
                ui.label(p.forest.map_or("forest: too few runs".to_owned(), |f| {
                    format!("forest: {f:+.3} R²")
                }));
                ui.label(format!("{} runs", p.runs));
                ui.end_row();
            }
        });
}
