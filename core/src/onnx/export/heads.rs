//! The model part of an export: `LinearRegressor`, `LinearClassifier` (softmax over one row
//! per class; a binary model's single row becomes `[0, w]` so softmax equals its sigmoid),
//! `TreeEnsembleClassifier` and `TreeEnsembleRegressor` with each leaf weighted by
//! `1 / trees`, which averages the trees as the native forest does.

use tract_onnx::pb::tensor_proto::DataType;

use super::graph::{Attr, Graph, ML};
use crate::inference::ModelArtifact;
use crate::models::Fitted;
use crate::models::tree::{Forest, Node};
use crate::onnx::OnnxError;

/// Adds the model reading `features` and declares the outputs.
pub(super) fn model_head(
    graph: &mut Graph,
    artifact: &ModelArtifact,
    features: &str,
    width: i64,
) -> Result<(), OnnxError> {
    let classes = artifact.classes.clone();
    let k = classes.len() as i64;
    match &artifact.model {
        Fitted::Linear(m) => {
            graph.node(
                "LinearRegressor",
                ML,
                &[features],
                &["prediction"],
                vec![
                    (
                        "coefficients",
                        Attr::Floats(m.coef.iter().map(|c| *c as f32).collect()),
                    ),
                    ("intercepts", Attr::Floats(vec![m.intercept as f32])),
                    ("targets", Attr::Int(1)),
                ],
            );
            graph.output("prediction", DataType::Float, &[1]);
        }
        Fitted::Logistic(m) => {
            let zero_row = std::iter::repeat_n(0.0, width as usize);
            let (coef, intercepts): (Vec<f32>, Vec<f32>) = if m.coef.len() == 1 {
                let w = m.coef[0].iter().map(|c| *c as f32);
                (
                    zero_row.chain(w).collect(),
                    vec![0.0, m.intercept[0] as f32],
                )
            } else {
                (
                    m.coef.iter().flatten().map(|c| *c as f32).collect(),
                    m.intercept.iter().map(|b| *b as f32).collect(),
                )
            };
            graph.node(
                "LinearClassifier",
                ML,
                &[features],
                &["label", "probabilities"],
                vec![
                    ("classlabels_strings", Attr::Strs(classes)),
                    ("coefficients", Attr::Floats(coef)),
                    ("intercepts", Attr::Floats(intercepts)),
                    ("multi_class", Attr::Int(0)),
                    ("post_transform", Attr::Str("SOFTMAX".into())),
                ],
            );
            classifier_outputs(graph, k);
        }
        Fitted::Forest(forest) => {
            let mut attrs = tree_attrs(forest, "class");
            attrs.push(("classlabels_strings", Attr::Strs(classes)));
            attrs.push(("post_transform", Attr::Str("NONE".into())));
            graph.node(
                "TreeEnsembleClassifier",
                ML,
                &[features],
                &["label", "probabilities"],
                attrs,
            );
            classifier_outputs(graph, k);
        }
        Fitted::ForestRegressor(forest) => {
            let mut attrs = tree_attrs(forest, "target");
            attrs.push(("n_targets", Attr::Int(1)));
            attrs.push(("aggregate_function", Attr::Str("SUM".into())));
            attrs.push(("post_transform", Attr::Str("NONE".into())));
            graph.node(
                "TreeEnsembleRegressor",
                ML,
                &[features],
                &["prediction"],
                attrs,
            );
            graph.output("prediction", DataType::Float, &[1]);
        }
        Fitted::GaussianNb(_) | Fitted::Svm(_) => {
            return Err(OnnxError::Unsupported(artifact.spec.name().to_string()));
        }
    }
    Ok(())
}

fn classifier_outputs(graph: &mut Graph, k: i64) {
    graph.output("label", DataType::String, &[]);
    graph.output("probabilities", DataType::Float, &[k]);
}

/// The node and leaf tables of a forest; `leaf` is `class` or `target`.
fn tree_attrs(forest: &Forest, leaf: &str) -> Vec<(&'static str, Attr)> {
    let share = 1.0 / forest.trees.len().max(1) as f64;
    let (mut tree_ids, mut node_ids, mut features, mut modes) = (vec![], vec![], vec![], vec![]);
    let (mut values, mut trues, mut falses) = (vec![], vec![], vec![]);
    let (mut leaf_trees, mut leaf_nodes, mut leaf_ids, mut weights) =
        (vec![], vec![], vec![], vec![]);
    for (t, tree) in forest.trees.iter().enumerate() {
        for (i, node) in tree.nodes.iter().enumerate() {
            tree_ids.push(t as i64);
            node_ids.push(i as i64);
            match node {
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    features.push(*feature as i64);
                    modes.push("BRANCH_LEQ".to_owned());
                    values.push(*threshold as f32);
                    trues.push(*left as i64);
                    falses.push(*right as i64);
                }
                Node::Leaf { value } => {
                    features.push(0);
                    modes.push("LEAF".to_owned());
                    values.push(0.0);
                    trues.push(0);
                    falses.push(0);
                    for (c, v) in value.iter().enumerate() {
                        leaf_trees.push(t as i64);
                        leaf_nodes.push(i as i64);
                        leaf_ids.push(c as i64);
                        weights.push((v * share) as f32);
                    }
                }
            }
        }
    }
    let (ids, node_key, tree_key, weight_key) = if leaf == "class" {
        (
            "class_ids",
            "class_nodeids",
            "class_treeids",
            "class_weights",
        )
    } else {
        (
            "target_ids",
            "target_nodeids",
            "target_treeids",
            "target_weights",
        )
    };
    vec![
        ("nodes_treeids", Attr::Ints(tree_ids)),
        ("nodes_nodeids", Attr::Ints(node_ids)),
        ("nodes_featureids", Attr::Ints(features)),
        ("nodes_modes", Attr::Strs(modes)),
        ("nodes_values", Attr::Floats(values)),
        ("nodes_truenodeids", Attr::Ints(trues)),
        ("nodes_falsenodeids", Attr::Ints(falses)),
        (ids, Attr::Ints(leaf_ids)),
        (node_key, Attr::Ints(leaf_nodes)),
        (tree_key, Attr::Ints(leaf_trees)),
        (weight_key, Attr::Floats(weights)),
    ]
}
