//! `kiln watch [--file kiln.toml] [--json] [--report FILE]`: runs the pipeline, then again
//! whenever `kiln.toml` or one of its input files changes (notify's OS events, debounced),
//! printing the same as `kiln run` each time. Ctrl+C stops it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use kiln_core::pipeline::{PIPELINE_FILE, PipelineFile};
use notify::{Event, EventKind, RecursiveMode, Watcher};

use super::run::{RunArgs, check_report, load, run_once};

/// Quiet time after the last change before the pipeline runs: an editor's save or a copy
/// arrives as several events.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// `kiln watch` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// The pipeline file.
    #[arg(long, value_name = "FILE", default_value = PIPELINE_FILE)]
    pub file: PathBuf,
    /// Print each outcome as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Write a report after each run: FILE.md (Markdown) or FILE.xml (JUnit).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// The files whose change re-runs the pipeline: `kiln.toml`, the inputs, drift references.
fn watched_files(kiln_toml: &Path, file: Option<&PipelineFile>) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::from([kiln_toml.to_path_buf()]);
    if let Some(file) = file {
        for input in file.data.values() {
            files.insert(file.resolve(&input.path));
            if let Some(drift) = input.expect.as_ref().and_then(|e| e.drift.as_ref()) {
                files.insert(file.resolve(&drift.reference));
            }
        }
    }
    files
}

/// Whether an event is a change of content (not a read, not the runner's own lock files).
fn is_change(event: &Event, files: &BTreeSet<PathBuf>) -> bool {
    let relevant_kind = matches!(
        event.kind,
        EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Remove(_)
            | EventKind::Access(notify::event::AccessKind::Close(
                notify::event::AccessMode::Write
            ))
    );
    relevant_kind && event.paths.iter().any(|p| files.contains(p))
}

/// Watches the folders of `files` (not recursively), replacing what was watched before.
fn watch_folders(
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut BTreeSet<PathBuf>,
    files: &BTreeSet<PathBuf>,
) -> Result<()> {
    let folders: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    for gone in watched.difference(&folders) {
        let _ = watcher.unwatch(gone);
    }
    for folder in folders.difference(watched) {
        watcher
            .watch(folder, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {}", folder.display()))?;
    }
    *watched = folders;
    Ok(())
}

/// Runs `kiln watch` until interrupted.
pub fn run_watch(home: Option<PathBuf>, args: &WatchArgs) -> Result<ExitCode> {
    check_report(args.report.as_deref())?;
    let store = super::open_store(home)?;
    let kiln_toml = std::path::absolute(&args.file)
        .with_context(|| format!("cannot resolve {}", args.file.display()))?;
    let run_args = RunArgs {
        file: kiln_toml.clone(),
        json: args.json,
        report: args.report.clone(),
        force: false,
        no_wait: false,
    };
    let (sender, events) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
        // The receiver lives as long as the loop below; a send error means we are ending.
        let _ = sender.send(event);
    })
    .context("cannot watch files")?;
    let mut watched = BTreeSet::new();
    loop {
        let file = load(&kiln_toml).ok();
        let files = watched_files(&kiln_toml, file.as_ref());
        watch_folders(&mut watcher, &mut watched, &files)?;
        if let Some(file) = file {
            // A failing stage is reported like `kiln run` does; watching goes on.
            if let Err(e) = run_once(&store, file, &run_args) {
                eprintln!("error: {e:#}");
            }
        }
        eprintln!(
            "watching {} file(s) for changes (Ctrl+C stops)",
            files.len()
        );
        // Wait for a change, then for quiet.
        loop {
            match events.recv() {
                Ok(Ok(event)) if is_change(&event, &files) => break,
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "file watch error"),
                Err(_) => return Ok(ExitCode::SUCCESS),
            }
        }
        while let Ok(event) = events.recv_timeout(DEBOUNCE) {
            if let Err(e) = event {
                tracing::warn!(error = %e, "file watch error");
            }
        }
    }
}
