//! Classifiers of more than two classes trained from SQL (the next category a customer buys,
//! their NPS class, the channel they answer): one gradient-boosted model per class against the
//! rest, over the same features as the binary classifier, their probabilities scaled to add up
//! to one.

pub mod metrics;
pub mod train;

use serde::{Deserialize, Serialize};

use self::metrics::MulticlassMetrics;
use crate::models::classifier::{Feature, FeatureModel};
use crate::models::forest::Boosted;

/// The kind name of multi-class model files.
pub const KIND: &str = "multiclass";

/// The most classes a label may have.
pub const MAX_CLASSES: usize = 50;

/// A trained multi-class model as saved.
#[derive(Serialize, Deserialize)]
pub struct MulticlassModel {
    pub label: String,
    /// The classes, in the order of `boosters` and of every probability vector.
    pub classes: Vec<String>,
    pub features: Vec<Feature>,
    pub training: MulticlassMetrics,
    pub holdout: Option<MulticlassMetrics>,
    /// One model per class, against the rest.
    pub boosters: Vec<Boosted>,
}

impl std::fmt::Debug for MulticlassModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MulticlassModel({} in {} classes from {} features)",
            self.label,
            self.classes.len(),
            self.features.len()
        )
    }
}

impl FeatureModel for MulticlassModel {
    const KIND: &'static str = KIND;

    fn features(&self) -> &[Feature] {
        &self.features
    }
}

impl MulticlassModel {
    /// The class probabilities of each row of a column-major matrix, row-major, adding up to
    /// one per row.
    pub fn probabilities(&self, data: &[f64], rows: usize) -> Vec<f64> {
        let k = self.boosters.len();
        let per_class: Vec<Vec<f64>> = self
            .boosters
            .iter()
            .map(|b| b.probabilities(data, rows))
            .collect();
        let mut out = Vec::with_capacity(rows * k);
        for r in 0..rows {
            let total: f64 = per_class.iter().map(|p| p[r]).sum();
            for p in &per_class {
                out.push(if total > 0.0 {
                    p[r] / total
                } else {
                    1.0 / k as f64
                });
            }
        }
        out
    }
}
