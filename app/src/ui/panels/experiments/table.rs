//! The runs table: virtualised rows, a check box per run, sortable columns for attributes,
//! metrics and parameters.

use std::collections::{BTreeSet, HashSet};

use egui_extras::{Column, TableBuilder};
use kiln_core::store::{RunDetail, RunStatus};

use crate::ui::theme::Tokens;

/// Most metric and parameter columns shown (the widest tables stay readable).
const MAX_METRIC_COLUMNS: usize = 10;
const MAX_PARAM_COLUMNS: usize = 8;
/// Width of the run column (check box and name); the open button's column fits the button.
const RUN_COLUMN_WIDTH: f32 = 170.0;

/// A column's first width: wide enough for what it usually holds (a start time, a model
/// name), narrow for numbers, so more columns fit before the table scrolls sideways.
fn initial_width(key: &str) -> f32 {
    match key {
        "start_time" => 160.0,
        "model" => 140.0,
        "experiment" => 110.0,
        "status" | "duration_s" => 80.0,
        _ => 90.0,
    }
}

fn status_color(status: RunStatus, tokens: &Tokens) -> egui::Color32 {
    match status {
        RunStatus::Running => tokens.warn,
        RunStatus::Finished => tokens.good,
        RunStatus::Failed => tokens.bad,
        RunStatus::Killed => tokens.muted,
    }
}

/// Metric and parameter columns of a set of runs, computed once when the runs load.
#[derive(Debug, Clone, Default)]
pub struct TableColumns {
    metrics: Vec<String>,
    params: Vec<String>,
    /// Every metric and parameter column, in order, with whether it is shown.
    all: Vec<(String, bool)>,
    /// Columns pinned next to the run name, in pinning order.
    pinned: Vec<String>,
}

impl TableColumns {
    /// The metric columns (shown or not).
    pub fn metrics(&self) -> &[String] {
        &self.metrics
    }

    /// The parameter columns.
    pub fn params(&self) -> &[String] {
        &self.params
    }

    /// The headline metric, if any run has a metric.
    pub fn first_metric(&self) -> Option<String> {
        self.metrics.first().cloned()
    }

    /// Headline metrics first, then the rest alphabetically; parameters alphabetically.
    pub fn of(runs: &[RunDetail]) -> Self {
        const FIRST: [&str; 6] = ["accuracy", "r2", "f1_macro", "roc_auc", "rmse", "log_loss"];
        let mut metrics: Vec<String> = distinct_keys(runs.iter().map(|r| &r.metrics))
            .into_iter()
            .filter(|m| !m.ends_with("_std") && !m.starts_with("best_"))
            .cloned()
            .collect();
        metrics.sort_by_key(|m| {
            (
                FIRST.iter().position(|f| f == m).unwrap_or(FIRST.len()),
                m.clone(),
            )
        });
        metrics.truncate(MAX_METRIC_COLUMNS);
        let hidden: HashSet<&str> = ["model", "target"].into_iter().collect();
        let params: Vec<String> = distinct_keys(runs.iter().map(|r| &r.params))
            .into_iter()
            .filter(|p| !hidden.contains(p.as_str()))
            .cloned()
            .collect();
        let all = metrics
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("metrics.{m}"), i < MAX_METRIC_COLUMNS))
            .chain(
                params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("params.{p}"), i < MAX_PARAM_COLUMNS)),
            )
            .collect();
        Self {
            metrics,
            params,
            all,
            pinned: Vec::new(),
        }
    }

    /// Keeps the user's shown/hidden choices from `previous` for columns both share.
    pub fn keep_choices(&mut self, previous: &TableColumns) {
        for (key, shown) in &mut self.all {
            if let Some((_, was)) = previous.all.iter().find(|(k, _)| k == key) {
                *shown = *was;
            }
        }
        self.pinned = previous
            .pinned
            .iter()
            .filter(|p| self.all.iter().any(|(k, _)| k == *p))
            .cloned()
            .collect();
    }

    fn shown(&self, key: &str) -> bool {
        self.all.iter().any(|(k, s)| k == key && *s)
    }

    /// The chooser: a menu of every metric and parameter column with a check box.
    pub fn chooser_ui(&mut self, ui: &mut egui::Ui) {
        ui.menu_button("Columns", |ui| {
            egui::ScrollArea::vertical()
                .max_height(400.0)
                .show(ui, |ui| {
                    for (key, shown) in &mut self.all {
                        ui.checkbox(shown, key.as_str());
                    }
                });
        });
    }
}

/// Every key of `maps`, sorted, each once. Runs of one experiment log the same keys, so a map
/// with the same keys as the one before it is skipped with one cheap comparison instead of a
/// set insertion per key (10,000 runs × 40 keys took ~0.1 s the naive way).
fn distinct_keys<'a, V: 'a>(
    maps: impl Iterator<Item = &'a std::collections::BTreeMap<String, V>>,
) -> BTreeSet<&'a String> {
    let mut keys = BTreeSet::new();
    let mut previous: Option<&std::collections::BTreeMap<String, V>> = None;
    for map in maps {
        if previous.is_some_and(|p| p.len() == map.len() && p.keys().eq(map.keys())) {
            continue;
        }
        keys.extend(map.keys());
        previous = Some(map);
    }
    keys
}

