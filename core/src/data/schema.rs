//! Per-column choices the user makes over the inferred schema: a column's type (read `zip`
//! codes as categories, a numeric-looking id as text) and its role in modelling.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::profile::ColumnKind;

/// What a column is for when a model is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnRole {
    /// An input of the model.
    #[default]
    Feature,
    /// What the model predicts.
    Target,
    /// Left out everywhere.
    Ignore,
    /// Identifies a row; never an input.
    Id,
}

impl ColumnRole {
    /// All roles, for choosers.
    pub const ALL: [ColumnRole; 4] = [Self::Feature, Self::Target, Self::Ignore, Self::Id];

    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Self::Feature => "feature",
            Self::Target => "target",
            Self::Ignore => "ignore",
            Self::Id => "id",
        }
    }
}

/// The user's choices for one column; `kind: None` keeps the inferred type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnChoice {
    /// Forced kind.
    pub kind: Option<ColumnKind>,
    /// Role.
    pub role: ColumnRole,
}

/// Choices by column name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SchemaOverrides {
    /// Per column.
    pub columns: BTreeMap<String, ColumnChoice>,
}

/// Why an override cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column '{column}': {reason}")]
pub struct OverrideError {
    /// The column.
    pub column: String,
    /// Why.
    pub reason: String,
}

impl SchemaOverrides {
    /// Parses `COLUMN=KIND` (numeric, categorical, text) as given on the command line.
    pub fn parse_kind(&mut self, text: &str) -> Result<(), OverrideError> {
        let (column, kind) = text.split_once('=').ok_or_else(|| OverrideError {
            column: text.to_owned(),
            reason: "expected COLUMN=KIND, e.g. zip=categorical".into(),
        })?;
        let kind = match kind.trim().to_ascii_lowercase().as_str() {
            "numeric" => ColumnKind::Numeric,
            "categorical" => ColumnKind::Categorical,
            "text" => ColumnKind::Text,
            other => {
                return Err(OverrideError {
                    column: column.to_owned(),
                    reason: format!("unknown kind '{other}' (numeric, categorical or text)"),
                });
            }
        };
        self.columns
            .entry(column.trim().to_owned())
            .or_default()
            .kind = Some(kind);
        Ok(())
    }

    /// Columns with a given role.
    pub fn with_role(&self, role: ColumnRole) -> Vec<String> {
        self.columns
            .iter()
            .filter(|(_, c)| c.role == role)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Columns whose role keeps them out of a model's inputs (`ignore` and `id`).
    pub fn left_out(&self) -> Vec<String> {
        [ColumnRole::Ignore, ColumnRole::Id]
            .into_iter()
            .flat_map(|role| self.with_role(role))
            .collect()
    }

    /// The forced kind of `column`, if any.
    pub fn kind_of(&self, column: &str) -> Option<ColumnKind> {
        self.columns.get(column).and_then(|c| c.kind)
    }

    /// `frame` with the forced types applied: numbers parsed from text (every non-missing
    /// value must parse), anything turned into text for categorical or text columns.
    pub fn apply(&self, frame: &DataFrame) -> Result<DataFrame, OverrideError> {
        let mut out = frame.clone();
        for (name, choice) in &self.columns {
            let Some(kind) = choice.kind else { continue };
            let error = |reason: String| OverrideError {
                column: name.clone(),
                reason,
            };
            let column = frame
                .column(name)
                .map_err(|_| error("no such column".into()))?
                .as_materialized_series();
            let converted = match kind {
                ColumnKind::Numeric if !column.dtype().is_primitive_numeric() => {
                    let text = column
                        .cast(&DataType::String)
                        .map_err(|e| error(e.to_string()))?;
                    let strings = text.str().map_err(|e| error(e.to_string()))?;
                    let values = parse_numbers(strings).map_err(|bad| {
                        error(format!(
                            "'{}' in row {} is not a number, so it cannot be numeric",
                            bad.value, bad.row
                        ))
                    })?;
                    Series::new(name.as_str().into(), values)
                }
                ColumnKind::Categorical | ColumnKind::Text if !column.dtype().is_string() => column
                    .cast(&DataType::String)
                    .map_err(|e| error(e.to_string()))?,
                _ => continue,
            };
            out.replace(name, converted.into_column())
                .map_err(|e| error(e.to_string()))?;
        }
        Ok(out)
    }
}

/// A value that is not a number, and its 1-based row.
#[derive(Debug, Clone, PartialEq)]
pub struct NotANumber {
    /// 1-based row.
    pub row: usize,
    /// The text found.
    pub value: String,
}

/// Numbers from text: blank and missing values are missing; anything else must parse as a
/// number, or the first value that does not is returned. Reading a column as numeric (here)
/// and checking a numeric model input at predict time use this one rule.
pub fn parse_numbers(strings: &StringChunked) -> Result<Vec<Option<f64>>, NotANumber> {
    strings
        .iter()
        .enumerate()
        .map(|(row, v)| match v.map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => s.parse::<f64>().map(Some).map_err(|_| NotANumber {
                row: row + 1,
                value: s.to_owned(),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_categories_and_text_becomes_numbers() {
        let frame = df!("zip" => [1234i64, 5678], "amount" => ["1.5", " 2 "]).expect("frame");
        let mut overrides = SchemaOverrides::default();
        overrides.parse_kind("zip=categorical").expect("parse");
        overrides.parse_kind("amount=numeric").expect("parse");
        let out = overrides.apply(&frame).expect("apply");
        assert!(out.column("zip").expect("zip").dtype().is_string());
        assert_eq!(
            out.column("amount").expect("amount").dtype(),
            &DataType::Float64
        );
    }

    #[test]
    fn a_value_that_is_not_a_number_is_named() {
        let frame = df!("amount" => ["1", "n/a-ish"]).expect("frame");
        let mut overrides = SchemaOverrides::default();
        overrides.parse_kind("amount=numeric").expect("parse");
        let err = overrides.apply(&frame).expect_err("not numeric");
        assert_eq!(
            err.to_string(),
            "column 'amount': 'n/a-ish' in row 2 is not a number, so it cannot be numeric"
        );
    }
}
