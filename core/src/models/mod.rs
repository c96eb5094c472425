//! Models with scikit-learn's names and hyper-parameters, behind one interface.

pub mod linear;
pub mod logistic;
pub mod naive_bayes;
pub mod optim;
pub mod svm;
pub mod tree;

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
    /// The model does not fit this kind of target (a regressor given classes, or the reverse).
    #[error("{model} is not a {wanted}")]
    WrongTask {
        /// Model name.
        model: String,
        /// `classifier` or `regressor`.
        wanted: &'static str,
    },
    /// The caller's cancellation check returned true while fitting.
    #[error("cancelled")]
    Cancelled,
}

fn default_logistic_tol() -> f64 {
    logistic::DEFAULT_TOL
}

fn default_cd_tol() -> f64 {
    linear::DEFAULT_TOL
}

fn default_cache_size() -> f64 {
    svm::DEFAULT_CACHE_MB
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
    /// `LogisticRegression(C, max_iter, tol)`, L2 penalty, lbfgs solver.
    LogisticRegression {
        /// Inverse regularisation strength.
        #[serde(rename = "C")]
        c: f64,
        /// Most L-BFGS iterations (scikit-learn's meaning for `solver="lbfgs"`).
        max_iter: usize,
        /// Converged when the largest gradient component is at most this.
        #[serde(default = "default_logistic_tol")]
        tol: f64,
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
    /// `Lasso(alpha, max_iter, tol)`.
    Lasso {
        /// L1 strength.
        alpha: f64,
        /// Most coordinate-descent epochs.
        max_iter: usize,
        /// Duality-gap tolerance (relative to `||y - mean(y)||^2`).
        #[serde(default = "default_cd_tol")]
        tol: f64,
    },
    /// `DecisionTreeClassifier` / `DecisionTreeRegressor` (the task follows the target).
    DecisionTree {
        /// Tree settings.
        tree: tree::TreeParams,
    },
    /// `RandomForestClassifier` / `RandomForestRegressor`.
    RandomForest {
        /// Number of trees.
        n_estimators: usize,
        /// Sample rows with replacement for each tree.
        bootstrap: bool,
        /// Tree settings (`max_features` defaults to `sqrt` for classification, all for regression).
        tree: tree::TreeParams,
        /// Whether `max_features` was given (else it depends on the task).
        max_features_given: bool,
    },
    /// `SVC(C, kernel, gamma, degree, coef0, cache_size)`.
    Svm {
        /// Penalty of margin violations.
        #[serde(rename = "C")]
        c: f64,
        /// Kernel.
        kernel: svm::Kernel,
        /// `scale`, `auto` or a positive number.
        gamma: String,
        /// Polynomial degree.
        degree: i32,
        /// Independent term of poly and sigmoid kernels.
        coef0: f64,
        /// Kernel cache in MB (libsvm's `cache_size`); it bounds memory, not the rows.
        #[serde(default = "default_cache_size")]
        cache_size: f64,
    },
    /// `ElasticNet(alpha, l1_ratio, max_iter, tol)`.
    ElasticNet {
        /// Penalty strength.
        alpha: f64,
        /// Share of L1 in the penalty.
        l1_ratio: f64,
        /// Most coordinate-descent epochs.
        max_iter: usize,
        /// Duality-gap tolerance (relative to `||y - mean(y)||^2`).
        #[serde(default = "default_cd_tol")]
        tol: f64,
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

/// The hyper-parameters a model accepts (scikit-learn names).
pub fn model_params(model: &str) -> Result<&'static [&'static str], ModelError> {
    let known: &'static [&'static str] = match model {
        "logistic_regression" => &["C", "max_iter", "tol"],
        "gaussian_nb" => &["var_smoothing"],
        "linear_regression" => &[],
        "ridge" => &["alpha"],
        "lasso" => &["alpha", "max_iter", "tol"],
        "elastic_net" => &["alpha", "l1_ratio", "max_iter", "tol"],
        "decision_tree" => &[
            "max_depth",
            "min_samples_split",
            "min_samples_leaf",
            "max_features",
        ],
        "random_forest" => &[
            "n_estimators",
            "max_depth",
            "min_samples_split",
            "min_samples_leaf",
            "max_features",
            "bootstrap",
        ],
        "svm" => &["C", "kernel", "gamma", "degree", "coef0", "cache_size"],
        other => return Err(ModelError::UnknownModel(other.into())),
    };
    Ok(known)
}

fn boolean(
    params: &BTreeMap<String, String>,
    name: &str,
    default: bool,
) -> Result<bool, ModelError> {
    match params.get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(v) => Err(ModelError::BadValue {
            param: name.into(),
            value: v,
            reason: "must be true or false".into(),
        }),
    }
}

