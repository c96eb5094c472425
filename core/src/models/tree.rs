//! Decision trees and random forests on histogram-binned features.
//!
//! Each feature is cut into at most 255 quantile bins once; a split then costs one pass over the
//! node's rows to fill per-bin statistics and one pass over the bins, instead of sorting at every
//! node. Features are sampled per split (as scikit-learn does with `max_features`), and the trees
//! of a forest grow in parallel on rayon. Hyper-parameters keep scikit-learn's names and meaning.
//!
//! The split search is scikit-learn's `BestSplitter`: features are drawn in random order and
//! evaluated until `max_features` have been drawn, but drawing goes on past `max_features` while
//! every feature drawn so far is constant in the node (all its rows in one bin), so a node is not
//! left unsplit only because its one informative feature was rarely sampled. Any valid split
//! (both sides at least `min_samples_leaf` rows) is taken, even one with zero impurity decrease
//! (XOR's first split); a node is a leaf when it is pure (zero impurity), too small
//! (`min_samples_split`, `2 * min_samples_leaf`), at `max_depth`, or has no valid split among the
//! features drawn.
//!
//! Memory: the input matrix is borrowed, never copied. Binning keeps one byte per value
//! (`n × d` bytes, an eighth of the matrix) plus the bin edges, and while binning each rayon
//! worker holds one sorted copy of the column it bins (`n` values). Each tree holds its row
//! indices (`4n` bytes, the bootstrap sample for forests) and one histogram per split search.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::features::Matrix;
use crate::rng::SeededRng;

/// Most bins per feature.
const MAX_BINS: usize = 255;

/// How many features each split considers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxFeatures {
    /// All of them.
    All,
    /// `sqrt(n_features)`.
    Sqrt,
    /// `log2(n_features)`.
    Log2,
    /// A fraction of them.
    Fraction(f64),
    /// A fixed number of them.
    Count(usize),
}

impl std::fmt::Display for MaxFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::All => f.write_str("None"),
            Self::Sqrt => f.write_str("sqrt"),
            Self::Log2 => f.write_str("log2"),
            Self::Fraction(x) => write!(f, "{x}"),
            Self::Count(n) => write!(f, "{n}"),
        }
    }
}

impl MaxFeatures {
    fn count(self, n: usize) -> usize {
        let k = match self {
            Self::All => n,
            Self::Sqrt => (n as f64).sqrt().floor() as usize,
            Self::Log2 => (n as f64).log2().floor() as usize,
            Self::Fraction(f) => (f * n as f64).floor() as usize,
            Self::Count(k) => k,
        };
        k.clamp(1, n.max(1))
    }
}

/// Tree hyper-parameters (scikit-learn names).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TreeParams {
    /// Deepest level (`None`: until leaves are pure or too small).
    pub max_depth: Option<usize>,
    /// Fewest rows a node needs to be split.
    pub min_samples_split: usize,
    /// Fewest rows in a leaf.
    pub min_samples_leaf: usize,
    /// Features tried per split.
    pub max_features: MaxFeatures,
}

/// Feature values mapped to bins, column by column.
pub struct Binned {
    bins: Vec<Vec<u8>>,
    /// Upper edge of each bin but the last, per feature (a value goes left when `<=` the edge).
    edges: Vec<Vec<f64>>,
}

impl Binned {
    /// Bins every column of `x` at its quantiles.
    pub fn new(x: &Matrix) -> Self {
        let (bins, edges): (Vec<Vec<u8>>, Vec<Vec<f64>>) = (0..x.cols)
            .into_par_iter()
            .map(|j| {
                let value = |i: usize| x.values[i * x.cols + j];
                let mut sorted: Vec<f64> = (0..x.rows).map(value).collect();
                sorted.sort_by(f64::total_cmp);
                sorted.dedup();
                let edges: Vec<f64> = if sorted.len() <= MAX_BINS {
                    sorted.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect()
                } else {
                    let mut e: Vec<f64> = (1..MAX_BINS)
                        .map(|k| sorted[k * sorted.len() / MAX_BINS])
                        .collect();
                    e.dedup();
                    e
                };
                drop(sorted);
                let bins = (0..x.rows)
                    .map(|i| {
                        let v = value(i);
                        edges.partition_point(|e| *e < v) as u8
                    })
                    .collect();
                (bins, edges)
            })
            .unzip();
        Self { bins, edges }
    }

    fn n_bins(&self, feature: usize) -> usize {
        self.edges[feature].len() + 1
    }
}

