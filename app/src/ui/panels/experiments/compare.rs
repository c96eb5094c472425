//! Comparing selected runs: parameters (all or only the differences), metrics as grouped bars,
//! fold and step series overlaid, ROC curves overlaid, confusion matrices side by side, and the
//! corrected t-test when the runs were cross-validated on the same folds.

use egui_plot::{Bar, BarChart, Legend, Line, Plot};
use kiln_core::eval::EvaluationReport;
use kiln_core::jobs::{JobError, JobHandle, JobRunner};
use kiln_core::store::Store;
use kiln_core::tracking::compare::{Comparison, compare_runs};
use kiln_core::train::EVALUATION_ARTIFACT;

use crate::ui::context::PanelContext;
use crate::ui::widgets;

/// Points kept per series for drawing.
const SERIES_POINTS: usize = 2000;

/// Everything the compare view draws, loaded in one job.
pub struct CompareData {
    comparison: Comparison,
    /// Per run: its step series by name, against step.
    series: Vec<Vec<(String, Vec<[f64; 2]>)>>,
    /// The same series against wall time (seconds since the series' first point).
    wall: Vec<Vec<(String, Vec<[f64; 2]>)>>,
    /// Per run: its evaluation report, when it has one.
    reports: Vec<Option<EvaluationReport>>,
}

/// The compare view's state.
pub struct CompareView {
    job: Option<JobHandle<CompareData>>,
    data: Option<Result<CompareData, String>>,
    only_differences: bool,
    smoothing: f64,
    log_y: bool,
    wall_time: bool,
    /// Group key from the runs table (`params.NAME` or `model`), to draw groups as bands.
    group_by: Option<String>,
    grouped: bool,
}

