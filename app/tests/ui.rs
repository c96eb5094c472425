//! The window, driven through egui_kittest: workspaces, theme, status bar, opening files.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kiln::ui::file_picker::FixedFilePicker;
use kiln::ui::theme::ThemeChoice;
use kiln::ui::workspace::Workspace;
use kiln::ui::{AppOptions, KilnApp};
use kiln_core::jobs::{JobError, JobState};

mod kittest;

fn harness(home: &std::path::Path, options: AppOptions) -> Harness<'static, KilnApp> {
    kittest::app_harness(
        AppOptions {
            store_home: Some(home.to_path_buf()),
            ..options
        },
        egui::vec2(1200.0, 760.0),
    )
}

/// Steps the harness until `done` holds (jobs run on real threads) or fails after 10 s.
fn step_until(harness: &mut Harness<'_, KilnApp>, what: &str, done: impl Fn(&KilnApp) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    harness.run_steps(2);
}

/// Steps until every job has ended.
fn wait_for_jobs(harness: &mut Harness<'_, KilnApp>, what: &str) {
    step_until(harness, what, |app| app.jobs().running_count() == 0);
}

/// The app opened on Experiments over the store in `home`, its runs loaded.
fn experiments_harness(home: &std::path::Path) -> Harness<'static, KilnApp> {
    let mut harness = harness(
        home,
        AppOptions {
            workspace: Some(Workspace::Experiments),
            ..AppOptions::default()
        },
    );
    harness.run_steps(1);
    wait_for_jobs(&mut harness, "runs to load");
    harness
}

#[test]
fn every_workspace_can_be_selected() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(home.path(), AppOptions::default());
    harness.run_steps(2);
    for (workspace, heading_text) in [
        (Workspace::Experiments, "Experiments"),
        (Workspace::Registry, "Registry"),
        (Workspace::Deploy, "Deploy"),
        (Workspace::Explore, "Explore"),
    ] {
        harness
            .get_by_role_and_label(egui::accesskit::Role::Button, workspace.label())
            .click();
        harness.run_steps(3);
        assert_eq!(harness.state().settings().workspace, workspace);
        assert!(
            harness.get_all_by_label(heading_text).count() >= 2,
            "{heading_text}: navigation entry and heading"
        );
    }
}

#[test]
fn the_deploy_workspace_without_a_registered_model_says_how_to_get_one() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(
        home.path(),
        AppOptions {
            workspace: Some(Workspace::Deploy),
            ..AppOptions::default()
        },
    );
    harness.run_steps(2);
    harness.get_by_label_contains("No registered model yet");
}

#[test]
fn the_theme_switch_changes_the_visuals() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(home.path(), AppOptions::default());
    harness.run_steps(2);
    assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
    harness.get_by_label("Light").click();
    harness.run_steps(3);
    assert_eq!(harness.state().settings().theme, ThemeChoice::Light);
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);
    harness.get_by_label("Dark").click();
    harness.run_steps(3);
    assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
}

#[test]
fn the_status_bar_shows_a_running_job_and_cancels_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(home.path(), AppOptions::default());
    let handle = harness.state().jobs().spawn("Crunching numbers", |ctx| {
        for step in 0.. {
            ctx.check_cancelled()?;
            ctx.progress((step % 100) as f32 / 100.0, format!("step {step}"));
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok::<(), JobError>(())
    });
    harness.run_steps(3);
    harness.get_by_label("Crunching numbers");
    harness.get_by_label("Cancel").click();
    wait_for_jobs(&mut harness, "the job to stop");
    assert_eq!(handle.status().state, JobState::Cancelled);
    harness.get_by_label("cancelled");
    assert!(harness.query_by_label("Cancel").is_none());
}

#[test]
fn a_file_chosen_in_the_dialog_is_opened_fingerprinted_and_remembered() {
    let home = tempfile::tempdir().expect("tempdir");
    let data = home.path().join("tiny.csv");
    std::fs::write(&data, "a,b\n1,2\n").expect("write");
    let mut harness = harness(
        home.path(),
        AppOptions {
            picker: Box::new(FixedFilePicker(Some(data.clone()))),
            ..AppOptions::default()
        },
    );
    harness.run_steps(2);
    harness.get_by_label("Open file…").click();
    step_until(&mut harness, "the file to be read", |app| {
        app.jobs().running_count() == 0 && !app.explore().open_paths().is_empty()
    });
    assert_eq!(harness.state().explore().open_paths(), vec![data.as_path()]);
    assert_eq!(harness.state().settings().recent_files, vec![data.clone()]);
    let sha = kiln_core::store::sha256_hex(b"a,b\n1,2\n");
    step_until(&mut harness, "the profile", |app| {
        app.explore().active().is_some_and(|d| d.profile.is_some())
    });
    harness.get_by_label(&format!("sha256 {}…", &sha[..12]));
}

