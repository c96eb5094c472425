//! How request bodies become tables: each MLflow input shape, and the refusals.

use polars::prelude::*;

use super::*;

fn inputs() -> Vec<String> {
    vec!["age".into(), "city".into()]
}

fn json(body: &str) -> Result<ScoringRequest, ApiError> {
    parse_json(body.as_bytes(), &inputs())
}

fn message(body: &str) -> String {
    match json(body) {
        Ok(r) => panic!("expected a refusal, got {:?}", r.frame),
        Err(e) => {
            assert_eq!(e.status.as_u16(), 400, "{e}");
            e.message
        }
    }
}

/// The table as (column, dtype, values as text) triples, for comparing shapes.
fn shape(frame: &DataFrame) -> Vec<(String, String, Vec<String>)> {
    frame
        .columns()
        .iter()
        .map(|c| {
            let s = c.as_materialized_series();
            let values = (0..s.len())
                .map(|i| s.get(i).map(|v| v.to_string()).unwrap_or_default())
                .collect();
            (s.name().to_string(), s.dtype().to_string(), values)
        })
        .collect()
}

fn age_city() -> Vec<(String, String, Vec<String>)> {
    vec![
        ("age".into(), "i64".into(), vec!["31".into(), "null".into()]),
        (
            "city".into(),
            "str".into(),
            vec!["\"Oslo\"".into(), "\"Lima\"".into()],
        ),
    ]
}

#[test]
fn dataframe_split_reads_rows_under_their_columns() {
    let r = json(
        r#"{"dataframe_split": {"columns": ["age", "city"], "data": [[31, "Oslo"], [null, "Lima"]], "index": [0, 1]}}"#,
    );
    assert_eq!(shape(&r.map(|r| r.frame).unwrap_or_default()), age_city());
}

#[test]
fn dataframe_records_reads_one_object_per_row_and_a_missing_key_is_missing() {
    let r = json(r#"{"dataframe_records": [{"age": 31, "city": "Oslo"}, {"city": "Lima"}]}"#);
    assert_eq!(shape(&r.map(|r| r.frame).unwrap_or_default()), age_city());
}

#[test]
fn instances_and_inputs_take_records_columns_or_rows_in_model_order() {
    for body in [
        r#"{"instances": [{"age": 31, "city": "Oslo"}, {"age": null, "city": "Lima"}]}"#,
        r#"{"inputs": {"age": [31, null], "city": ["Oslo", "Lima"]}}"#,
        r#"{"instances": [[31, "Oslo"], [null, "Lima"]]}"#,
    ] {
        let r = json(body);
        assert_eq!(
            shape(&r.map(|r| r.frame).unwrap_or_default()),
            age_city(),
            "{body}"
        );
    }
}

#[test]
fn one_object_of_values_is_one_row() {
    let r = json(r#"{"inputs": {"age": 2.5, "city": "Oslo"}}"#).map(|r| r.frame);
    assert_eq!(r.map(|f| f.height()).ok(), Some(1));
}

#[test]
fn csv_reads_a_header_and_every_value_as_text() {
    let r = parse_csv(b"age,city\n31,Oslo\n,Lima\n").map(|r| r.frame);
    let frame = r.unwrap_or_default();
    assert_eq!(frame.height(), 2);
    assert_eq!(
        frame.dtypes(),
        vec![DataType::String, DataType::String],
        "the prediction path parses numbers and names a bad one"
    );
}

#[test]
fn mixed_numbers_and_text_stay_text_so_the_bad_value_can_be_named() {
    let r = json(r#"{"dataframe_records": [{"age": 31}, {"age": "old"}]}"#).map(|r| r.frame);
    assert_eq!(
        shape(&r.unwrap_or_default()),
        vec![(
            "age".into(),
            "str".into(),
            vec!["\"31\"".into(), "\"old\"".into()]
        )]
    );
}

#[test]
fn predict_proba_is_read_from_params() {
    let r = json(r#"{"inputs": [[1, "a"]], "params": {"predict_proba": true, "other": 3}}"#);
    assert_eq!(r.map(|r| r.params.predict_proba).ok(), Some(true));
    let err = json(r#"{"inputs": [[1, "a"]], "params": {"predict_proba": "yes"}}"#).err();
    assert_eq!(err.map(|e| e.code), Some("INVALID_PARAMETER_VALUE"));
}

#[test]
fn malformed_json_is_refused_and_says_so() {
    assert!(message(r#"{"inputs": [1,"#).contains("not valid JSON"));
}

#[test]
fn exactly_one_input_field_is_required() {
    assert!(message(r#"{"params": {}}"#).contains("exactly one of"));
    assert!(message(r#"{"inputs": [], "instances": []}"#).contains("exactly one of"));
    assert!(message(r#"{"data": [[1]]}"#).contains("[data]"));
    assert!(message(r#"[1, 2]"#).contains("JSON object"));
}

#[test]
fn a_row_of_the_wrong_width_is_named() {
    let m =
        message(r#"{"dataframe_split": {"columns": ["age", "city"], "data": [[1, "a"], [2]]}}"#);
    assert!(m.contains("row 2 has 1 values for 2 columns"), "{m}");
}

#[test]
fn a_nested_value_is_named_by_column_and_row() {
    let m = message(r#"{"dataframe_records": [{"age": 1}, {"age": [1, 2]}]}"#);
    assert!(m.contains("column 'age', row 2"), "{m}");
}

#[test]
fn a_column_named_twice_is_refused() {
    let m = message(r#"{"dataframe_split": {"columns": ["age", "age"], "data": [[1, 2]]}}"#);
    assert!(m.contains("'age' appears twice"), "{m}");
}

#[test]
fn columns_of_unequal_length_are_refused() {
    let m = message(r#"{"inputs": {"age": [1, 2], "city": ["a"]}}"#);
    assert!(m.contains("column 'city' has 1 values"), "{m}");
}

#[test]
fn a_broken_csv_is_a_400() {
    let err = parse_csv(b"age,city\n1,\"unterminated\n").err();
    assert!(err.is_none_or(|e| e.status.as_u16() == 400));
}
