//! `kiln fairness` and `kiln models fairness`: Fairlearn's group metrics and disparities of a
//! classifier's predictions over sensitive columns.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use kiln_core::data::{LoadOptions, load_table};
use kiln_core::eval::{FairnessReport, SensitiveColumn, fairness_report};
use kiln_core::features::text_column;
use kiln_core::inference::predict;
use kiln_core::models::Task;
use kiln_core::polars::prelude::DataFrame;
use kiln_core::store::Store;

use super::args::FairnessArgs;

/// Runs `kiln fairness`: truth and predictions are columns of the file.
pub fn run_fairness(args: &FairnessArgs) -> Result<ExitCode> {
    let frame = load(&args.data)?;
    let y_true = labels(&frame, &args.data, &args.truth, "--truth")?;
    let y_pred = labels(&frame, &args.data, &args.pred, "--pred")?;
    let sensitive = sensitive_columns(&frame, &args.data, &args.sensitive)?;
    report(
        &args.data,
        &y_true,
        &y_pred,
        &sensitive,
        args.pos_label.as_deref(),
        args.json,
    )
}

/// Runs `kiln models fairness MODEL_REF`: the model predicts the file's rows; the truth is the
/// model's target column unless `--truth` names another.
pub fn run_model_fairness(
    store: &Store,
    model_ref: &str,
    data: &Path,
    truth: Option<&str>,
    sensitive: &[String],
    pos_label: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let artifact = kiln_core::registry::load_model(store, model_ref)?;
    if artifact.task() != Task::Classification {
        bail!(
            "{model_ref} is a regression model (target '{}'); fairness metrics need a classifier",
            artifact.target().unwrap_or("not named")
        );
    }
    let frame = load(data)?;
    let truth = match truth {
        Some(t) => t,
        None => artifact
            .require_target()
            .map_err(|e| anyhow!("{model_ref}: {e}, or pass --truth COL"))?,
    };
    let y_true = labels(&frame, data, truth, "--truth")?;
    let sensitive = sensitive_columns(&frame, data, sensitive)?;
    let predictions = predict(&artifact, &frame).map_err(|e| anyhow!("{}: {e}", data.display()))?;
    report(
        data,
        &y_true,
        &predictions.labels,
        &sensitive,
        pos_label,
        json,
    )
}

fn load(path: &Path) -> Result<DataFrame> {
    Ok(load_table(path, &LoadOptions::default(), |_, _| true)?.frame)
}

/// The values of `column` as text; a missing column or value is an error naming the file, the
/// column and the row.
fn labels(frame: &DataFrame, path: &Path, column: &str, flag: &str) -> Result<Vec<String>> {
    if frame.column(column).is_err() {
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        bail!(
            "{}: no column '{column}' ({flag}); the columns are: {}",
            path.display(),
            names.join(", ")
        );
    }
    let values = text_column(frame, column).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    values
        .into_iter()
        .enumerate()
        .map(|(row, value)| {
            value.ok_or_else(|| {
                anyhow!(
                    "{}: column '{column}' ({flag}) is missing a value in row {}",
                    path.display(),
                    row + 1
                )
            })
        })
        .collect()
}

fn sensitive_columns(
    frame: &DataFrame,
    path: &Path,
    names: &[String],
) -> Result<Vec<SensitiveColumn>> {
    names
        .iter()
        .map(|name| {
            Ok(SensitiveColumn {
                name: name.clone(),
                values: labels(frame, path, name, "--sensitive")?,
            })
        })
        .collect()
}

fn report(
    path: &Path,
    y_true: &[String],
    y_pred: &[String],
    sensitive: &[SensitiveColumn],
    pos_label: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let report = fairness_report(y_true, y_pred, sensitive, pos_label)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
}

/// The report as a readable table: one block per sensitive column (then the intersection).
fn text(report: &FairnessReport) -> String {
    let mut out = format!(
        "positive label: {} (labels: {})\n",
        report.pos_label,
        report.labels.join(", ")
    );
    for feature in &report.features {
        let width = feature
            .groups
            .iter()
            .map(|g| g.level.chars().count() + 2)
            .chain([feature.feature.chars().count(), 12])
            .max()
            .unwrap_or(12);
        out.push('\n');
        out.push_str(&format!(
            "{:<width$} {:>8} {:>9} {:>15} {:>8} {:>8}\n",
            feature.feature, "count", "accuracy", "selection_rate", "tpr", "fpr"
        ));
        for g in &feature.groups {
            out.push_str(&format!(
                "  {:<w$} {:>8} {:>9} {:>15} {:>8} {:>8}\n",
                g.level,
                g.count,
                cell(g.accuracy),
                cell(g.selection_rate),
                cell(g.tpr),
                cell(g.fpr),
                w = width - 2
            ));
        }
        out.push_str(&format!(
            "  demographic parity  difference {}  ratio {}\n",
            cell(feature.demographic_parity_difference),
            cell(feature.demographic_parity_ratio)
        ));
        out.push_str(&format!(
            "  equalized odds      difference {}  ratio {}\n",
            cell(feature.equalized_odds_difference),
            cell(feature.equalized_odds_ratio)
        ));
    }
    if report.features.iter().any(|f| {
        f.groups.iter().any(|g| g.count == 0)
            || f.demographic_parity_ratio.is_none()
            || f.equalized_odds_ratio.is_none()
    }) {
        out.push_str("\n- : not defined (no rows, or 0/0)\n");
    }
    out
}