#[test]
fn a_missing_file_shows_an_error_and_the_window_keeps_working() {
    let home = tempfile::tempdir().expect("tempdir");
    let missing = home.path().join("gone.csv");
    let mut harness = harness(
        home.path(),
        AppOptions {
            open_files: vec![missing],
            ..AppOptions::default()
        },
    );
    wait_for_jobs(&mut harness, "the read to fail");
    harness.get_by_label("Could not open gone.csv");
    assert!(
        harness
            .get_all_by_label_contains("gone.csv: cannot read the file")
            .count()
            >= 1
    );
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "Deploy")
        .click();
    harness.run_steps(3);
    assert_eq!(harness.state().settings().workspace, Workspace::Deploy);
}

#[test]
fn an_unusable_store_is_reported_in_the_status_bar() {
    let home = tempfile::tempdir().expect("tempdir");
    let blocker = home.path().join("file");
    std::fs::write(&blocker, "x").expect("write");
    let mut harness = harness(&blocker.join("store"), AppOptions::default());
    harness.run_steps(2);
    harness.get_by_label_contains("Store unavailable");
    harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "Experiments")
        .click();
    harness.run_steps(3);
    harness.get_by_label_contains("The store could not be opened");
}

#[test]
fn the_experiments_workspace_lists_runs_from_the_store() {
    let home = tempfile::tempdir().expect("tempdir");
    {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        let new = kiln_core::store::NewRun {
            experiment: "churn".into(),
            name: Some("baseline-logreg".into()),
            ..Default::default()
        };
        store
            .record_run(
                &new,
                &[("accuracy".into(), 0.9)],
                kiln_core::store::RunStatus::Finished,
            )
            .expect("run");
    }
    let harness = experiments_harness(home.path());
    harness.get_by_label("baseline-logreg");
    harness.get_by_label("1 of 1 runs · 0 selected");
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/profile")
        .join(name)
}

#[test]
fn opening_a_file_shows_rows_then_a_column_s_statistics_and_histogram() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = profiled_penguins(home.path());
    harness.get_by_label_contains("344 rows × 8 columns");
    // The grid shows the first rows.
    assert!(harness.get_all_by_label("Adelie").count() > 3);
    // The first match is the column list (drawn before the grid's header).
    harness
        .get_all_by_label("bill_length_mm")
        .next()
        .expect("column in the list")
        .click();
    harness.run_steps(3);
    harness.get_by_label("Histogram of bill_length_mm");
    // pandas: df.bill_length_mm.mean() == 43.92192982456141, .median() == 44.45
    harness.get_by_label("43.9219");
    harness.get_by_label("44.4500");
    harness.get_by_label("2 (0.6%)");
}

/// The app with the penguins fixture opened and profiled.
fn profiled_penguins(home: &std::path::Path) -> Harness<'static, KilnApp> {
    let mut harness = harness(
        home,
        AppOptions {
            open_files: vec![fixture("penguins.csv")],
            ..AppOptions::default()
        },
    );
    step_until(&mut harness, "the profile", |app| {
        app.explore().active().is_some_and(|d| d.profile.is_some())
    });
    harness
}

fn filtered(home: &std::path::Path, expression: &str) -> Harness<'static, KilnApp> {
    let mut harness = profiled_penguins(home);
    harness.get_by_label("Filter").focus();
    harness.run_steps(2);
    harness.get_by_label("Filter").type_text(expression);
    harness.run_steps(2);
    harness.get_by_label("Apply").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the filter");
    harness
}

#[test]
fn a_filter_shows_the_matching_rows() {
    let home = tempfile::tempdir().expect("tempdir");
    let harness = filtered(home.path(), "species == \"Adelie\" and bill_length_mm > 40");
    // pandas: ((df.species == "Adelie") & (df.bill_length_mm > 40)).sum() == 51
    harness.get_by_label("51 of 344 rows");
}