fn load(store: &Store, ids: &[String]) -> Result<CompareData, JobError> {
    let comparison = compare_runs(store, ids)?;
    let mut series = Vec::new();
    let mut wall = Vec::new();
    let mut reports = Vec::new();
    for id in ids {
        let detail = store.run_detail(id)?;
        let mut run_series = Vec::new();
        let mut run_wall = Vec::new();
        for name in &detail.series {
            // One read serves both axes.
            let history = store.metric_history(id, name)?;
            let by_time = kiln_core::tracking::series::wall_time_points(&history);
            run_wall.push((
                name.clone(),
                kiln_core::tracking::series::downsample(&by_time, SERIES_POINTS),
            ));
            let points: Vec<[f64; 2]> = history.iter().map(|p| [p.step as f64, p.value]).collect();
            // A few thousand points per series draw the same picture as 100,000.
            run_series.push((
                name.clone(),
                kiln_core::tracking::series::downsample(&points, SERIES_POINTS),
            ));
        }
        series.push(run_series);
        wall.push(run_wall);
        let report = detail
            .artifacts
            .iter()
            .find(|a| a.name == EVALUATION_ARTIFACT)
            .and_then(|a| store.read_artifact(&a.sha256).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        reports.push(report);
    }
    Ok(CompareData {
        comparison,
        series,
        wall,
        reports,
    })
}

impl CompareView {
    /// Starts loading the comparison of `ids`.
    pub fn start(
        store: &Store,
        ids: Vec<String>,
        group_by: Option<String>,
        jobs: &JobRunner,
    ) -> Self {
        let store = store.clone();
        Self {
            job: Some(
                jobs.spawn(format!("Comparing {} runs", ids.len()), move |_| {
                    load(&store, &ids)
                }),
            ),
            data: None,
            only_differences: true,
            smoothing: 0.0,
            log_y: false,
            wall_time: false,
            grouped: group_by.is_some(),
            group_by,
        }
    }

    /// Whether the data has arrived.
    pub fn ready(&self) -> bool {
        matches!(self.data, Some(Ok(_)))
    }

    /// Collects the finished job.
    pub fn poll(&mut self) {
        if let Some(result) = JobHandle::take_finished(&mut self.job) {
            self.data = Some(result.map_err(|e| e.to_string()));
        }
    }

    /// Draws the comparison; sets `close` when the user goes back.
    pub fn compare_ui(&mut self, ui: &mut egui::Ui, cx: &mut PanelContext<'_>, close: &mut bool) {
        widgets::back_heading(ui, "Compare runs", close);
        let Some(data) = widgets::job_result(ui, self.data.as_ref(), cx.tokens.bad) else {
            return;
        };
        let names: Vec<String> = data
            .comparison
            .run_ids
            .iter()
            .map(|id| id.chars().take(8).collect())
            .collect();
        egui::ScrollArea::vertical().id_salt("compare").show(ui, |ui| {
            for t in &data.comparison.t_tests {
                // Which run is better comes from core's metric table (lower is better for
                // losses and errors), never from the sign of the difference here.
                let short = |id: &String| id.chars().take(8).collect::<String>();
                let verdict = match (&t.better, t.significant) {
                    (Some(id), true) => format!("{} is better", short(id)),
                    (Some(id), false) => {
                        format!("{} is ahead, but not significantly", short(id))
                    }
                    (None, _) => "no difference".to_owned(),
                };
                ui.label(format!(
                    "{} over {} folds: t = {:.2}, p = {:.4}: {verdict} (corrected resampled t-test)",
                    t.metric, t.folds, t.t, t.p_value
                ));
            }
            ui.add_space(cx.tokens.section_gap);
            ui.horizontal(|ui| {
                ui.strong("Parameters");
                ui.checkbox(&mut self.only_differences, "only differences");
            });
            egui::Grid::new("compare-params").striped(true).show(ui, |ui| {
                ui.label("");
                for n in &names {
                    ui.strong(n);
                }
                ui.end_row();
                for (param, values) in &data.comparison.params {
                    let differs = data.comparison.differing_params.contains(param);
                    if self.only_differences && !differs {
                        continue;
                    }
                    let text = egui::RichText::new(param);
                    ui.label(if differs { text.color(cx.tokens.accent) } else { text });
                    for v in values {
                        ui.label(v.clone().unwrap_or_else(|| "—".into()));
                    }
                    ui.end_row();
                }
            });
            ui.add_space(cx.tokens.section_gap);
            metrics_chart_ui(ui, data, &names, cx);
            let mut options = SeriesOptions {
                smoothing: self.smoothing,
                log_y: self.log_y,
                wall_time: self.wall_time,
                group_by: self.group_by.clone(),
                grouped: self.grouped,
            };
            series_chart_ui(ui, data, &names, cx, &mut options);
            (self.smoothing, self.log_y, self.wall_time, self.grouped) =
                (options.smoothing, options.log_y, options.wall_time, options.grouped);
            ui.horizontal_wrapped(|ui| {
                for kind in [CurveKind::Roc, CurveKind::PrecisionRecall, CurveKind::Calibration] {
                    ui.vertical(|ui| curve_chart_ui(ui, data, &names, cx, kind));
                }
            });
            confusion_ui(ui, data, &names, cx);
        });
    }
}

fn metrics_chart_ui(
    ui: &mut egui::Ui,
    data: &CompareData,
    names: &[String],
    cx: &PanelContext<'_>,
) {
    // Scores in [0, 1] share one chart; error metrics with other scales are listed.
    let metrics: Vec<(&String, &Vec<Option<f64>>)> = data
        .comparison
        .metrics
        .iter()
        .filter(|(m, v)| {
            !m.ends_with("_std") && v.iter().flatten().all(|x| (0.0..=1.0).contains(x))
        })
        .collect();
    if metrics.is_empty() {
        return;
    }
    ui.strong("Metrics");
    let n = names.len() as f64;
    let labels: Vec<String> = metrics.iter().map(|(m, _)| (*m).clone()).collect();
    Plot::new("compare-metrics")
        .height(240.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .x_axis_formatter(crate::ui::widgets::index_labels(labels))
        .show(ui, |plot| {
            for (r, name) in names.iter().enumerate() {
                let bars: Vec<Bar> = metrics
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (_, values))| {
                        values[r].map(|v| {
                            Bar::new(i as f64 + (r as f64 - (n - 1.0) / 2.0) * 0.8 / n, v)
                                .width(0.8 / n)
                        })
                    })
                    .collect();
                plot.bar_chart(
                    BarChart::new(name.as_str(), bars)
                        .color(cx.tokens.palette[r % cx.tokens.palette.len()]),
                );
            }
        });
}

