//! Preprocessing fitted on the training rows only and applied identically at predict and serve
//! time, so there is no training/serving skew. Defaults match scikit-learn's usual pipeline:
//! numeric columns `SimpleImputer(strategy="median")` + `StandardScaler()`, categorical columns
//! `SimpleImputer(strategy="most_frequent")` + `OneHotEncoder(handle_unknown="ignore")`.

mod columns;
mod one_hot;

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use columns::{column_error, series};
pub use columns::{numeric_column, strict_numeric_column, text_column};
pub use one_hot::{MinFrequency, OneHotOptions};

/// Why a pipeline could not be fitted or applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// A column the pipeline needs is not in the table.
    #[error("the model needs column '{0}', which the data does not have")]
    MissingColumn(String),
    /// A value of a numeric input does not parse as a number.
    #[error(
        "column '{column}', row {row}: '{value}' is not a number, and the model was trained on numbers in this column"
    )]
    NotANumber {
        /// The column.
        column: String,
        /// 1-based row of the data.
        row: usize,
        /// The value found.
        value: String,
    },
    /// The design matrix would not fit in memory.
    #[error("{0}")]
    TooLarge(String),
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
    /// How categorical columns are encoded.
    #[serde(default)]
    pub one_hot: OneHotOptions,
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
        /// Rare categories, encoded together in one last output (empty: no such output).
        #[serde(default)]
        infrequent: Vec<String>,
    },
}

/// A feature column the pipeline did not use, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    /// The column.
    pub column: String,
    /// Why, for the user.
    pub reason: String,
}

/// A pipeline fitted on training rows: serialised with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPipeline {
    /// Column transformations, in input order.
    pub columns: Vec<FittedColumn>,
    /// Feature columns left out by the default rules (ids, high cardinality), with reasons.
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
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

impl FittedColumn {
    /// The input column it reads.
    pub fn name(&self) -> &str {
        match self {
            Self::Numeric { name, .. } | Self::OneHot { name, .. } => name,
        }
    }

    /// How many model inputs it becomes.
    pub fn width(&self) -> usize {
        match self {
            Self::Numeric { .. } => 1,
            Self::OneHot {
                categories,
                infrequent,
                ..
            } => categories.len() + usize::from(!infrequent.is_empty()),
        }
    }
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
        let mut left_out = Vec::new();
        for name in features {
            let dtype = series(frame, name)?.dtype().clone();
            let chosen = spec.steps.get(name).cloned();
            let step = chosen.clone().unwrap_or_else(|| default_step(&dtype));
            match step {
                ColumnStep::Drop => {}
                ColumnStep::Numeric { impute, scale } => {
                    columns.push(fit_numeric(frame, name, impute, scale)?)
                }
                ColumnStep::OneHot => {
                    let values = text_column(frame, name)?;
                    // A step the user chose explicitly is honoured; the default is not
                    // applied to ids and high-cardinality text, as the profile warns of them.
                    if chosen.is_none()
                        && let Some(reason) = one_hot::cardinality_reason(&values, &spec.one_hot)
                    {
                        left_out.push(LeftOut {
                            column: name.clone(),
                            reason,
                        });
                        continue;
                    }
                    let fitted = one_hot::fit(name, &values, &spec.one_hot)?;
                    columns.push(FittedColumn::OneHot {
                        name: name.clone(),
                        fill: fitted.fill,
                        categories: fitted.categories,
                        infrequent: fitted.infrequent,
                    });
                }
            }
        }
        Ok(Self { columns, left_out })
    }

    /// Number of model inputs (columns of the design matrix).
    pub fn width(&self) -> usize {
        self.columns.iter().map(FittedColumn::width).sum()
    }

    /// Refuses, with a message a user can act on, when `rows` rows (times `copies` matrices
    /// held at once) would not fit in the memory the system has available.
    pub fn check_memory(&self, rows: usize, copies: usize) -> Result<(), FeatureError> {
        let Some(available) = crate::data::load::available_memory() else {
            return Ok(());
        };
        let bytes = (rows as u128) * (self.width() as u128) * 8 * (copies.max(1) as u128);
        // Leave room for the data frame itself and the model.
        if bytes > u128::from(available) * 7 / 10 {
            let widest = self
                .columns
                .iter()
                .max_by_key(|c| c.width())
                .map(|c| {
                    format!(
                        " (the widest input is '{}', {} columns)",
                        c.name(),
                        c.width()
                    )
                })
                .unwrap_or_default();
            return Err(FeatureError::TooLarge(format!(
                "the design matrix would need {:.1} GB ({rows} rows x {} inputs){widest}, but only {:.1} GB of memory is available; drop wide columns, lower max_categories, or train on a sample",
                bytes as f64 / 1e9,
                self.width(),
                available as f64 / 1e9
            )));
        }
        Ok(())
    }

    /// Names of the model inputs (`age`, `city=Oslo`, ...).
    pub fn output_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| match c {
                FittedColumn::Numeric { name, .. } => vec![name.clone()],
                FittedColumn::OneHot {
                    name,
                    categories,
                    infrequent,
                    ..
                } => categories
                    .iter()
                    .map(|v| format!("{name}={v}"))
                    .chain((!infrequent.is_empty()).then(|| format!("{name}=infrequent")))
                    .collect(),
            })
            .collect()
    }

    /// For each input column, the model inputs it becomes (one for numbers, one per category).
    pub fn input_groups(&self) -> Vec<(String, Vec<usize>)> {
        let mut offset = 0;
        self.columns
            .iter()
            .map(|c| {
                let (name, width) = (c.name().to_owned(), c.width());
                let group = (offset..offset + width).collect();
                offset += width;
                (name, group)
            })
            .collect()
    }

    /// Input column names the pipeline reads.
    pub fn input_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name().to_owned()).collect()
    }

    /// Applies the fitted transformation to `frame` (training, test or serving rows).
    pub fn transform(&self, frame: &DataFrame) -> Result<Matrix, FeatureError> {
        let rows = frame.height();
        let cols = self.width();
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
                    let data = strict_numeric_column(frame, name)?;
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
                    infrequent,
                } => {
                    let data = text_column(frame, name)?;
                    let index: HashMap<&str, usize> = categories
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.as_str(), i))
                        .chain(infrequent.iter().map(|c| (c.as_str(), categories.len())))
                        .collect();
                    for (r, v) in data.iter().enumerate() {
                        let value = v.as_deref().unwrap_or(fill.as_str());
                        if let Some(&k) = index.get(value) {
                            values[r * cols + offset + k] = 1.0;
                        }
                    }
                    offset += column.width();
                }
            }
        }
        Ok(Matrix { values, rows, cols })
    }
}