#[test]
fn a_bad_filter_says_what_is_wrong() {
    let home = tempfile::tempdir().expect("tempdir");
    let harness = filtered(home.path(), "species == Adelie");
    assert!(
        harness
            .get_all_by_label_contains("put text in quotes")
            .count()
            >= 1
    );
}

#[test]
fn the_welcome_page_offers_the_sample_datasets() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(home.path(), AppOptions::default());
    harness.run_steps(2);
    harness.get_by_label("Sample datasets");
    harness.get_by_label("penguins.csv").click();
    step_until(&mut harness, "the sample to load", |app| {
        app.explore().active().is_some_and(|d| d.profile.is_some())
    });
    assert!(home.path().join("samples/penguins.csv").exists());
}

#[test]
fn a_column_can_be_read_as_another_type_and_given_a_role() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = profiled_penguins(home.path());
    harness
        .get_all_by_label("year")
        .next()
        .expect("column in the list")
        .click();
    harness.run_steps(3);
    harness.get_by_label("type").click();
    harness.run_steps(2);
    harness.get_by_label("categorical").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the re-profile");
    let kind = |app: &KilnApp| {
        let dataset = app.explore().active().expect("dataset");
        let profile = dataset.profile.as_ref().expect("profile");
        profile
            .columns
            .iter()
            .find(|c| c.name == "year")
            .expect("year")
            .kind
    };
    assert_eq!(
        kind(harness.state()),
        kiln_core::data::profile::ColumnKind::Categorical
    );
    harness.get_by_label_contains("categorical · str");

    harness.get_by_label("role").click();
    harness.run_steps(2);
    harness.get_by_label("target").click();
    harness.run_steps(2);
    let dataset = harness.state().explore().active().expect("dataset");
    assert_eq!(
        dataset
            .overrides
            .with_role(kiln_core::data::schema::ColumnRole::Target),
        vec!["year".to_string()]
    );
}

/// Penguins profiled, species marked as the target in its column detail (the Train tab
/// picks it up), and the Train tab open.
fn penguins_train_tab(home: &std::path::Path) -> Harness<'static, KilnApp> {
    let mut harness = profiled_penguins(home);
    harness
        .get_all_by_label("species")
        .next()
        .expect("column")
        .click();
    harness.run_steps(3);
    harness.get_by_label("role").click();
    harness.run_steps(2);
    harness.get_by_label("target").click();
    harness.run_steps(2);
    harness.get_by_label("Train").click();
    harness.run_steps(3);
    harness
}

#[test]
fn the_train_tab_trains_the_target_column_and_links_to_experiments() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = penguins_train_tab(home.path());
    harness.get_by_label("Start training").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "training");
    harness.get_by_label("accuracy");
    harness.get_by_label("Open in Experiments").click();
    harness.run_steps(2);
    assert_eq!(harness.state().settings().workspace, Workspace::Experiments);
    wait_for_jobs(&mut harness, "runs to load");
    harness.get_by_label("logistic_regression");
}

#[test]
fn runs_are_filtered_selected_and_compared() {
    let home = tempfile::tempdir().expect("tempdir");
    {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        for (name, model, accuracy) in [
            ("run-a", "svm", 0.91),
            ("run-b", "ridge", 0.7),
            ("run-c", "svm", 0.95),
        ] {
            let new = kiln_core::store::NewRun {
                experiment: "churn".into(),
                name: Some(name.into()),
                params: vec![("model".into(), model.into()), ("C".into(), "1".into())],
                ..Default::default()
            };
            store
                .record_run(
                    &new,
                    &[("accuracy".into(), accuracy)],
                    kiln_core::store::RunStatus::Finished,
                )
                .expect("run");
        }
    }
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("Filter runs").focus();
    harness.run_steps(2);
    harness
        .get_by_label("Filter runs")
        .type_text("params.model = 'svm' or metrics.accuracy < 0.8");
    harness.run_steps(1);
    harness.get_by_label("Apply filter").click();
    harness.run_steps(2);
    harness.get_by_label("3 of 3 runs · 0 selected");

    harness.get_by_label("run-a").click_accesskit();
    harness.get_by_label("run-b").click_accesskit();
    harness.run_steps(2);
    harness.get_by_label("Compare").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the comparison");
    harness.get_by_label("Compare runs");
    harness.get_by_label("Parameters");
    harness.get_by_label("Metrics");
    // Only the differing parameter is listed: the model, not C.
    assert!(harness.query_by_label("C").is_none());
    harness.get_by_label("ridge");
    harness.get_by_label("Back to runs").click();
    harness.run_steps(2);
    harness.get_by_label("3 of 3 runs · 2 selected");

    harness.get_by_label("aggregate rows").click();
    harness.run_steps(2);
    harness.get_by_label("model").click();
    harness.run_steps(3);
    harness.get_by_label("accuracy (mean ± std)");
    harness.get_by_label("0.9300 ± 0.0283");
}

