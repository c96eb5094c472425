//! The Train tab's "Save as pipeline…" through the real app: the tab's choices become a
//! kiln.toml that the Pipelines workspace opens and runs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;
use kiln::ui::AppOptions;
use kiln::ui::file_picker::FixedFilePicker;
use kiln::ui::workspace::Workspace;

mod kittest;

fn penguins() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/profile/penguins.csv")
}

#[test]
fn save_as_pipeline_writes_the_train_tab_s_choices_and_the_pipeline_runs_them() {
    let home = tempfile::tempdir().expect("tempdir");
    let project = home.path().join("project");
    std::fs::create_dir_all(&project).expect("project folder");
    let data = project.join("penguins.csv");
    std::fs::copy(penguins(), &data).expect("copy penguins");
    // The fixed picker keeps the suggested extension: kiln.csv is answered as kiln.toml.
    let mut harness = kittest::app_harness(
        AppOptions {
            store_home: Some(home.path().to_path_buf()),
            open_files: vec![data],
            explore_view: Some("train:species".into()),
            picker: Box::new(FixedFilePicker(Some(project.join("kiln.csv")))),
            ..AppOptions::default()
        },
        egui::vec2(1200.0, 760.0),
    );
    kittest::step_until(&mut harness, "the profile", |h| {
        h.state()
            .explore()
            .active()
            .is_some_and(|d| d.profile.is_some())
    });
    harness.get_by_label("classifier");
    // A click in the field puts the cursor after the form's "42".
    harness.get_by_label("seed").click();
    harness.run_steps(2);
    harness.get_by_label("seed").type_text("7");
    harness.run_steps(2);
    harness.get_by_label("Save as pipeline…").click();
    kittest::step_until(&mut harness, "the saved project", |h| {
        h.state().pipelines().is_read()
    });

    assert_eq!(harness.state().settings().workspace, Workspace::Pipelines);
    let written = project.join("kiln.toml");
    assert_eq!(harness.state().pipelines().path(), Some(written.as_path()));
    let file = kiln_core::pipeline::PipelineFile::load(&written).expect("it parses");
    assert_eq!(file.name, "penguins");
    assert_eq!(
        file.data.get("train").map(|d| d.path.clone()),
        Some(PathBuf::from("penguins.csv")),
        "the data is named relative to the project"
    );
    assert_eq!(file.train.target, "species");
    assert_eq!(file.train.model, "logistic_regression");
    assert_eq!(file.train.seed, 427, "the seed field held 42 before typing");
    assert_eq!(file.model_name(), "penguins");

    let outcome = kittest::run_pipeline_now(&mut harness);
    assert_eq!(outcome.failure, None);
    let model = outcome.model.expect("a version is registered");
    assert_eq!((model.version, model.stage.as_str()), (1, "staging"));
}
