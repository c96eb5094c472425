//! A column's values as the pipeline reads them: numbers or text, leniently while fitting on
//! data whose types were inferred, strictly when a fitted pipeline reads new rows.

use polars::prelude::*;

use super::FeatureError;
use crate::data::schema::parse_numbers;

pub(super) fn series<'a>(frame: &'a DataFrame, name: &str) -> Result<&'a Series, FeatureError> {
    frame
        .column(name)
        .map(|c| c.as_materialized_series())
        .map_err(|_| FeatureError::MissingColumn(name.to_owned()))
}

pub(super) fn column_error(name: &str, reason: impl Into<String>) -> FeatureError {
    FeatureError::Column {
        column: name.to_owned(),
        reason: reason.into(),
    }
}

/// The column's values as `f64` (missing as `None`); booleans count as 0/1.
pub fn numeric_column(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, FeatureError> {
    let s = series(frame, name)?;
    let floats = s
        .cast(&DataType::Float64)
        .map_err(|e| column_error(name, e.to_string()))?;
    let ca = floats
        .f64()
        .map_err(|e| column_error(name, e.to_string()))?;
    Ok(ca.iter().map(|v| v.filter(|x| !x.is_nan())).collect())
}

/// The column's values as numbers for a model input trained on numbers. Numbers and booleans
/// are read as they are; text must parse as numbers (a value that does not is an error naming
/// the column, the row and the value, never silently imputed); other types are an error.
pub fn strict_numeric_column(
    frame: &DataFrame,
    name: &str,
) -> Result<Vec<Option<f64>>, FeatureError> {
    let s = series(frame, name)?;
    let dtype = s.dtype();
    if dtype.is_primitive_numeric() || dtype.is_bool() || dtype.is_null() {
        return numeric_column(frame, name);
    }
    if !dtype.is_string() {
        return Err(column_error(
            name,
            format!("holds {dtype} values, but the model was trained on numbers"),
        ));
    }
    let strings = s.str().map_err(|e| column_error(name, e.to_string()))?;
    parse_numbers(strings)
        .map(|values| {
            values
                .into_iter()
                .map(|v| v.filter(|x| !x.is_nan()))
                .collect()
        })
        .map_err(|bad| FeatureError::NotANumber {
            column: name.to_owned(),
            row: bad.row,
            value: bad.value,
        })
}

/// The column's values as text (missing as `None`).
pub fn text_column(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>, FeatureError> {
    let s = series(frame, name)?;
    let strings = s
        .cast(&DataType::String)
        .map_err(|e| column_error(name, e.to_string()))?;
    let ca = strings
        .str()
        .map_err(|e| column_error(name, e.to_string()))?;
    Ok(ca.iter().map(|v| v.map(str::to_owned)).collect())
}