fn tree_params(
    params: &BTreeMap<String, String>,
    default_features: tree::MaxFeatures,
) -> Result<tree::TreeParams, ModelError> {
    let max_depth = match params.get("max_depth").map(|v| v.trim().to_owned()) {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("none") => None,
        Some(_) => Some(number(params, "max_depth", 0.0, count)? as usize),
    };
    let max_features = match params
        .get("max_features")
        .map(|v| v.trim().to_ascii_lowercase())
    {
        None => default_features,
        Some(v) if v == "sqrt" => tree::MaxFeatures::Sqrt,
        Some(v) if v == "log2" => tree::MaxFeatures::Log2,
        Some(v) if v == "none" || v == "all" => tree::MaxFeatures::All,
        Some(v) => {
            let bad = || ModelError::BadValue {
                param: "max_features".into(),
                value: v.clone(),
                reason:
                    "must be sqrt, log2, None, a fraction in (0, 1] or a whole number of features"
                        .into(),
            };
            let x: f64 = v.parse().map_err(|_| bad())?;
            if v.contains('.') && x > 0.0 && x <= 1.0 {
                tree::MaxFeatures::Fraction(x)
            } else if x >= 1.0 && x.fract() == 0.0 {
                tree::MaxFeatures::Count(x as usize)
            } else {
                return Err(bad());
            }
        }
    };
    Ok(tree::TreeParams {
        max_depth,
        min_samples_split: number(params, "min_samples_split", 2.0, |v| {
            (!(v >= 2.0 && v.fract() == 0.0)).then_some("must be a whole number of at least 2")
        })? as usize,
        min_samples_leaf: number(params, "min_samples_leaf", 1.0, count)? as usize,
        max_features,
    })
}

