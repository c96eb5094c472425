//! Kiln's one-hot encoding equals scikit-learn's `SimpleImputer(most_frequent)` +
//! `OneHotEncoder(min_frequency, max_categories)` on fixtures scikit-learn wrote
//! (`scripts/fixtures/make_feature_fixtures.py` → `tests/fixtures/features/`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use kiln_core::features::{FittedPipeline, MinFrequency, PipelineSpec};
use kiln_core::polars::prelude::*;
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/features/one_hot.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

#[test]
fn infrequent_levels_are_grouped_exactly_as_scikit_learn_groups_them() {
    let f = fixture();
    let column: Vec<Option<String>> = f["column"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect();
    let frame = DataFrame::new(
        column.len(),
        vec![Series::new("x".into(), column).into_column()],
    )
    .expect("frame");
    for case in f["cases"].as_array().unwrap() {
        let mut spec = PipelineSpec::default();
        spec.one_hot.max_categories = case["max_categories"].as_u64().map(|v| v as usize);
        spec.one_hot.min_frequency = match &case["min_frequency"] {
            Value::Null => None,
            v if v.is_u64() => Some(MinFrequency::Count(v.as_u64().unwrap() as usize)),
            v => Some(MinFrequency::Fraction(v.as_f64().unwrap())),
        };
        let pipeline = FittedPipeline::fit(&frame, &["x".into()], &spec).expect("fit");
        let mut expected: Vec<String> = case["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("x={}", c.as_str().unwrap()))
            .collect();
        if !case["infrequent"].as_array().unwrap().is_empty() {
            expected.push("x=infrequent".into());
        }
        assert_eq!(pipeline.output_names(), expected, "{case}");
        let m = pipeline.transform(&frame).expect("transform");
        let sums: Vec<f64> = (0..m.cols)
            .map(|c| (0..m.rows).map(|r| m.row(r)[c]).sum())
            .collect();
        let theirs: Vec<f64> = case["row_sums"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(sums, theirs, "{case}");
    }
}