/// What the tree predicts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a> {
    /// Class indices and the number of classes.
    Classes(&'a [usize], usize),
    /// Numbers.
    Values(&'a [f64]),
}

/// One node of a fitted tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// A prediction: class probabilities, or the mean value as a single element.
    Leaf {
        /// Prediction.
        value: Vec<f64>,
    },
    /// Rows with `feature <= threshold` go to `left`.
    Split {
        /// Feature index.
        feature: usize,
        /// Threshold on the (preprocessed) feature value.
        threshold: f64,
        /// Left child index.
        left: usize,
        /// Right child index.
        right: usize,
    },
}

/// A fitted decision tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes; the root is node 0.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf value reached by `row`.
    pub fn leaf(&self, row: &[f64]) -> &[f64] {
        let mut index = 0;
        loop {
            match &self.nodes[index] {
                Node::Leaf { value } => return value,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    index = if row[*feature] <= *threshold {
                        *left
                    } else {
                        *right
                    };
                }
            }
        }
    }
}

struct Grower<'a> {
    binned: &'a Binned,
    target: Target<'a>,
    params: TreeParams,
    nodes: Vec<Node>,
    /// Polled at every node.
    cancelled: &'a (dyn Fn() -> bool + Sync),
    /// Set once `cancelled` returned true: the tree is unfinished.
    stopped: bool,
}

fn leaf_value(target: Target<'_>, rows: &[u32]) -> Vec<f64> {
    match target {
        Target::Classes(y, k) => {
            let mut counts = vec![0.0; k];
            for &r in rows {
                counts[y[r as usize]] += 1.0;
            }
            let n = rows.len().max(1) as f64;
            counts.iter_mut().for_each(|c| *c /= n);
            counts
        }
        Target::Values(y) => {
            let sum: f64 = rows.iter().map(|&r| y[r as usize]).sum();
            vec![sum / rows.len().max(1) as f64]
        }
    }
}

/// What one feature offers a node.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FeatureSplit {
    /// Every row of the node is in one bin: the feature cannot split it.
    Constant,
    /// Not constant, but no split leaves `min_samples_leaf` rows on both sides.
    NoValidSplit,
    /// The best split: impurity decrease (up to a constant, may be zero) and the last left bin.
    Best(f64, usize),
}

/// Whether the rows' targets have zero impurity (scikit-learn: `impurity <= EPSILON`).
fn is_pure(target: Target<'_>, rows: &[u32]) -> bool {
    match target {
        Target::Classes(y, _) => rows
            .first()
            .is_none_or(|&first| rows.iter().all(|&r| y[r as usize] == y[first as usize])),
        Target::Values(y) => {
            let n = rows.len().max(1) as f64;
            let mean = rows.iter().map(|&r| y[r as usize]).sum::<f64>() / n;
            let mse = rows
                .iter()
                .map(|&r| (y[r as usize] - mean).powi(2))
                .sum::<f64>()
                / n;
            mse <= f64::EPSILON
        }
    }
}

