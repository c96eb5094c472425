//! Kiln's models fitted on the same preprocessed matrix give scikit-learn's coefficients and
//! probabilities (fixtures made by `scripts/fixtures/make_model_fixtures.py`).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use kiln_core::features::Matrix;
use kiln_core::models::{Fitted, ModelSpec};
use serde_json::Value;

fn fixture(name: &str) -> (Matrix, Value) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/fixtures/models/{name}.json"));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let rows: Vec<Vec<f64>> = serde_json::from_value(doc["x"].clone()).expect("x");
    let cols = rows[0].len();
    let x = Matrix {
        rows: rows.len(),
        cols,
        values: rows.into_iter().flatten().collect(),
    };
    (x, doc)
}

fn spec(doc: &Value) -> ModelSpec {
    let params: BTreeMap<String, String> = doc["params"]
        .as_object()
        .expect("params")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_owned),
            )
        })
        .collect();
    ModelSpec::from_params(doc["model"].as_str().expect("model"), &params).expect("spec")
}

fn assert_close(what: &str, actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol * expected.abs().max(1.0),
        "{what}: kiln {actual}, scikit-learn {expected}"
    );
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("number")],
    }
}

#[test]
fn logistic_regression_equals_scikit_learn() {
    for name in [
        "logistic_binary_C1",
        "logistic_binary_C0.05",
        "logistic_multinomial_C1",
    ] {
        let (x, doc) = fixture(name);
        let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
        let n_classes = y.iter().max().unwrap() + 1;
        let fitted = spec(&doc)
            .fit_classifier(&x, &y, n_classes, 0)
            .expect("classifier");
        let Fitted::Logistic(model) = &fitted else {
            panic!("logistic")
        };
        assert!(model.converged, "{name} converged");
        let coef: Vec<f64> = model.coef.iter().flatten().copied().collect();
        for (i, (a, e)) in coef.iter().zip(flat(&doc["coef"])).enumerate() {
            assert_close(&format!("{name} coef[{i}]"), *a, e, 1e-4);
        }
        for (i, (a, e)) in model
            .intercept
            .iter()
            .zip(flat(&doc["intercept"]))
            .enumerate()
        {
            assert_close(&format!("{name} intercept[{i}]"), *a, e, 1e-4);
        }
        let head = Matrix {
            rows: 10,
            cols: x.cols,
            values: x.values[..10 * x.cols].to_vec(),
        };
        let proba: Vec<f64> = fitted
            .predict_proba(&head)
            .expect("proba")
            .into_iter()
            .flatten()
            .collect();
        for (a, e) in proba.iter().zip(flat(&doc["proba_head"])) {
            assert_close(&format!("{name} proba"), *a, e, 1e-5);
        }
    }
}

#[test]
fn gaussian_naive_bayes_equals_scikit_learn() {
    let (x, doc) = fixture("gaussian_nb_iris");
    let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
    let fitted = spec(&doc).fit_classifier(&x, &y, 3, 0).expect("classifier");
    let Fitted::GaussianNb(model) = &fitted else {
        panic!("nb")
    };
    for (a, e) in model.theta.iter().flatten().zip(flat(&doc["theta"])) {
        assert_close("theta", *a, e, 1e-12);
    }
    for (a, e) in model.var.iter().flatten().zip(flat(&doc["var"])) {
        assert_close("var", *a, e, 1e-12);
    }
}

#[test]
fn linear_models_equal_scikit_learn() {
    for name in [
        "linear_regression",
        "ridge_alpha10",
        "lasso_alpha0.5",
        "elastic_net_alpha0.5_l1_0.3",
    ] {
        let (x, doc) = fixture(name);
        let y = flat(&doc["y"]);
        let fitted = spec(&doc).fit_regressor(&x, &y, 0).expect("regressor");
        let Fitted::Linear(model) = &fitted else {
            panic!("linear")
        };
        for (i, (a, e)) in model.coef.iter().zip(flat(&doc["coef"])).enumerate() {
            assert_close(&format!("{name} coef[{i}]"), *a, e, 1e-6);
        }
        assert_close(
            &format!("{name} intercept"),
            model.intercept,
            doc["intercept"].as_f64().unwrap(),
            1e-9,
        );
    }
}

