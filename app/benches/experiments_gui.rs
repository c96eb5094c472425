//! Experiments workspace at scale, driving the real `KilnApp` through egui_kittest, on a
//! generated store of 10,000 runs × 20 params × 20 metrics, 100 of them with 3 step series of
//! 100,000 points:
//! time to open the workspace, filter + sort time, UI-thread CPU per frame while scrolling the
//! runs table and while showing a 100-series line chart.
//!
//! Run: `cargo bench -p kiln --bench experiments_gui` (the store is built once in
//! /var/tmp/kiln-bench/experiments-store). Prints one JSON document.
//!
//! `KILN_BENCH_STORE=/path/to/home` measures that existing store instead, as it is (nothing is
//! generated or added): e.g. 10,000 runs logged through `kiln server` by an MLflow client
//! (benches/mlflow/run_scale.sh). The comparison then takes the runs with a `loss` series, and
//! is skipped (nulls in the report) when there are none.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../tests/kittest/mod.rs"]
mod kittest;

use cpu_time::ThreadTime;
use egui_kittest::Harness;
use kiln::ui::workspace::Workspace;
use kiln::ui::{AppOptions, KilnApp};
use kiln_core::rng::SeededRng;
use kiln_core::store::{NewRun, RunQuery, RunStatus, Store};

const RUNS: usize = 10_000;
const SERIES_RUNS: usize = 100;
const POINTS: i64 = 100_000;

fn build_store(home: &Path) -> Store {
    let store = Store::open(home).expect("store");
    if home.join("ready").exists() {
        return store;
    }
    let started = Instant::now();
    let mut rng = SeededRng::new(7);
    let models = ["svm", "ridge", "random_forest", "logistic_regression"];
    let mut with_series = Vec::new();
    for i in 0..RUNS {
        let params: Vec<(String, String)> = (0..20)
            .map(|p| (format!("p{p:02}"), format!("{}", rng.below(100))))
            .chain([("model".to_string(), models[i % 4].to_string())])
            .collect();
        let metrics: Vec<(String, f64)> = (0..20)
            .map(|m| (format!("m{m:02}"), rng.below(10_000) as f64 / 10_000.0))
            .collect();
        let new = NewRun {
            experiment: format!("exp-{}", i % 10),
            params,
            ..NewRun::default()
        };
        let run = store
            .record_run(&new, &metrics, RunStatus::Finished)
            .expect("run");
        if i < SERIES_RUNS {
            with_series.push(run.id);
        }
    }
    for id in &with_series {
        for s in ["loss", "val_loss", "lr"] {
            let points: Vec<(i64, f64)> = (0..POINTS)
                .map(|step| {
                    (
                        step,
                        1.0 / (1.0 + step as f64 * 0.001) + rng.below(100) as f64 * 1e-4,
                    )
                })
                .collect();
            store.log_metric_steps(id, s, &points).expect("series");
        }
    }
    std::fs::write(home.join("ready"), "").expect("marker");
    eprintln!(
        "built the store in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store
}

fn harness(home: &Path) -> Harness<'static, KilnApp> {
    kittest::app_harness(
        AppOptions {
            store_home: Some(home.to_path_buf()),
            workspace: Some(Workspace::Experiments),
            ..AppOptions::default()
        },
        egui::vec2(1400.0, 900.0),
    )
}

fn percentile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q) as usize]
}