/// The best split of one feature, weighted by row counts.
fn best_split_of(
    binned: &Binned,
    target: Target<'_>,
    rows: &[u32],
    feature: usize,
    min_leaf: usize,
) -> FeatureSplit {
    let bins = &binned.bins[feature];
    let n_bins = binned.n_bins(feature);
    let n = rows.len() as f64;
    let Some(&first) = rows.first() else {
        return FeatureSplit::Constant;
    };
    let first_bin = bins[first as usize];
    if rows.iter().all(|&r| bins[r as usize] == first_bin) {
        return FeatureSplit::Constant;
    }
    let best = match target {
        Target::Classes(y, k) => {
            let mut hist = vec![0.0f64; n_bins * k];
            for &r in rows {
                hist[bins[r as usize] as usize * k + y[r as usize]] += 1.0;
            }
            let total: Vec<f64> = (0..k)
                .map(|c| (0..n_bins).map(|b| hist[b * k + c]).sum())
                .collect();
            let gini_sum = |counts: &[f64], m: f64| counts.iter().map(|c| c * c).sum::<f64>() / m;
            let parent = gini_sum(&total, n);
            let mut left = vec![0.0; k];
            let mut left_n = 0.0;
            let mut best: Option<(f64, usize)> = None;
            for b in 0..n_bins - 1 {
                for c in 0..k {
                    left[c] += hist[b * k + c];
                }
                left_n += hist[b * k..(b + 1) * k].iter().sum::<f64>();
                let right_n = n - left_n;
                if left_n < min_leaf as f64 || right_n < min_leaf as f64 {
                    continue;
                }
                let right: Vec<f64> = total.iter().zip(&left).map(|(t, l)| t - l).collect();
                // Weighted Gini decrease, up to a constant: sum(l^2)/nl + sum(r^2)/nr - sum(t^2)/n.
                let gain = gini_sum(&left, left_n) + gini_sum(&right, right_n) - parent;
                if best.is_none_or(|(g, _)| gain > g) {
                    best = Some((gain, b));
                }
            }
            best
        }
        Target::Values(y) => {
            let mut sums = vec![0.0f64; n_bins];
            let mut counts = vec![0.0f64; n_bins];
            for &r in rows {
                let b = bins[r as usize] as usize;
                sums[b] += y[r as usize];
                counts[b] += 1.0;
            }
            let total: f64 = sums.iter().sum();
            let parent = total * total / n;
            let (mut left_sum, mut left_n) = (0.0, 0.0);
            let mut best: Option<(f64, usize)> = None;
            for b in 0..n_bins - 1 {
                left_sum += sums[b];
                left_n += counts[b];
                let right_n = n - left_n;
                if left_n < min_leaf as f64 || right_n < min_leaf as f64 {
                    continue;
                }
                let right_sum = total - left_sum;
                // Squared-error decrease, up to a constant.
                let gain = left_sum * left_sum / left_n + right_sum * right_sum / right_n - parent;
                if best.is_none_or(|(g, _)| gain > g) {
                    best = Some((gain, b));
                }
            }
            best
        }
    };
    best.map_or(FeatureSplit::NoValidSplit, |(gain, bin)| {
        FeatureSplit::Best(gain, bin)
    })
}

impl Grower<'_> {
    /// scikit-learn's `BestSplitter` feature loop: draw features in random order until
    /// `max_features` are drawn, and beyond while all drawn so far were constant in the node.
    fn best_split(&self, rows: &[u32], rng: &mut SeededRng) -> Option<(usize, usize)> {
        let n_features = self.binned.bins.len();
        let mut features: Vec<usize> = (0..n_features).collect();
        rng.shuffle(&mut features);
        let max_features = self.params.max_features.count(n_features);
        let min_leaf = self.params.min_samples_leaf.max(1);
        let mut best: Option<(f64, usize, usize)> = None;
        let mut constants = 0;
        for (visited, &feature) in features.iter().enumerate() {
            if visited >= max_features && visited > constants {
                break;
            }
            match best_split_of(self.binned, self.target, rows, feature, min_leaf) {
                FeatureSplit::Constant => constants += 1,
                FeatureSplit::NoValidSplit => {}
                FeatureSplit::Best(gain, bin) => {
                    if best.is_none_or(|(g, _, _)| gain > g) {
                        best = Some((gain, feature, bin));
                    }
                }
            }
        }
        best.map(|(_, feature, bin)| (feature, bin))
    }

    fn grow(&mut self, rows: &mut [u32], depth: usize, rng: &mut SeededRng) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node::Leaf {
            value: leaf_value(self.target, rows),
        });
        if self.stopped || (self.cancelled)() {
            self.stopped = true;
            return index;
        }
        let deep_enough = self.params.max_depth.is_some_and(|d| depth >= d);
        let too_small = rows.len() < self.params.min_samples_split.max(2)
            || rows.len() < 2 * self.params.min_samples_leaf.max(1);
        if deep_enough || too_small || is_pure(self.target, rows) {
            return index;
        }
        let Some((feature, bin)) = self.best_split(rows, rng) else {
            return index;
        };
        let bins = &self.binned.bins[feature];
        let mut split = 0;
        for i in 0..rows.len() {
            if (bins[rows[i] as usize] as usize) <= bin {
                rows.swap(i, split);
                split += 1;
            }
        }
        let threshold = self.binned.edges[feature][bin];
        let (left_rows, right_rows) = rows.split_at_mut(split);
        let left = self.grow(left_rows, depth + 1, rng);
        let right = self.grow(right_rows, depth + 1, rng);
        self.nodes[index] = Node::Split {
            feature,
            threshold,
            left,
            right,
        };
        index
    }
}

/// Grows one tree on `rows` of the binned data.
pub fn fit_tree(
    binned: &Binned,
    target: Target<'_>,
    rows: &mut [u32],
    params: TreeParams,
    seed: u64,
) -> Tree {
    let tree = fit_tree_with(binned, target, rows, params, seed, &|| false);
    tree.unwrap_or(Tree { nodes: Vec::new() })
}

