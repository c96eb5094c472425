//! What a person sees: PNG snapshots of every workspace and the main views, drawn by the real
//! app on fixed data in a window of fixed size, compared with the PNGs in `tests/snapshots/`.
//!
//! A changed image fails the test until it is accepted on purpose:
//!
//! ```sh
//! UPDATE_SNAPSHOTS=1 cargo test -p kiln --test snapshots   # rewrites the PNGs that differ
//! git diff --stat app/tests/snapshots                      # then look at every changed PNG
//! ```
//!
//! A failing run leaves `NAME.new.png` (what was drawn) and `NAME.diff.png` (the differing
//! pixels) beside `NAME.png`; they are git-ignored. `UPDATE_SNAPSHOTS=force` rewrites all.
//!
//! Rendering: egui_kittest's wgpu renderer, which here is Mesa's llvmpipe through wgpu's GL
//! backend (EGL); it needs no display, so the test runs headless and under `xvfb-run -a` alike.
//!
//! Fixed data: the penguins fixture, and for Experiments a store of the demo project whose
//! times were moved to a fixed day (`tests/snapshots/store/`, made by
//! `tests/snapshots/make_store.sh`). Each test copies it to a fresh folder, so the one thing
//! that still differs between runs is the store path in the status bar: it is painted over
//! (the grey box at the bottom right).
//!
//! The registry's snapshots add a registry to a copy of that store through core's own API,
//! as user `ana` on a fixed clock ([`Actor::fixed`]): its times, users and hash chain are the
//! same on every run, computed by the code path the app uses (`with_registry`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::kittest::{Queryable, by};
use egui_kittest::{Harness, SnapshotOptions};
use kiln::ui::command::Command;
use kiln::ui::panels::pipelines::Shown;
use kiln::ui::workspace::Workspace;
use kiln::ui::{AppOptions, KilnApp};
use kiln_core::registry;
use kiln_core::store::{Actor, RunQuery, Stage, Store};

mod kittest;

/// The window, in points (one pixel per point).
const SIZE: egui::Vec2 = egui::vec2(1200.0, 760.0);
/// egui_kittest draws a `ui` harness inside an unpainted margin this wide; the harness is
/// made larger by it on each side and the image cropped to what the app drew, as in a window.
const HARNESS_MARGIN: f32 = 8.0;
/// Points painted over at the right of the status bar, where the store's (temporary, random)
/// folder is shown.
const STORE_LABEL_WIDTH: f32 = 420.0;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn penguins() -> PathBuf {
    manifest_dir().join("../tests/fixtures/profile/penguins.csv")
}

