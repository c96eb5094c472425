//! Preprocessing fitted on the training rows only and applied identically at predict and serve
//! time, so there is no training/serving skew. Defaults match scikit-learn's usual pipeline:
//! numeric columns `SimpleImputer(strategy="median")` + `StandardScaler()`, categorical columns
//! `SimpleImputer(strategy="most_frequent")` + `OneHotEncoder(handle_unknown="ignore")`.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::profile::stats::quantile_sorted;

/// Why a pipeline could not be fitted or applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// A column the pipeline needs is not in the table.
    #[error("column '{0}' is not in the data")]
    MissingColumn(String),
    /// A column has no usable values to learn from.
    #[error("column '{column}': {reason}")]
    Column {
        /// The column.
        column: String,
        /// What is wrong.
        reason: String,
    },
}

/// How a numeric column's missing values are filled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NumericImpute {
    /// The training median.
    #[default]
    Median,
    /// The training mean.
    Mean,
    /// Zero.
    Zero,
}

/// What happens to one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnStep {
    /// Impute, then optionally standardise.
    Numeric {
        /// Fill rule.
        impute: NumericImpute,
        /// Standardise to zero mean and unit variance.
        scale: bool,
    },
    /// Impute with the most frequent value, then one-hot encode.
    OneHot,
    /// Leave the column out.
    Drop,
}

impl ColumnStep {
    /// Parses `median`, `mean`, `zero` (numeric imputation, scaled), the same with `,noscale`,
    /// `onehot` or `drop`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split(',').map(|p| p.trim().to_ascii_lowercase());
        let first = parts.next().unwrap_or_default();
        let rest: Vec<String> = parts.collect();
        let scale = match rest.as_slice() {
            [] => true,
            [flag] if flag == "noscale" => false,
            _ => {
                return Err(format!(
                    "'{text}': only ',noscale' may follow the imputation"
                ));
            }
        };
        let impute = match first.as_str() {
            "median" => NumericImpute::Median,
            "mean" => NumericImpute::Mean,
            "zero" => NumericImpute::Zero,
            "onehot" if rest.is_empty() => return Ok(Self::OneHot),
            "drop" if rest.is_empty() => return Ok(Self::Drop),
            other => {
                return Err(format!(
                    "unknown step '{other}' (median, mean, zero, onehot or drop)"
                ));
            }
        };
        Ok(Self::Numeric { impute, scale })
    }
}

/// Per-column choices; columns not named get the default for their type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PipelineSpec {
    /// Overrides by column name.
    pub steps: BTreeMap<String, ColumnStep>,
}

/// A fitted transformation of one input column into one or more model inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FittedColumn {
    /// `(value or fill - mean) / scale`.
    Numeric {
        /// Input column.
        name: String,
        /// Replacement for missing values.
        fill: f64,
        /// Subtracted (0 without scaling).
        mean: f64,
        /// Divided by (1 without scaling, or for a constant column).
        scale: f64,
    },
    /// One output per category seen at fit time; an unseen category encodes as all zeros.
    OneHot {
        /// Input column.
        name: String,
        /// Replacement for missing values.
        fill: String,
        /// Categories in sorted order.
        categories: Vec<String>,
    },
}

/// A pipeline fitted on training rows: serialised with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPipeline {
    /// Column transformations, in input order.
    pub columns: Vec<FittedColumn>,
}

/// Model inputs as a dense row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Values, row by row.
    pub values: Vec<f64>,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
}

impl Matrix {
    /// One row.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }
}

fn series<'a>(frame: &'a DataFrame, name: &str) -> Result<&'a Series, FeatureError> {
    frame
        .column(name)
        .map(|c| c.as_materialized_series())
        .map_err(|_| FeatureError::MissingColumn(name.to_owned()))
}

