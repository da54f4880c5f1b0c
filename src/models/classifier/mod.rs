//! Binary classifiers trained from SQL: a gradient-boosted tree model (forust-ml, a pure-Rust
//! GBM on stable Rust with per-feature contributions; PerpetualBooster, its successor, needs
//! a nightly compiler) over the columns of a table, with its features and their types, the
//! holdout metrics and the distribution of holdout scores (for percentiles and risk bands)
//! saved beside it.
//!
//! Features: numbers as they are, booleans as 0/1, strings as categories coded by their rank
//! of label rate in training (so that a split on the code groups levels that behave alike, as
//! LightGBM orders categories); an unseen level or NULL is missing. Missing values are learnt,
//! not imputed: the trees send them down the branch that fits them best.

pub mod metrics;
pub mod train;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, exec_err};
use serde::{Deserialize, Serialize};

use self::metrics::Metrics;
use crate::models::forest::Boosted;
use crate::values::Strings;

/// The kind name of classifier model files.
pub const KIND: &str = "classifier";

/// The fewest labelled rows, and the fewest of each class, a classifier is trained on.
pub const MIN_ROWS: usize = 50;
pub const MIN_PER_CLASS: usize = 10;

/// How a feature is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    Number,
    Boolean,
    /// A string, coded by the position of its level in this list.
    Category(Vec<String>),
}

/// One feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    pub kind: FeatureKind,
}

impl Feature {
    /// The kind of a column of `data_type`, with the levels of `values` for strings; None
    /// when the type cannot be a feature.
    pub fn kind_of(data_type: &DataType) -> Option<FeatureKind> {
        match data_type {
            DataType::Boolean => Some(FeatureKind::Boolean),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Some(FeatureKind::Category(Vec::new()))
            }
            t if t.is_numeric() => Some(FeatureKind::Number),
            DataType::Null => Some(FeatureKind::Number),
            _ => None,
        }
    }

    /// The SQL type a scoring argument of this feature must have, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            FeatureKind::Number => "a number",
            FeatureKind::Boolean => "a boolean",
            FeatureKind::Category(_) => "a string",
        }
    }

    /// Append this feature's column to a column-major matrix, as f64 with NaN for missing.
    pub fn encode(&self, array: &ArrayRef, function: &str, out: &mut Vec<f64>) -> Result<()> {
        match &self.kind {
            FeatureKind::Number | FeatureKind::Boolean => {
                let numbers = match (array.data_type(), &self.kind) {
                    (DataType::Boolean, _) | (DataType::Null, _) => {
                        cast(array, &DataType::Float64)?
                    }
                    (t, FeatureKind::Number) if t.is_numeric() => cast(array, &DataType::Float64)?,
                    (t, _) => {
                        return exec_err!(
                            "{function}: feature '{}' is {t}, expected {}",
                            self.name,
                            self.type_name()
                        );
                    }
                };
                let numbers = numbers.as_primitive::<Float64Type>();
                out.extend((0..numbers.len()).map(|i| {
                    if numbers.is_valid(i) {
                        numbers.value(i)
                    } else {
                        f64::NAN
                    }
                }));
            }
            FeatureKind::Category(levels) => {
                if matches!(array.data_type(), DataType::Null) {
                    out.extend(std::iter::repeat_n(f64::NAN, array.len()));
                    return Ok(());
                }
                let strings = Strings::try_new(array, function).map_err(|_| {
                    datafusion::common::DataFusionError::Execution(format!(
                        "{function}: feature '{}' is {}, expected a string",
                        self.name,
                        array.data_type()
                    ))
                })?;
                for i in 0..array.len() {
                    let code = strings
                        .get(i)
                        .and_then(|s| levels.iter().position(|l| l == s))
                        .map_or(f64::NAN, |p| p as f64);
                    out.push(code);
                }
            }
        }
        Ok(())
    }
}

/// The levels of a string column, at most `MAX_LEVELS` (the most frequent), ordered by their
/// rate of `labels` (lowest first; ties by name), or by name without labels.
pub fn levels(array: &ArrayRef, labels: Option<&[bool]>, function: &str) -> Result<Vec<String>> {
    let strings = Strings::try_new(array, function)?;
    let mut counts: std::collections::HashMap<&str, (usize, usize)> =
        std::collections::HashMap::new();
    for i in 0..array.len() {
        if let Some(s) = strings.get(i) {
            let entry = counts.entry(s).or_default();
            entry.0 += 1;
            entry.1 += usize::from(labels.is_some_and(|l| l[i]));
        }
    }
    let mut by_count: Vec<(&str, (usize, usize))> = counts.into_iter().collect();
    by_count.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    by_count.truncate(MAX_LEVELS);
    let rate = |(n, positives): (usize, usize)| positives as f64 / n as f64;
    by_count.sort_by(|a, b| rate(a.1).total_cmp(&rate(b.1)).then(a.0.cmp(b.0)));
    Ok(by_count.into_iter().map(|(s, _)| s.to_string()).collect())
}