/// A copy of the fixed Experiments store (or an empty folder) that lives as long as it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn empty() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn with_runs() -> Self {
        let home = Self::empty();
        copy_dir(&manifest_dir().join("tests/snapshots/store"), home.path());
        home
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The fixed store plus a registry: `penguins` with four versions (from the penguins
    /// experiment's runs, oldest first) in every stage, a promotion its gate refused, two
    /// aliases, a gate policy that later asks for approval, a request by `ana` approved by
    /// `bob`, and a one-version `demo-baseline`; made on fixed clocks.
    fn with_registry() -> Self {
        let home = Self::with_runs();
        let store = Store::open(home.path())
            .expect("store")
            .with_actor(Actor::fixed("ana", "2026-01-16T08:00:00Z", 60_000).expect("actor"));
        let runs = |experiment: &str| {
            let query = RunQuery {
                experiment: Some(experiment.into()),
                ..RunQuery::default()
            };
            let mut runs = store.runs(&query).expect("runs");
            runs.reverse();
            runs
        };
        for (run, what) in runs("penguins").iter().zip([
            "logistic regression baseline",
            "naive Bayes, faster to score",
            "a single decision tree",
            "random forest, 20 trees",
        ]) {
            registry::register_run(&store, &run.id, "penguins", what).expect("register");
        }
        let demo = runs("demo");
        registry::register_run(&store, &demo[0].id, "demo-baseline", "").expect("register");
        registry::set_policy(
            &store,
            "penguins",
            "[gates]\naccuracy = \">= 0.8\"\nrequire_description = true\n",
            "no model below 80% reaches staging",
        )
        .expect("policy");
        let promote = |version, stage, reason| {
            let done = registry::promote(&store, "penguins", version, stage, reason, false, true)
                .expect("promote");
            assert!(done.promoted, "{version} to {stage}: {:?}", done.gates);
        };
        promote(1, Stage::Staging, "first candidate");
        promote(1, Stage::Production, "a week in staging without alerts");
        // Naive Bayes is below the accuracy gate: refused, and the refusal is audited.
        let refused =
            registry::promote(&store, "penguins", 2, Stage::Staging, "faster", false, true)
                .expect("gates evaluated");
        assert!(!refused.promoted);
        promote(3, Stage::Staging, "try a tree");
        promote(4, Stage::Production, "beats version 1 on the holdout");
        store
            .set_alias("penguins", 4, "champion", "serving")
            .expect("alias");
        store
            .set_alias("penguins", 3, "challenger", "shadow traffic")
            .expect("alias");
        // From now on production needs a second person: ana asks for version 3 (refused,
        // recorded as her request), and bob approves it.
        registry::set_policy(
            &store,
            "penguins",
            "[gates]\naccuracy = \">= 0.8\"\nrequire_description = true\nrequire_approval = true\n",
            "four eyes before production",
        )
        .expect("policy");
        let asked = registry::promote(
            &store,
            "penguins",
            3,
            Stage::Production,
            "ready",
            false,
            true,
        )
        .expect("gates evaluated");
        assert!(!asked.promoted);
        let bob = Store::open(home.path())
            .expect("store")
            .with_actor(Actor::fixed("bob", "2026-01-16T09:00:00Z", 60_000).expect("actor"));
        registry::approve(&bob, "penguins", 3, Stage::Production, "read the card")
            .expect("approve");
        home
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("the fixed store (tests/snapshots/store)") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn app(home: &Home, options: AppOptions) -> Harness<'static, KilnApp> {
    kittest::app_harness(
        AppOptions {
            store_home: Some(home.path().to_path_buf()),
            ..options
        },
        SIZE + egui::Vec2::splat(2.0 * HARNESS_MARGIN),
    )
}

/// Steps until no job runs and `done` holds (jobs run on real threads), or fails after 60 s.
fn step_until(harness: &mut Harness<'_, KilnApp>, what: &str, done: impl Fn(&KilnApp) -> bool) {
    let start = Instant::now();
    harness.run_steps(1);
    while harness.state().jobs().running_count() > 0 || !done(harness.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    harness.run_steps(2);
}

fn profiled(app: &KilnApp) -> bool {
    app.explore()
        .active()
        .is_some_and(|d| d.profile.is_some() && !d.busy())
}

/// Penguins opened on the view `view` (as `kiln gui --view`), loaded and profiled.
fn penguins_on(home: &Home, view: Option<&str>) -> Harness<'static, KilnApp> {
    let mut harness = app(
        home,
        AppOptions {
            open_files: vec![penguins()],
            explore_view: view.map(str::to_owned),
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "penguins to be profiled", profiled);
    harness
}

/// The Experiments workspace over the fixed store, on `view` (`compare`, `charts` or none).
fn experiments_on(home: &Home, view: Option<&str>) -> Harness<'static, KilnApp> {
    let mut harness = app(
        home,
        AppOptions {
            workspace: Some(Workspace::Experiments),
            explore_view: view.map(str::to_owned),
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the runs to load", |app| {
        app.jobs().running_count() == 0
    });
    harness
}

/// Lets the window settle (no job, no pointer, no job outcome in the status bar), draws it,
/// paints over what differs from run to run, and compares it with `tests/snapshots/NAME.png`.
fn check(harness: &mut Harness<'_, KilnApp>, name: &str) {
    step_until(harness, "the jobs", |_| true);
    // Ended jobs stay listed a few seconds, and only those that took over a second: that
    // depends on the machine, so the snapshot shows the idle status bar.
    harness.state().jobs().clear_ended(Duration::ZERO);
    harness.event(egui::Event::PointerGone);
    harness.run_steps(4);
    let ppp = harness.ctx.pixels_per_point();
    let margin = (HARNESS_MARGIN * ppp).round() as u32;
    let drawn = harness.render().expect("render the window");
    let mut image = image::imageops::crop_imm(
        &drawn,
        margin,
        margin,
        drawn.width() - 2 * margin,
        drawn.height() - 2 * margin,
    )
    .to_image();
    let varying: Vec<egui::Rect> = harness
        .query_all(by().predicate(|node| {
            node.value()
                .or_else(|| node.label())
                .is_some_and(|text| text.starts_with("Store: "))
        }))
        .map(|node| node.rect())
        .collect();
    for rect in varying {
        // The label is right-aligned and its width (to a fraction of a pixel) follows the
        // random folder name: cover a fixed stretch at the right of its row.
        let rect = rect.translate(-egui::Vec2::splat(HARNESS_MARGIN));
        let left = SIZE.x - rect.width().max(STORE_LABEL_WIDTH);
        let rect = egui::Rect::from_x_y_ranges(left..=SIZE.x, rect.y_range());
        paint_over(&mut image, rect * ppp);
    }
    let options = SnapshotOptions::new()
        .threshold(0.6)
        .max_failed_pixels(0)
        .output_path(manifest_dir().join("tests/snapshots"));
    if let Err(error) = egui_kittest::try_image_snapshot_options(&image, name, &options) {
        panic!("{name}: {error}");
    }
}

fn paint_over(image: &mut image::RgbaImage, rect: egui::Rect) {
    let (width, height) = image.dimensions();
    let x0 = (rect.min.x.floor().max(0.0) as u32).min(width);
    let y0 = (rect.min.y.floor().max(0.0) as u32).min(height);
    let x1 = (rect.max.x.ceil().max(0.0) as u32).min(width);
    let y1 = (rect.max.y.ceil().max(0.0) as u32).min(height);
    for y in y0..y1 {
        for x in x0..x1 {
            image.put_pixel(x, y, image::Rgba([128, 128, 128, 255]));
        }
    }
}

/// Clicks the first widget labelled `label` (the column list comes before the grid).
fn click_first(harness: &mut Harness<'_, KilnApp>, label: &str) {
    harness
        .get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("nothing labelled {label}"))
        .click();
    harness.run_steps(3);
}

