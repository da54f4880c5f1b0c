//! The gradient-boosting set-up every trainer shares: the same trees, learning rate and early
//! stopping on a fixed pseudo-random 15% of the training rows.

use datafusion::common::{DataFusionError, Result};
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};

use crate::memory::Held;
use crate::models::forest::Boosted;

/// Boosting: at most this many trees of this depth, stopped when the log loss of the
/// validation rows (a fixed 15% of the training rows) has not improved for a number of
/// rounds. How fast it learns depends on the table's size (see [`Pace`]).
const MAX_TREES: usize = 2000;
const DEPTH: usize = 4;
/// From this many training rows on, boosting takes the fast pace.
const FAST_FROM_ROWS: usize = 50_000;

/// Learning rate and early-stopping patience. On large tables 0.1 (LightGBM's default) with
/// patience 25 stops after a third of the trees 0.03 needs, and trains and scores three to
/// four times faster with holdout AUCs within 0.0005 (the sample's churn, channel and offer
/// models at 300,000 customers). On small tables trees are cheap and the validation rows few:
/// there early stopping at 0.1 stops on noise (the sample's uplift model, 12,000 decisions,
/// loses a fifth of its correlation with the true uplift), so they keep 0.03 and patience 50.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pace {
    learning_rate: f32,
    patience: usize,
}

impl Pace {
    fn for_rows(rows: usize) -> Pace {
        if rows >= FAST_FROM_ROWS {
            Pace {
                learning_rate: 0.1,
                patience: 25,
            }
        } else {
            Pace {
                learning_rate: 0.03,
                patience: 50,
            }
        }
    }
}

const VALIDATION_PERCENT: u64 = 15;

/// Bytes a booster's training holds per feature value beyond the trainer's matrix: the copy of
/// its fitting rows (f64) and the booster's two copies of their bin numbers (u16, by column
/// and tiled by rows).
const BYTES_PER_VALUE: usize = size_of::<f64>() + 2 * size_of::<u16>();

/// Reserve in `held` what boosting on `rows` × `cols` holds while it trains (one booster at a
/// time), so that a table the matrix fits in but the training does not is "resources
/// exhausted" before it starts.
pub fn reserve(held: &mut Held, rows: usize, cols: usize) -> Result<()> {
    held.grow(rows * cols * BYTES_PER_VALUE)
}

/// Percentiles 0..=100 of `scores`.
pub fn percentiles(scores: &[f64]) -> Vec<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Vec::new();
    }
    (0..=100)
        .map(|p| sorted[(p * (sorted.len() - 1)) / 100])
        .collect()
}

/// Whether training row `i` is kept aside for early stopping (a fixed pseudo-random 15%).
fn is_validation(i: usize) -> bool {
    // SplitMix64 of the row number: the same rows every run, spread over the whole table.
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % 100 < VALIDATION_PERCENT
}

/// The rows `keep` of a column-major matrix of `cols` columns.
pub fn rows_of(data: &[f64], rows: usize, cols: usize, keep: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(keep.len() * cols);
    for c in 0..cols {
        let column = &data[c * rows..(c + 1) * rows];
        out.extend(keep.iter().map(|&i| column[i]));
    }
    out
}

/// Boost trees on the training rows, stopping early on the validation rows.
pub fn boost(
    function: &str,
    data: &[f64],
    rows: usize,
    cols: usize,
    labels: &[bool],
) -> Result<Boosted> {
    // The booster has no hook to stop it halfway: a stopped query stops between boosters.
    crate::stop::check(function)?;
    let (validation, fit): (Vec<usize>, Vec<usize>) = (0..rows).partition(|&i| is_validation(i));
    let y = |idx: &[usize]| -> Vec<f64> {
        idx.iter()
            .map(|&i| f64::from(u8::from(labels[i])))
            .collect()
    };
    let (fit_data, fit_y) = (rows_of(data, rows, cols, &fit), y(&fit));
    let (val_data, val_y) = (rows_of(data, rows, cols, &validation), y(&validation));
    let (fit_w, val_w) = (vec![1.0; fit.len()], vec![1.0; validation.len()]);
    let pace = Pace::for_rows(rows);
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(MAX_TREES)
        .set_learning_rate(pace.learning_rate)
        .set_max_depth(DEPTH)
        .set_min_leaf_weight(5.0)
        .set_l2(1.0)
        .set_seed(42)
        .set_evaluation_metric(Some(Metric::LogLoss))
        .set_early_stopping_rounds(Some(pace.patience))
        // Histograms filled row by row from a tiled copy of the bins: a quarter less time
        // on these tables' shape (many rows, tens of columns), the same trees whatever the
        // number of threads.
        .set_tiled_histograms(true);
    let matrix = Matrix::new(&fit_data, fit.len(), cols);
    let evaluation = vec![(
        Matrix::new(&val_data, validation.len(), cols),
        val_y.as_slice(),
        val_w.as_slice(),
    )];
    booster
        .fit(&matrix, &fit_y, &fit_w, Some(evaluation))
        .map_err(|e| DataFusionError::Execution(format!("{function}: training failed: {e}")))?;
    Ok(Boosted::from(booster))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_tables_learn_faster_than_small_ones() {
        let small = Pace::for_rows(FAST_FROM_ROWS - 1);
        let large = Pace::for_rows(FAST_FROM_ROWS);
        assert!(large.learning_rate > small.learning_rate);
        assert!(large.patience < small.patience);
    }
}
