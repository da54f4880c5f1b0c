//! How good class probabilities are on labelled rows: accuracy (the most likely class is the
//! right one), top-2 accuracy, multi-class log loss, the macro AUC (each class against the
//! rest, averaged), the accuracy of always answering the most common training class, and per
//! class its rows, recall and precision.

use serde::{Deserialize, Serialize};

use crate::models::classifier::metrics::{evaluate, nan_as_null, nan_triples};

/// The metrics of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassMetrics {
    pub rows: usize,
    #[serde(with = "nan_as_null")]
    pub accuracy: f64,
    #[serde(with = "nan_as_null")]
    pub top2_accuracy: f64,
    #[serde(with = "nan_as_null")]
    pub log_loss: f64,
    #[serde(with = "nan_as_null")]
    pub macro_auc: f64,
    /// The accuracy of answering `majority` for every row.
    #[serde(with = "nan_as_null")]
    pub majority_accuracy: f64,
    /// Per class, in the model's order: rows, recall, precision (NaN when undefined).
    #[serde(with = "nan_triples")]
    pub classes: Vec<(usize, f64, f64)>,
}

/// Evaluate `probabilities` (row-major, `classes` per row) against the true class index of
/// each row; `majority` is the class a model-free guess would answer.
pub fn evaluate_classes(
    probabilities: &[f64],
    truth: &[usize],
    classes: usize,
    majority: usize,
) -> MulticlassMetrics {
    let rows = truth.len();
    let ratio = |a: usize, b: usize| {
        if b == 0 {
            f64::NAN
        } else {
            a as f64 / b as f64
        }
    };
    let mut correct = 0;
    let mut top2 = 0;
    let mut loss = 0.0;
    let mut hits = vec![0usize; classes];
    let mut answered = vec![0usize; classes];
    let mut counts = vec![0usize; classes];
    for (row, &y) in truth.iter().enumerate() {
        let p = &probabilities[row * classes..(row + 1) * classes];
        let mut order: Vec<usize> = (0..classes).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
        counts[y] += 1;
        answered[order[0]] += 1;
        if order[0] == y {
            correct += 1;
            hits[y] += 1;
        }
        if order.iter().take(2).any(|&c| c == y) {
            top2 += 1;
        }
        loss -= p[y].clamp(1e-15, 1.0).ln();
    }
    let aucs: Vec<f64> = (0..classes)
        .map(|c| {
            let scores: Vec<f64> = (0..rows).map(|r| probabilities[r * classes + c]).collect();
            let labels: Vec<bool> = truth.iter().map(|&y| y == c).collect();
            evaluate(&scores, &labels).auc
        })
        .filter(|a| a.is_finite())
        .collect();
    MulticlassMetrics {
        rows,
        accuracy: ratio(correct, rows),
        top2_accuracy: ratio(top2, rows),
        log_loss: if rows == 0 {
            f64::NAN
        } else {
            loss / rows as f64
        },
        macro_auc: if aucs.is_empty() {
            f64::NAN
        } else {
            aucs.iter().sum::<f64>() / aucs.len() as f64
        },
        majority_accuracy: ratio(truth.iter().filter(|&&y| y == majority).count(), rows),
        classes: (0..classes)
            .map(|c| {
                (
                    counts[c],
                    ratio(hits[c], counts[c]),
                    ratio(hits[c], answered[c]),
                )
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // Three rows, three classes. Row 0 (class 0) is right; row 1 (class 1) has class 1
        // second; row 2 (class 2) is last.
        let p = [
            0.7, 0.2, 0.1, //
            0.5, 0.3, 0.2, //
            0.6, 0.3, 0.1,
        ];
        let m = evaluate_classes(&p, &[0, 1, 2], 3, 0);
        assert!((m.accuracy - 1.0 / 3.0).abs() < 1e-12);
        assert!((m.top2_accuracy - 2.0 / 3.0).abs() < 1e-12);
        let loss = -(0.7f64.ln() + 0.3f64.ln() + 0.1f64.ln()) / 3.0;
        assert!((m.log_loss - loss).abs() < 1e-12);
        assert!((m.majority_accuracy - 1.0 / 3.0).abs() < 1e-12);
        // Class 0 answered for all three rows: recall 1, precision 1/3; class 1 never
        // answered: recall 0, precision undefined.
        assert_eq!(m.classes[0], (1, 1.0, 1.0 / 3.0));
        assert_eq!(m.classes[1].1, 0.0);
        assert!(m.classes[1].2.is_nan());
        // Class 0 against the rest: 0.7 above 0.5 and 0.6: AUC 1.
        assert!(m.macro_auc > 0.0);
    }
}
