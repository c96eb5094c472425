//! `kiln runs`: list runs and show one, as text, JSON or CSV.

use std::process::ExitCode;

use anyhow::Result;
use kiln_core::store::{RunDetail, RunQuery, Store};
use serde_json::{Value, json};

use super::args::{RunsAction, RunsArgs};

/// Runs `kiln runs ...`.
pub fn run_runs(store: &Store, args: RunsArgs) -> Result<ExitCode> {
    match args.action {
        Some(RunsAction::Show { run_id, json }) => show(store, &run_id, json),
        Some(RunsAction::Compare { run_ids, json }) => compare(store, &run_ids, json),
        None => {
            let query = RunQuery {
                experiment: args.experiment,
                ..RunQuery::default()
            };
            let all = store.run_details(&query)?;
            let filter = match &args.filter {
                Some(text) => Some(
                    kiln_core::tracking::filter::parse_run_filter(text)
                        .map_err(|e| anyhow::anyhow!("--filter: {e}"))?,
                ),
                None => None,
            };
            let rows = kiln_core::tracking::filter::select_runs(
                &all,
                filter.as_ref(),
                args.sort.as_deref(),
            )
            .map_err(|e| anyhow::anyhow!("--sort: {e}"))?;
            let details: Vec<&RunDetail> = rows.into_iter().map(|i| &all[i]).collect();
            if let Some(key) = &args.group_by {
                let groups = kiln_core::tracking::filter::group_runs(&details, key)
                    .map_err(|e| anyhow::anyhow!("--group-by: {e}"))?;
                if args.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &json!({ "group_by": key, "groups": groups })
                        )?
                    );
                } else {
                    for g in &groups {
                        let metrics: Vec<String> = g
                            .metrics
                            .iter()
                            .map(|(m, a)| format!("{m} {:.4}±{:.4}", a.mean, a.std))
                            .collect();
                        println!("{:<20} {:>5} runs  {}", g.value, g.runs, metrics.join("  "));
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            if args.json {
                let runs: Vec<Value> = details.iter().copied().map(run_json).collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({ "runs": runs }))?
                );
            } else if args.csv {
                print!("{}", kiln_core::tracking::export::runs_csv(&details));
            } else {
                print_table(&details);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One run as the CLI's JSON contract describes it.
pub fn run_json(detail: &RunDetail) -> Value {
    let run = &detail.run;
    json!({
        "run_id": run.id,
        "name": run.name,
        "experiment": run.experiment,
        "status": run.status.as_str(),
        "model": detail.params.get("model"),
        "params": detail.params,
        "metrics": detail.metrics,
        "tags": detail.tags,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "duration_s": run.duration_s(),
    })
}

fn compare(store: &Store, run_ids: &[String], as_json: bool) -> Result<ExitCode> {
    let comparison = kiln_core::tracking::compare::compare_runs(store, run_ids)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
        return Ok(ExitCode::SUCCESS);
    }
    let short: Vec<String> = run_ids
        .iter()
        .map(|id| id.chars().take(8).collect())
        .collect();
    println!("{:<24} {}", "", short.join("  "));
    println!("params that differ:");
    for name in &comparison.differing_params {
        let values: Vec<String> = comparison.params[name]
            .iter()
            .map(|v| v.clone().unwrap_or_else(|| "—".into()))
            .collect();
        println!("  {name:<22} {}", values.join("  "));
    }
    println!("metrics:");
    for (name, values) in &comparison.metrics {
        let values: Vec<String> = values
            .iter()
            .map(|v| v.map_or("—".into(), |x| format!("{x:.4}")))
            .collect();
        println!("  {name:<22} {}", values.join("  "));
    }
    for t in &comparison.t_tests {
        println!(
            "corrected resampled t-test on {} over {} folds: t = {:.3}, p = {:.4} (mean difference {:+.4})",
            t.metric, t.folds, t.t, t.p_value, t.mean_diff
        );
        println!("  verdict: {}", t.verdict());
    }
    Ok(ExitCode::SUCCESS)
}

fn show(store: &Store, run_id: &str, as_json: bool) -> Result<ExitCode> {
    let detail = store.run_detail(run_id)?;
    if as_json {
        let mut value = run_json(&detail);
        if let Value::Object(map) = &mut value {
            map.insert("seed".into(), json!(detail.run.seed));
            map.insert(
                "dataset_fingerprint".into(),
                json!(detail.run.dataset_fingerprint),
            );
            map.insert(
                "dataset_version_id".into(),
                json!(detail.run.dataset_version_id),
            );
            map.insert("parent_run_id".into(), json!(detail.run.parent_run_id));
            map.insert("kiln_version".into(), json!(detail.run.kiln_version));
            map.insert("git_commit".into(), json!(detail.run.git_commit));
            map.insert("error".into(), json!(detail.run.error));
            map.insert("note".into(), json!(detail.run.note));
            map.insert("artifacts".into(), serde_json::to_value(&detail.artifacts)?);
            map.insert("series".into(), json!(detail.series));
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let run = &detail.run;
    println!("run        {} ({})", run.id, run.name);
    println!("experiment {}", run.experiment);
    println!("status     {}", run.status);
    println!("started    {}", run.start_time);
    if let Some(d) = run.duration_s() {
        println!("duration   {d:.3} s");
    }
    if let Some(error) = &run.error {
        println!("error      {error}");
    }
    for (title, map) in [("params", &detail.params), ("tags", &detail.tags)] {
        if !map.is_empty() {
            println!("{title}:");
            for (k, v) in map {
                println!("  {k} = {v}");
            }
        }
    }
    if !detail.metrics.is_empty() {
        println!("metrics:");
        for (k, v) in &detail.metrics {
            println!("  {k} = {v}");
        }
    }
    for artifact in &detail.artifacts {
        println!(
            "artifact   {} ({} bytes, sha256 {})",
            artifact.name, artifact.size, artifact.sha256
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(details: &[&RunDetail]) {
    println!(
        "{:<32}  {:<20}  {:<9}  {:<24}  {:>10}",
        "RUN_ID", "EXPERIMENT", "STATUS", "START", "DURATION"
    );
    for d in details {
        let duration = d
            .run
            .duration_s()
            .map(|s| format!("{s:.2} s"))
            .unwrap_or_default();
        println!(
            "{:<32}  {:<20}  {:<9}  {:<24}  {:>10}",
            d.run.id, d.run.experiment, d.run.status, d.run.start_time, duration
        );
    }
}
