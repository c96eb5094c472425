//! Models with scikit-learn's names and hyper-parameters, behind one interface.

pub mod linear;
pub mod logistic;
pub mod naive_bayes;
pub mod optim;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::features::Matrix;

/// Classification or regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Predict a class.
    Classification,
    /// Predict a number.
    Regression,
}

/// Why a model specification is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// Unknown model name.
    #[error("unknown model '{0}' (known: {known})", known = MODEL_NAMES.join(", "))]
    UnknownModel(String),
    /// A parameter the model does not have.
    #[error("model '{model}' has no parameter '{param}' (it has: {known})")]
    UnknownParam {
        /// Model name.
        model: String,
        /// The parameter given.
        param: String,
        /// Its parameters.
        known: String,
    },
    /// A parameter value that is not allowed.
    #[error("parameter {param}={value}: {reason}")]
    BadValue {
        /// Parameter name.
        param: String,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// The model is named in Kiln's contract but not built yet.
    #[error("model '{0}' is not built yet")]
    NotBuilt(String),
}

/// Every model name Kiln knows.
pub const MODEL_NAMES: &[&str] = &[
    "logistic_regression",
    "decision_tree",
    "random_forest",
    "gaussian_nb",
    "svm",
    "linear_regression",
    "ridge",
    "lasso",
    "elastic_net",
];

/// A model and its hyper-parameters (scikit-learn names and meanings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ModelSpec {
    /// `LogisticRegression(C, max_iter)`, L2 penalty.
    LogisticRegression {
        /// Inverse regularisation strength.
        #[serde(rename = "C")]
        c: f64,
        /// Iteration budget.
        max_iter: usize,
    },
    /// `GaussianNB(var_smoothing)`.
    GaussianNb {
        /// Share of the largest variance added to all variances.
        var_smoothing: f64,
    },
    /// `LinearRegression()`.
    LinearRegression,
    /// `Ridge(alpha)`.
    Ridge {
        /// L2 strength.
        alpha: f64,
    },
    /// `Lasso(alpha, max_iter)`.
    Lasso {
        /// L1 strength.
        alpha: f64,
        /// Iteration budget.
        max_iter: usize,
    },
    /// `ElasticNet(alpha, l1_ratio, max_iter)`.
    ElasticNet {
        /// Penalty strength.
        alpha: f64,
        /// Share of L1 in the penalty.
        l1_ratio: f64,
        /// Iteration budget.
        max_iter: usize,
    },
}

fn number(
    params: &BTreeMap<String, String>,
    name: &str,
    default: f64,
    check: impl Fn(f64) -> Option<&'static str>,
) -> Result<f64, ModelError> {
    let Some(text) = params.get(name) else {
        return Ok(default);
    };
    let value: f64 = text.trim().parse().map_err(|_| ModelError::BadValue {
        param: name.into(),
        value: text.clone(),
        reason: "not a number".into(),
    })?;
    match check(value) {
        Some(reason) => Err(ModelError::BadValue {
            param: name.into(),
            value: text.clone(),
            reason: reason.into(),
        }),
        None => Ok(value),
    }
}

fn positive(v: f64) -> Option<&'static str> {
    (!(v > 0.0 && v.is_finite())).then_some("must be a positive number")
}

fn non_negative(v: f64) -> Option<&'static str> {
    (!(v >= 0.0 && v.is_finite())).then_some("must be zero or more")
}

fn count(v: f64) -> Option<&'static str> {
    (!(v >= 1.0 && v.fract() == 0.0 && v < 1e9)).then_some("must be a whole number of at least 1")
}

fn fraction(v: f64) -> Option<&'static str> {
    (!(0.0..=1.0).contains(&v)).then_some("must be between 0 and 1")
}