#[test]
fn a_sweep_from_the_train_tab_shows_every_trial() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = penguins_train_tab(home.path());
    harness.get_by_label("sweep").focus();
    harness.run_steps(2);
    harness.get_by_label("sweep").type_text("C=0.1,1,10");
    harness.run_steps(2);
    harness.get_by_label("Start training").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the sweep");
    harness.get_by_label("Trials (3)");
    harness.get_by_label_contains("Sweep of 3 trials");
}

#[test]
fn a_run_opens_in_full_and_can_be_annotated_and_deleted() {
    let home = tempfile::tempdir().expect("tempdir");
    let run_id = {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        let new = kiln_core::store::NewRun {
            experiment: "churn".into(),
            name: Some("baseline".into()),
            params: vec![("model".into(), "svm".into())],
            ..Default::default()
        };
        store
            .record_run(
                &new,
                &[("accuracy".into(), 0.9)],
                kiln_core::store::RunStatus::Finished,
            )
            .expect("run")
            .id
    };
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("open").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the run");
    harness.get_by_label(&run_id);
    harness.get_by_label("Note").focus();
    harness.run_steps(2);
    harness.get_by_label("Note").type_text("looks overfit");
    harness.run_steps(1);
    harness.get_by_label("Save note").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the reload");
    harness.get_by_label("note saved");
    harness.get_by_label("Delete run").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the reload");
    harness.get_by_label("Restore run");
    let store = harness.state().store().expect("store").clone();
    let run = store.run(&run_id).expect("run");
    assert_eq!(run.note, "looks overfit");
    assert!(run.deleted_at.is_some());
}

#[test]
fn charts_show_parallel_coordinates_and_parameter_importance() {
    let home = tempfile::tempdir().expect("tempdir");
    {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        for depth in 1..=5 {
            let new = kiln_core::store::NewRun {
                experiment: "trees".into(),
                params: vec![
                    ("model".into(), "random_forest".into()),
                    ("max_depth".into(), depth.to_string()),
                ],
                ..Default::default()
            };
            store
                .record_run(
                    &new,
                    &[("accuracy".into(), 0.6 + depth as f64 / 20.0)],
                    kiln_core::store::RunStatus::Finished,
                )
                .expect("run");
        }
    }
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("Charts").click();
    harness.run_steps(1);
    wait_for_jobs(&mut harness, "charts to compute");
    harness.run_steps(3);
    harness.get_by_label("5 of 5 runs inside the brushes");
    harness.get_by_label_contains("Parameter importance for accuracy (rank correlation");
    harness.get_by_label("max_depth");
    harness.get_by_label("+1.000");
}

#[test]
fn the_shown_runs_export_to_csv() {
    let home = tempfile::tempdir().expect("tempdir");
    {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        let new = kiln_core::store::NewRun {
            experiment: "e".into(),
            params: vec![("model".into(), "ridge".into())],
            ..Default::default()
        };
        store
            .record_run(
                &new,
                &[("r2".into(), 0.5)],
                kiln_core::store::RunStatus::Finished,
            )
            .expect("run");
    }
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("Export CSV").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the export");
    harness.get_by_label_contains("exported to");
    let exported: Vec<_> = std::fs::read_dir(home.path().join("exports"))
        .expect("exports")
        .collect();
    assert_eq!(exported.len(), 1);
    let text = std::fs::read_to_string(exported[0].as_ref().expect("entry").path()).expect("csv");
    assert!(text.starts_with(
        "run_id,experiment,status,model,start_time,duration_s,params.model,metrics.r2"
    ));
}

