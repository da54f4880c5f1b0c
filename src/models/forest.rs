//! Scoring gradient-boosted trees fast: a trained booster (forust-ml's) laid out once per
//! model file for the walk a score needs, then applied a block of rows at a time.
//!
//! forust-ml walks each tree over every row with a branch per node, through 88-byte nodes, and
//! allocates a vector per tree; at a thousand trees of depth four that is 18 µs a row. Here
//! every node of every tree is one 32-byte record in one array (threshold, feature, children),
//! a leaf points back at itself so that every walk takes the same number of steps with no
//! test for "is this a leaf", and a child is picked with selects rather than branches. Rows
//! are taken in chunks that stay in cache while every tree is applied to them, and each
//! tree is walked one level at a time for all the chunk's rows, so that the walks of different
//! rows overlap in the processor instead of each waiting on its previous node.
//!
//! The scores are the booster's own to the last bit: the same base score, the same trees
//! added in the same order, the same comparisons (`value < threshold` goes left, a missing
//! value takes the tree's missing branch).

use std::sync::OnceLock;

use forust_ml::GradientBooster;
use serde::{Deserialize, Serialize};

/// Rows walked down each tree together: 64 rows of 40 features are 20 KiB, within the L1
/// cache while every tree passes over them.
const CHUNK: usize = 64;

/// Rows whose walks down one tree are interleaved, each in its own register.
const LANES: usize = 8;

/// One node as the walk reads it. A leaf's children are itself.
#[derive(Debug, Clone, Copy)]
struct Node {
    threshold: f64,
    feature: u32,
    /// Left and right child: a value below the threshold goes left.
    children: [u32; 2],
    /// Where a missing value goes.
    missing: u32,
    /// Whether the missing child is the left one (the fast walk's NaN routing).
    missing_left: bool,
}

/// A booster's trees in flat arrays.
#[derive(Debug, Clone)]
pub struct Forest {
    base: f64,
    /// The value a feature takes when missing (NaN: a NaN is missing).
    missing: f64,
    /// Steps from any root to its deepest leaf.
    depth: usize,
    /// Whether NaN is the missing value and every split sends it left or right (forust-ml's
    /// default: no separate missing branch), so that the fast walk serves.
    two_way: bool,
    /// The highest feature a split reads.
    max_feature: usize,
    roots: Vec<u32>,
    nodes: Vec<Node>,
    /// A node's leaf value (the leaves' are the ones read).
    value: Vec<f64>,
    /// A node's value averaged over the leaves below it, weighted by their training rows'
    /// hessians: path attributions are the changes of it along a row's path.
    average: Vec<f64>,
    leaf: Vec<bool>,
}

impl Forest {
    /// The trees `booster` predicts with (up to its best iteration when it stopped early).
    pub fn of(booster: &GradientBooster) -> Self {
        let trees = match booster.prediction_iteration {
            Some(n) => &booster.trees[..n.min(booster.trees.len())],
            None => &booster.trees[..],
        };
        let mut forest = Forest {
            base: booster.base_score,
            missing: booster.missing,
            depth: 0,
            two_way: booster.missing.is_nan(),
            max_feature: 0,
            roots: Vec::with_capacity(trees.len()),
            nodes: Vec::new(),
            value: Vec::new(),
            average: Vec::new(),
            leaf: Vec::new(),
        };
        for tree in trees {
            let offset = forest.nodes.len() as u32;
            forest.roots.push(offset);
            let at = |i: usize| offset + i as u32;
            for (i, node) in tree.nodes.iter().enumerate() {
                let this = at(i);
                forest.nodes.push(if node.is_leaf {
                    Node {
                        threshold: 0.0,
                        feature: 0,
                        children: [this, this],
                        missing: this,
                        missing_left: true,
                    }
                } else {
                    forest.two_way &= node.missing_node == node.left_child
                        || node.missing_node == node.right_child;
                    forest.max_feature = forest.max_feature.max(node.split_feature);
                    Node {
                        threshold: node.split_value,
                        feature: node.split_feature as u32,
                        children: [at(node.left_child), at(node.right_child)],
                        missing: at(node.missing_node),
                        missing_left: node.missing_node == node.left_child,
                    }
                });
                forest.value.push(f64::from(node.weight_value));
                forest.leaf.push(node.is_leaf);
            }
            forest.average.extend(tree.distribute_leaf_weights());
            if !tree.nodes.is_empty() {
                forest.depth = forest.depth.max(forest.depth_below(offset as usize));
            }
        }
        forest
    }