impl ModelSpec {
    /// Builds a spec from a model name and `name=value` parameters.
    pub fn from_params(model: &str, params: &BTreeMap<String, String>) -> Result<Self, ModelError> {
        let known = model_params(model)?;
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
                tol: number(params, "tol", logistic::DEFAULT_TOL, positive)?,
            },
            "gaussian_nb" => Self::GaussianNb {
                var_smoothing: number(params, "var_smoothing", 1e-9, non_negative)?,
            },
            "linear_regression" => Self::LinearRegression,
            "svm" => Self::Svm {
                c: number(params, "C", 1.0, positive)?,
                kernel: match params
                    .get("kernel")
                    .map(|k| k.trim().to_ascii_lowercase())
                    .as_deref()
                {
                    None | Some("rbf") => svm::Kernel::Rbf,
                    Some("linear") => svm::Kernel::Linear,
                    Some("poly") => svm::Kernel::Poly,
                    Some("sigmoid") => svm::Kernel::Sigmoid,
                    Some(other) => {
                        return Err(ModelError::BadValue {
                            param: "kernel".into(),
                            value: other.into(),
                            reason: "must be rbf, linear, poly or sigmoid".into(),
                        });
                    }
                },
                gamma: match params.get("gamma").map(|g| g.trim().to_ascii_lowercase()) {
                    None => "scale".into(),
                    Some(g)
                        if g == "scale"
                            || g == "auto"
                            || g.parse::<f64>().is_ok_and(|v| v > 0.0) =>
                    {
                        g
                    }
                    Some(g) => {
                        return Err(ModelError::BadValue {
                            param: "gamma".into(),
                            value: g,
                            reason: "must be scale, auto or a positive number".into(),
                        });
                    }
                },
                degree: number(params, "degree", 3.0, count)? as i32,
                coef0: number(params, "coef0", 0.0, |v| {
                    (!v.is_finite()).then_some("must be a number")
                })?,
                cache_size: number(params, "cache_size", svm::DEFAULT_CACHE_MB, positive)?,
            },
            "decision_tree" => Self::DecisionTree {
                tree: tree_params(params, tree::MaxFeatures::All)?,
            },
            "random_forest" => Self::RandomForest {
                n_estimators: number(params, "n_estimators", 100.0, count)? as usize,
                bootstrap: boolean(params, "bootstrap", true)?,
                tree: tree_params(params, tree::MaxFeatures::Sqrt)?,
                max_features_given: params.contains_key("max_features"),
            },
            "ridge" => Self::Ridge {
                alpha: number(params, "alpha", 1.0, non_negative)?,
            },
            "lasso" => Self::Lasso {
                alpha: number(params, "alpha", 1.0, non_negative)?,
                max_iter: number(params, "max_iter", 1000.0, count)? as usize,
                tol: number(params, "tol", linear::DEFAULT_TOL, positive)?,
            },
            _ => Self::ElasticNet {
                alpha: number(params, "alpha", 1.0, non_negative)?,
                l1_ratio: number(params, "l1_ratio", 0.5, fraction)?,
                max_iter: number(params, "max_iter", 1000.0, count)? as usize,
                tol: number(params, "tol", linear::DEFAULT_TOL, positive)?,
            },
        })
    }

    /// The model's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::LogisticRegression { .. } => "logistic_regression",
            Self::GaussianNb { .. } => "gaussian_nb",
            Self::LinearRegression => "linear_regression",
            Self::Svm { .. } => "svm",
            Self::DecisionTree { .. } => "decision_tree",
            Self::RandomForest { .. } => "random_forest",
            Self::Ridge { .. } => "ridge",
            Self::Lasso { .. } => "lasso",
            Self::ElasticNet { .. } => "elastic_net",
        }
    }

    /// Classification or regression; `None` for models that do both (trees follow the target).
    pub fn task(&self) -> Option<Task> {
        match self {
            Self::LogisticRegression { .. } | Self::GaussianNb { .. } | Self::Svm { .. } => {
                Some(Task::Classification)
            }
            Self::DecisionTree { .. } | Self::RandomForest { .. } => None,
            _ => Some(Task::Regression),
        }
    }

    /// All hyper-parameters with their values (defaults included), for tracking.
    pub fn params(&self) -> BTreeMap<String, String> {
        let pairs: Vec<(&str, String)> = match self {
            Self::LogisticRegression { c, max_iter, tol } => vec![
                ("C", c.to_string()),
                ("max_iter", max_iter.to_string()),
                ("tol", tol.to_string()),
            ],
            Self::GaussianNb { var_smoothing } => {
                vec![("var_smoothing", var_smoothing.to_string())]
            }
            Self::LinearRegression => vec![],
            Self::Svm {
                c,
                kernel,
                gamma,
                degree,
                coef0,
                cache_size,
            } => vec![
                ("C", c.to_string()),
                ("kernel", format!("{kernel:?}").to_lowercase()),
                ("gamma", gamma.clone()),
                ("degree", degree.to_string()),
                ("coef0", coef0.to_string()),
                ("cache_size", cache_size.to_string()),
            ],
            Self::DecisionTree { tree } => tree_param_pairs(tree),
            Self::RandomForest {
                n_estimators,
                bootstrap,
                tree,
                ..
            } => {
                let mut pairs = vec![
                    ("n_estimators", n_estimators.to_string()),
                    ("bootstrap", bootstrap.to_string()),
                ];
                pairs.extend(tree_param_pairs(tree));
                pairs
            }
            Self::Ridge { alpha } => vec![("alpha", alpha.to_string())],
            Self::Lasso {
                alpha,
                max_iter,
                tol,
            } => vec![
                ("alpha", alpha.to_string()),
                ("max_iter", max_iter.to_string()),
                ("tol", tol.to_string()),
            ],
            Self::ElasticNet {
                alpha,
                l1_ratio,
                max_iter,
                tol,
            } => vec![
                ("alpha", alpha.to_string()),
                ("l1_ratio", l1_ratio.to_string()),
                ("max_iter", max_iter.to_string()),
                ("tol", tol.to_string()),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    /// Fits to a classification target (class indices); `seed` drives any randomness.
    /// `None` when the model is not a classifier. Same as [`Self::fit_classifier_with`] without
    /// cancellation.
    pub fn fit_classifier(
        &self,
        x: &Matrix,
        y: &[usize],
        n_classes: usize,
        seed: u64,
    ) -> Option<Fitted> {
        self.fit_classifier_with(x, y, n_classes, seed, &|| false)
            .ok()
    }

    /// Fits to a classification target (class indices); `seed` drives any randomness.
    /// `cancelled` is polled while fitting (every few hundred SMO steps, between trees, before
    /// every L-BFGS iteration); when it returns true the fit stops with [`ModelError::Cancelled`].
    /// A regressor gives [`ModelError::WrongTask`].
    pub fn fit_classifier_with(
        &self,
        x: &Matrix,
        y: &[usize],
        n_classes: usize,
        seed: u64,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Fitted, ModelError> {
        let target = tree::Target::Classes(y, n_classes);
        let fitted = match self {
            Self::Svm {
                c,
                kernel,
                gamma,
                degree,
                coef0,
                cache_size,
            } => {
                let params = svm::KernelParams {
                    kernel: *kernel,
                    gamma: svm::resolve_gamma(gamma, x).unwrap_or(1.0),
                    degree: *degree,
                    coef0: *coef0,
                };
                svm::fit_svm_with(x, y, n_classes, *c, params, *cache_size, cancelled)
                    .map(Fitted::Svm)
            }
            Self::DecisionTree { tree } => {
                tree::fit_forest_with(x, target, 1, false, *tree, seed, cancelled)
                    .map(Fitted::Forest)
            }
            Self::RandomForest {
                n_estimators,
                bootstrap,
                tree,
                ..
            } => {
                tree::fit_forest_with(x, target, *n_estimators, *bootstrap, *tree, seed, cancelled)
                    .map(Fitted::Forest)
            }
            Self::LogisticRegression { c, max_iter, tol } => {
                logistic::fit_logistic_with(x, y, n_classes, *c, *max_iter, *tol, cancelled)
                    .map(Fitted::Logistic)
            }
            Self::GaussianNb { var_smoothing } => Some(Fitted::GaussianNb(
                naive_bayes::fit_gaussian_nb(x, y, n_classes, *var_smoothing),
            )),
            _ => {
                return Err(ModelError::WrongTask {
                    model: self.name().into(),
                    wanted: "classifier",
                });
            }
        };
        fitted.ok_or(ModelError::Cancelled)
    }

    /// Fits to a numeric target; `seed` drives any randomness. `None` when the model is not a
    /// regressor. Same as [`Self::fit_regressor_with`] without cancellation.
    pub fn fit_regressor(&self, x: &Matrix, y: &[f64], seed: u64) -> Option<Fitted> {
        self.fit_regressor_with(x, y, seed, &|| false).ok()
    }

    /// Fits to a numeric target; `seed` drives any randomness. `cancelled` is polled while
    /// fitting (between trees, every coordinate-descent epoch); when it returns true the fit
    /// stops with [`ModelError::Cancelled`]. A classifier gives [`ModelError::WrongTask`].
    pub fn fit_regressor_with(
        &self,
        x: &Matrix,
        y: &[f64],
        seed: u64,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Fitted, ModelError> {
        let target = tree::Target::Values(y);
        let fitted = match self {
            Self::DecisionTree { tree } => {
                tree::fit_forest_with(x, target, 1, false, *tree, seed, cancelled)
                    .map(Fitted::ForestRegressor)
            }
            Self::RandomForest {
                n_estimators,
                bootstrap,
                tree,
                max_features_given,
            } => {
                // scikit-learn's forest regressor considers every feature by default.
                let mut tree = *tree;
                if !max_features_given {
                    tree.max_features = tree::MaxFeatures::All;
                }
                tree::fit_forest_with(x, target, *n_estimators, *bootstrap, tree, seed, cancelled)
                    .map(Fitted::ForestRegressor)
            }
            Self::LinearRegression => Some(Fitted::Linear(linear::fit_linear(x, y))),
            Self::Ridge { alpha } => Some(Fitted::Linear(linear::fit_ridge(x, y, *alpha))),
            Self::Lasso {
                alpha,
                max_iter,
                tol,
            } => linear::fit_elastic_net_with(x, y, *alpha, 1.0, *max_iter, *tol, cancelled)
                .map(Fitted::Linear),
            Self::ElasticNet {
                alpha,
                l1_ratio,
                max_iter,
                tol,
            } => linear::fit_elastic_net_with(x, y, *alpha, *l1_ratio, *max_iter, *tol, cancelled)
                .map(Fitted::Linear),
            _ => {
                return Err(ModelError::WrongTask {
                    model: self.name().into(),
                    wanted: "regressor",
                });
            }
        };
        fitted.ok_or(ModelError::Cancelled)
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
    /// Trees voting with class probabilities.
    Forest(tree::Forest),
    /// Trees averaging numbers.
    ForestRegressor(tree::Forest),
    /// Support vector classifier (labels, no probabilities).
    Svm(svm::SvmModel),
}

impl Fitted {
    /// What scikit-learn would have warned about while fitting (its `ConvergenceWarning`s):
    /// L-BFGS or coordinate descent stopping at `max_iter` without converging, SMO stopping at
    /// its iteration cap. Empty for a clean fit.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            Self::Logistic(m) => m.warnings(),
            Self::Linear(m) => m.warnings(),
            Self::Svm(m) => m.warnings(),
            Self::GaussianNb(_) | Self::Forest(_) | Self::ForestRegressor(_) => Vec::new(),
        }
    }

    /// Class probabilities (classifiers) or `None`.
    pub fn predict_proba(&self, x: &Matrix) -> Option<Vec<Vec<f64>>> {
        match self {
            Self::Logistic(m) => Some(m.predict_proba(x)),
            Self::GaussianNb(m) => Some(m.predict_proba(x)),
            Self::Forest(m) => Some(m.predict(x)),
            Self::Linear(_) | Self::ForestRegressor(_) | Self::Svm(_) => None,
        }
    }

    /// Predicted class indices (classifiers): the most probable class, or the SVM's vote.
    pub fn predict_classes(&self, x: &Matrix) -> Option<Vec<usize>> {
        match self {
            Self::Svm(m) => Some(m.predict(x)),
            other => other
                .predict_proba(x)
                .map(|p| p.iter().map(|row| argmax(row)).collect()),
        }
    }

    /// Numeric predictions (regressors) or `None`.
    pub fn predict_value(&self, x: &Matrix) -> Option<Vec<f64>> {
        match self {
            Self::Linear(m) => Some(m.predict(x)),
            Self::ForestRegressor(m) => Some(
                m.predict(x)
                    .into_iter()
                    .map(|v| v.first().copied().unwrap_or(0.0))
                    .collect(),
            ),
            _ => None,
        }
    }
}

fn tree_param_pairs(tree: &tree::TreeParams) -> Vec<(&'static str, String)> {
    vec![
        (
            "max_depth",
            tree.max_depth.map_or("None".into(), |d| d.to_string()),
        ),
        ("min_samples_split", tree.min_samples_split.to_string()),
        ("min_samples_leaf", tree.min_samples_leaf.to_string()),
        ("max_features", tree.max_features.to_string()),
    ]
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
                max_iter: 100,
                tol: 1e-4,
            }
        );
        assert_eq!(spec.params()["C"], "0.5");
        assert_eq!(spec.params()["tol"], "0.0001");
    }

    #[test]
    fn specs_written_before_tol_and_cache_size_still_load() {
        let old: ModelSpec =
            serde_json::from_str(r#"{"model":"logistic_regression","C":1.0,"max_iter":100}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            old,
            ModelSpec::from_params("logistic_regression", &params(&[]))
                .unwrap_or_else(|e| panic!("{e}"))
        );
        let old: ModelSpec = serde_json::from_str(
            r#"{"model":"svm","C":1.0,"kernel":"rbf","gamma":"scale","degree":3,"coef0":0.0}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.params()["cache_size"], "200");
        let old: ModelSpec =
            serde_json::from_str(r#"{"model":"lasso","alpha":0.5,"max_iter":1000}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(old.params()["tol"], "0.0001");
    }

    #[test]
    fn fitting_the_wrong_task_or_cancelling_is_an_error() {
        let x = Matrix {
            values: vec![0.0, 1.0, 2.0, 3.0],
            rows: 4,
            cols: 1,
        };
        let ridge = ModelSpec::from_params("ridge", &params(&[])).unwrap_or_else(|e| panic!("{e}"));
        assert!(ridge.fit_classifier(&x, &[0, 0, 1, 1], 2, 0).is_none());
        assert_eq!(
            ridge
                .fit_classifier_with(&x, &[0, 0, 1, 1], 2, 0, &|| false)
                .map(|_| ()),
            Err(ModelError::WrongTask {
                model: "ridge".into(),
                wanted: "classifier"
            })
        );
        for model in [
            "logistic_regression",
            "svm",
            "random_forest",
            "decision_tree",
        ] {
            let spec =
                ModelSpec::from_params(model, &params(&[])).unwrap_or_else(|e| panic!("{e}"));
            let fitted = spec.fit_classifier_with(&x, &[0, 0, 1, 1], 2, 0, &|| true);
            assert_eq!(fitted.map(|_| ()), Err(ModelError::Cancelled), "{model}");
        }
        for model in ["lasso", "elastic_net", "random_forest"] {
            let spec =
                ModelSpec::from_params(model, &params(&[])).unwrap_or_else(|e| panic!("{e}"));
            let fitted = spec.fit_regressor_with(&x, &[0.0, 1.0, 2.0, 3.0], 0, &|| true);
            assert_eq!(fitted.map(|_| ()), Err(ModelError::Cancelled), "{model}");
        }
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