#[test]
fn explore_welcome() {
    let home = Home::empty();
    let mut harness = app(&home, AppOptions::default());
    step_until(&mut harness, "the window", |_| true);
    check(&mut harness, "explore_welcome");
}

#[test]
fn explore_table() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, None);
    check(&mut harness, "explore_table");
}

#[test]
fn explore_table_light() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, None);
    harness.get_by_label("Light").click();
    harness.run_steps(3);
    check(&mut harness, "explore_table_light");
}

#[test]
fn explore_column_detail() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("column:bill_length_mm"));
    check(&mut harness, "explore_column_detail");
}

#[test]
fn explore_categorical_column_detail() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("column:island"));
    check(&mut harness, "explore_categorical_column_detail");
}

#[test]
fn explore_correlations() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("correlations"));
    check(&mut harness, "explore_correlations");
}

#[test]
fn a_heatmap_cell_shows_its_pair_and_value_beside_the_pointer() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("correlations"));
    // Below and right of the Pearson/Spearman switch lies the matrix.
    let switch = harness.get_by_label("Spearman").rect();
    let pointer = egui::pos2(switch.center().x + 220.0, switch.center().y + 90.0);
    harness.event(egui::Event::PointerMoved(pointer));
    harness.run_steps(30);
    let tip = harness.get_by(|node| {
        node.label()
            .is_some_and(|l| l.contains("click for the scatter plot"))
    });
    let near = tip.rect().expand(40.0);
    assert!(
        near.contains(pointer),
        "the hover text is at {:?}, the pointer at {pointer:?}",
        tip.rect()
    );
}

#[test]
fn explore_scatter() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("scatter"));
    check(&mut harness, "explore_scatter");
}

#[test]
fn explore_box_plots() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("boxplots"));
    check(&mut harness, "explore_box_plots");
}

#[test]
fn explore_missing_values() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("missingvalues"));
    check(&mut harness, "explore_missing_values");
}