fn column_error(name: &str, reason: impl Into<String>) -> FeatureError {
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

fn default_step(dtype: &DataType) -> ColumnStep {
    if dtype.is_primitive_numeric() || dtype.is_bool() {
        ColumnStep::Numeric {
            impute: NumericImpute::Median,
            scale: true,
        }
    } else {
        ColumnStep::OneHot
    }
}

impl FittedPipeline {
    /// Learns the transformation of `features` from `frame` (the training rows only).
    pub fn fit(
        frame: &DataFrame,
        features: &[String],
        spec: &PipelineSpec,
    ) -> Result<Self, FeatureError> {
        let mut columns = Vec::new();
        for name in features {
            let dtype = series(frame, name)?.dtype().clone();
            let step = spec
                .steps
                .get(name)
                .cloned()
                .unwrap_or_else(|| default_step(&dtype));
            match step {
                ColumnStep::Drop => {}
                ColumnStep::Numeric { impute, scale } => {
                    columns.push(fit_numeric(frame, name, impute, scale)?)
                }
                ColumnStep::OneHot => columns.push(fit_one_hot(frame, name)?),
            }
        }
        Ok(Self { columns })
    }

    /// Names of the model inputs (`age`, `city=Oslo`, ...).
    pub fn output_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| match c {
                FittedColumn::Numeric { name, .. } => vec![name.clone()],
                FittedColumn::OneHot {
                    name, categories, ..
                } => categories.iter().map(|v| format!("{name}={v}")).collect(),
            })
            .collect()
    }

    /// For each input column, the model inputs it becomes (one for numbers, one per category).
    pub fn input_groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut offset = 0;
        self.columns
            .iter()
            .map(|c| {
                let (name, width) = match c {
                    FittedColumn::Numeric { name, .. } => (name.clone(), 1),
                    FittedColumn::OneHot {
                        name, categories, ..
                    } => (name.clone(), categories.len()),
                };
                let group = (offset..offset + width).collect();
                offset += width;
                (name, group)
            })
            .collect()
    }

    /// Input column names the pipeline reads.
    pub fn input_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| match c {
                FittedColumn::Numeric { name, .. } | FittedColumn::OneHot { name, .. } => {
                    name.clone()
                }
            })
            .collect()
    }

    /// Applies the fitted transformation to `frame` (training, test or serving rows).
    pub fn transform(&self, frame: &DataFrame) -> Result<Matrix, FeatureError> {
        let rows = frame.height();
        let cols = self.output_names().len();
        let mut values = vec![0.0; rows * cols];
        let mut offset = 0;
        for column in &self.columns {
            match column {
                FittedColumn::Numeric {
                    name,
                    fill,
                    mean,
                    scale,
                } => {
                    let data = numeric_column(frame, name)?;
                    for (r, v) in data.iter().enumerate() {
                        let x = v.unwrap_or(*fill);
                        if !x.is_finite() {
                            return Err(column_error(
                                name,
                                format!("row {} holds {x}, which a model cannot use", r + 1),
                            ));
                        }
                        values[r * cols + offset] = (x - mean) / scale;
                    }
                    offset += 1;
                }
                FittedColumn::OneHot {
                    name,
                    fill,
                    categories,
                } => {
                    let data = text_column(frame, name)?;
                    let index: HashMap<&str, usize> = categories
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.as_str(), i))
                        .collect();
                    for (r, v) in data.iter().enumerate() {
                        let value = v.as_deref().unwrap_or(fill.as_str());
                        if let Some(&k) = index.get(value) {
                            values[r * cols + offset + k] = 1.0;
                        }
                    }
                    offset += categories.len();
                }
            }
        }
        Ok(Matrix { values, rows, cols })
    }
}

