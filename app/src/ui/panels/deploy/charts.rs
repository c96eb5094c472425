//! Live charts of the monitor: latency percentiles, throughput and errors, accuracy and the
//! drift score of each feature over time, the prediction mix, and the alerts.

use egui_plot::{Legend, Line, log_grid_spacer};

use kiln_core::deploy::simulate::{LiveStats, Percentiles, SimulationReport};

use crate::ui::theme::Tokens;
use crate::ui::widgets::{bars::labelled_bars_ui, fixed_plot};

/// Height of each chart.
const CHART_HEIGHT: f32 = 150.0;
/// Height a legend entry takes: the drift chart grows with its features so its legend fits.
const LEGEND_ROW: f32 = 19.0;

/// The charts' points, prepared from a snapshot (in `poll`, not while drawing).
#[derive(Debug, Clone, Default)]
pub(super) struct ChartData {
    p50: Vec<[f64; 2]>,
    p95: Vec<[f64; 2]>,
    p99: Vec<[f64; 2]>,
    requests: Vec<[f64; 2]>,
    errors: Vec<[f64; 2]>,
    accuracy: Vec<[f64; 2]>,
    /// Per column: its drift score over time.
    drift: Vec<(String, Vec<[f64; 2]>)>,
    predictions: Vec<(String, f64)>,
}

impl ChartData {
    /// Points of `live`, one per second (drift: one per measured window).
    pub fn of(live: &LiveStats) -> Self {
        let at = |t: u32| f64::from(t);
        let seconds = &live.seconds;
        let mut drift: Vec<(String, Vec<[f64; 2]>)> = Vec::new();
        for point in &live.drift {
            for (column, score, _) in &point.columns {
                match drift.iter_mut().find(|(c, _)| c == column) {
                    Some((_, points)) => points.push([point.t, *score]),
                    None => drift.push((column.clone(), vec![[point.t, *score]])),
                }
            }
        }
        // A second without requests has no latency to draw.
        let latency = |pick: fn(&Percentiles) -> f64| -> Vec<[f64; 2]> {
            seconds
                .iter()
                .filter(|s| s.requests > 0)
                .map(|s| [at(s.t), pick(&s.latency_ms)])
                .collect()
        };
        Self {
            p50: latency(|p| p.p50),
            p95: latency(|p| p.p95),
            p99: latency(|p| p.p99),
            requests: seconds
                .iter()
                .map(|s| [at(s.t), s.requests as f64])
                .collect(),
            errors: seconds.iter().map(|s| [at(s.t), s.errors as f64]).collect(),
            accuracy: seconds
                .iter()
                .filter_map(|s| s.accuracy.map(|a| [at(s.t), a]))
                .collect(),
            drift,
            predictions: live
                .predictions
                .iter()
                .map(|(k, v)| (k.clone(), *v as f64))
                .collect(),
        }
    }
}

/// The headline figures, the charts and the alerts.
pub(super) fn live_ui(
    ui: &mut egui::Ui,
    live: &LiveStats,
    charts: &ChartData,
    report: Option<&Result<SimulationReport, String>>,
    tokens: &Tokens,
) {
    ui.strong("Monitoring");
    if let Some(Err(e)) = report {
        ui.colored_label(tokens.bad, format!("The traffic stopped: {e}"));
    }
    if live.requests == 0 {
        ui.weak("No traffic yet: start an endpoint and run traffic; the charts fill as requests are answered.");
        return;
    }
    let accuracy = live
        .accuracy
        .map_or("no labels".to_owned(), |a| format!("{a:.3}"));
    let rate = live.errors as f64 / live.requests as f64;
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{} requests", live.requests));
        let errors = format!("{} errors ({:.1}%)", live.errors, 100.0 * rate);
        if live.errors > 0 {
            ui.colored_label(tokens.bad, errors);
        } else {
            ui.label(errors);
        }
        ui.label(format!(
            "latency p50 {:.2} ms · p95 {:.2} ms · p99 {:.2} ms",
            live.latency_ms.p50, live.latency_ms.p95, live.latency_ms.p99
        ));
        ui.label(format!("live accuracy {accuracy}"));
        if let Some(Ok(r)) = report {
            ui.label(format!("{:.1} req/s achieved", r.rps));
        }
    });
    let width = (ui.available_width() / 2.0 - 12.0).max(200.0);
    egui::Grid::new("deploy-charts")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            chart(
                ui,
                "Latency (ms) by second",
                width,
                CHART_HEIGHT,
                5,
                |plot| {
                    plot.line(Line::new("p50", charts.p50.clone()).color(tokens.palette[0]));
                    plot.line(Line::new("p95", charts.p95.clone()).color(tokens.palette[1]));
                    plot.line(Line::new("p99", charts.p99.clone()).color(tokens.palette[2]));
                },
            );
            chart(
                ui,
                "Requests and errors per second",
                width,
                CHART_HEIGHT,
                10,
                |plot| {
                    plot.line(Line::new("requests", charts.requests.clone()).color(tokens.accent));
                    plot.line(Line::new("errors", charts.errors.clone()).color(tokens.bad));
                },
            );
            ui.end_row();
            let height = CHART_HEIGHT.max(LEGEND_ROW * (charts.drift.len() as f32 + 2.0));
            chart(
                ui,
                "Drift score per feature (sliding window)",
                width,
                height,
                5,
                |plot| {
                    for (i, (column, points)) in charts.drift.iter().enumerate() {
                        let color = tokens.palette[i % tokens.palette.len()];
                        plot.line(Line::new(column.as_str(), points.clone()).color(color));
                    }
                },
            );
            chart(ui, "Live accuracy by second", width, height, 5, |plot| {
                plot.line(Line::new("accuracy", charts.accuracy.clone()).color(tokens.good));
            });
            ui.end_row();
        });
    ui.weak("Drift scores are Evidently's: a p-value for KS and chi-squared (drift below 0.05), a distance for Wasserstein and Jensen-Shannon (drift above 0.1).");
    ui.columns(2, |columns| {
        columns[0].strong("Predictions");
        labelled_bars_ui(
            &mut columns[0],
            "deploy-predictions",
            &charts.predictions,
            tokens.accent,
            "count",
            140.0,
        );
        columns[1].strong("Alerts");
        if live.alerts.is_empty() {
            columns[1].weak("None.");
        }
        for alert in &live.alerts {
            let column = alert.column.as_deref().unwrap_or("dataset");
            columns[1].colored_label(
                tokens.warn,
                format!("{} · {column}: {}", alert.kind, alert.detail),
            );
        }
    });
}

fn chart(
    ui: &mut egui::Ui,
    title: &str,
    width: f32,
    height: f32,
    grid_base: i64,
    add: impl FnOnce(&mut egui_plot::PlotUi<'_>),
) {
    ui.vertical(|ui| {
        ui.set_width(width);
        ui.label(title);
        // From zero: a latency or a drift score is read against nothing, not against the
        // smallest value seen. `grid_base` 5 marks 1, 5, 25, ... (0.2, 1 for a score): with
        // powers of ten alone a range such as 0 to 6 ms is labelled only at 0.
        fixed_plot(title, height)
            .width(width)
            .include_y(0.0)
            .y_grid_spacer(log_grid_spacer(grid_base))
            .legend(Legend::default())
            .x_axis_label("s")
            .show(ui, add);
    });
}
