//! k-means segmentation (linfa-clustering) over standardised features: each feature is
//! centred and scaled to unit variance (a missing value becomes the mean), k-means++ starts
//! with a seeded generator, the best of several runs is kept, and segments are numbered by
//! size (1 is the largest) so the same data and seed always give the same segments.

use linfa::DatasetBase;
use linfa::prelude::{Fit, Predict};
use linfa_clustering::KMeans;
use ndarray::{Array2, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;

/// The outcome of a fit: per row its segment (1-based) and distance to the segment's centre
/// in standardised units.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// Segment of each row, 1 = largest.
    pub segments: Vec<usize>,
    /// Distance of each row to its segment's centre.
    pub distances: Vec<f64>,
}

/// Why a segmentation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum KMeansError {
    /// Fewer rows than segments.
    #[error("{rows} rows cannot make {k} segments; use a smaller k or more rows")]
    TooFewRows {
        /// Rows given.
        rows: usize,
        /// Segments asked for.
        k: usize,
    },
    /// k is zero.
    #[error("k must be at least 1")]
    ZeroK,
    /// The algorithm failed.
    #[error("k-means failed: {0}")]
    Fit(String),
}

/// Standardise the columns of `rows` (row-major, `None` = missing) in place into a matrix.
fn standardise(rows: &[Vec<Option<f64>>], features: usize) -> Array2<f64> {
    let mut matrix = Array2::<f64>::zeros((rows.len(), features));
    for f in 0..features {
        let values: Vec<f64> = rows
            .iter()
            .filter_map(|r| r[f])
            .filter(|v| v.is_finite())
            .collect();
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        for (i, row) in rows.iter().enumerate() {
            matrix[[i, f]] = match row[f] {
                Some(v) if v.is_finite() => (v - mean) / sd,
                _ => 0.0,
            };
        }
    }
    matrix
}

/// Segment `rows` (each with `features` values) into `k` segments, reproducibly for `seed`.
pub fn segment(
    rows: &[Vec<Option<f64>>],
    features: usize,
    k: usize,
    seed: u64,
) -> Result<Segmentation, KMeansError> {
    if k == 0 {
        return Err(KMeansError::ZeroK);
    }
    if rows.len() < k {
        return Err(KMeansError::TooFewRows {
            rows: rows.len(),
            k,
        });
    }
    let matrix = standardise(rows, features);
    let dataset = DatasetBase::from(matrix.clone());
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(10)
        .max_n_iterations(300)
        .tolerance(1e-6)
        .fit(&dataset)
        .map_err(|e| KMeansError::Fit(e.to_string()))?;
    let labels = model.predict(&matrix);
    let centroids = model.centroids();
    // Number the segments by size, largest first; equal sizes by the centre's coordinates.
    let mut sizes = vec![0usize; k];
    for &l in labels.iter() {
        sizes[l] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        sizes[b].cmp(&sizes[a]).then_with(|| {
            let (ca, cb) = (centroids.row(a), centroids.row(b));
            ca.iter()
                .zip(cb.iter())
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    let mut rank = vec![0usize; k];
    for (position, &label) in order.iter().enumerate() {
        rank[label] = position + 1;
    }
    let distances = matrix
        .axis_iter(Axis(0))
        .zip(labels.iter())
        .map(|(row, &l)| {
            row.iter()
                .zip(centroids.row(l).iter())
                .map(|(x, c)| (x - c).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    Ok(Segmentation {
        segments: labels.iter().map(|&l| rank[l]).collect(),
        distances,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_groups_are_found_and_the_seed_reproduces_them() {
        // 30 points near (0, 0), 20 near (10, 10): two segments, the larger first.
        let mut rows = Vec::new();
        for i in 0..30 {
            rows.push(vec![
                Some(f64::from(i % 3) * 0.1),
                Some(f64::from(i % 5) * 0.1),
            ]);
        }
        for i in 0..20 {
            rows.push(vec![Some(10.0 + f64::from(i % 2) * 0.1), None]);
        }
        let a = segment(&rows, 2, 2, 7).unwrap();
        assert!(a.segments[..30].iter().all(|&s| s == 1));
        assert!(a.segments[30..].iter().all(|&s| s == 2));
        assert_eq!(a, segment(&rows, 2, 2, 7).unwrap());
        assert!(matches!(
            segment(&rows[..1], 2, 2, 7),
            Err(KMeansError::TooFewRows { rows: 1, k: 2 })
        ));
    }
}