fn fit_numeric(
    frame: &DataFrame,
    name: &str,
    impute: NumericImpute,
    scale: bool,
) -> Result<FittedColumn, FeatureError> {
    let data = numeric_column(frame, name)?;
    let mut present: Vec<f64> = data.iter().flatten().copied().collect();
    if present.is_empty() {
        return Err(column_error(name, "every training value is missing"));
    }
    if present.iter().any(|v| v.is_infinite()) {
        return Err(column_error(
            name,
            "holds infinite values, which a model cannot use",
        ));
    }
    present.sort_by(f64::total_cmp);
    let mean_present = present.iter().sum::<f64>() / present.len() as f64;
    let fill = match impute {
        NumericImpute::Median => quantile_sorted(&present, 0.5).unwrap_or(0.0),
        NumericImpute::Mean => mean_present,
        NumericImpute::Zero => 0.0,
    };
    if !scale {
        return Ok(FittedColumn::Numeric {
            name: name.to_owned(),
            fill,
            mean: 0.0,
            scale: 1.0,
        });
    }
    // StandardScaler sees the imputed column: population std (ddof = 0), 1 for a constant.
    let imputed: Vec<f64> = data.iter().map(|v| v.unwrap_or(fill)).collect();
    let n = imputed.len() as f64;
    let mean = imputed.iter().sum::<f64>() / n;
    let var = imputed.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    Ok(FittedColumn::Numeric {
        name: name.to_owned(),
        fill,
        mean,
        scale: if std > 10.0 * f64::EPSILON * mean.abs().max(1.0) {
            std
        } else {
            1.0
        },
    })
}

fn fit_one_hot(frame: &DataFrame, name: &str) -> Result<FittedColumn, FeatureError> {
    let data = text_column(frame, name)?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in data.iter().flatten() {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    // Most frequent; ties go to the smallest value, as scikit-learn's SimpleImputer does.
    let fill = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(v, _)| (*v).to_owned())
        .ok_or_else(|| column_error(name, "every training value is missing"))?;
    Ok(FittedColumn::OneHot {
        name: name.to_owned(),
        fill,
        categories: counts.keys().map(|k| (*k).to_owned()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        df!(
            "age" => [Some(20.0), None, Some(40.0), Some(60.0)],
            "city" => [Some("Oslo"), Some("Bergen"), None, Some("Oslo")],
        )
        .expect("frame")
    }

    #[test]
    fn numeric_columns_are_median_imputed_then_standardised() {
        let p =
            FittedPipeline::fit(&frame(), &["age".into()], &PipelineSpec::default()).expect("fit");
        let m = p.transform(&frame()).expect("transform");
        // imputed: 20, 40, 40, 60 -> mean 40, population std sqrt(200)
        let s = 200f64.sqrt();
        assert_eq!(m.values, vec![-20.0 / s, 0.0, 0.0, 20.0 / s]);
    }

    #[test]
    fn categories_are_one_hot_and_unseen_ones_are_all_zero() {
        let p =
            FittedPipeline::fit(&frame(), &["city".into()], &PipelineSpec::default()).expect("fit");
        assert_eq!(p.output_names(), vec!["city=Bergen", "city=Oslo"]);
        let m = p.transform(&frame()).expect("transform");
        assert_eq!(m.values, vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
        let unseen = df!("city" => ["Tromsø"]).expect("frame");
        assert_eq!(
            p.transform(&unseen).expect("transform").values,
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn steps_can_be_chosen_per_column() {
        let mut spec = PipelineSpec::default();
        spec.steps.insert(
            "age".into(),
            ColumnStep::parse("mean,noscale").expect("step"),
        );
        spec.steps
            .insert("city".into(), ColumnStep::parse("drop").expect("step"));
        let p = FittedPipeline::fit(&frame(), &["age".into(), "city".into()], &spec).expect("fit");
        assert_eq!(p.output_names(), vec!["age"]);
        // mean of 20, 40, 60 fills the gap; no scaling.
        assert_eq!(
            p.transform(&frame()).expect("transform").values,
            vec![20.0, 40.0, 40.0, 60.0]
        );
        assert!(ColumnStep::parse("cube").is_err());
    }

    #[test]
    fn a_missing_column_is_named() {
        let p =
            FittedPipeline::fit(&frame(), &["age".into()], &PipelineSpec::default()).expect("fit");
        let other = df!("x" => [1.0]).expect("frame");
        assert_eq!(
            p.transform(&other),
            Err(FeatureError::MissingColumn("age".into()))
        );
    }
}