#[test]
fn views_are_saved_and_step_metrics_can_show_their_minimum() {
    let home = tempfile::tempdir().expect("tempdir");
    {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        let run = store
            .start_run(&kiln_core::store::NewRun {
                experiment: "e".into(),
                name: Some("curve".into()),
                ..Default::default()
            })
            .expect("run");
        store
            .log_metric_steps(&run.id, "loss", &[(0, 0.9), (1, 0.2), (2, 0.4)])
            .expect("steps");
        store
            .finish_run(&run.id, kiln_core::store::RunStatus::Finished, None)
            .expect("finish");
    }
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("0.4000");
    harness.get_by_label("step metrics").click();
    harness.run_steps(2);
    harness.get_by_label("min").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the summaries");
    harness.get_by_label("0.2000");

    kittest::type_into(&mut harness, "name", "curves");
    harness.get_by_label("Save view").click();
    harness.run_steps(2);
    assert_eq!(harness.state().settings().saved_views[0].name, "curves");
}

#[test]
fn the_column_chooser_hides_and_shows_columns() {
    let home = tempfile::tempdir().expect("tempdir");
    {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        let new = kiln_core::store::NewRun {
            experiment: "e".into(),
            ..Default::default()
        };
        store
            .record_run(
                &new,
                &[("accuracy".into(), 0.5), ("f1_macro".into(), 0.4)],
                kiln_core::store::RunStatus::Finished,
            )
            .expect("run");
    }
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("accuracy");
    harness.get_by_label("Columns").click();
    harness.run_steps(2);
    harness.get_by_label("metrics.accuracy").click();
    harness.run_steps(3);
    assert!(
        harness.query_by_label("accuracy").is_none(),
        "the accuracy column is hidden"
    );
    harness.get_by_label("f1_macro");
}

#[test]
fn grouped_runs_compare_as_mean_and_std_bands() {
    let home = tempfile::tempdir().expect("tempdir");
    {
        let store = kiln_core::store::Store::open(home.path()).expect("store");
        for (i, model) in ["svm", "svm", "ridge", "ridge"].iter().enumerate() {
            let run = store
                .start_run(&kiln_core::store::NewRun {
                    experiment: "e".into(),
                    name: Some(format!("r{i}")),
                    params: vec![("model".into(), (*model).into())],
                    ..Default::default()
                })
                .expect("run");
            let points: Vec<(i64, f64)> = (0..50)
                .map(|s| (s, 1.0 / (s as f64 + 1.0) + i as f64 * 0.01))
                .collect();
            store
                .log_metric_steps(&run.id, "loss", &points)
                .expect("series");
            store
                .finish_run(&run.id, kiln_core::store::RunStatus::Finished, None)
                .expect("finish");
        }
    }
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("aggregate rows").click();
    harness.run_steps(2);
    harness.get_by_label("model").click();
    harness.run_steps(2);
    for name in ["r0", "r1", "r2", "r3"] {
        harness.get_by_label(name).click_accesskit();
    }
    harness.run_steps(2);
    harness.get_by_label("Compare").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the comparison");
    harness.get_by_label("mean ± std by model");
    harness.get_by_label("wall time");
}

/// A store in `home` with one finished run per name (experiment "churn", model svm).
fn runs_named(home: &std::path::Path, names: &[&str]) -> Vec<String> {
    let store = kiln_core::store::Store::open(home).expect("store");
    names
        .iter()
        .map(|name| {
            let new = kiln_core::store::NewRun {
                experiment: "churn".into(),
                name: Some((*name).into()),
                params: vec![("model".into(), "svm".into())],
                ..Default::default()
            };
            store
                .record_run(
                    &new,
                    &[("accuracy".into(), 0.9)],
                    kiln_core::store::RunStatus::Finished,
                )
                .expect("run")
                .id
        })
        .collect()
}

/// A mouse click at `at`, as a person makes it (not an accessibility action).
fn click_at(harness: &mut Harness<'_, KilnApp>, at: egui::Pos2) {
    harness.hover_at(at);
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    harness.run_steps(3);
}

/// The rects of the rows' "open" buttons, top to bottom.
fn open_buttons(harness: &Harness<'_, KilnApp>) -> Vec<egui::Rect> {
    let mut rects: Vec<egui::Rect> = harness.get_all_by_label("open").map(|n| n.rect()).collect();
    rects.sort_by(|a, b| a.min.y.total_cmp(&b.min.y));
    rects
}