/// The median with linear interpolation (as pandas and `SimpleImputer` compute it), by
/// selection in linear time instead of a full sort. Reorders `values`.
fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    let upper = n / 2;
    let (below, middle, _) = values.select_nth_unstable_by(upper, f64::total_cmp);
    let middle = *middle;
    if n % 2 == 1 {
        return middle;
    }
    // Even count: the mean of the two middle values; the lower one is the largest below.
    let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // numpy's lerp at t = 0.5, so the result is bit-equal to the quantile of sorted values.
    if lower == middle {
        lower
    } else {
        middle - (middle - lower) * 0.5
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
    let mean_present = present.iter().sum::<f64>() / present.len() as f64;
    let fill = match impute {
        NumericImpute::Median => median(&mut present),
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

    #[test]
    fn the_median_by_selection_equals_the_interpolated_quantile_of_the_sorted_values() {
        use crate::data::profile::stats::quantile_sorted;
        for values in [
            vec![3.0],
            vec![4.0, 1.0],
            vec![5.0, 1.0, 3.0, 2.0],
            vec![2.5, -1.0, 7.0, 7.0, 0.0, 1e9, -3.5],
        ] {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let mut work = values.clone();
            assert_eq!(
                median(&mut work),
                quantile_sorted(&sorted, 0.5).unwrap_or(0.0)
            );
        }
    }

    #[test]
    fn a_value_that_is_not_a_number_is_an_error_naming_column_row_and_value() {
        let p =
            FittedPipeline::fit(&frame(), &["age".into()], &PipelineSpec::default()).expect("fit");
        let served = df!("age" => ["30", "abc"], "extra" => [1, 2]).expect("frame");
        let error = p.transform(&served).expect_err("abc is not a number");
        assert_eq!(
            error,
            FeatureError::NotANumber {
                column: "age".into(),
                row: 2,
                value: "abc".into()
            }
        );
        assert!(error.to_string().contains("column 'age', row 2: 'abc'"));
        // Numbers as text, blanks as missing, and extra columns are fine.
        let fine = df!("age" => ["30", ""], "extra" => [1, 2]).expect("frame");
        assert!(p.transform(&fine).is_ok());
    }

    #[test]
    fn an_id_column_is_left_out_of_one_hot_encoding_and_the_reason_kept() {
        let ids: Vec<String> = (0..60).map(|i| format!("cust-{i}")).collect();
        let ages: Vec<f64> = (0..60).map(f64::from).collect();
        let data = df!("customer" => ids, "age" => ages).expect("frame");
        let features = ["customer".to_string(), "age".to_string()];
        let p = FittedPipeline::fit(&data, &features, &PipelineSpec::default()).expect("fit");
        assert_eq!(p.output_names(), vec!["age"]);
        assert_eq!(p.left_out.len(), 1);
        assert_eq!(p.left_out[0].column, "customer");
        // Chosen explicitly, it is encoded (here with at most 3 outputs).
        let mut spec = PipelineSpec::default();
        spec.steps.insert("customer".into(), ColumnStep::OneHot);
        spec.one_hot.max_categories = Some(3);
        let p = FittedPipeline::fit(&data, &features, &spec).expect("fit");
        assert_eq!(p.width(), 4);
        assert!(p.left_out.is_empty());
    }

    #[test]
    fn a_design_matrix_too_large_for_memory_is_refused_before_it_is_built() {
        let p =
            FittedPipeline::fit(&frame(), &["age".into()], &PipelineSpec::default()).expect("fit");
        if crate::data::load::available_memory().is_some() {
            let error = p.check_memory(usize::MAX / 64, 2).expect_err("too large");
            assert!(error.to_string().contains("memory is available"));
        }
        assert!(p.check_memory(1000, 2).is_ok());
    }
}