#[test]
fn explore_alerts() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, Some("alerts"));
    check(&mut harness, "explore_alerts");
}

#[test]
fn explore_train() {
    let home = Home::empty();
    let mut harness = penguins_on(&home, None);
    click_first(&mut harness, "species");
    harness.get_by_label("role").click();
    harness.run_steps(2);
    harness.get_by_label("target").click();
    harness.run_steps(2);
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    check(&mut harness, "explore_train");
}

#[test]
fn experiments_runs() {
    let home = Home::with_runs();
    let mut harness = experiments_on(&home, None);
    check(&mut harness, "experiments_runs");
}

/// The status bar's MLflow toggle switched on: the server answers, and the bar shows the
/// URL scripts set as `MLFLOW_TRACKING_URI` (a fixed port, so the image is the same each run).
#[test]
fn experiments_accepting_mlflow_clients() {
    let home = Home::with_runs();
    let mut harness = app(
        &home,
        AppOptions {
            workspace: Some(Workspace::Experiments),
            settings: kiln::ui::settings::UiSettings {
                mlflow_port: 58731,
                ..Default::default()
            },
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the runs to load", |app| {
        app.jobs().running_count() == 0
    });
    harness
        .get_by_label("Accept MLflow clients on port 58731")
        .click();
    step_until(&mut harness, "the server to start", |app| {
        app.mlflow_status().url.is_some() || app.mlflow_status().error.is_some()
    });
    let status = harness.state().mlflow_status();
    assert_eq!(status.error, None);
    let url = status.url.expect("the server runs");
    let mut health = ureq::get(format!("{url}/health"))
        .call()
        .expect("the server answers");
    assert_eq!(
        health.body_mut().read_to_string().ok().as_deref(),
        Some("OK")
    );
    check(&mut harness, "experiments_accepting_mlflow_clients");
    harness
        .get_by_label("Accept MLflow clients on port 58731")
        .click();
    step_until(&mut harness, "the server to stop", |app| {
        app.mlflow_status().url.is_none()
    });
    assert!(
        ureq::get(format!("{url}/health")).call().is_err(),
        "it stopped"
    );
}

#[test]
fn experiments_import_from_mlflow() {
    let home = Home::with_runs();
    // Relative to app/, where cargo runs the tests: the summary names the source as given,
    // and an absolute path would differ from machine to machine.
    let mlruns = PathBuf::from("../tests/fixtures/mlflow/mlruns");
    let mut harness = app(
        &home,
        AppOptions {
            workspace: Some(Workspace::Experiments),
            picker: Box::new(kiln::ui::file_picker::FixedFilePicker(Some(mlruns))),
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the runs to load", |app| {
        app.jobs().running_count() == 0
    });
    let before = run_count(&home);
    harness.get_by_label("Import from MLflow…").click();
    // A window's first frame only measures it.
    harness.run_steps(4);
    assert!(
        harness.state().experiments().import_open(),
        "the dialog opened"
    );
    harness.get_by_label("Folder…").click();
    harness.run_steps(3);
    harness.get_by_label("Import").click();
    step_until(&mut harness, "the import", |app| {
        app.experiments().import_outcome().is_some()
    });
    let outcome = harness.state().experiments().import_outcome().cloned();
    let Some(Ok(kiln::ui::panels::experiments::import::Imported { lines, problems })) = outcome
    else {
        panic!("the import failed: {outcome:?}");
    };
    assert!(problems.is_empty(), "{problems:?}");
    assert!(lines[0].contains("mlruns"), "{lines:?}");
    assert!(
        run_count(&home) > before,
        "the MLflow runs are Kiln runs now"
    );
    step_until(&mut harness, "the runs to load again", |app| {
        app.jobs().running_count() == 0
    });
    check(&mut harness, "experiments_import_from_mlflow");
}

fn run_count(home: &Home) -> usize {
    Store::open(home.path())
        .and_then(|s| s.run_details(&RunQuery::default()))
        .map(|runs| runs.len())
        .unwrap_or(0)
}

