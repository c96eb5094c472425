//! The body of `POST /invocations` as MLflow's scoring server reads it, turned into a polars
//! `DataFrame` for the prediction path.
//!
//! JSON holds exactly one of `dataframe_split` (`{columns, data, index?}`),
//! `dataframe_records` (`[{col: value}]`), `instances` or `inputs` (for a tabular model: rows
//! as objects, columns as an object of arrays, one row as an object of values, or rows as
//! arrays in the model's input order), plus optional `params`. CSV has a header row.
//!
//! Values are not typed here: numbers, text, booleans and nulls become columns as they come,
//! and the prediction path checks them against the model's training types, so a request and
//! `kiln predict` on the same rows get the same verdict.

use std::collections::HashMap;
use std::io::Cursor;

use polars::prelude::*;
use serde_json::{Map, Value};

use super::error::ApiError;

/// The four JSON input fields MLflow accepts; exactly one must be present.
pub const INPUT_FIELDS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

/// What a request asks for besides its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params {
    /// `{"params": {"predict_proba": true}}`: answer class probabilities with each label.
    pub predict_proba: bool,
}

/// A parsed scoring request: the rows and the parameters.
#[derive(Debug, Clone)]
pub struct ScoringRequest {
    /// The rows, one column per field the client sent.
    pub frame: DataFrame,
    /// Parameters from `params` (CSV requests have none).
    pub params: Params,
}

/// Parses a JSON body. `inputs` are the model's input columns in order: rows sent as bare
/// arrays (`{"instances": [[1, 2]]}`) are read in that order.
pub fn parse_json(body: &[u8], inputs: &[String]) -> Result<ScoringRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not valid JSON ({e}); send a JSON object with one of {}",
            INPUT_FIELDS.join(", ")
        ))
    })?;
    let Value::Object(mut fields) = value else {
        return Err(ApiError::bad_request(format!(
            "the body must be a JSON object with exactly one of {}",
            INPUT_FIELDS.join(", ")
        )));
    };
    let params = parse_params(fields.remove("params"))?;
    let present: Vec<&str> = INPUT_FIELDS
        .into_iter()
        .filter(|f| fields.contains_key(*f))
        .collect();
    let unknown: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|k| !INPUT_FIELDS.contains(k))
        .collect();
    if present.len() != 1 || !unknown.is_empty() {
        let received: Vec<&str> = fields.keys().map(String::as_str).collect();
        return Err(ApiError::bad_request(format!(
            "the body must hold exactly one of {} (and optionally params); it holds [{}]",
            INPUT_FIELDS.join(", "),
            received.join(", ")
        )));
    }
    let field = present[0];
    let value = fields.remove(field).unwrap_or(Value::Null);
    let table = match field {
        "dataframe_split" => split(value)?,
        "dataframe_records" => match value {
            Value::Array(rows) => records(rows, field)?,
            _ => {
                return Err(ApiError::bad_request(
                    "dataframe_records must be a list of objects",
                ));
            }
        },
        _ => tensor_input(value, field, inputs)?,
    };
    Ok(ScoringRequest {
        frame: table.into_frame()?,
        params,
    })
}

/// Parses a CSV body with a header row. Every value arrives as text (an empty field is
/// missing); the prediction path parses numbers for numeric inputs and names any that do not.
pub fn parse_csv(body: &[u8]) -> Result<ScoringRequest, ApiError> {
    let read = || {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(body))
            .finish()
    };
    // polars' reader is not written for hostile input: a panic on a bad body is a 400.
    let frame = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .map_err(|_| ApiError::bad_request("the CSV body could not be read"))?
        .map_err(|e| ApiError::bad_request(format!("the CSV body could not be read: {e}")))?;
    Ok(ScoringRequest {
        frame,
        params: Params::default(),
    })
}

fn parse_params(params: Option<Value>) -> Result<Params, ApiError> {
    let mut out = Params::default();
    match params {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            // Other parameters are ignored, as MLflow ignores those a model does not declare.
            if let Some(v) = map.get("predict_proba") {
                out.predict_proba = v.as_bool().ok_or_else(|| {
                    ApiError::invalid_parameter(format!(
                        "params.predict_proba must be true or false, not {v}"
                    ))
                })?;
            }
        }
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "params must be an object, not {other}"
            )));
        }
    }
    Ok(out)
}