/// Category levels kept per string feature.
pub const MAX_LEVELS: usize = 250;

/// A trained classifier as saved.
#[derive(Serialize, Deserialize)]
pub struct ClassifierModel {
    /// The label column it predicts (true is the positive class).
    pub label: String,
    pub features: Vec<Feature>,
    /// Rows it was trained on.
    pub training_rows: usize,
    /// Metrics on the training rows and on the holdout, if one was given.
    pub training: Metrics,
    pub holdout: Option<Metrics>,
    /// Percentiles 0..=100 of the holdout scores (the training scores without a holdout), for
    /// `churn_percentile` and the risk bands.
    pub score_percentiles: Vec<f64>,
    pub booster: Boosted,
}

impl std::fmt::Debug for ClassifierModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClassifierModel({} from {} features)",
            self.label,
            self.features.len()
        )
    }
}

/// The column-major matrix of `columns`, one per feature in order, as f64 with NaN for
/// missing.
pub fn encode_columns(
    features: &[Feature],
    columns: &[ArrayRef],
    function: &str,
) -> Result<Vec<f64>> {
    let rows = columns.first().map_or(0, |c| c.len());
    let mut data = Vec::with_capacity(rows * features.len());
    for (feature, column) in features.iter().zip(columns) {
        feature.encode(column, function, &mut data)?;
    }
    Ok(data)
}

/// A model scored on feature columns given in its training order: the classifier, the
/// multi-class and the uplift models.
pub trait FeatureModel: serde::de::DeserializeOwned + Send + Sync + 'static {
    /// The kind name of its model files.
    const KIND: &'static str;

    /// Its features, in the order the model was trained on.
    fn features(&self) -> &[Feature];

    /// The column-major matrix of `columns`, after checking that `function` (called on the
    /// model `name`) got one column per feature.
    fn matrix(&self, name: &str, columns: &[ArrayRef], function: &str) -> Result<Vec<f64>> {
        check_arity(function, name, self.features(), columns.len())?;
        encode_columns(self.features(), columns, function)
    }
}

impl FeatureModel for ClassifierModel {
    const KIND: &'static str = KIND;

    fn features(&self) -> &[Feature] {
        &self.features
    }
}

/// Check that a scoring function got one column per feature, naming them in order if not.
fn check_arity(function: &str, model: &str, features: &[Feature], got: usize) -> Result<()> {
    if got == features.len() {
        return Ok(());
    }
    let order = features
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    exec_err!(
        "{function}('{model}', ...) takes {} arguments, got {}: the name, then the features in \
         the order the model was trained on: {order}",
        features.len() + 1,
        got + 1
    )
}

impl ClassifierModel {
    /// The probability of the positive class per row of a column-major matrix.
    pub fn probabilities(&self, data: &[f64], rows: usize) -> Vec<f64> {
        self.booster.probabilities(data, rows)
    }

    /// Path attributions (log-odds) per row: `features + 1` values, the bias last. Each split
    /// on a row's path gives its feature the change of the node's mean value (Saabas; XGBoost's
    /// approximate contributions): they add up to the score, and cost one pass down each tree,
    /// where exact TreeSHAP took 2 ms per row on the 100,000-customer benchmark.
    pub fn contributions(&self, data: &[f64], rows: usize) -> Vec<f64> {
        self.booster.contributions(data, rows, self.features.len())
    }

    /// The percentile rank (0-100) of a score: the share of holdout scores at or below it, so
    /// that customers tied at the top are all at the top.
    pub fn percentile(&self, score: f64) -> f64 {
        let p = &self.score_percentiles;
        if p.is_empty() {
            return f64::NAN;
        }
        let below = p.partition_point(|v| *v <= score);
        (below as f64 / (p.len() - 1).max(1) as f64 * 100.0).min(100.0)
    }
}

/// The risk band of a percentile: high for the top 10%, medium for the next 20%, low below.
pub fn risk_band(percentile: f64) -> &'static str {
    if percentile >= 90.0 {
        "high"
    } else if percentile >= 70.0 {
        "medium"
    } else {
        "low"
    }
}