/// What the user asked for in the table.
pub enum TableAction {
    /// Sort by this key (`-key` for descending).
    Sort(String),
    /// Show this run in full.
    Open(String),
}

/// Draws the runs in `shown` order; returns what the user asked for, if anything.
pub fn runs_table_ui(
    ui: &mut egui::Ui,
    runs: &[RunDetail],
    shown: &[usize],
    table: &TableColumns,
    selected: &mut BTreeSet<String>,
    sort: Option<&str>,
    tokens: &Tokens,
) -> Option<TableAction> {
    let metric_names: Vec<String> = table
        .metrics
        .iter()
        .filter(|m| table.shown(&format!("metrics.{m}")))
        .cloned()
        .collect();
    let param_names: Vec<String> = table
        .params
        .iter()
        .filter(|p| table.shown(&format!("params.{p}")))
        .cloned()
        .collect();
    let (metric_names, param_names) = (&metric_names, &param_names);
    let pinned: Vec<(String, kiln_core::tracking::filter::Key)> = table
        .pinned
        .iter()
        .filter(|k| table.shown(k))
        .filter_map(|k| {
            kiln_core::tracking::filter::parse_key(k)
                .ok()
                .map(|key| (k.clone(), key))
        })
        .collect();
    let mut columns: Vec<(String, String)> = pinned
        .iter()
        .map(|(k, _)| {
            (
                k.split_once('.')
                    .map_or(k.clone(), |(_, n)| format!("{n} (pinned)")),
                k.clone(),
            )
        })
        .collect();
    columns.extend([
        ("Experiment".into(), "experiment".into()),
        ("Model".into(), "model".into()),
        ("Status".into(), "status".into()),
        ("Started".into(), "start_time".into()),
        ("Duration".into(), "duration_s".into()),
        ("Data".into(), "dataset".into()),
    ]);
    columns.extend(
        metric_names
            .iter()
            .map(|m| (m.clone(), format!("metrics.{m}"))),
    );
    columns.extend(
        param_names
            .iter()
            .map(|p| (format!("{p} (param)"), format!("params.{p}"))),
    );
    // One line per run: the check box (the tallest widget in a row) sets the height.
    let row_height = (ui.text_style_height(&egui::TextStyle::Body) + 4.0)
        .max(ui.spacing().interact_size.y + 2.0);
    let mut clicked = None;
    egui::ScrollArea::horizontal()
        .id_salt("runs-table-scroll")
        .show(ui, |ui| {
            let mut builder = TableBuilder::new(ui)
                .id_salt("runs-table")
                .striped(true)
                .resizable(true)
                .auto_shrink([false, false])
                // Every cell lays out left to right, centred on its row's line.
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                // Check box and name (truncated when narrow), then the open button.
                .column(Column::initial(RUN_COLUMN_WIDTH).at_least(120.0).clip(true))
                .column(Column::auto().resizable(false));
            for (_, key) in &columns {
                builder = builder.column(
                    Column::initial(initial_width(key))
                        .at_least(50.0)
                        .clip(true),
                );
            }
            builder
                .header(row_height + 4.0, |mut header| {
                    header.col(|ui| {
                        if ui
                            .add(
                                egui::Button::new(egui::RichText::new("Run").strong()).frame(false),
                            )
                            .clicked()
                        {
                            clicked = Some(TableAction::Sort(toggle(sort, "name")));
                        }
                    });
                    header.col(|_| {});
                    for (title, key) in &columns {
                        header.col(|ui| {
                            if !shows(ui) {
                                return;
                            }
                            let arrow = match sort {
                                Some(s) if s == key => " (asc)",
                                Some(s) if s.strip_prefix('-') == Some(key.as_str()) => " (desc)",
                                _ => "",
                            };
                            let button = egui::Button::new(
                                egui::RichText::new(format!("{title}{arrow}")).strong(),
                            )
                            .frame(false);
                            if ui
                                .add(button)
                                .on_hover_text(format!("Sort by {key}"))
                                .clicked()
                            {
                                clicked = Some(TableAction::Sort(toggle(sort, key)));
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, shown.len(), |mut row| {
                        let detail = &runs[shown[row.index()]];
                        let run = &detail.run;
                        row.col(|ui| {
                            let mut checked = selected.contains(&run.id);
                            // The cell truncates the name; hovering shows it whole.
                            let response = ui
                                .checkbox(&mut checked, run.name.as_str())
                                .on_hover_ui(|ui| {
                                    ui.label(&run.name);
                                });
                            if response.changed() {
                                if checked {
                                    selected.insert(run.id.clone());
                                } else {
                                    selected.remove(&run.id);
                                }
                            }
                        });
                        row.col(|ui| {
                            if ui
                                .small_button("open")
                                .on_hover_ui(|ui| {
                                    ui.label(format!("Everything logged to {}", run.name));
                                })
                                .clicked()
                            {
                                clicked = Some(TableAction::Open(run.id.clone()));
                            }
                        });
                        let duration = run
                            .duration_s()
                            .map(|s| format!("{s:.2} s"))
                            .unwrap_or_default();
                        let cells = [
                            egui::RichText::new(&run.experiment),
                            egui::RichText::new(
                                detail.params.get("model").map_or("", String::as_str),
                            ),
                            egui::RichText::new(run.status.as_str())
                                .color(status_color(run.status, tokens)),
                            egui::RichText::new(
                                run.start_time
                                    .get(..19)
                                    .unwrap_or(&run.start_time)
                                    .replace('T', " "),
                            ),
                            egui::RichText::new(duration),
                            egui::RichText::new(
                                run.dataset_fingerprint
                                    .as_deref()
                                    .map_or(String::new(), |f| {
                                        format!("{}…", &f[..f.len().min(8)])
                                    }),
                            ),
                        ];
                        for (_, key) in &pinned {
                            let value = kiln_core::tracking::filter::key_value(detail, key)
                                .unwrap_or_default();
                            let text = value
                                .parse::<f64>()
                                .ok()
                                .filter(|_| value.contains('.'))
                                .map_or(value.clone(), |v| format!("{v:.4}"));
                            row.col(|ui| {
                                if shows(ui) {
                                    ui.label(text);
                                }
                            });
                        }
                        for cell in cells {
                            row.col(|ui| {
                                if shows(ui) {
                                    ui.label(cell);
                                }
                            });
                        }
                        for m in metric_names {
                            row.col(|ui| {
                                if shows(ui) {
                                    ui.monospace(
                                        detail
                                            .metrics
                                            .get(m)
                                            .map_or(String::new(), |v| format!("{v:.4}")),
                                    );
                                }
                            });
                        }
                        for p in param_names {
                            row.col(|ui| {
                                if shows(ui) {
                                    ui.label(detail.params.get(p).cloned().unwrap_or_default());
                                }
                            });
                        }
                    });
                });
        });
    clicked
}

/// Whether a cell is inside the table's visible area. The table lays out every column of
/// each visible row; a cell scrolled out sideways keeps its width but makes no label, so a
/// frame's cost follows what is on screen, not the 50 columns of a wide store.
fn shows(ui: &egui::Ui) -> bool {
    ui.is_rect_visible(ui.max_rect())
}

/// Ascending on first click, then descending.
fn toggle(current: Option<&str>, key: &str) -> String {
    if current == Some(key) {
        format!("-{key}")
    } else {
        key.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use std::collections::{BTreeMap, BTreeSet};

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use kiln_core::store::RunDetail;

    use super::{TableColumns, distinct_keys, runs_table_ui};
    use crate::ui::theme::{ThemeChoice, Tokens};

    #[test]
    fn a_column_right_of_the_window_is_drawn_once_scrolled_into_view() {
        let mut run = RunDetail::default();
        run.run.id = "r1".into();
        run.run.name = "wide-run".into();
        run.params = (0..40)
            .map(|i| (format!("p{i:02}"), format!("value-{i:02}")))
            .collect();
        let runs = vec![run];
        let columns = TableColumns::of(&runs);
        let tokens = Tokens::for_theme(ThemeChoice::Dark);
        let mut harness = Harness::builder()
            .with_size(egui::vec2(700.0, 200.0))
            .build_ui(move |ui| {
                let mut selected = BTreeSet::new();
                runs_table_ui(ui, &runs, &[0], &columns, &mut selected, None, &tokens);
            });
        harness.run_steps(2);
        assert!(
            harness.query_by_label("wide-run").is_some(),
            "the name shows"
        );
        for _ in 0..30 {
            harness.hover_at(egui::pos2(350.0, 100.0));
            harness.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, -400.0),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Unknown,
                modifiers: egui::Modifiers::SHIFT,
            });
            harness.run_steps(1);
        }
        harness.run_steps(2);
        assert!(
            harness.query_by_label("value-07").is_some(),
            "scrolled to the right end, the last column is drawn"
        );
    }

    #[test]
    fn distinct_keys_lists_every_key_once_even_after_repeated_maps() {
        let map = |keys: &[&str]| -> BTreeMap<String, f64> {
            keys.iter().map(|k| ((*k).to_owned(), 0.0)).collect()
        };
        let maps = [
            map(&["a", "b"]),
            map(&["a", "b"]),
            map(&["c"]),
            map(&["a", "b"]),
        ];
        let keys: Vec<&str> = distinct_keys(maps.iter())
            .into_iter()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }
}
