//! Every file of the bad-input corpus either loads or fails with an error that names the file
//! and says what is wrong (and where); none panics.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;

use kiln_core::data::{DataError, LoadOptions, load_table};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    file: String,
    expect: String,
    keywords: Vec<String>,
    note: String,
}

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bad")
}

#[test]
fn every_file_in_the_bad_input_corpus_gets_the_right_outcome() {
    let manifest: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("manifest.json")).unwrap())
            .unwrap();
    assert!(manifest.len() >= 30);
    let mut problems = Vec::new();
    for case in &manifest {
        let path = corpus().join(&case.file);
        let result = load_table(&path, &LoadOptions::default(), |_, _| true);
        match (case.expect.as_str(), result) {
            ("error", Ok(table)) => problems.push(format!(
                "{}: loaded {} rows but should fail ({})",
                case.file,
                table.frame.height(),
                case.note
            )),
            ("error", Err(error)) => {
                let message = error.to_string();
                if !message.contains(&case.file) {
                    problems.push(format!(
                        "{}: the error does not name the file: {message}",
                        case.file
                    ));
                }
                // Keywords must be in the reason, not just in the file name.
                let reason = message
                    .replacen(&path.display().to_string(), "", 1)
                    .to_lowercase();
                for keyword in &case.keywords {
                    if !reason.contains(&keyword.to_lowercase()) {
                        problems.push(format!(
                            "{}: '{keyword}' missing from: {message}",
                            case.file
                        ));
                    }
                }
            }
            (_, Ok(table)) => {
                let warnings = table.warnings.join(" | ").to_lowercase();
                for keyword in case.keywords.iter().filter(|k| !k.is_empty()) {
                    if !warnings.contains(&keyword.to_lowercase()) {
                        problems.push(format!(
                            "{}: expected a warning about '{keyword}', got: {warnings}",
                            case.file
                        ));
                    }
                }
            }
            (_, Err(error)) => problems.push(format!(
                "{}: should load ({}) but: {error}",
                case.file, case.note
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_missing_file_names_the_path() {
    let err = load_table(
        Path::new("/no/such/data.csv"),
        &LoadOptions::default(),
        |_, _| true,
    )
    .expect_err("missing");
    assert!(matches!(err, DataError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with("/no/such/data.csv: cannot read the file"),
        "{err}"
    );
}

#[test]
fn a_folder_is_not_a_data_file() {
    let err = load_table(&corpus(), &LoadOptions::default(), |_, _| true).expect_err("folder");
    assert!(err.to_string().contains("folder"), "{err}");
}

#[test]
fn loading_can_be_cancelled() {
    let err = load_table(
        &corpus().join("semicolons.csv"),
        &LoadOptions::default(),
        |_, _| false,
    )
    .expect_err("cancel");
    assert!(matches!(err, DataError::Cancelled));
}

#[test]
fn a_file_too_large_for_memory_says_so_and_a_sample_still_opens() {
    let path = corpus().join("semicolons.csv");
    let tight = LoadOptions {
        memory_limit: Some(10),
        ..LoadOptions::default()
    };
    let err = load_table(&path, &tight, |_, _| true).expect_err("too large");
    assert!(matches!(err, DataError::TooLarge { .. }));
    assert!(err.to_string().contains("open a sample"), "{err}");
    let sample = LoadOptions {
        max_rows: Some(2),
        ..tight
    };
    let table = load_table(&path, &sample, |_, _| true).expect("a sample loads");
    assert!(table.frame.height() <= 2);
}
