//! Kiln's report equals Evidently 0.7.23's on the fixtures `make_drift_fixtures.py` made with
//! Evidently itself: same columns, same test chosen, same verdicts, same share and dataset
//! verdict, and scores and PSI within 1e-9 relative (to at least 1e-6, for p-values all but 0).
//! The largest difference seen is about 4e-12: summation order, not method.

use std::path::PathBuf;

use serde::Deserialize;

use super::*;
use crate::data::{LoadOptions, load_table};

#[derive(Deserialize)]
struct Expected {
    drifted: usize,
    share: f64,
    dataset_drift: bool,
    columns: Vec<ExpectedColumn>,
}

#[derive(Deserialize)]
struct ExpectedColumn {
    column: String,
    kind: ColumnKind,
    method: DriftMethod,
    score: f64,
    threshold: f64,
    drifted: bool,
    psi: f64,
}

const CASES: [&str; 6] = [
    "small_shifted",
    "small_equal",
    "small_resample",
    "large_shifted",
    "large_resample",
    "ks_asymptotic",
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/drift")
}

fn load(name: &str) -> DataFrame {
    let path = fixtures().join(name);
    load_table(&path, &LoadOptions::default(), |_, _| true)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .frame
}

/// Relative difference, with an absolute floor for numbers that are all but zero.
fn difference(actual: f64, expected: f64) -> f64 {
    (actual - expected).abs() / expected.abs().max(1e-6)
}

#[test]
fn kiln_agrees_with_evidently_on_every_fixture() {
    let mut worst = (0.0f64, String::new());
    for case in CASES {
        let text = std::fs::read_to_string(fixtures().join(format!("{case}.json")))
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected: Expected = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let reference = load(&format!("{case}_reference.csv"));
        let current = load(&format!("{case}_current.csv"));
        let report = drift_report(&reference, &current, &DriftOptions::default())
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(report.columns.len(), expected.columns.len(), "{case}");
        for want in &expected.columns {
            let got = report
                .columns
                .iter()
                .find(|c| c.column == want.column)
                .unwrap_or_else(|| panic!("{case}: no column {}", want.column));
            let at = format!("{case}.{}", want.column);
            assert_eq!(got.kind, want.kind, "{at}");
            assert_eq!(got.method, want.method, "{at}");
            assert_eq!(got.threshold, want.threshold, "{at}");
            assert_eq!(got.drifted, want.drifted, "{at}: score {}", got.score);
            for (what, a, e) in [("score", got.score, want.score), ("psi", got.psi, want.psi)] {
                let d = difference(a, e);
                assert!(d < 1e-9, "{at} {what}: kiln {a} evidently {e}");
                if d > worst.0 {
                    worst = (d, format!("{at} {what}"));
                }
            }
        }
        assert_eq!(report.drifted, expected.drifted, "{case}");
        assert!((report.share - expected.share).abs() < 1e-15, "{case}");
        assert_eq!(report.dataset_drift, expected.dataset_drift, "{case}");
    }
    eprintln!(
        "largest relative difference from Evidently: {:e} ({})",
        worst.0, worst.1
    );
}
