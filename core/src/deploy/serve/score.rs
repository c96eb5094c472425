//! One scoring request from body bytes to the answer document: parse, check the columns
//! against the model, predict through the shared schema-checked path, shape the JSON.
//! Synchronous and CPU-bound: the server runs it on tokio's blocking pool under a time limit.

use polars::prelude::DataFrame;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::request::{ScoringRequest, parse_csv, parse_json};
use crate::inference::{Model, PredictError, Predictions, predict, proba_column};
use crate::models::Task;

/// How the body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// `application/json`.
    Json,
    /// `text/csv`.
    Csv,
}

impl BodyFormat {
    /// The format a `Content-Type` names (parameters such as `charset` aside), or a 415.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, ApiError> {
        let raw = content_type.unwrap_or("");
        let media = raw.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/json") {
            Ok(Self::Json)
        } else if media.eq_ignore_ascii_case("text/csv") {
            Ok(Self::Csv)
        } else if raw.is_empty() {
            Err(ApiError::unsupported_media_type("(none)"))
        } else {
            Err(ApiError::unsupported_media_type(raw))
        }
    }
}

/// A scored request: the answer document and the labels (for the metrics).
#[derive(Debug)]
pub struct Scored {
    /// `{"predictions": [...]}`.
    pub body: Value,
    /// Predicted labels, for counting by class (empty for regressors).
    pub labels: Vec<String>,
}

/// Scores `body` with `model`.
pub fn score(model: &Model, format: BodyFormat, body: &[u8]) -> Result<Scored, ApiError> {
    let input_columns: Vec<String> = model.inputs().into_iter().map(|(name, _)| name).collect();
    let ScoringRequest { frame, params } = match format {
        BodyFormat::Json => parse_json(body, &input_columns)?,
        BodyFormat::Csv => parse_csv(body)?,
    };
    check_columns(&frame, &input_columns)?;
    if params.predict_proba && model.task() != Task::Classification {
        return Err(ApiError::invalid_parameter(
            "params.predict_proba asks for class probabilities, but this model is a regressor",
        ));
    }
    let predictions = predict(model, &frame).map_err(|e| match e {
        PredictError::Input(e) => ApiError::bad_request(e.to_string()),
        PredictError::Model(e) => ApiError::internal(format!("the model failed: {e}")),
    })?;
    let body = answer(model, &predictions, params.predict_proba)?;
    let labels = match model.task() {
        Task::Classification => predictions.labels,
        Task::Regression => Vec::new(),
    };
    Ok(Scored { body, labels })
}

/// A column the model does not read is refused by name (the server is strict where
/// `kiln predict` ignores it: a misspelt column would otherwise be imputed silently).
fn check_columns(frame: &DataFrame, inputs: &[String]) -> Result<(), ApiError> {
    if frame.height() == 0 {
        return Err(ApiError::bad_request("the request holds no rows"));
    }
    let extra: Vec<String> = frame
        .get_column_names()
        .into_iter()
        .filter(|name| !inputs.iter().any(|i| i == name.as_str()))
        .map(|name| format!("'{name}'"))
        .collect();
    if !extra.is_empty() {
        return Err(ApiError::bad_request(format!(
            "column {} is not an input of the model (its inputs are {})",
            extra.join(", "),
            inputs.join(", ")
        )));
    }
    Ok(())
}

/// `{"predictions": [...]}`: one label or value per row; with probabilities one object per
/// row, `{"prediction": label, "proba_<class>": p, ...}` (the columns of `kiln predict --proba`).
fn answer(model: &Model, predictions: &Predictions, with_proba: bool) -> Result<Value, ApiError> {
    let rows: Vec<Value> = match (&predictions.proba, with_proba) {
        (Some(proba), true) => {
            let classes = model.classes();
            predictions
                .labels
                .iter()
                .zip(proba)
                .map(|(label, p)| {
                    let mut row = Map::with_capacity(classes.len() + 1);
                    row.insert("prediction".into(), label_value(label));
                    for (class, v) in classes.iter().zip(p) {
                        row.insert(proba_column(class), json!(v));
                    }
                    Value::Object(row)
                })
                .collect()
        }
        (None, true) => {
            return Err(ApiError::invalid_parameter(
                "params.predict_proba asks for class probabilities, but this model does not give them",
            ));
        }
        _ => predictions.labels.iter().map(|l| label_value(l)).collect(),
    };
    Ok(json!({ "predictions": rows }))
}

/// A label as JSON: a number when it is one (a regressor's value, a class such as `1`), as
/// MLflow answers for numeric targets; otherwise the text.
fn label_value(label: &str) -> Value {
    if let Ok(i) = label.parse::<i64>() {
        return json!(i);
    }
    match label.parse::<f64>() {
        Ok(f) if f.is_finite() => json!(f),
        _ => Value::String(label.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_csv_content_types_are_accepted_with_parameters() {
        assert_eq!(
            BodyFormat::from_content_type(Some("application/json; charset=utf-8")),
            Ok(BodyFormat::Json)
        );
        assert_eq!(
            BodyFormat::from_content_type(Some("text/csv")),
            Ok(BodyFormat::Csv)
        );
    }

    #[test]
    fn any_other_content_type_is_a_415() {
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let err = BodyFormat::from_content_type(ct).err();
            assert_eq!(err.map(|e| e.status.as_u16()), Some(415), "{ct:?}");
        }
    }

    #[test]
    fn numeric_labels_are_json_numbers_and_others_text() {
        assert_eq!(label_value("1"), json!(1));
        assert_eq!(label_value("2.5"), json!(2.5));
        assert_eq!(label_value("setosa"), json!("setosa"));
        assert_eq!(label_value("NaN"), json!("NaN"));
    }
}