fn matrix(v: &Value) -> Matrix {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).expect("matrix");
    let cols = rows[0].len();
    Matrix {
        rows: rows.len(),
        cols,
        values: rows.into_iter().flatten().collect(),
    }
}

#[test]
fn support_vector_classification_predicts_as_scikit_learn() {
    for name in ["svm_rbf_iris", "svm_linear_breast", "svm_poly_iris"] {
        let (x, doc) = fixture(name);
        let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
        let n_classes = y.iter().max().unwrap() + 1;
        let fitted = spec(&doc)
            .fit_classifier(&x, &y, n_classes, 0)
            .expect("classifier");
        let predicted = fitted.predict_classes(&x).expect("labels");
        let expected: Vec<usize> = flat(&doc["predictions"])
            .into_iter()
            .map(|v| v as usize)
            .collect();
        let agree = predicted
            .iter()
            .zip(&expected)
            .filter(|(a, b)| a == b)
            .count();
        // Both stop at libsvm's tolerance (1e-3): points right on the margin may differ.
        assert!(
            agree as f64 >= 0.99 * expected.len() as f64,
            "{name}: {agree} of {} predictions agree",
            expected.len()
        );
    }
}

#[test]
fn trees_and_forests_are_as_accurate_as_scikit_learn() {
    for name in ["decision_tree_breast", "random_forest_breast"] {
        let (x, doc) = fixture(name);
        let y: Vec<usize> = flat(&doc["y"]).into_iter().map(|v| v as usize).collect();
        let fitted = spec(&doc).fit_classifier(&x, &y, 2, 0).expect("classifier");
        let x_test = matrix(&doc["x_test"]);
        let y_test: Vec<usize> = flat(&doc["y_test"])
            .into_iter()
            .map(|v| v as usize)
            .collect();
        let predicted = fitted.predict_classes(&x_test).expect("labels");
        let accuracy = predicted
            .iter()
            .zip(&y_test)
            .filter(|(a, b)| a == b)
            .count() as f64
            / y_test.len() as f64;
        let theirs = doc["accuracy"].as_f64().unwrap();
        assert!(
            accuracy >= theirs - 0.03,
            "{name}: kiln {accuracy:.4}, scikit-learn {theirs:.4}"
        );
    }
}

fn classes(doc: &Value, key: &str) -> Vec<usize> {
    flat(&doc[key]).into_iter().map(|v| v as usize).collect()
}

fn warnings_of(doc: &Value) -> Vec<String> {
    doc["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("text").to_owned())
        .collect()
}

/// `max_iter` is the number of L-BFGS iterations, as in scikit-learn: with its default `tol`
/// both converge quietly; with a small `max_iter` both stop there and warn.
#[test]
fn logistic_regression_converges_and_warns_as_scikit_learn() {
    for name in [
        "logistic_default_tol",
        "logistic_not_converged",
        "logistic_not_converged_multinomial",
    ] {
        let (x, doc) = fixture(name);
        let y = classes(&doc, "y");
        let n_classes = y.iter().max().unwrap() + 1;
        let fitted = spec(&doc)
            .fit_classifier(&x, &y, n_classes, 0)
            .expect("classifier");
        let Fitted::Logistic(model) = &fitted else {
            panic!("logistic")
        };
        let theirs = warnings_of(&doc);
        let ours = fitted.warnings();
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{name}: kiln {ours:?}, sklearn {theirs:?}"
        );
        assert_eq!(model.converged, theirs.is_empty(), "{name}");
        let sklearn_iter = doc["n_iter"].as_u64().unwrap() as usize;
        if theirs.is_empty() {
            // Different line searches: iteration counts are close, not equal.
            assert!(
                model.iterations <= 3 * sklearn_iter.max(10),
                "{name}: kiln {} iterations, sklearn {sklearn_iter}",
                model.iterations
            );
            // Both stop at a gradient of 1e-4: probabilities agree to about that.
            let head = Matrix {
                rows: 10,
                cols: x.cols,
                values: x.values[..10 * x.cols].to_vec(),
            };
            let proba: Vec<f64> = fitted
                .predict_proba(&head)
                .expect("proba")
                .into_iter()
                .flatten()
                .collect();
            for (a, e) in proba.iter().zip(flat(&doc["proba_head"])) {
                assert_close(&format!("{name} proba"), *a, e, 2e-3);
            }
        } else {
            assert_eq!(model.iterations, sklearn_iter, "{name}: n_iter");
            let max_iter = doc["params"]["max_iter"].as_u64().unwrap();
            assert!(theirs[0].contains(&format!("(max_iter={max_iter})")));
            assert_eq!(
                ours[0],
                format!(
                    "lbfgs failed to converge after {max_iter} iterations (max_iter={max_iter}); \
                     increase max_iter or scale the data"
                )
            );
        }
    }
}