/// [`fit_tree`] that polls `cancelled` at every node; `None` when it returned true.
pub fn fit_tree_with(
    binned: &Binned,
    target: Target<'_>,
    rows: &mut [u32],
    params: TreeParams,
    seed: u64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Tree> {
    let mut grower = Grower {
        binned,
        target,
        params,
        nodes: Vec::new(),
        cancelled,
        stopped: false,
    };
    let mut rng = SeededRng::new(seed);
    grower.grow(rows, 0, &mut rng);
    (!grower.stopped).then_some(Tree {
        nodes: grower.nodes,
    })
}

/// A fitted forest (or a single tree, as a forest of one without bootstrap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// The trees.
    pub trees: Vec<Tree>,
}

/// Grows `n_trees` trees in parallel, each on a bootstrap sample (when `bootstrap`) with its own seed.
pub fn fit_forest(
    x: &Matrix,
    target: Target<'_>,
    n_trees: usize,
    bootstrap: bool,
    params: TreeParams,
    seed: u64,
) -> Forest {
    let forest = fit_forest_with(x, target, n_trees, bootstrap, params, seed, &|| false);
    forest.unwrap_or(Forest { trees: Vec::new() })
}

/// [`fit_forest`] that polls `cancelled` before binning, before every tree and at every node;
/// `None` when it returned true.
pub fn fit_forest_with(
    x: &Matrix,
    target: Target<'_>,
    n_trees: usize,
    bootstrap: bool,
    params: TreeParams,
    seed: u64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Forest> {
    if cancelled() {
        return None;
    }
    let binned = Binned::new(x);
    let n = x.rows;
    let trees = (0..n_trees)
        .into_par_iter()
        .map(|t| {
            if cancelled() {
                return None;
            }
            let tree_seed = seed.wrapping_mul(0x9E37_79B9).wrapping_add(t as u64);
            let mut rng = SeededRng::new(tree_seed ^ 0xA5A5_A5A5);
            let mut rows: Vec<u32> = if bootstrap {
                (0..n).map(|_| rng.below(n) as u32).collect()
            } else {
                (0..n as u32).collect()
            };
            fit_tree_with(&binned, target, &mut rows, params, tree_seed, cancelled)
        })
        .collect::<Option<Vec<Tree>>>()?;
    Some(Forest { trees })
}

impl Forest {
    /// Mean leaf value of every tree for each row: class probabilities or `[value]`.
    pub fn predict(&self, x: &Matrix) -> Vec<Vec<f64>> {
        (0..x.rows)
            .into_par_iter()
            .map(|i| {
                let row = x.row(i);
                let mut sum: Vec<f64> = Vec::new();
                for tree in &self.trees {
                    let leaf = tree.leaf(row);
                    if sum.is_empty() {
                        sum = leaf.to_vec();
                    } else {
                        sum.iter_mut().zip(leaf).for_each(|(s, v)| *s += v);
                    }
                }
                let k = self.trees.len().max(1) as f64;
                sum.into_iter().map(|v| v / k).collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xor() -> (Matrix, Vec<usize>) {
        let mut values = Vec::new();
        let mut y = Vec::new();
        for i in 0..400 {
            let (a, b) = ((i % 20) as f64 / 20.0, (i / 20) as f64 / 20.0);
            values.extend([a, b]);
            y.push(usize::from((a > 0.5) != (b > 0.5)));
        }
        (
            Matrix {
                values,
                rows: 400,
                cols: 2,
            },
            y,
        )
    }

    fn params(max_depth: Option<usize>) -> TreeParams {
        TreeParams {
            max_depth,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::All,
        }
    }

    #[test]
    fn a_deep_enough_tree_learns_xor() {
        let (x, y) = xor();
        let forest = fit_forest(&x, Target::Classes(&y, 2), 1, false, params(Some(4)), 1);
        let proba = forest.predict(&x);
        let correct = proba
            .iter()
            .zip(&y)
            .filter(|(p, t)| usize::from(p[1] > 0.5) == **t)
            .count();
        assert_eq!(correct, 400);
    }

    #[test]
    fn max_depth_limits_the_tree() {
        let (x, y) = xor();
        let forest = fit_forest(&x, Target::Classes(&y, 2), 1, false, params(Some(1)), 1);
        assert_eq!(forest.trees[0].nodes.len(), 3);
    }

    #[test]
    fn a_forest_is_reproducible_with_its_seed() {
        let (x, y) = xor();
        let p = TreeParams {
            max_features: MaxFeatures::Sqrt,
            ..params(Some(6))
        };
        let a = fit_forest(&x, Target::Classes(&y, 2), 8, true, p, 3);
        let b = fit_forest(&x, Target::Classes(&y, 2), 8, true, p, 3);
        assert_eq!(a, b);
    }

    fn matrix(columns: &[Vec<f64>]) -> Matrix {
        let rows = columns[0].len();
        Matrix {
            values: (0..rows)
                .flat_map(|i| columns.iter().map(move |c| c[i]))
                .collect(),
            rows,
            cols: columns.len(),
        }
    }

    #[test]
    fn constant_features_do_not_use_up_max_features() {
        // 19 constant features and one informative one; max_features=1 still finds it.
        let informative: Vec<f64> = (0..40).map(|i| f64::from(i % 2)).collect();
        let mut columns = vec![vec![1.0; 40]; 19];
        columns.insert(7, informative.clone());
        let x = matrix(&columns);
        let y: Vec<usize> = informative.iter().map(|v| *v as usize).collect();
        let p = TreeParams {
            max_features: MaxFeatures::Count(1),
            ..params(None)
        };
        for seed in 0..20 {
            let forest = fit_forest(&x, Target::Classes(&y, 2), 1, false, p, seed);
            assert_eq!(forest.trees[0].nodes.len(), 3, "seed {seed}");
        }
    }

    #[test]
    fn a_non_constant_feature_without_a_valid_split_still_counts_as_drawn() {
        // Feature 0 moves one row only, so min_samples_leaf=2 forbids every split of it;
        // scikit-learn then stops at max_features=1 and leaves the node unsplit.
        let odd: Vec<f64> = (0..20).map(|i| f64::from(u8::from(i == 0))).collect();
        let good: Vec<f64> = (0..20).map(|i| f64::from(u8::from(i >= 10))).collect();
        let x = matrix(&[odd, good.clone()]);
        let y: Vec<usize> = good.iter().map(|v| *v as usize).collect();
        let p = TreeParams {
            max_features: MaxFeatures::Count(1),
            min_samples_leaf: 2,
            ..params(None)
        };
        let leaves = (0..200)
            .filter(|&seed| {
                fit_forest(&x, Target::Classes(&y, 2), 1, false, p, seed).trees[0]
                    .nodes
                    .len()
                    == 1
            })
            .count();
        assert!(
            (60..=140).contains(&leaves),
            "{leaves} of 200 roots left unsplit"
        );
    }

    #[test]
    fn zero_gain_splits_are_taken() {
        // Pure XOR: every first split has zero Gini decrease; scikit-learn still splits.
        let a: Vec<f64> = (0..40).map(|i| f64::from(i % 2)).collect();
        let b: Vec<f64> = (0..40).map(|i| f64::from((i / 2) % 2)).collect();
        let y: Vec<usize> = a.iter().zip(&b).map(|(a, b)| usize::from(a != b)).collect();
        let x = matrix(&[a, b]);
        let forest = fit_forest(&x, Target::Classes(&y, 2), 1, false, params(None), 0);
        assert_eq!(forest.trees[0].nodes.len(), 7);
        let predicted: Vec<usize> = forest
            .predict(&x)
            .iter()
            .map(|p| usize::from(p[1] > 0.5))
            .collect();
        assert_eq!(predicted, y);
    }

    #[test]
    fn constant_targets_make_leaves() {
        let x = matrix(&[(0..10).map(f64::from).collect()]);
        let forest = fit_forest(&x, Target::Values(&[2.5; 10]), 1, false, params(None), 0);
        assert_eq!(forest.trees[0].nodes.len(), 1);
    }

    #[test]
    fn cancelled_forests_give_nothing() {
        let (x, y) = xor();
        let p = params(None);
        assert!(fit_forest_with(&x, Target::Classes(&y, 2), 4, true, p, 0, &|| true).is_none());
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let later = || calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) > 3;
        assert!(fit_forest_with(&x, Target::Classes(&y, 2), 1, false, p, 0, &later).is_none());
    }

    #[test]
    fn regression_trees_fit_a_step() {
        let values: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let y: Vec<f64> = values
            .iter()
            .map(|v| if *v < 50.0 { 1.0 } else { 5.0 })
            .collect();
        let x = Matrix {
            values,
            rows: 100,
            cols: 1,
        };
        let forest = fit_forest(&x, Target::Values(&y), 1, false, params(Some(1)), 1);
        let pred = forest.predict(&x);
        assert_eq!(pred[10][0], 1.0);
        assert_eq!(pred[90][0], 5.0);
    }
}