    /// The longest path from node `n` to a leaf, in steps.
    fn depth_below(&self, n: usize) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(n, 0)];
        while let Some((n, d)) = stack.pop() {
            if self.leaf[n] {
                deepest = deepest.max(d);
                continue;
            }
            let node = self.nodes[n];
            for child in [node.children[0], node.children[1], node.missing] {
                stack.push((child as usize, d + 1));
            }
        }
        deepest
    }

    /// The child of `node` a row with `v` for its feature goes to.
    #[inline(always)]
    fn child(&self, node: &Node, v: f64) -> u32 {
        let below = v < node.threshold;
        let side = node.children[usize::from(!below)];
        let missing = if self.missing.is_nan() {
            v.is_nan()
        } else {
            v == self.missing
        };
        if missing { node.missing } else { side }
    }

    /// The score (log-odds for a classifier) of each row of a column-major matrix of `rows`
    /// rows, one column per feature the booster was trained on.
    pub fn scores(&self, data: &[f64], rows: usize) -> Vec<f64> {
        let mut out = vec![self.base; rows];
        if self.nodes.is_empty() || rows == 0 {
            return out;
        }
        let cols = data.len() / rows;
        if cols <= self.max_feature {
            // Fewer columns than the trees read: the callers check the arity first, so only
            // a malformed model gets here; it scores as missing what it cannot read.
            return vec![f64::NAN; rows];
        }
        // The chunk's rows, row-major (a row's features in a cache line or two), padded with
        // missing values to whole lanes.
        let mut block = vec![f64::NAN; CHUNK * cols];
        let mut at = [0u32; CHUNK];
        for start in (0..rows).step_by(CHUNK) {
            let len = (rows - start).min(CHUNK);
            for c in 0..cols {
                let column = &data[c * rows + start..c * rows + start + len];
                for (j, v) in column.iter().enumerate() {
                    block[j * cols + c] = *v;
                }
            }
            let lanes = len.div_ceil(LANES) * LANES;
            if len < lanes {
                block[len * cols..lanes * cols].fill(f64::NAN);
            }
            let scores = &mut out[start..start + len];
            for &root in &self.roots {
                if self.two_way {
                    self.walk_lanes(root, &block[..lanes * cols], cols, &mut at[..lanes]);
                } else {
                    self.walk(root, &block[..lanes * cols], cols, &mut at[..lanes]);
                }
                for (score, leaf) in scores.iter_mut().zip(&at[..len]) {
                    *score += self.value[*leaf as usize];
                }
            }
        }
        out
    }

    /// The leaf of one tree for each row of a row-major block, `LANES` rows at a time in
    /// registers: one level for all of them, then the next, with no branch (a NaN takes the
    /// side its split's missing child is on).
    fn walk_lanes(&self, root: u32, block: &[f64], cols: usize, leaves: &mut [u32]) {
        for (rows, leaves) in block
            .chunks_exact(LANES * cols)
            .zip(leaves.chunks_exact_mut(LANES))
        {
            let mut at = [root; LANES];
            for _ in 0..self.depth {
                for (lane, n) in at.iter_mut().enumerate() {
                    let node = &self.nodes[*n as usize];
                    let v = rows[lane * cols + node.feature as usize];
                    let right = (v >= node.threshold) | (v.is_nan() & !node.missing_left);
                    *n = node.children[usize::from(right)];
                }
            }
            leaves.copy_from_slice(&at);
        }
    }

    /// The leaf of one tree for each row of a row-major block, for models with separate
    /// missing branches or a missing value other than NaN.
    fn walk(&self, root: u32, block: &[f64], cols: usize, leaves: &mut [u32]) {
        for (row, leaf) in block.chunks_exact(cols).zip(leaves.iter_mut()) {
            let mut n = root;
            for _ in 0..self.depth {
                let node = &self.nodes[n as usize];
                n = self.child(node, row[node.feature as usize]);
            }
            *leaf = n;
        }
    }

    /// Path attributions per row (XGBoost's approximate contributions, forust-ml's `Average`
    /// method): `cols + 1` values a row, the base last; they add up to the row's score.
    pub fn contributions(&self, data: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        let width = cols + 1;
        let mut out = vec![0.0; rows * width];
        for (r, c) in out.chunks_mut(width).enumerate() {
            c[cols] += self.base;
            for &root in &self.roots {
                let mut n = root as usize;
                c[cols] += self.average[n];
                while !self.leaf[n] {
                    let node = &self.nodes[n];
                    let child = self.child(node, data[node.feature as usize * rows + r]) as usize;
                    c[node.feature as usize] += self.average[child] - self.average[n];
                    n = child;
                }
            }
        }
        out
    }
}

/// A trained booster as a model file keeps it, with its scoring layout made on first use (once
/// per loaded model file: the store caches what it loads).
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Boosted {
    booster: GradientBooster,
    #[serde(skip)]
    forest: OnceLock<Forest>,
}

impl From<GradientBooster> for Boosted {
    fn from(booster: GradientBooster) -> Self {
        Self {
            booster,
            forest: OnceLock::new(),
        }
    }
}