/// Coordinate descent stops on scikit-learn's duality gap: the same epochs, the same gap, and
/// the same ConvergenceWarning when max_iter runs out.
#[test]
fn coordinate_descent_converges_and_warns_as_scikit_learn() {
    for name in [
        "lasso_default_tol",
        "elastic_net_default_tol",
        "lasso_not_converged",
        "elastic_net_not_converged",
    ] {
        let (x, doc) = fixture(name);
        let y = flat(&doc["y"]);
        let fitted = spec(&doc).fit_regressor(&x, &y, 0).expect("regressor");
        let Fitted::Linear(model) = &fitted else {
            panic!("linear")
        };
        let theirs = warnings_of(&doc);
        let ours = fitted.warnings();
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{name}: kiln {ours:?}, sklearn {theirs:?}"
        );
        assert_eq!(model.converged, theirs.is_empty(), "{name}");
        assert_eq!(
            model.iterations,
            doc["n_iter"].as_u64().unwrap() as usize,
            "{name}: n_iter"
        );
        // scikit-learn's dual_gap_ is the gap divided by the number of rows.
        assert_close(
            &format!("{name} dual gap"),
            model.dual_gap / x.rows as f64,
            doc["dual_gap"].as_f64().unwrap(),
            1e-6,
        );
        for (i, (a, e)) in model.coef.iter().zip(flat(&doc["coef"])).enumerate() {
            assert_close(&format!("{name} coef[{i}]"), *a, e, 1e-6);
        }
        if let Some(warning) = theirs.first() {
            // Same numbers as scikit-learn's message ("Duality gap: 6.394149e+05, tolerance: 2.621e+02").
            let tolerance = warning.rsplit("tolerance: ").next().unwrap();
            let tolerance: f64 = tolerance.trim().parse().unwrap();
            assert_close(
                &format!("{name} tolerance"),
                model.gap_tolerance,
                tolerance,
                1e-3,
            );
            assert!(
                ours[0].starts_with(&format!(
                    "coordinate descent failed to converge after {} iterations (max_iter={})",
                    model.iterations, model.iterations
                )),
                "{}",
                ours[0]
            );
        }
    }
}

/// scikit-learn keeps drawing features past max_features while all drawn are constant: every
/// tree of the forest finds the one informative feature of twenty.
#[test]
fn forests_find_a_rarely_sampled_informative_feature_as_scikit_learn() {
    let (x, doc) = fixture("forest_rare_informative_feature");
    let y = classes(&doc, "y");
    let fitted = spec(&doc).fit_classifier(&x, &y, 2, 0).expect("classifier");
    let Fitted::Forest(forest) = &fitted else {
        panic!("forest")
    };
    let theirs: Vec<usize> = classes(&doc, "node_counts");
    let ours: Vec<usize> = forest.trees.iter().map(|t| t.nodes.len()).collect();
    assert_eq!(ours, theirs);
    assert_eq!(
        fitted.predict_classes(&x).expect("labels"),
        classes(&doc, "predictions")
    );
}

