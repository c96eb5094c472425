//! `TreeEnsembleRegressor` (ai.onnx.ml 1 and 3): the node tables are parsed into tract's own
//! tree ensemble (the one its `TreeEnsembleClassifier` runs), which sums or averages the
//! leaves' target weights; `base_values` are added after.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::pb_helpers::AttrTVecType;
use tract_onnx::tract_hir::internal::*;
use tract_onnx_opl::ml::tree::{Cmp, TreeEnsemble, TreeEnsembleData};
use tract_onnx_opl::ml::tree_ensemble_classifier::{TreeEnsembleClassifier, parse_aggregate};

pub(super) fn register(reg: &mut OnnxOpRegister) {
    reg.insert("TreeEnsembleRegressor", tree_regressor);
}

fn node_mode(s: &str) -> TractResult<Option<Cmp>> {
    Ok(Some(match s {
        "BRANCH_LEQ" => Cmp::LessEqual,
        "BRANCH_LT" => Cmp::Less,
        "BRANCH_GTE" => Cmp::GreaterEqual,
        "BRANCH_GT" => Cmp::Greater,
        "BRANCH_EQ" => Cmp::Equal,
        "BRANCH_NEQ" => Cmp::NotEqual,
        "LEAF" => return Ok(None),
        other => bail!("unsupported node mode {other}"),
    }))
}

/// A per-node or per-leaf attribute, checked to have `n` entries.
fn list<'a, T: AttrTVecType<'a>>(node: &'a NodeProto, attr: &str, n: usize) -> TractResult<Vec<T>> {
    let values: Vec<T> = node.get_attr_vec(attr)?;
    node.expect_attr(attr, values.len() == n, || {
        format!("{n} values, got {}", values.len())
    })?;
    Ok(values)
}

