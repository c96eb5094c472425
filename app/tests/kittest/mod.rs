//! The whole app in an egui_kittest harness, shared by the UI tests and the GUI benches.

#![allow(dead_code, clippy::expect_used)]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use kiln::ui::{AppOptions, KilnApp};
use kiln_core::jobs::JobRunner;
use kiln_core::store::Store;
use kiln_core::train::TrainRequest;

/// The app built from `options` in a window of `size` points, drawn as eframe would.
pub fn app_harness(options: AppOptions, size: egui::Vec2) -> Harness<'static, KilnApp> {
    Harness::builder().with_size(size).build_ui_state(
        |ui, app: &mut KilnApp| {
            app.logic(&ui.ctx().clone());
            app.ui(ui);
        },
        KilnApp::new(options),
    )
}

/// The app on `workspace` over the store in `home`, in a window of `size`, one frame drawn.
pub fn workspace_harness(
    home: &std::path::Path,
    workspace: kiln::ui::workspace::Workspace,
    options: AppOptions,
    size: egui::Vec2,
) -> Harness<'static, KilnApp> {
    let mut harness = app_harness(
        AppOptions {
            store_home: Some(home.to_path_buf()),
            workspace: Some(workspace),
            ..options
        },
        size,
    );
    harness.run_steps(1);
    harness
}

/// Focuses the text field labelled `label` and types `text` into it.
pub fn type_into(harness: &mut Harness<'_, KilnApp>, label: &str, text: &str) {
    use egui_kittest::kittest::Queryable;
    harness.get_by_label(label).focus();
    harness.run_steps(1);
    harness.get_by_label(label).type_text(text);
    harness.run_steps(2);
}

/// One mouse-wheel scroll of `dy` points (negative scrolls down), as a trackpad sends it.
pub fn scroll(harness: &mut Harness<'_, KilnApp>, dy: f32) {
    harness.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, dy),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    });
}

/// A store in `home` with one model, `penguins`, registered from a trained run.
pub fn registered_penguins(home: &std::path::Path) -> String {
    let store = Store::open(home).expect("store");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/penguins.csv");
    let request = TrainRequest {
        data,
        test: None,
        test_size: 0.25,
        target: "species".into(),
        drop: Vec::new(),
        model: "logistic_regression".into(),
        params: Default::default(),
        experiment: "Default".into(),
        seed: 42,
        cv: None,
        steps: Default::default(),
        schema: Default::default(),
    };
    let train_store = store.clone();
    let outcome = JobRunner::new()
        .spawn("train", move |ctx| {
            kiln_core::train::train(&train_store, &request, ctx)
        })
        .wait()
        .expect("trained");
    kiln_core::registry::register_run(&store, &outcome.run_id, "penguins", "penguin species")
        .expect("registered");
    outcome.run_id
}

/// Steps until `done` holds (jobs run on real threads), failing after 20 s.
pub fn step_until(
    harness: &mut Harness<'_, KilnApp>,
    what: &str,
    done: impl Fn(&Harness<'_, KilnApp>) -> bool,
) {
    let start = Instant::now();
    while !(done(harness) && harness.state().jobs().running_count() == 0) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    harness.run_steps(2);
}

/// Clicks Pipelines' "Run now", waits for the run and the project's re-read, and returns how
/// the run ended (failing the test when the pipeline could not run at all).
pub fn run_pipeline_now(
    harness: &mut Harness<'_, KilnApp>,
) -> kiln_core::pipeline::PipelineOutcome {
    use egui_kittest::kittest::Queryable;
    harness.get_by_label("Run now").click();
    step_until(harness, "the pipeline run", |h| {
        let pipelines = h.state().pipelines();
        pipelines.outcome().is_some() && pipelines.is_read()
    });
    match harness.state().pipelines().outcome().cloned() {
        Some(Ok(outcome)) => outcome,
        other => panic!("the pipeline could not run: {other:?}"),
    }
}