/// XOR: the first split has zero impurity decrease; scikit-learn splits anyway and grows the
/// same 7-node tree.
#[test]
fn trees_take_zero_gain_splits_as_scikit_learn() {
    let (x, doc) = fixture("tree_xor_zero_gain");
    let y = classes(&doc, "y");
    let fitted = spec(&doc).fit_classifier(&x, &y, 2, 0).expect("classifier");
    let Fitted::Forest(forest) = &fitted else {
        panic!("forest")
    };
    assert_eq!(
        forest.trees[0].nodes.len(),
        doc["node_count"].as_u64().unwrap() as usize
    );
    assert_eq!(
        fitted.predict_classes(&x).expect("labels"),
        classes(&doc, "predictions")
    );
}

/// A non-constant feature with no valid split uses up max_features=1, as in scikit-learn: the
/// root stays a leaf for about half of the seeds.
#[test]
fn features_without_a_valid_split_count_as_drawn_as_in_scikit_learn() {
    let (x, doc) = fixture("tree_invalid_feature_counts_as_drawn");
    let y = classes(&doc, "y");
    let spec = spec(&doc);
    let ours = (0..200u64)
        .filter(|&seed| {
            let fitted = spec.fit_classifier(&x, &y, 2, seed).expect("classifier");
            matches!(&fitted, Fitted::Forest(f) if f.trees[0].nodes.len() == 1)
        })
        .count();
    let theirs = doc["root_leaves_of_200_seeds"].as_u64().unwrap() as usize;
    assert!(
        ours.abs_diff(theirs) <= 30,
        "roots left unsplit: kiln {ours} of 200 seeds, scikit-learn {theirs}"
    );
}

/// The kernel cache bounds memory, not the result: a cache too small for the kernel matrix
/// (columns evicted and recomputed) gives the same machines, and scikit-learn's predictions.
#[test]
fn svm_with_a_small_kernel_cache_predicts_as_scikit_learn() {
    for (name, small) in [
        ("svm_rbf_iris", "0.005"),
        ("svm_linear_breast", "0.02"),
        ("svm_poly_iris", "0.005"),
        ("svm_rbf_small_cache", "1"),
    ] {
        let (x, doc) = fixture(name);
        let y = classes(&doc, "y");
        let n_classes = y.iter().max().unwrap() + 1;
        let mut params: BTreeMap<String, String> = doc["params"]
            .as_object()
            .expect("params")
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                )
            })
            .collect();
        params.insert("cache_size".into(), small.into());
        let tiny = ModelSpec::from_params("svm", &params).expect("spec");
        params.insert("cache_size".into(), "200".into());
        let roomy = ModelSpec::from_params("svm", &params).expect("spec");
        let a = tiny
            .fit_classifier(&x, &y, n_classes, 0)
            .expect("classifier");
        let b = roomy
            .fit_classifier(&x, &y, n_classes, 0)
            .expect("classifier");
        assert_eq!(a, b, "{name}: the cache size changed the model");
        assert!(a.warnings().is_empty(), "{name}: {:?}", a.warnings());
        let predicted = a.predict_classes(&x).expect("labels");
        let expected = classes(&doc, "predictions");
        let agree = predicted
            .iter()
            .zip(&expected)
            .filter(|(p, e)| p == e)
            .count();
        assert!(
            agree as f64 >= 0.99 * expected.len() as f64,
            "{name}: {agree} of {} predictions agree",
            expected.len()
        );
    }
}

/// Cancellation stops every iterative model with `ModelError::Cancelled`.
#[test]
fn cancelled_fits_stop_with_an_error() {
    use kiln_core::models::ModelError;
    let (x, doc) = fixture("svm_rbf_small_cache");
    let y = classes(&doc, "y");
    let polls = std::sync::atomic::AtomicUsize::new(0);
    // Cancelled on the third poll: after SMO has started.
    let cancelled = || polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 2;
    let result = spec(&doc).fit_classifier_with(&x, &y, 3, 0, &cancelled);
    assert_eq!(result.err(), Some(ModelError::Cancelled));
    let result = ModelSpec::from_params("random_forest", &BTreeMap::new())
        .expect("spec")
        .fit_classifier_with(&x, &y, 3, 0, &|| true);
    assert_eq!(result.err(), Some(ModelError::Cancelled));
}