/// How the step-series chart is drawn.
struct SeriesOptions {
    smoothing: f64,
    log_y: bool,
    wall_time: bool,
    group_by: Option<String>,
    grouped: bool,
}

/// The group of run `r` under `key` (`params.NAME` or `model`).
fn group_of(data: &CompareData, key: &str, r: usize) -> String {
    let param = key
        .strip_prefix("params.")
        .unwrap_or(if key == "model" { "model" } else { key });
    data.comparison
        .params
        .get(param)
        .and_then(|values| values.get(r).cloned().flatten())
        .unwrap_or_else(|| "(none)".into())
}

fn series_chart_ui(
    ui: &mut egui::Ui,
    data: &CompareData,
    names: &[String],
    cx: &PanelContext<'_>,
    o: &mut SeriesOptions,
) {
    let Some(first) = data
        .series
        .iter()
        .flat_map(|s| s.iter().map(|(n, _)| n.clone()))
        .next()
    else {
        return;
    };
    ui.horizontal(|ui| {
        ui.strong(format!(
            "{first} by {}",
            if o.wall_time { "wall time (s)" } else { "step" }
        ));
        ui.add(egui::Slider::new(&mut o.smoothing, 0.0..=0.99).text("smoothing"));
        ui.checkbox(&mut o.log_y, "log scale");
        ui.checkbox(&mut o.wall_time, "wall time");
        if let Some(key) = &o.group_by {
            ui.checkbox(&mut o.grouped, format!("mean ± std by {key}"));
        }
    });
    let source = if o.wall_time {
        &data.wall
    } else {
        &data.series
    };
    let prepare = |points: &Vec<[f64; 2]>| {
        let mut points = kiln_core::tracking::series::smooth(points, o.smoothing);
        if o.log_y {
            points.retain(|p| p[1] > 0.0);
            points.iter_mut().for_each(|p| p[1] = p[1].log10());
        }
        points
    };
    let per_run: Vec<(usize, Vec<[f64; 2]>)> = source
        .iter()
        .enumerate()
        .filter_map(|(r, series)| {
            series
                .iter()
                .find(|(n, _)| *n == first)
                .map(|(_, p)| (r, prepare(p)))
        })
        .collect();
    Plot::new("compare-series")
        .height(220.0)
        .legend(Legend::default())
        .show(ui, |plot| match (&o.group_by, o.grouped) {
            (Some(key), true) => {
                let mut groups: std::collections::BTreeMap<String, Vec<Vec<[f64; 2]>>> =
                    Default::default();
                for (r, points) in &per_run {
                    groups
                        .entry(group_of(data, key, *r))
                        .or_default()
                        .push(points.clone());
                }
                for (g, (name, members)) in groups.into_iter().enumerate() {
                    let color = cx.tokens.palette[g % cx.tokens.palette.len()];
                    let band = kiln_core::tracking::series::mean_band(&members);
                    let xs: Vec<f64> = band.iter().map(|b| b[0]).collect();
                    let lo: Vec<f64> = band.iter().map(|b| b[1] - b[2]).collect();
                    let hi: Vec<f64> = band.iter().map(|b| b[1] + b[2]).collect();
                    plot.add(
                        egui_plot::FilledArea::new(format!("{name} ± std"), &xs, &lo, &hi)
                            .fill_color(color.gamma_multiply(0.3)),
                    );
                    let mean: Vec<[f64; 2]> = band.iter().map(|b| [b[0], b[1]]).collect();
                    plot.line(
                        Line::new(format!("{name} (n={})", members.len()), mean).color(color),
                    );
                }
            }
            _ => {
                for (r, points) in per_run {
                    plot.line(
                        Line::new(names[r].as_str(), points)
                            .color(cx.tokens.palette[r % cx.tokens.palette.len()]),
                    );
                }
            }
        });
}

