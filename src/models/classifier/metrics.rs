//! How good a probability is, on labelled rows: AUC (ROC area, ties counted half), log loss,
//! lift in the top decile and calibration by decile of predicted probability.

use serde::{Deserialize, Serialize};

/// The metrics of one evaluation (NaN where undefined, such as the AUC of one class, saved as
/// null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub rows: usize,
    pub positives: usize,
    #[serde(with = "nan_as_null")]
    pub auc: f64,
    #[serde(with = "nan_as_null")]
    pub log_loss: f64,
    /// Positive rate among the 10% highest scores over the overall positive rate.
    #[serde(with = "nan_as_null")]
    pub top_decile_lift: f64,
    /// Mean |mean predicted − observed rate| over the ten deciles of predicted probability,
    /// weighted by rows (the expected calibration error).
    pub calibration_error: f64,
    /// Per decile (lowest scores first): rows, mean predicted, observed rate.
    pub calibration: Vec<(usize, f64, f64)>,
}

/// JSON has no NaN: an undefined metric is written as null and read back as NaN.
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Rows of (count, value, value) with NaN values written as null, as [`nan_as_null`] does.
pub mod nan_triples {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Triple = (usize, f64, f64);

    fn finite(v: f64) -> Option<f64> {
        v.is_finite().then_some(v)
    }

    pub fn serialize<S: Serializer>(v: &[Triple], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|(n, a, b)| (*n, finite(*a), finite(*b)))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Triple>, D::Error> {
        let rows = Vec::<(usize, Option<f64>, Option<f64>)>::deserialize(d)?;
        Ok(rows
            .into_iter()
            .map(|(n, a, b)| (n, a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN)))
            .collect())
    }
}

/// Evaluate `scores` (probabilities) against `labels`.
pub fn evaluate(scores: &[f64], labels: &[bool]) -> Metrics {
    let rows = scores.len();
    let positives = labels.iter().filter(|l| **l).count();
    let mut order: Vec<usize> = (0..rows).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    Metrics {
        rows,
        positives,
        auc: auc(scores, labels, &order),
        log_loss: log_loss(scores, labels),
        top_decile_lift: top_decile_lift(labels, &order, positives),
        calibration_error: 0.0,
        calibration: Vec::new(),
    }
    .with_calibration(scores, labels, &order)
}

impl Metrics {
    fn with_calibration(mut self, scores: &[f64], labels: &[bool], order: &[usize]) -> Self {
        let n = order.len();
        if n == 0 {
            return self;
        }
        let mut error = 0.0;
        for decile in 0..10 {
            let (from, to) = (decile * n / 10, (decile + 1) * n / 10);
            if from == to {
                continue;
            }
            let rows = &order[from..to];
            let predicted = rows.iter().map(|&i| scores[i]).sum::<f64>() / rows.len() as f64;
            let observed = rows.iter().filter(|&&i| labels[i]).count() as f64 / rows.len() as f64;
            error += (predicted - observed).abs() * rows.len() as f64;
            self.calibration.push((rows.len(), predicted, observed));
        }
        self.calibration_error = error / n as f64;
        self
    }
}

/// ROC AUC by the rank-sum (Mann-Whitney) formula; tied scores share their mean rank.
fn auc(scores: &[f64], labels: &[bool], order: &[usize]) -> f64 {
    let positives = labels.iter().filter(|l| **l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        let tied_positives = order[i..=j].iter().filter(|&&k| labels[k]).count() as f64;
        rank_sum += mean_rank * tied_positives;
        i = j + 1;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

fn log_loss(scores: &[f64], labels: &[bool]) -> f64 {
    if scores.is_empty() {
        return f64::NAN;
    }
    let eps = 1e-15;
    scores
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum::<f64>()
        / scores.len() as f64
}

fn top_decile_lift(labels: &[bool], order: &[usize], positives: usize) -> f64 {
    let n = order.len();
    let top = n.div_ceil(10);
    if top == 0 || positives == 0 {
        return f64::NAN;
    }
    let hits = order[n - top..].iter().filter(|&&i| labels[i]).count() as f64;
    (hits / top as f64) / (positives as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // Scores 0.1 (no), 0.4 (yes), 0.35 (no), 0.8 (yes): of the 4 positive/negative pairs,
        // 3 are ordered right (0.4 > 0.1, 0.8 > 0.1, 0.8 > 0.35) and 0.4 > 0.35 makes 4: AUC 1.
        let m = evaluate(&[0.1, 0.4, 0.35, 0.8], &[false, true, false, true]);
        assert_eq!(m.auc, 1.0);
        // Swap one: 0.3 (yes) is below 0.35 (no): 3 of 4 pairs right.
        let m = evaluate(&[0.1, 0.3, 0.35, 0.8], &[false, true, false, true]);
        assert_eq!(m.auc, 0.75);
        // A tie between a positive and a negative counts half.
        let m = evaluate(&[0.5, 0.5], &[true, false]);
        assert_eq!(m.auc, 0.5);
        // log loss of p = 0.8 for a positive and 0.2 for a negative: −ln 0.8.
        let m = evaluate(&[0.8, 0.2], &[true, false]);
        assert!((m.log_loss + 0.8f64.ln()).abs() < 1e-12);
        // Top decile of 10 rows is the one highest score; it is positive, base rate 2/10.
        let scores: Vec<f64> = (0..10).map(|i| i as f64 / 10.0).collect();
        let labels: Vec<bool> = (0..10).map(|i| i == 9 || i == 0).collect();
        let m = evaluate(&scores, &labels);
        assert!((m.top_decile_lift - 5.0).abs() < 1e-12);
        assert_eq!(m.calibration.len(), 10);
        assert!(evaluate(&[0.5], &[true]).auc.is_nan());
    }
}
