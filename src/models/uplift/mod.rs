//! Uplift models trained from SQL on a randomised treatment/control history (offers sent and
//! held back): two gradient-boosted classifiers over the same features, one learning the
//! conversion probability of treated rows and one of control rows (the "two-model" or
//! T-learner). The uplift of treating a row is the difference: what the treatment adds over
//! what would have happened anyway.

pub mod metrics;
pub mod train;

use serde::{Deserialize, Serialize};

use self::metrics::UpliftMetrics;
use crate::models::classifier::{Feature, FeatureModel};
use crate::models::forest::Boosted;

/// The kind name of uplift model files.
pub const KIND: &str = "uplift";

/// A trained uplift model as saved.
#[derive(Serialize, Deserialize)]
pub struct UpliftModel {
    /// The conversion label and the boolean treatment column it was trained on.
    pub label: String,
    pub treatment: String,
    pub features: Vec<Feature>,
    pub training: UpliftMetrics,
    pub holdout: Option<UpliftMetrics>,
    /// The response models of the treated and of the control rows.
    pub treated: Boosted,
    pub control: Boosted,
}

impl std::fmt::Debug for UpliftModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "UpliftModel({} by {} from {} features)",
            self.label,
            self.treatment,
            self.features.len()
        )
    }
}

/// Conversion probabilities per row if treated and if not.
pub struct Responses {
    pub treated: Vec<f64>,
    pub control: Vec<f64>,
}

impl Responses {
    /// The uplift per row: treated minus control probability.
    pub fn uplift(&self) -> Vec<f64> {
        self.treated
            .iter()
            .zip(&self.control)
            .map(|(t, c)| t - c)
            .collect()
    }
}

impl FeatureModel for UpliftModel {
    const KIND: &'static str = KIND;

    fn features(&self) -> &[Feature] {
        &self.features
    }
}

impl UpliftModel {
    /// Both response probabilities of each row of a column-major matrix.
    pub fn responses(&self, data: &[f64], rows: usize) -> Responses {
        Responses {
            treated: self.treated.probabilities(data, rows),
            control: self.control.probabilities(data, rows),
        }
    }
}