#[test]
fn each_run_row_shows_its_check_box_name_and_open_button_on_one_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let long = "a-very-long-run-name-that-cannot-fit-in-the-run-column-of-the-table-at-all";
    let ids = runs_named(home.path(), &["short", long]);
    let mut harness = experiments_harness(home.path());
    harness.run_steps(2);
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1200.0, 760.0));
    let run_header = harness
        .get_by_role_and_label(egui::accesskit::Role::Button, "Run")
        .rect();
    let next_header = harness.get_by_label("Experiment").rect();
    // The check box carries the run's name as its text: one widget, one rect.
    let mut checks: Vec<(&str, egui::Rect)> = ["short", long]
        .into_iter()
        .map(|name| {
            let node = harness.get_by_role_and_label(egui::accesskit::Role::CheckBox, name);
            (name, node.rect())
        })
        .collect();
    checks.sort_by(|a, b| a.1.min.y.total_cmp(&b.1.min.y));
    let opens = open_buttons(&harness);
    assert_eq!(opens.len(), checks.len(), "one open button per row");
    for (&(name, check), &open) in checks.iter().zip(&opens) {
        assert!(
            (check.center().y - open.center().y).abs() < 1.0,
            "{name}: check box {check:?} and open {open:?} share one line"
        );
        assert!(
            check.height() <= 24.0,
            "{name}: one normal-height line, got {check:?}"
        );
        assert!(
            check.min.y >= run_header.max.y && window.contains_rect(check),
            "{name}: below the header and inside the window: {check:?}"
        );
        assert!(
            check.min.x >= run_header.min.x - 8.0 && check.max.x <= open.min.x,
            "{name}: check box and name {check:?} stay in the run column, left of open {open:?}"
        );
        let font = egui::TextStyle::Button.resolve(&harness.ctx.global_style());
        let open_text = harness.ctx.fonts_mut(|fonts| {
            fonts
                .layout_no_wrap("open".to_owned(), font, egui::Color32::WHITE)
                .size()
                .x
        });
        // A button squeezed by its column truncates its text ("op…") but keeps the rect.
        let padding = harness.ctx.global_style().spacing.button_padding.x;
        assert!(
            open.width() + 0.5 >= open_text + 2.0 * padding,
            "{name}: the open button {open:?} is wide enough for its text ({open_text} points)"
        );
        assert!(
            open.max.x <= next_header.min.x,
            "{name}: open {open:?} stays left of the Experiment column {next_header:?}"
        );
    }

    // A person ticks the box where it is drawn: click its left end, where the box is.
    let check = harness
        .get_by_role_and_label(egui::accesskit::Role::CheckBox, "short")
        .rect();
    click_at(
        &mut harness,
        egui::pos2(check.min.x + 6.0, check.center().y),
    );
    assert!(
        harness
            .state_mut()
            .experiments_mut()
            .selected()
            .contains(&ids[0]),
        "the clicked run is selected"
    );
    harness.get_by_label("2 of 2 runs · 1 selected");
}

/// Steps until `label` is on screen (jobs run on real threads) or fails after 10 s.
fn step_until_shown(harness: &mut Harness<'_, KilnApp>, label: &str) {
    let start = Instant::now();
    while harness.query_by_label(label).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {label:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
}

#[test]
fn a_rename_runs_as_a_job_and_the_runs_list_shows_the_new_name() {
    let home = tempfile::tempdir().expect("tempdir");
    let ids = runs_named(home.path(), &["before"]);
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("open").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the run");
    harness.get_by_label("Name").focus();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.get_by_label("Name").type_text("after");
    harness.run_steps(1);
    harness.get_by_label("Rename").click();
    harness.run_steps(2);
    assert!(
        harness
            .state()
            .jobs()
            .statuses()
            .iter()
            .any(|j| j.name == "Renaming the run"),
        "the store write is a background job"
    );
    wait_for_jobs(&mut harness, "the rename");
    step_until_shown(&mut harness, "renamed");
    let store = harness.state().store().expect("store").clone();
    assert_eq!(store.run(&ids[0]).expect("run").name, "after");
    harness.get_by_label("Back to runs").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the runs to reload");
    step_until_shown(&mut harness, "after");
    assert!(harness.query_by_label("before").is_none());
}

#[test]
fn a_failed_edit_says_why_and_changes_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let ids = runs_named(home.path(), &["kept"]);
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("open").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the run");
    harness.get_by_label("Name").focus();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.key_press(egui::Key::Backspace);
    harness.run_steps(1);
    harness.get_by_label("Rename").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the rename");
    step_until_shown(&mut harness, "invalid run name: it is empty");
    let store = harness.state().store().expect("store").clone();
    assert_eq!(store.run(&ids[0]).expect("run").name, "kept");
}