impl Boosted {
    /// The booster as trained.
    pub fn booster(&self) -> &GradientBooster {
        &self.booster
    }

    fn forest(&self) -> &Forest {
        self.forest.get_or_init(|| Forest::of(&self.booster))
    }

    /// The probability of the positive class per row of a column-major matrix.
    pub fn probabilities(&self, data: &[f64], rows: usize) -> Vec<f64> {
        let mut scores = self.forest().scores(data, rows);
        for s in &mut scores {
            *s = 1.0 / (1.0 + (-*s).exp());
        }
        scores
    }

    /// Path attributions in log-odds per row, `cols + 1` values a row, the base last.
    pub fn contributions(&self, data: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        self.forest().contributions(data, rows, cols)
    }
}

#[cfg(test)]
mod tests {
    use forust_ml::gradientbooster::ContributionsMethod;
    use forust_ml::objective::ObjectiveType;
    use forust_ml::{GradientBooster, Matrix};

    use super::Forest;

    /// A booster (set up by `setup`) trained on rows with missing values, and rows to score
    /// (column-major; 3,000 rows, not a whole number of chunks or lanes).
    fn trained_with(
        setup: fn(GradientBooster) -> GradientBooster,
    ) -> (GradientBooster, Vec<f64>, usize, usize) {
        let (rows, cols) = (3000, 5);
        let mut state = 7u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut data = vec![0.0; rows * cols];
        for c in 0..cols {
            for r in 0..rows {
                let v = next();
                data[c * rows + r] = if v < 0.1 { f64::NAN } else { v * 10.0 - 3.0 };
            }
        }
        let y: Vec<f64> = (0..rows)
            .map(|r| {
                let x0 = data[r];
                let x1 = data[rows + r];
                let signal = if x0.is_nan() { 1.0 } else { x0 } + x1.max(0.0) * 0.5;
                f64::from(u8::from(signal + next() * 4.0 > 4.0))
            })
            .collect();
        let mut booster = setup(
            GradientBooster::default()
                .set_objective_type(ObjectiveType::LogLoss)
                .set_iterations(60)
                .set_max_depth(4)
                .set_learning_rate(0.3),
        );
        booster
            .fit(&Matrix::new(&data, rows, cols), &y, &vec![1.0; rows], None)
            .unwrap();
        (booster, data, rows, cols)
    }

    fn trained() -> (GradientBooster, Vec<f64>, usize, usize) {
        trained_with(|b| b)
    }

    /// The forest's scores of the booster's rows are the booster's own, bit for bit.
    fn assert_scores_match(booster: &GradientBooster, data: &[f64], rows: usize, cols: usize) {
        let expected = booster.predict(&Matrix::new(data, rows, cols), false);
        let got = Forest::of(booster).scores(data, rows);
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g.to_bits(), e.to_bits(), "{g} vs {e}");
        }
        // The scores vary: the test would catch a forest that ignored its trees.
        assert!(expected.iter().any(|e| (e - expected[0]).abs() > 0.1));
    }

    #[test]
    fn scores_are_the_boosters_to_the_bit() {
        let (booster, data, rows, cols) = trained();
        let forest = Forest::of(&booster);
        assert!(
            forest.two_way,
            "forust-ml's default trees take the fast walk"
        );
        // Both ways of routing a missing value occur.
        assert!(
            forest
                .nodes
                .iter()
                .zip(&forest.leaf)
                .any(|(n, l)| !l && n.missing_left)
        );
        assert!(
            forest
                .nodes
                .iter()
                .zip(&forest.leaf)
                .any(|(n, l)| !l && !n.missing_left)
        );
        assert_scores_match(&booster, &data, rows, cols);
    }

    #[test]
    fn trees_with_missing_branches_score_as_the_booster() {
        let (booster, data, rows, cols) = trained_with(|b| b.set_create_missing_branch(true));
        assert!(!Forest::of(&booster).two_way);
        assert_scores_match(&booster, &data, rows, cols);
    }

    #[test]
    fn contributions_are_the_boosters() {
        let (booster, data, rows, cols) = trained();
        let expected = booster.predict_contributions(
            &Matrix::new(&data, rows, cols),
            ContributionsMethod::Average,
            false,
        );
        let got = Forest::of(&booster).contributions(&data, rows, cols);
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{g} vs {e}");
        }
        assert!(expected.iter().any(|e| e.abs() > 0.01));
    }

    #[test]
    fn an_early_stopped_booster_scores_with_its_best_trees() {
        let (mut booster, data, rows, cols) = trained();
        booster.prediction_iteration = Some(10);
        let expected = booster.predict(&Matrix::new(&data, rows, cols), false);
        let got = Forest::of(&booster).scores(&data, rows);
        assert!(got.iter().zip(&expected).all(|(g, e)| g == e));
    }
}
