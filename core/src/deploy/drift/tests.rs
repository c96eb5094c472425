//! Specifications of the report: which test each column gets, and the dataset verdict.

use super::*;

fn frame(columns: Vec<Column>) -> DataFrame {
    DataFrame::new_infer_height(columns).unwrap_or_else(|e| panic!("{e}"))
}

fn spread(n: usize, shift: f64) -> Vec<f64> {
    // A deterministic, well-spread sample: a low-discrepancy sequence mapped to [-2, 2].
    (0..n)
        .map(|i| ((i as f64 * 0.618_033_988_749_895) % 1.0) * 4.0 - 2.0 + shift)
        .collect()
}

fn report(reference: &DataFrame, current: &DataFrame) -> DriftReport {
    drift_report(reference, current, &DriftOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn column<'a>(report: &'a DriftReport, name: &str) -> &'a ColumnDrift {
    report
        .columns
        .iter()
        .find(|c| c.column == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn a_small_reference_gets_tests_and_a_large_one_distances() {
    let small = frame(vec![Column::new("x".into(), spread(500, 0.0))]);
    let large = frame(vec![Column::new("x".into(), spread(5000, 0.0))]);
    let current = frame(vec![Column::new("x".into(), spread(400, 1.0))]);
    let r = report(&small, &current);
    assert_eq!(column(&r, "x").method, DriftMethod::Ks);
    assert!(column(&r, "x").drifted);
    let r = report(&large, &current);
    let x = column(&r, "x");
    assert_eq!(x.method, DriftMethod::Wasserstein);
    assert!(x.drifted && x.score > 0.1);
    // The mean moved by one unit, the reference's std is 4/sqrt(12).
    assert!((x.effect_size - 1.0 / (4.0 / 12f64.sqrt())).abs() < 0.01);
}

#[test]
fn categories_get_chi_squared_or_z_by_their_number() {
    let reference = frame(vec![
        Column::new("colour".into(), ["red", "green", "blue"].repeat(100)),
        Column::new("flag".into(), ["yes", "no"].repeat(150)),
    ]);
    let current = frame(vec![
        Column::new("colour".into(), ["red", "red", "blue"].repeat(100)),
        Column::new("flag".into(), ["yes", "no"].repeat(150)),
    ]);
    let r = report(&reference, &current);
    let colour = column(&r, "colour");
    assert_eq!(colour.method, DriftMethod::ChiSquare);
    assert!(colour.drifted);
    assert!((colour.effect_size - 1.0 / 3.0).abs() < 1e-12);
    let flag = column(&r, "flag");
    assert_eq!(flag.method, DriftMethod::Z);
    assert!(!flag.drifted && flag.score > 0.99);
    assert_eq!(r.share, 0.5);
    assert!(
        r.dataset_drift,
        "half the columns drifting is dataset drift"
    );
}

#[test]
fn excluded_and_one_sided_columns_are_not_compared() {
    let reference = frame(vec![
        Column::new("x".into(), spread(50, 0.0)),
        Column::new("target".into(), spread(50, 0.0)),
        Column::new("old".into(), spread(50, 0.0)),
    ]);
    let current = frame(vec![
        Column::new("x".into(), spread(50, 0.0)),
        Column::new("target".into(), spread(50, 5.0)),
    ]);
    let options = DriftOptions {
        exclude: vec!["target".into()],
        ..DriftOptions::default()
    };
    let r = drift_report(&reference, &current, &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.columns.len(), 1);
    assert!(!r.dataset_drift);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let a = frame(vec![Column::new("a".into(), [1.0, 2.0])]);
    let b = frame(vec![Column::new("b".into(), [1.0, 2.0])]);
    assert!(matches!(
        drift_report(&a, &b, &DriftOptions::default()),
        Err(DriftError::NoCommonColumns)
    ));
    let empty = frame(vec![Column::new("a".into(), Vec::<f64>::new())]);
    assert!(matches!(
        drift_report(&empty, &a, &DriftOptions::default()),
        Err(DriftError::Empty("reference"))
    ));
    let missing = frame(vec![Column::new("a".into(), [None::<f64>, None])]);
    assert!(matches!(
        drift_report(&a, &missing, &DriftOptions::default()),
        Err(DriftError::NothingToCompare(_))
    ));
}

#[test]
fn the_report_serialises_with_evidentlys_method_names() {
    let a = frame(vec![Column::new("a".into(), spread(30, 0.0))]);
    let json = serde_json::to_value(report(&a, &a)).unwrap_or_default();
    assert_eq!(json["columns"][0]["method"], "ks");
    assert_eq!(json["columns"][0]["score"], 1.0);
    assert_eq!(json["dataset_drift"], false);
}