#[test]
fn a_deleted_run_leaves_the_runs_list() {
    let home = tempfile::tempdir().expect("tempdir");
    runs_named(home.path(), &["stays", "goes"]);
    let mut harness = experiments_harness(home.path());
    harness.get_by_label("2 of 2 runs · 0 selected");
    let check = harness
        .get_by_role_and_label(egui::accesskit::Role::CheckBox, "goes")
        .rect();
    let open = open_buttons(&harness)
        .into_iter()
        .find(|open| (open.center().y - check.center().y).abs() < 1.0)
        .expect("the open button of the run's row");
    click_at(&mut harness, open.center());
    wait_for_jobs(&mut harness, "the run");
    harness.get_by_label("Delete run").click();
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the delete");
    step_until_shown(&mut harness, "Restore run");
    harness.get_by_label("Back to runs").click();
    harness.run_steps(2);
    step_until_shown(&mut harness, "1 of 1 runs · 0 selected");
    assert!(harness.query_by_label("goes").is_none());
}

/// Presses Ctrl+K (Cmd+K on a Mac) and waits for the palette's text field to take the keys.
fn open_palette(harness: &mut Harness<'_, KilnApp>) {
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    harness.run_steps(3);
    assert!(harness.state().palette_open(), "Ctrl+K opens the palette");
    assert!(
        harness.get_by_label("Command").is_focused(),
        "typing goes to the palette"
    );
}

#[test]
fn the_command_palette_lists_commands_with_shortcuts_filters_and_runs_one() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(home.path(), AppOptions::default());
    harness.run_steps(2);
    open_palette(&mut harness);
    // Every command with its shortcut, from the one table the key handling reads.
    for entry in kiln::ui::command::command_table() {
        if entry.command == kiln::ui::command::Command::OpenPalette {
            continue;
        }
        let label = match &entry.shortcut {
            Some(shortcut) => format!("{} {}", entry.label, harness.ctx.format_shortcut(shortcut)),
            None => entry.label.to_owned(),
        };
        harness.get_by_label(&label);
    }
    harness.get_by_label("Go to Registry Ctrl+3");

    harness.get_by_label("Command").type_text("regis");
    harness.run_steps(2);
    assert!(harness.query_by_label("Go to Explore Ctrl+1").is_none());
    harness.get_by_label("Go to Registry Ctrl+3");
    harness.key_press(egui::Key::Enter);
    harness.run_steps(3);
    assert_eq!(harness.state().settings().workspace, Workspace::Registry);
    assert!(
        !harness.state().palette_open(),
        "running a command closes it"
    );
}

#[test]
fn the_palette_runs_a_clicked_command_and_escape_closes_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(home.path(), AppOptions::default());
    harness.run_steps(2);
    open_palette(&mut harness);
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(!harness.state().palette_open(), "Escape closes the palette");
    assert_eq!(harness.state().settings().workspace, Workspace::Explore);

    open_palette(&mut harness);
    harness.get_by_label("Command").type_text("light");
    harness.run_steps(2);
    harness.get_by_label("Light theme Ctrl+Shift+L").click();
    harness.run_steps(3);
    assert_eq!(harness.state().settings().theme, ThemeChoice::Light);
    assert!(!harness.state().palette_open());

    // The same table drives the keys without the palette.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num2);
    harness.run_steps(3);
    assert_eq!(harness.state().settings().workspace, Workspace::Experiments);
    harness.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::D,
    );
    harness.run_steps(3);
    assert_eq!(harness.state().settings().theme, ThemeChoice::Dark);
}

#[test]
fn compare_from_the_palette_compares_the_ticked_runs() {
    let home = tempfile::tempdir().expect("tempdir");
    runs_named(home.path(), &["left", "right"]);
    let mut harness = experiments_harness(home.path());
    for name in ["left", "right"] {
        harness
            .get_by_role_and_label(egui::accesskit::Role::CheckBox, name)
            .click();
        harness.run_steps(2);
    }
    harness.get_by_label("2 of 2 runs · 2 selected");
    open_palette(&mut harness);
    harness.get_by_label("Command").type_text("compare");
    harness.run_steps(2);
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    wait_for_jobs(&mut harness, "the comparison");
    harness.get_by_label("Compare runs");
}