impl ModelSpec {
    /// Builds a spec from a model name and `name=value` parameters.
    pub fn from_params(model: &str, params: &BTreeMap<String, String>) -> Result<Self, ModelError> {
        let known: &[&str] = match model {
            "logistic_regression" => &["C", "max_iter"],
            "gaussian_nb" => &["var_smoothing"],
            "linear_regression" => &[],
            "ridge" => &["alpha"],
            "lasso" => &["alpha", "max_iter"],
            "elastic_net" => &["alpha", "l1_ratio", "max_iter"],
            "decision_tree" | "random_forest" | "svm" => {
                return Err(ModelError::NotBuilt(model.into()));
            }
            other => return Err(ModelError::UnknownModel(other.into())),
        };
        if let Some(param) = params.keys().find(|p| !known.contains(&p.as_str())) {
            return Err(ModelError::UnknownParam {
                model: model.into(),
                param: param.clone(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        }
        Ok(match model {
            "logistic_regression" => Self::LogisticRegression {
                c: number(params, "C", 1.0, positive)?,
                max_iter: number(params, "max_iter", 100.0, count)? as usize,
            },
            "gaussian_nb" => Self::GaussianNb {
                var_smoothing: number(params, "var_smoothing", 1e-9, non_negative)?,
            },
            "linear_regression" => Self::LinearRegression,
            "ridge" => Self::Ridge {
                alpha: number(params, "alpha", 1.0, non_negative)?,
            },
            "lasso" => Self::Lasso {
                alpha: number(params, "alpha", 1.0, non_negative)?,
                max_iter: number(params, "max_iter", 1000.0, count)? as usize,
            },
            _ => Self::ElasticNet {
                alpha: number(params, "alpha", 1.0, non_negative)?,
                l1_ratio: number(params, "l1_ratio", 0.5, fraction)?,
                max_iter: number(params, "max_iter", 1000.0, count)? as usize,
            },
        })
    }

    /// The model's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LogisticRegression { .. } => "logistic_regression",
            Self::GaussianNb { .. } => "gaussian_nb",
            Self::LinearRegression => "linear_regression",
            Self::Ridge { .. } => "ridge",
            Self::Lasso { .. } => "lasso",
            Self::ElasticNet { .. } => "elastic_net",
        }
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        match self {
            Self::LogisticRegression { .. } | Self::GaussianNb { .. } => Task::Classification,
            _ => Task::Regression,
        }
    }

    /// All hyper-parameters with their values (defaults included), for tracking.
    pub fn params(&self) -> BTreeMap<String, String> {
        let pairs: Vec<(&str, String)> = match self {
            Self::LogisticRegression { c, max_iter } => {
                vec![("C", c.to_string()), ("max_iter", max_iter.to_string())]
            }
            Self::GaussianNb { var_smoothing } => {
                vec![("var_smoothing", var_smoothing.to_string())]
            }
            Self::LinearRegression => vec![],
            Self::Ridge { alpha } => vec![("alpha", alpha.to_string())],
            Self::Lasso { alpha, max_iter } => vec![
                ("alpha", alpha.to_string()),
                ("max_iter", max_iter.to_string()),
            ],
            Self::ElasticNet {
                alpha,
                l1_ratio,
                max_iter,
            } => vec![
                ("alpha", alpha.to_string()),
                ("l1_ratio", l1_ratio.to_string()),
                ("max_iter", max_iter.to_string()),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// Fits to a classification target (class indices).
    pub fn fit_classifier(&self, x: &Matrix, y: &[usize], n_classes: usize) -> Option<Fitted> {
        match self {
            Self::LogisticRegression { c, max_iter } => Some(Fitted::Logistic(
                logistic::fit_logistic(x, y, n_classes, *c, *max_iter),
            )),
            Self::GaussianNb { var_smoothing } => Some(Fitted::GaussianNb(
                naive_bayes::fit_gaussian_nb(x, y, n_classes, *var_smoothing),
            )),
            _ => None,
        }
    }

    /// Fits to a numeric target.
    pub fn fit_regressor(&self, x: &Matrix, y: &[f64]) -> Option<Fitted> {
        let model = match self {
            Self::LinearRegression => linear::fit_linear(x, y),
            Self::Ridge { alpha } => linear::fit_ridge(x, y, *alpha),
            Self::Lasso { alpha, max_iter } => {
                linear::fit_elastic_net(x, y, *alpha, 1.0, *max_iter, 1e-10)
            }
            Self::ElasticNet {
                alpha,
                l1_ratio,
                max_iter,
            } => linear::fit_elastic_net(x, y, *alpha, *l1_ratio, *max_iter, 1e-10),
            _ => return None,
        };
        Some(Fitted::Linear(model))
    }
}

/// A fitted model of any kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fitted {
    /// Logistic regression.
    Logistic(logistic::LogisticModel),
    /// Gaussian naive Bayes.
    GaussianNb(naive_bayes::GaussianNbModel),
    /// A linear regression model.
    Linear(linear::LinearModel),
}

impl Fitted {
    /// Class probabilities (classifiers) or `None`.
    pub fn predict_proba(&self, x: &Matrix) -> Option<Vec<Vec<f64>>> {
        match self {
            Self::Logistic(m) => Some(m.predict_proba(x)),
            Self::GaussianNb(m) => Some(m.predict_proba(x)),
            Self::Linear(_) => None,
        }
    }

    /// Numeric predictions (regressors) or `None`.
    pub fn predict_value(&self, x: &Matrix) -> Option<Vec<f64>> {
        match self {
            Self::Linear(m) => Some(m.predict(x)),
            _ => None,
        }
    }
}

/// Index of the largest probability (the first on ties, as numpy's argmax).
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn specs_use_scikit_learn_names_and_defaults() {
        let spec =
            ModelSpec::from_params("logistic_regression", &params(&[("C", "0.5")])).expect("spec");
        assert_eq!(
            spec,
            ModelSpec::LogisticRegression {
                c: 0.5,
                max_iter: 100
            }
        );
        assert_eq!(spec.params()["C"], "0.5");
    }

    #[test]
    fn bad_specs_are_explained() {
        let err = ModelSpec::from_params("xgboost", &params(&[])).expect_err("unknown");
        assert!(err.to_string().contains("unknown model 'xgboost'"), "{err}");
        let err = ModelSpec::from_params("ridge", &params(&[("C", "1")])).expect_err("param");
        assert!(
            err.to_string()
                .contains("has no parameter 'C' (it has: alpha)"),
            "{err}"
        );
        let err = ModelSpec::from_params("logistic_regression", &params(&[("C", "-1")]))
            .expect_err("range");
        assert!(
            err.to_string().contains("C=-1: must be a positive number"),
            "{err}"
        );
    }
}