fn frame_cpu_ms(h: &mut Harness<'_, KilnApp>, frames: usize, scroll: bool) -> Vec<f64> {
    h.hover_at(egui::pos2(800.0, 500.0));
    (0..frames)
        .map(|i| {
            if scroll {
                let delta = if i % 100 < 50 { -400.0 } else { 400.0 };
                kittest::scroll(h, delta);
            } else {
                h.hover_at(egui::pos2(700.0 + (i % 50) as f32, 600.0));
            }
            let cpu = ThreadTime::now();
            h.step();
            cpu.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

fn main() {
    let given = std::env::var_os("KILN_BENCH_STORE").map(std::path::PathBuf::from);
    let home = given
        .clone()
        .unwrap_or_else(|| "/var/tmp/kiln-bench/experiments-store".into());
    let home = home.as_path();
    let store = if given.is_some() {
        assert!(
            home.is_dir(),
            "KILN_BENCH_STORE={} is not a folder",
            home.display()
        );
        Store::open(home).expect("store")
    } else {
        std::fs::create_dir_all(home).expect("dir");
        build_store(home)
    };

    // Open: from a new window on Experiments until the runs are on screen.
    let start = Instant::now();
    let mut h = harness(home);
    let window_s = start.elapsed().as_secs_f64();
    let mut frames = 0;
    while h.state_mut().experiments_mut().shown_count() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "runs did not load"
        );
        std::thread::sleep(Duration::from_millis(1));
        h.step();
        frames += 1;
    }
    h.step();
    let open_s = start.elapsed().as_secs_f64();
    // Where the time went: building the window, the loading job, the frames around it.
    let load_job_s = h
        .state()
        .jobs()
        .statuses()
        .iter()
        .find(|j| j.name == "Loading runs")
        .map_or(f64::NAN, |j| j.elapsed.as_secs_f64());
    eprintln!(
        "open: {open_s:.3} s (window {window_s:.3} s, loading job {load_job_s:.3} s, {frames} frames)"
    );

    // The store read alone (the part of opening that core does), for the breakdown.
    let read = Instant::now();
    let runs = store.run_details(&RunQuery::default()).expect("runs");
    let read_runs_s = read.elapsed().as_secs_f64();

    // Filter and sort, as the workspace does on Apply / header click.
    let filter = kiln_core::tracking::filter::parse_run_filter(
        "metrics.m01 > 0.5 and (params.model = 'svm' or params.model LIKE 'random%') and not status = 'failed'",
    )
    .expect("filter");
    let times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let kept = kiln_core::tracking::filter::select_runs(
                &runs,
                Some(&filter),
                Some("-metrics.m02"),
            )
            .expect("sort");
            std::hint::black_box(kept);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let filter_sort_ms = percentile(times, 0.5);

    let scroll = frame_cpu_ms(&mut h, 200, true);

    // Runs logged through an API have a step series for every metric (step 0 at least):
    // the generated store's series runs are the ones with `loss`.
    let ids: Vec<String> = runs
        .iter()
        .filter(|r| r.series.iter().any(|s| s == "loss") || r.metrics.contains_key("loss"))
        .map(|r| r.run.id.clone())
        .take(SERIES_RUNS)
        .collect();
    let (compare_load_s, chart) = if ids.is_empty() {
        (None, None)
    } else {
        let (jobs, store_clone) = (h.state().jobs().clone(), store.clone());
        h.state_mut()
            .experiments_mut()
            .compare_runs(ids.clone(), &store_clone, &jobs);
        let start = Instant::now();
        while !h.state_mut().experiments_mut().comparison_ready() {
            assert!(
                start.elapsed() < Duration::from_secs(600),
                "comparison did not load"
            );
            std::thread::sleep(Duration::from_millis(5));
            h.step();
        }
        let compare_load_s = start.elapsed().as_secs_f64();
        (Some(compare_load_s), Some(frame_cpu_ms(&mut h, 60, false)))
    };

    let report = serde_json::json!({
        "store": home.display().to_string(),
        "runs": runs.len(),
        "open_workspace_s": open_s,
        "open_window_s": window_s,
        "open_load_job_s": load_job_s,
        "store_run_details_s": read_runs_s,
        "filter_and_sort_ms_median": filter_sort_ms,
        "scroll_frame_cpu_ms_median": percentile(scroll.clone(), 0.5),
        "scroll_frame_cpu_ms_p95": percentile(scroll, 0.95),
        "compared_runs": ids.len(),
        "compare_load_s": compare_load_s,
        "series_chart_frame_cpu_ms_median": chart.clone().map(|c| percentile(c, 0.5)),
        "series_chart_frame_cpu_ms_p95": chart.map(|c| percentile(c, 0.95)),
    });
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