/// `{"columns": [..], "data": [[..], ..], "index": [..]}` (pandas' split orientation).
fn split(value: Value) -> Result<Table, ApiError> {
    let Value::Object(mut map) = value else {
        return Err(ApiError::bad_request(
            "dataframe_split must be an object with columns and data",
        ));
    };
    if let Some(key) = map
        .keys()
        .find(|k| !["columns", "data", "index"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "dataframe_split has an unknown field '{key}' (expected columns, data, index)"
        )));
    }
    let columns: Vec<String> = match map.remove("columns") {
        Some(Value::Array(names)) => names
            .into_iter()
            .map(|n| match n {
                Value::String(s) => Ok(s),
                other => Err(ApiError::bad_request(format!(
                    "dataframe_split.columns must be names, not {other}"
                ))),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::bad_request(
                "dataframe_split needs columns: a list of column names",
            ));
        }
    };
    let Some(Value::Array(rows)) = map.remove("data") else {
        return Err(ApiError::bad_request(
            "dataframe_split needs data: a list of rows",
        ));
    };
    positional_rows(columns, rows, "dataframe_split.data")
}

/// Rows as arrays, each value in the column of its position.
fn positional_rows(columns: Vec<String>, rows: Vec<Value>, what: &str) -> Result<Table, ApiError> {
    let mut table = Table::with_columns(columns)?;
    let width = table.names.len();
    for (r, row) in rows.into_iter().enumerate() {
        let Value::Array(values) = row else {
            return Err(ApiError::bad_request(format!(
                "{what}: row {} must be a list of values",
                r + 1
            )));
        };
        if values.len() != width {
            return Err(ApiError::bad_request(format!(
                "{what}: row {} has {} values for {width} columns",
                r + 1,
                values.len()
            )));
        }
        for (c, v) in values.into_iter().enumerate() {
            table.push(c, r, v)?;
        }
        table.rows += 1;
    }
    Ok(table)
}

/// Rows as objects (pandas' records orientation). A key missing from a row is a missing
/// value, as pandas reads it.
fn records(rows: Vec<Value>, what: &str) -> Result<Table, ApiError> {
    let mut table = Table::default();
    for (r, row) in rows.into_iter().enumerate() {
        let Value::Object(map) = row else {
            return Err(ApiError::bad_request(format!(
                "{what}: row {} must be an object of column: value",
                r + 1
            )));
        };
        for (name, v) in map {
            let c = table.column_index(&name);
            table.push(c, r, v)?;
        }
        table.rows += 1;
        table.pad();
    }
    Ok(table)
}

/// `instances` / `inputs` for a tabular model, in the shapes MLflow turns into a DataFrame.
fn tensor_input(value: Value, what: &str, inputs: &[String]) -> Result<Table, ApiError> {
    match value {
        Value::Array(rows) if rows.iter().all(Value::is_object) => records(rows, what),
        Value::Array(rows) if rows.iter().all(Value::is_array) => {
            positional_rows(inputs.to_vec(), rows, what)
        }
        Value::Object(map) if map.values().all(Value::is_array) => columnar(map, what),
        Value::Object(map) => records(vec![Value::Object(map)], what),
        _ => Err(ApiError::bad_request(format!(
            "{what} must be a list of rows (objects or lists in the model's column order) or an object of columns"
        ))),
    }
}

/// `{"col": [v, ..], ..}`: one array per column, all of one length.
fn columnar(map: Map<String, Value>, what: &str) -> Result<Table, ApiError> {
    let mut table = Table::default();
    let mut height = None;
    for (name, column) in map {
        let Value::Array(values) = column else {
            continue;
        };
        if *height.get_or_insert(values.len()) != values.len() {
            return Err(ApiError::bad_request(format!(
                "{what}: column '{name}' has {} values, the others {}",
                values.len(),
                height.unwrap_or_default()
            )));
        }
        let c = table.column_index(&name);
        for (r, v) in values.into_iter().enumerate() {
            table.push(c, r, v)?;
        }
    }
    table.rows = height.unwrap_or_default();
    Ok(table)
}

