//! The rows a simulation sends: the model's input columns of a dataset (numbers or text, as
//! the model was trained on them), the labels when the data has the target, and the sent
//! rows gathered back into a frame for the drift report.

use polars::prelude::*;
use serde_json::{Value, json};

use super::inject::DriftInjection;
use crate::features::{numeric_column, text_column};
use crate::rng::SeededRng;

/// One input column's values.
#[derive(Debug, Clone)]
pub(super) enum Values {
    Numbers(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

/// One value of a row as sent.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Number(Option<f64>),
    Text(Option<String>),
}

impl Cell {
    fn to_json(&self) -> Value {
        match self {
            Self::Number(Some(v)) if v.is_finite() => json!(v),
            Self::Text(Some(s)) => json!(s),
            _ => Value::Null,
        }
    }
}

/// The dataset the traffic is drawn from.
#[derive(Debug, Clone)]
pub(super) struct Source {
    pub names: Vec<String>,
    pub columns: Vec<Values>,
    pub labels: Option<Vec<Option<String>>>,
    pub rows: usize,
}

impl Source {
    /// The model's `inputs` out of `frame`, numbers where the data holds numbers, and `label`
    /// when the frame has it. A missing input column is an error naming it.
    pub fn new(frame: &DataFrame, inputs: &[String], label: Option<&str>) -> Result<Self, String> {
        let mut columns = Vec::with_capacity(inputs.len());
        for name in inputs {
            let column = frame
                .column(name)
                .map_err(|_| format!("the data has no column '{name}', which the model reads"))?;
            let values = if column.dtype().is_primitive_numeric() {
                Values::Numbers(numeric_column(frame, name).map_err(|e| e.to_string())?)
            } else {
                Values::Text(text_column(frame, name).map_err(|e| e.to_string())?)
            };
            columns.push(values);
        }
        let labels = match label {
            Some(label) if frame.column(label).is_ok() => {
                Some(text_column(frame, label).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        if frame.height() == 0 {
            return Err("the data has no rows to send".into());
        }
        Ok(Self {
            names: inputs.to_vec(),
            columns,
            labels,
            rows: frame.height(),
        })
    }

    /// Row `i` with the injections at `t` seconds applied, and its (possibly flipped) label.
    pub fn row(
        &self,
        i: usize,
        t: f64,
        injections: &[DriftInjection],
        classes: &[String],
        rng: &mut SeededRng,
    ) -> (Vec<Cell>, Option<String>) {
        let cells = self
            .names
            .iter()
            .zip(&self.columns)
            .map(|(name, values)| {
                let mine = injections.iter().filter(|d| &d.column == name);
                match values {
                    Values::Numbers(v) => {
                        Cell::Number(v[i].map(|x| mine.fold(x, |x, d| d.apply_number(x, t))))
                    }
                    Values::Text(v) => {
                        Cell::Text(mine.fold(v[i].clone(), |x, d| d.apply_text(x, t, rng)))
                    }
                }
            })
            .collect();
        let label = self
            .labels
            .as_ref()
            .and_then(|l| l[i].clone())
            .map(|label| {
                injections
                    .iter()
                    .fold(label, |l, d| d.apply_label(l, t, classes, rng))
            });
        (cells, label)
    }

    /// `{"dataframe_split": {"columns": [...], "data": [[...]]}}` of one row.
    pub fn body(&self, cells: &[Cell]) -> String {
        let data: Vec<Value> = cells.iter().map(Cell::to_json).collect();
        json!({ "dataframe_split": { "columns": self.names, "data": [data] } }).to_string()
    }

    /// Sent rows as a frame with the input columns, for the drift report.
    pub fn frame_of(&self, rows: &[&[Cell]]) -> PolarsResult<DataFrame> {
        let columns = self
            .names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let series = match self.columns[j] {
                    Values::Numbers(_) => {
                        let v: Vec<Option<f64>> = rows
                            .iter()
                            .map(|r| match &r[j] {
                                Cell::Number(x) => *x,
                                Cell::Text(_) => None,
                            })
                            .collect();
                        Series::new(name.into(), v)
                    }
                    Values::Text(_) => {
                        let v: Vec<Option<&str>> = rows
                            .iter()
                            .map(|r| match &r[j] {
                                Cell::Text(x) => x.as_deref(),
                                Cell::Number(_) => None,
                            })
                            .collect();
                        Series::new(name.into(), v)
                    }
                };
                series.into_column()
            })
            .collect();
        DataFrame::new_infer_height(columns)
    }
}

/// A label as the server answers it (`1`, `"Adelie"`), as the text the data holds.
pub(super) fn label_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