#[test]
fn pipelines_run_now_turns_every_stage_green() {
    let home = Home::with_runs();
    let project = tempfile::tempdir().expect("a project folder");
    std::fs::copy(penguins(), project.path().join("penguins.csv")).expect("copy the data");
    std::fs::write(
        project.path().join("kiln.toml"),
        r#"[pipeline]
name = "penguins"

[data.train]
path = "penguins.csv"
[data.train.expect]
columns = ["species", "island", "bill_length_mm"]
rows = { min = 100 }

[train]
data = "train"
test_size = 0.25
target = "species"
model = "logistic_regression"
seed = 0

[gates]
accuracy = ">= 0.9"

[register]
model = "penguin-pipeline"
promote_to = "staging"
"#,
    )
    .expect("write kiln.toml");
    let mut harness = app(
        &home,
        AppOptions {
            workspace: Some(Workspace::Pipelines),
            settings: kiln::ui::settings::UiSettings {
                pipeline_project: Some(project.path().join("kiln.toml")),
                ..Default::default()
            },
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the pipeline to be read", |app| {
        app.pipelines().is_read()
    });
    assert!(
        harness
            .state()
            .pipelines()
            .stages()
            .iter()
            .all(|s| matches!(s.shown, Shown::WillRun(_))),
        "a pipeline never run has every stage to do: {:?}",
        harness.state().pipelines().stages()
    );
    let outcome = kittest::run_pipeline_now(&mut harness);
    assert_eq!(outcome.failure, None);
    let model = outcome.model.expect("a version is registered");
    assert_eq!((model.version, model.stage.as_str()), (1, "staging"));
    let stages = harness.state().pipelines().stages().to_vec();
    assert!(
        stages
            .iter()
            .all(|s| matches!(s.shown, Shown::Ran(..) | Shown::UpToDate)),
        "every stage is green: {stages:?}"
    );
    // The durations and the project's temporary path differ from run to run: the picture
    // is taken of the up-to-date state after a second, skipping run.
    harness.get_by_label("Run now").click();
    step_until(&mut harness, "the second run", |app| {
        app.pipelines()
            .outcome()
            .is_some_and(|o| o.as_ref().is_ok_and(|o| o.up_to_date()))
    });
    if let Some(out) = std::env::var_os("KILN_PIPELINE_PNG") {
        harness.run_steps(4);
        let drawn = harness.render().expect("render the window");
        drawn.save(out).expect("write the PNG");
    }
}

#[test]
fn experiments_compare() {
    let home = Home::with_runs();
    let mut harness = experiments_on(&home, Some("compare"));
    step_until(&mut harness, "the comparison", |app| {
        app.jobs().running_count() == 0
    });
    check(&mut harness, "experiments_compare");
}

#[test]
fn experiments_charts() {
    let home = Home::with_runs();
    let mut harness = experiments_on(&home, Some("charts"));
    check(&mut harness, "experiments_charts");
}