/// One cell of a request, before the column's type is known.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

/// The request's values, column by column, kept row-aligned.
#[derive(Debug, Default)]
struct Table {
    names: Vec<String>,
    cells: Vec<Vec<Cell>>,
    index: HashMap<String, usize>,
    rows: usize,
}

impl Table {
    fn with_columns(names: Vec<String>) -> Result<Self, ApiError> {
        let mut table = Self::default();
        for name in names {
            if table.index.contains_key(&name) {
                return Err(ApiError::bad_request(format!(
                    "column '{name}' appears twice"
                )));
            }
            table.column_index(&name);
        }
        Ok(table)
    }

    fn column_index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.names.push(name.to_owned());
        self.cells.push(vec![Cell::Null; self.rows]);
        self.index.insert(name.to_owned(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// Puts a value at column `c`, row `r` (0-based), refusing values that are not scalars.
    fn push(&mut self, c: usize, r: usize, value: Value) -> Result<(), ApiError> {
        let cell = match value {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Cell::Int(i),
                None => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Cell::Text(s),
            Value::Array(_) | Value::Object(_) => {
                return Err(ApiError::bad_request(format!(
                    "column '{}', row {}: a value must be a number, text, true/false or null, not {}",
                    self.names.get(c).map_or("?", String::as_str),
                    r + 1,
                    if value.is_array() {
                        "a list"
                    } else {
                        "an object"
                    }
                )));
            }
        };
        if let Some(column) = self.cells.get_mut(c) {
            if column.len() <= r {
                column.resize(r + 1, Cell::Null);
            }
            column[r] = cell;
        }
        Ok(())
    }

    /// Brings every column to the current row count (keys a record left out are missing).
    fn pad(&mut self) {
        for column in &mut self.cells {
            column.resize(self.rows, Cell::Null);
        }
    }

    fn into_frame(mut self) -> Result<DataFrame, ApiError> {
        self.pad();
        let columns: Vec<Column> = self
            .names
            .iter()
            .zip(self.cells)
            .map(|(name, cells)| cell_series(name, cells).into())
            .collect();
        DataFrame::new(self.rows, columns)
            .map_err(|e| ApiError::bad_request(format!("the rows do not form a table: {e}")))
    }
}

/// A column typed by what it holds: all integers, all numbers, all booleans, or else text
/// (numbers in their JSON spelling), so the prediction path can name a value that does not fit.
fn cell_series(name: &str, cells: Vec<Cell>) -> Series {
    let name = PlSmallStr::from(name);
    let all = |f: fn(&Cell) -> bool| cells.iter().all(|c| *c == Cell::Null || f(c));
    if all(|c| matches!(c, Cell::Int(_))) {
        return Series::new(
            name,
            typed(&cells, |c| match c {
                Cell::Int(i) => Some(*i),
                _ => None,
            }),
        );
    }
    if all(|c| matches!(c, Cell::Int(_) | Cell::Float(_))) {
        return Series::new(
            name,
            typed(&cells, |c| match c {
                Cell::Int(i) => Some(*i as f64),
                Cell::Float(f) => Some(*f),
                _ => None,
            }),
        );
    }
    if all(|c| matches!(c, Cell::Bool(_))) {
        return Series::new(
            name,
            typed(&cells, |c| match c {
                Cell::Bool(b) => Some(*b),
                _ => None,
            }),
        );
    }
    let values: Vec<Option<String>> = cells
        .into_iter()
        .map(|c| match c {
            Cell::Null => None,
            Cell::Int(i) => Some(i.to_string()),
            Cell::Float(f) => Some(f.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Text(s) => Some(s),
        })
        .collect();
    Series::new(name, values)
}

/// The cells as one type, nulls (and, by the caller's check, nothing else) as `None`.
fn typed<T>(cells: &[Cell], value: fn(&Cell) -> Option<T>) -> Vec<Option<T>> {
    cells.iter().map(value).collect()
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
