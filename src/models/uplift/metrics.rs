//! How well a predicted uplift ranks people on a randomised holdout: the Qini curve (the
//! incremental conversions gained by treating the people ranked first, with the control
//! group scaled to the treated count) and the observed uplift per decile of predicted uplift.

use serde::{Deserialize, Serialize};

use crate::models::classifier::metrics::{nan_as_null, nan_triples};

/// The uplift metrics of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftMetrics {
    pub rows: usize,
    pub treated_rows: usize,
    pub control_rows: usize,
    /// Conversion rates of the treated and control rows, and their difference (the average
    /// effect of treating).
    #[serde(with = "nan_as_null")]
    pub treated_rate: f64,
    #[serde(with = "nan_as_null")]
    pub control_rate: f64,
    #[serde(with = "nan_as_null")]
    pub uplift: f64,
    /// The area between the Qini curve and the diagonal of random targeting, with both axes as
    /// shares of the rows (incremental conversions per row): above 0 is better than random.
    #[serde(with = "nan_as_null")]
    pub qini: f64,
    /// The observed uplift among the 10% highest predicted uplifts.
    #[serde(with = "nan_as_null")]
    pub top_decile_uplift: f64,
    /// Per decile (highest predicted uplift first): rows, mean predicted uplift, observed
    /// uplift (NaN without treated or control rows in it).
    #[serde(with = "nan_triples")]
    pub deciles: Vec<(usize, f64, f64)>,
}

/// Evaluate predicted `uplift` against what happened: `converted` per row and whether the row
/// was `treated`.
pub fn evaluate_uplift(uplift: &[f64], converted: &[bool], treated: &[bool]) -> UpliftMetrics {
    let rows = uplift.len();
    let mut order: Vec<usize> = (0..rows).collect();
    // Highest first; ties by row so the curve does not depend on the sort.
    order.sort_by(|&a, &b| uplift[b].total_cmp(&uplift[a]).then(a.cmp(&b)));
    let observed = |idx: &[usize]| observed_uplift(idx, converted, treated);
    let (treated_rate, control_rate) = observed(&order);
    let mut deciles = Vec::new();
    for decile in 0..10 {
        let (from, to) = (decile * rows / 10, (decile + 1) * rows / 10);
        if from == to {
            continue;
        }
        let part = &order[from..to];
        let predicted = part.iter().map(|&i| uplift[i]).sum::<f64>() / part.len() as f64;
        let (t, c) = observed(part);
        deciles.push((part.len(), predicted, t - c));
    }
    let top = rows.div_ceil(10);
    let (top_t, top_c) = observed(&order[..top.min(rows)]);
    UpliftMetrics {
        rows,
        treated_rows: treated.iter().filter(|t| **t).count(),
        control_rows: treated.iter().filter(|t| !**t).count(),
        treated_rate,
        control_rate,
        uplift: treated_rate - control_rate,
        qini: qini(&order, converted, treated),
        top_decile_uplift: top_t - top_c,
        deciles,
    }
}

/// Conversion rates of the treated and the control rows among `idx` (NaN for an empty group).
fn observed_uplift(idx: &[usize], converted: &[bool], treated: &[bool]) -> (f64, f64) {
    let (mut nt, mut yt, mut nc, mut yc) = (0usize, 0usize, 0usize, 0usize);
    for &i in idx {
        if treated[i] {
            nt += 1;
            yt += usize::from(converted[i]);
        } else {
            nc += 1;
            yc += usize::from(converted[i]);
        }
    }
    let rate = |y: usize, n: usize| {
        if n == 0 {
            f64::NAN
        } else {
            y as f64 / n as f64
        }
    };
    (rate(yt, nt), rate(yc, nc))
}

/// The Qini area: Q(k) = treated conversions − control conversions × treated / control among
/// the first k rows; the mean of Q(k)/n over k, less the same for random targeting (the line to
/// Q(n)/n), on axes that are shares of the rows.
fn qini(order: &[usize], converted: &[bool], treated: &[bool]) -> f64 {
    let n = order.len();
    if n == 0 {
        return f64::NAN;
    }
    let (mut nt, mut yt, mut nc, mut yc) = (0.0, 0.0, 0.0, 0.0);
    let mut curve = Vec::with_capacity(n);
    for &i in order {
        let y = f64::from(u8::from(converted[i]));
        if treated[i] {
            nt += 1.0;
            yt += y;
        } else {
            nc += 1.0;
            yc += y;
        }
        let q = if nc > 0.0 { yt - yc * nt / nc } else { yt };
        curve.push(q / n as f64);
    }
    if nt == 0.0 || nc == 0.0 {
        return f64::NAN;
    }
    let end = curve[n - 1];
    let area: f64 = curve.iter().sum::<f64>() / n as f64;
    // The random line from 0 to `end` sampled at k/n for k = 1..=n has mean end × (n+1)/2n.
    area - end * (n as f64 + 1.0) / (2.0 * n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // Four treated, four control. The two highest predictions are treated converters, the
        // two lowest control converters: a perfect ranking.
        let uplift = [0.9, 0.8, 0.1, 0.0, 0.5, 0.4, -0.5, -0.6];
        let treated = [true, true, true, true, false, false, false, false];
        let converted = [true, true, false, false, false, false, true, true];
        let m = evaluate_uplift(&uplift, &converted, &treated);
        assert_eq!((m.treated_rows, m.control_rows), (4, 4));
        assert_eq!((m.treated_rate, m.control_rate), (0.5, 0.5));
        assert_eq!(m.uplift, 0.0);
        // Order: 0.9 T+, 0.8 T+, 0.5 C-, 0.4 C-, 0.1 T-, 0.0 T-, -0.5 C+, -0.6 C+.
        // Q(k): 1 (no control yet), 2, 2, 2, 2, 2, 2 − 1×4/3, 2 − 2×4/4 = 0; over n = 8 each,
        // mean = (1+2+2+2+2+2+2/3+0)/8/8; the random line ends at 0.
        let expected = (1.0 + 2.0 * 5.0 + 2.0 / 3.0) / 64.0;
        assert!((m.qini - expected).abs() < 1e-12, "{}", m.qini);
        // The top decile of 8 rows is one row, treated, converted, without a control: NaN.
        assert!(m.top_decile_uplift.is_nan());
        // Reversed predictions rank worse than random.
        let reversed: Vec<f64> = uplift.iter().map(|u| -u).collect();
        assert!(evaluate_uplift(&reversed, &converted, &treated).qini < 0.0);
    }
}