#[test]
fn registry() {
    let home = Home::empty();
    let mut harness = app(
        &home,
        AppOptions {
            workspace: Some(Workspace::Registry),
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the window", |_| true);
    check(&mut harness, "registry");
}

/// The Registry workspace on version `version` of `penguins` (as a run's link opens it).
fn registry_on(home: &Home, version: i64) -> Harness<'static, KilnApp> {
    let mut harness = app(home, AppOptions::default());
    harness.state_mut().send(Command::OpenVersion {
        name: "penguins".into(),
        version,
    });
    step_until(&mut harness, "the version", |app| {
        app.registry().shown_version() == Some(version)
    });
    harness
}

#[test]
fn registry_populated() {
    let home = Home::with_registry();
    let mut harness = registry_on(&home, 3);
    check(&mut harness, "registry_populated");
}

#[test]
fn registry_policy() {
    let home = Home::with_registry();
    let mut harness = registry_on(&home, 3);
    harness.get_by_label("Gate policy").click();
    harness.run_steps(2);
    let editor = kiln::ui::panels::registry::POLICY_LABEL;
    harness.get_by_label(editor).focus();
    harness.run_steps(1);
    harness
        .get_by_label(editor)
        .type_text("log_loss = <= 0.3\n");
    harness.run_steps(2);
    harness.get_by_label("Validate").click();
    harness.run_steps(3);
    check(&mut harness, "registry_policy");
}

#[test]
fn registry_whole_timeline() {
    let home = Home::with_registry();
    let mut harness = registry_on(&home, 3);
    harness.get_by_label("Whole registry").click();
    harness.run_steps(3);
    harness.get_by_label("Audit timeline of the whole registry");
    check(&mut harness, "registry_whole_timeline");
}

#[test]
fn registry_model_card() {
    let home = Home::with_registry();
    let mut harness = registry_on(&home, 3);
    harness.get_by_label("Model card").click();
    harness.run_steps(2);
    harness.get_by_label("Copy as Markdown");
    check(&mut harness, "registry_model_card");
}

#[test]
fn experiments_run_versions() {
    let home = Home::with_registry();
    let run_id = Store::open(home.path())
        .expect("store")
        .model_version("penguins", 4)
        .expect("v2")
        .run_id
        .expect("run");
    let mut harness = experiments_on(&home, None);
    harness.state_mut().send(Command::OpenRun(run_id));
    step_until(&mut harness, "the run", |app| {
        app.jobs().running_count() == 0
    });
    check(&mut harness, "experiments_run_versions");
}

#[test]
fn deploy() {
    let home = Home::empty();
    let mut harness = app(
        &home,
        AppOptions {
            workspace: Some(Workspace::Deploy),
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the window", |_| true);
    check(&mut harness, "deploy");
}

/// Thirty seconds of traffic as the monitor reports it, with a shift ramped into one feature
/// from second 10: fixed figures, so the charts are drawn the same on every run.
fn fixed_traffic() -> kiln_core::deploy::simulate::LiveStats {
    use kiln_core::data::profile::Alert;
    use kiln_core::deploy::simulate::{DriftPoint, LiveStats, Percentiles, SecondStats};
    let ramp = |t: f64| ((t - 10.0) / 10.0).clamp(0.0, 1.0);
    let seconds = (0..30u32)
        .map(|t| {
            let wobble = f64::from((t * 7) % 5) * 0.01;
            SecondStats {
                t,
                requests: 100 - u64::from(t % 3),
                errors: u64::from(t == 17),
                latency_ms: Percentiles {
                    p50: 0.42 + wobble,
                    p95: 0.71 + 2.0 * wobble,
                    p99: 1.10 + 4.0 * wobble,
                },
                accuracy: Some(0.97 - 0.25 * ramp(f64::from(t))),
            }
        })
        .collect();
    let columns = [
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
    ];
    let drift = (1..15)
        .map(|i| {
            let t = f64::from(i) * 2.0;
            let scores: Vec<(String, f64, bool)> = columns
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let score = if j == 0 {
                        0.02 + 0.6 * ramp(t)
                    } else {
                        0.02 + 0.01 * j as f64
                    };
                    ((*c).to_owned(), score, score > 0.1)
                })
                .collect();
            let drifted = scores.iter().filter(|s| s.2).count();
            DriftPoint {
                t,
                share: drifted as f64 / columns.len() as f64,
                dataset_drift: false,
                columns: scores,
            }
        })
        .collect();
    LiveStats {
        requests: 2_971,
        errors: 1,
        latency_ms: Percentiles {
            p50: 0.44,
            p95: 0.75,
            p99: 1.21,
        },
        accuracy: Some(0.861),
        predictions: vec![
            ("Adelie".into(), 1_310),
            ("Chinstrap".into(), 598),
            ("Gentoo".into(), 1_062),
        ],
        seconds,
        drift,
        alerts: vec![Alert {
            column: Some("bill_length_mm".into()),
            kind: "column_drift".into(),
            detail: "wasserstein score 0.6200 against threshold 0.1".into(),
        }],
    }
}

#[test]
fn deploy_monitoring() {
    let home = Home::with_registry();
    let mut harness = app(
        &home,
        AppOptions {
            workspace: Some(Workspace::Deploy),
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the servable versions", |_| true);
    harness.state_mut().deploy_mut().show_stats(fixed_traffic());
    harness.run_steps(2);
    harness.get_by_label("Latency (ms) by second");
    check(&mut harness, "deploy_monitoring");
}