fn tree_regressor(
    _ctx: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let post: Option<&str> = node.get_attr_opt("post_transform")?;
    node.expect(post.unwrap_or("NONE") == "NONE", "post_transform NONE")?;
    node.expect(
        node.get_attr_opt_vec::<f32>("nodes_values")?.is_some(),
        "float thresholds in nodes_values (nodes_values_as_tensor is not supported)",
    )?;
    let n_targets: usize = node.get_attr_opt("n_targets")?.unwrap_or(1);
    let aggregate = parse_aggregate(node.get_attr_opt("aggregate_function")?.unwrap_or("SUM"))?;

    let n_nodes = node.get_attr_slice::<i64>("nodes_featureids")?.len();
    node.expect_attr("nodes_featureids", n_nodes != 0, "at least one node")?;
    let node_ids: Vec<usize> = list(node, "nodes_nodeids", n_nodes)?;
    let tree_ids: Vec<usize> = list(node, "nodes_treeids", n_nodes)?;
    let feature_ids: Vec<usize> = list(node, "nodes_featureids", n_nodes)?;
    let true_ids: Vec<usize> = list(node, "nodes_truenodeids", n_nodes)?;
    let false_ids: Vec<usize> = list(node, "nodes_falsenodeids", n_nodes)?;
    let values: Vec<f32> = list(node, "nodes_values", n_nodes)?;
    let nan_true: Vec<bool> =
        match node.get_attr_opt_vec::<bool>("nodes_missing_value_tracks_true")? {
            Some(v) if v.len() == n_nodes => v,
            _ => vec![false; n_nodes],
        };
    let modes: Vec<Option<Cmp>> = list::<&str>(node, "nodes_modes", n_nodes)?
        .into_iter()
        .map(node_mode)
        .collect::<TractResult<_>>()?;

    let n_leaves = node.get_attr_slice::<i64>("target_ids")?.len();
    node.expect_attr("target_ids", n_leaves != 0, "at least one leaf")?;
    let leaf_node_ids: Vec<usize> = list(node, "target_nodeids", n_leaves)?;
    let leaf_tree_ids: Vec<usize> = list(node, "target_treeids", n_leaves)?;
    let leaf_targets: Vec<usize> = list(node, "target_ids", n_leaves)?;
    let leaf_weights: Vec<f32> = list(node, "target_weights", n_leaves)?;
    node.expect(
        leaf_targets.iter().all(|t| *t < n_targets),
        "target_ids below n_targets",
    )?;
    let base: Option<Vec<f32>> = node.get_attr_opt_vec("base_values")?;
    if let Some(b) = &base {
        node.expect_attr("base_values", b.len() == n_targets, "one value per target")?;
    }

    // tract's layout: nodes sorted by (tree, node), five u32 per node; child ids are
    // offsets within the tree plus the tree's first row; leaves are (target, weight bits).
    let mut node_order: Vec<usize> = (0..n_nodes).collect();
    node_order.sort_by_key(|&i| (tree_ids[i], node_ids[i]));
    let mut leaf_order: Vec<usize> = (0..n_leaves).collect();
    leaf_order.sort_by_key(|&i| (leaf_tree_ids[i], leaf_node_ids[i]));
    let mut trees: Vec<u32> = vec![];
    let mut nodes: Vec<u32> = vec![];
    let mut leaves: Vec<u32> = vec![];
    let mut current = None;
    let mut next_leaf = 0;
    let mut tree_start = 0u32;
    for i in node_order {
        if current != Some(tree_ids[i]) {
            node.expect(tree_ids[i] == trees.len(), "tree ids counting up from 0")?;
            current = Some(tree_ids[i]);
            tree_start = (nodes.len() / 5) as u32;
            trees.push(tree_start);
        }
        match modes[i] {
            Some(mode) => nodes.extend([
                feature_ids[i] as u32,
                true_ids[i] as u32 + tree_start,
                false_ids[i] as u32 + tree_start,
                values[i].to_bits(),
                (0x0100u32 * nan_true[i] as u32) | mode as u32,
            ]),
            None => {
                let first = (leaves.len() / 2) as u32;
                while let Some(&l) = leaf_order.get(next_leaf) {
                    if leaf_tree_ids[l] != tree_ids[i] || leaf_node_ids[l] != node_ids[i] {
                        break;
                    }
                    leaves.extend([leaf_targets[l] as u32, leaf_weights[l].to_bits()]);
                    next_leaf += 1;
                }
                nodes.extend([first, (leaves.len() / 2) as u32, 0, 0, 0]);
            }
        }
    }
    node.expect(
        next_leaf == n_leaves,
        "every leaf weight to belong to a leaf node",
    )?;
    let data = TreeEnsembleData {
        trees: rctensor1(&trees),
        nodes: tensor1(&nodes)
            .into_shape(&[nodes.len() / 5, 5])?
            .into_arc_tensor(),
        leaves: tensor1(&leaves)
            .into_shape(&[leaves.len() / 2, 2])?
            .into_arc_tensor(),
    };
    let max_feature = feature_ids.iter().max().copied().unwrap_or(0);
    let ensemble = TreeEnsemble::build(data, max_feature, n_targets, aggregate)?;
    Ok((
        expand(TreeRegressor {
            ensemble,
            base: base.map(|b| rctensor1(&b)),
        }),
        vec![],
    ))
}

/// The parsed regressor.
#[derive(Debug, Clone, PartialEq)]
struct TreeRegressor {
    ensemble: TreeEnsemble,
    base: Option<Arc<Tensor>>,
}

impl Expansion for TreeRegressor {
    fn name(&self) -> StaticName {
        "TreeEnsembleRegressor".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        super::one_in_one_out(s, inputs, outputs, true)?;
        s.equals(&outputs[0].rank, 2)?;
        s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
        s.equals(&outputs[0].shape[1], self.ensemble.n_classes().to_dim())?;
        Ok(())
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let scores = model.wire_node(
            format!("{prefix}.ensemble"),
            TreeEnsembleClassifier {
                ensemble: self.ensemble.clone(),
            },
            inputs,
        )?;
        let Some(base) = self.base.as_deref() else {
            return Ok(scores);
        };
        let base = model.add_const(
            format!("{prefix}.base"),
            base.clone().broadcast_into_rank(2)?.into_arc_tensor(),
        )?;
        model.wire_node(
            format!("{prefix}.add_base"),
            tract_onnx::tract_hir::tract_core::ops::math::add(),
            &[scores[0], base],
        )
    }
}