/// Which curve of a class to draw.
#[derive(Clone, Copy)]
enum CurveKind {
    Roc,
    PrecisionRecall,
    Calibration,
}

fn curve_chart_ui(
    ui: &mut egui::Ui,
    data: &CompareData,
    names: &[String],
    cx: &PanelContext<'_>,
    kind: CurveKind,
) {
    let curves: Vec<(usize, String, Vec<[f64; 2]>)> = data
        .reports
        .iter()
        .enumerate()
        .filter_map(|(r, report)| {
            let class = report.as_ref()?.curves.first()?;
            let curve = match kind {
                CurveKind::Roc => class.roc.as_ref(),
                CurveKind::PrecisionRecall => class.precision_recall.as_ref(),
                CurveKind::Calibration => class.calibration.as_ref(),
            }?;
            Some((
                r,
                class.class.clone(),
                curve
                    .x
                    .iter()
                    .zip(&curve.y)
                    .map(|(x, y)| [*x, *y])
                    .collect(),
            ))
        })
        .collect();
    if curves.is_empty() {
        return;
    }
    let (title, id, x_label, y_label) = match kind {
        CurveKind::Roc => (
            "ROC curves",
            "compare-roc",
            "false positive rate",
            "true positive rate",
        ),
        CurveKind::PrecisionRecall => (
            "Precision-recall curves",
            "compare-pr",
            "recall",
            "precision",
        ),
        CurveKind::Calibration => (
            "Calibration",
            "compare-calibration",
            "mean predicted probability",
            "observed frequency",
        ),
    };
    ui.strong(title);
    Plot::new(id)
        .height(240.0)
        .width(360.0)
        .data_aspect(1.0)
        .legend(Legend::default())
        .x_axis_label(x_label)
        .y_axis_label(y_label)
        .show(ui, |plot| {
            if matches!(kind, CurveKind::Calibration) {
                plot.line(
                    Line::new("perfectly calibrated", vec![[0.0, 0.0], [1.0, 1.0]])
                        .color(cx.tokens.muted),
                );
            }
            for (r, class, points) in curves {
                let name = format!("{} ({class})", names[r]);
                plot.line(
                    Line::new(name, points).color(cx.tokens.palette[r % cx.tokens.palette.len()]),
                );
            }
        });
}

fn confusion_ui(ui: &mut egui::Ui, data: &CompareData, names: &[String], cx: &PanelContext<'_>) {
    if data
        .reports
        .iter()
        .all(|r| r.as_ref().is_none_or(|r| r.confusion_matrix.is_empty()))
    {
        return;
    }
    ui.strong("Confusion matrices (rows: true class, columns: predicted)");
    ui.horizontal_wrapped(|ui| {
        for (r, report) in data.reports.iter().enumerate() {
            let Some(report) = report.as_ref().filter(|r| !r.confusion_matrix.is_empty()) else {
                continue;
            };
            ui.vertical(|ui| {
                ui.label(
                    egui::RichText::new(&names[r])
                        .color(cx.tokens.palette[r % cx.tokens.palette.len()]),
                );
                egui::Grid::new(("confusion", r))
                    .striped(true)
                    .show(ui, |ui| {
                        ui.label("");
                        for c in &report.classes {
                            ui.small(c);
                        }
                        ui.end_row();
                        for (c, row) in report.confusion_matrix.iter().enumerate() {
                            ui.small(report.classes.get(c).map_or("", String::as_str));
                            for v in row {
                                ui.monospace(v.to_string());
                            }
                            ui.end_row();
                        }
                    });
            });
            ui.add_space(cx.tokens.section_gap);
        }
    });
}
