//! Explore workspace benchmarks, driving the real `KilnApp` through egui_kittest:
//!
//! 1. time from opening the 1M-row benchmark CSV to its first rows being on screen;
//! 2. CPU time of the UI thread per frame while scrolling the grid over 10 million rows.
//!
//! Run: `cargo bench -p kiln --bench explore_gui` (after `bash benches/explore/run.sh` made the
//! 1M-row CSV; set `KILN_BENCH_CSV` to use another file). Prints one JSON document.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

#[path = "../tests/kittest/mod.rs"]
mod kittest;

use cpu_time::ThreadTime;
use egui_kittest::Harness;
use kiln::ui::workspace::Workspace;
use kiln::ui::{AppOptions, KilnApp};
use kiln_core::polars::prelude::*;

fn harness(home: &std::path::Path, open: PathBuf) -> Harness<'static, KilnApp> {
    kittest::app_harness(
        AppOptions {
            store_home: Some(home.to_path_buf()),
            open_files: vec![open],
            workspace: Some(Workspace::Explore),
            ..AppOptions::default()
        },
        egui::vec2(1400.0, 900.0),
    )
}

fn wait_for(
    harness: &mut Harness<'_, KilnApp>,
    limit: Duration,
    done: impl Fn(&KilnApp) -> bool,
) -> Duration {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < limit, "timed out");
        std::thread::sleep(Duration::from_millis(1));
        harness.step();
    }
    harness.step();
    start.elapsed()
}

fn ten_million_rows(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("grid_10m.parquet");
    if path.exists() {
        return path;
    }
    let n = 10_000_000usize;
    let mut columns: Vec<Column> = (0..8)
        .map(|c| {
            let values: Vec<f64> = (0..n)
                .map(|i| ((i * (c + 7)) % 1009) as f64 / 7.0)
                .collect();
            Column::new(format!("x{c}").into(), values)
        })
        .collect();
    let labels = ["red", "green", "blue", "amber", "violet"];
    columns.push(Column::new(
        "label".into(),
        (0..n).map(|i| labels[i % 5]).collect::<Vec<_>>(),
    ));
    columns.push(Column::new("id".into(), (0..n as i64).collect::<Vec<_>>()));
    let mut frame = DataFrame::new(n, columns).expect("frame");
    let file = std::fs::File::create(&path).expect("create");
    ParquetWriter::new(file)
        .finish(&mut frame)
        .expect("write parquet");
    path
}

fn main() {
    let home = tempfile::tempdir().expect("tempdir");
    let csv = std::env::var_os("KILN_BENCH_CSV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/kiln-bench/mixed_1m.csv"));
    let mut report = serde_json::Map::new();

    if csv.exists() {
        let mut h = harness(home.path(), csv.clone());
        let first_rows = wait_for(&mut h, Duration::from_secs(60), |app| {
            app.explore().active().is_some_and(|d| d.frame().is_some())
        });
        let all_rows = wait_for(&mut h, Duration::from_secs(120), |app| {
            app.explore().active().is_some_and(|d| d.opened.is_some())
        });
        let profiled = wait_for(&mut h, Duration::from_secs(300), |app| {
            app.explore().active().is_some_and(|d| d.profile.is_some())
        });
        report.insert("csv".into(), csv.display().to_string().into());
        report.insert(
            "open_to_first_rows_s".into(),
            first_rows.as_secs_f64().into(),
        );
        report.insert(
            "first_rows_to_all_rows_s".into(),
            all_rows.as_secs_f64().into(),
        );
        report.insert(
            "all_rows_to_profile_s".into(),
            profiled.as_secs_f64().into(),
        );
    } else {
        eprintln!(
            "{} is missing: run benches/explore/run.sh first (skipping the open benchmark)",
            csv.display()
        );
    }

    let data_dir = std::path::Path::new("/var/tmp/kiln-bench");
    std::fs::create_dir_all(data_dir).expect("bench dir");
    let big = ten_million_rows(data_dir);
    let mut h = harness(home.path(), big);
    wait_for(&mut h, Duration::from_secs(300), |app| {
        app.explore().active().is_some_and(|d| d.opened.is_some())
    });
    h.run_steps(5);
    h.hover_at(egui::pos2(900.0, 500.0));
    let mut frame_times = Vec::new();
    for step in 0..300 {
        let delta = if step % 100 < 50 { -400.0 } else { 400.0 };
        kittest::scroll(&mut h, delta);
        let cpu = ThreadTime::now();
        h.step();
        frame_times.push(cpu.elapsed().as_secs_f64() * 1000.0);
    }
    frame_times.sort_by(f64::total_cmp);
    let pick = |q: f64| frame_times[((frame_times.len() - 1) as f64 * q) as usize];
    report.insert("grid_rows".into(), 10_000_000.into());
    report.insert("scroll_frame_cpu_ms_median".into(), pick(0.5).into());
    report.insert("scroll_frame_cpu_ms_p95".into(), pick(0.95).into());
    report.insert("scroll_frame_cpu_ms_max".into(), pick(1.0).into());
    println!("{}", serde_json::to_string_pretty(&report).expect("json"));
}
