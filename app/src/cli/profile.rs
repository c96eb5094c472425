//! `kiln profile FILE [--json] [--register NAME]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use kiln_core::data::profile::{ColumnProfile, Profile};
use kiln_core::data::schema::SchemaOverrides;
use kiln_core::data::views::format_stat as number;
use kiln_core::data::{
    LoadOptions, open_table, profile_options, profile_table, register_dataset_with, with_overrides,
};
use kiln_core::jobs::{JobError, JobRunner};
use kiln_core::store::Store;

use super::progress::run_with_progress;

/// Profiles `file`, printing a summary or the JSON contract; optionally registers it.
pub fn run_profile(
    file: PathBuf,
    json: bool,
    register: Option<(Store, String)>,
    kinds: &[String],
    alerts: &[String],
    minimal: bool,
) -> Result<ExitCode> {
    let mut overrides = SchemaOverrides::default();
    for kind in kinds {
        overrides.parse_kind(kind)?;
    }
    let mut options = profile_options(&overrides);
    options.minimal = minimal;
    for alert in alerts {
        options
            .thresholds
            .set(alert)
            .map_err(|e| anyhow::anyhow!("--alert {e}"))?;
    }
    let runner = JobRunner::new();
    let name = file.display().to_string();
    let handle = runner.spawn(format!("Profiling {name}"), move |ctx| {
        let progress = |fraction: f32, message: &str| {
            ctx.progress(fraction, message);
            !ctx.is_cancelled()
        };
        let opened = with_overrides(
            &open_table(&file, &LoadOptions::default(), &progress)?,
            &overrides,
        )?;
        let profile = profile_table(&opened, &options, &progress)?;
        let registered = match register {
            Some((store, dataset)) => Some(
                register_dataset_with(&store, &dataset, &opened, &overrides)
                    .map_err(JobError::failed)?,
            ),
            None => None,
        };
        Ok((opened.table.warnings, profile, registered))
    });
    let (warnings, profile, registered) = run_with_progress(handle).map_err(anyhow::Error::msg)?;
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&profile)?);
    } else {
        print_summary(&name, &profile);
    }
    if let Some(version) = registered {
        eprintln!(
            "registered as dataset '{}' version {}",
            version.dataset, version.version
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn column_line(c: &ColumnProfile, rows: usize) -> String {
    let missing = 100.0 * c.nulls as f64 / rows.max(1) as f64;
    let kind = format!("{:?}", c.kind).to_lowercase();
    let detail = if c.mean.is_some() || c.min.is_some() {
        format!(
            "mean {}  std {}  min {}  median {}  max {}",
            number(c.mean),
            number(c.std),
            number(c.min),
            number(c.median),
            number(c.max)
        )
    } else {
        let top: Vec<String> = c
            .top
            .iter()
            .take(3)
            .map(|t| format!("{} ({})", t.value, t.count))
            .collect();
        format!("top {}", top.join(", "))
    };
    format!(
        "  {:<24} {:<11} {:>6.1}% missing  {:>8} distinct  {detail}",
        c.name, kind, missing, c.distinct
    )
}

fn print_summary(name: &str, p: &Profile) {
    println!("{name}");
    println!(
        "  {} rows x {} columns, {} duplicate rows, {} missing cells, {:.1} MB in memory",
        p.rows,
        p.columns_count,
        p.duplicate_rows,
        p.missing_cells,
        p.memory_bytes as f64 / 1e6
    );
    println!("  sha256 {}", p.fingerprint);
    println!();
    println!("columns:");
    for c in &p.columns {
        println!("{}", column_line(c, p.rows));
    }
    if !p.alerts.is_empty() {
        println!();
        println!("alerts:");
        for a in &p.alerts {
            let column = a.column.as_deref().unwrap_or("(dataset)");
            println!("  {:<18} {:<24} {}", a.kind, column, a.detail);
        }
    }
}
