//! Expectation-maximisation for the Fellegi-Sunter model on comparison patterns.
//!
//! Pairs are reduced to their distinct comparison patterns (one level per comparison) with a
//! count, so an iteration costs the number of patterns, not the number of pairs. The
//! u-probabilities stay fixed (they come from random pairs); EM estimates the m-probabilities
//! of the active comparisons and the share of matches among the pairs.

use std::collections::HashMap;

use super::comparison::NULL_LEVEL;

/// Distinct comparison patterns with their pair counts.
pub type Patterns = HashMap<Vec<u8>, u64>;

/// Iteration limit of one EM run.
pub const MAX_ITERATIONS: usize = 1000;
/// The largest change of any parameter at which EM stops.
const TOLERANCE: f64 = 1e-6;
/// Pseudo-count added to every level, so a level no match hit keeps a small m.
const PSEUDO_COUNT: f64 = 0.01;

/// What an EM run found.
#[derive(Debug, Clone)]
pub struct EmResult {
    /// m-probabilities per comparison and level (the starting values for inactive ones).
    pub m: Vec<Vec<f64>>,
    /// The share of pairs that match.
    pub match_share: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Whether it converged within [`MAX_ITERATIONS`].
    pub converged: bool,
}

/// Starting m-probabilities: the stricter the level, the likelier among matches.
pub fn initial_m(level_counts: &[usize]) -> Vec<Vec<f64>> {
    level_counts
        .iter()
        .map(|&n| {
            let raw: Vec<f64> = (0..n).map(|l| 0.5f64.powi(l as i32 * 2)).collect();
            let total: f64 = raw.iter().sum();
            raw.into_iter().map(|x| x / total).collect()
        })
        .collect()
}

/// Run EM. `active[k]` says whether comparison `k` takes part (a comparison the pairs were
/// blocked on does not: every pair agrees on it); `estimate[k]` whether its m is re-estimated
/// (false keeps the given m: fixed by configuration, or when only the share is wanted).
pub fn run(
    patterns: &Patterns,
    u: &[Vec<f64>],
    mut m: Vec<Vec<f64>>,
    active: &[bool],
    estimate: &[bool],
) -> EmResult {
    let estimate_m = estimate.iter().zip(active).any(|(e, a)| *e && *a);
    let mut share: f64 = 0.3;
    let log_u: Vec<Vec<f64>> = u
        .iter()
        .map(|l| l.iter().map(|x| x.ln()).collect())
        .collect();
    // Sorted, so the sums (and the model) are the same bit for bit on every run.
    let mut rows: Vec<(&Vec<u8>, f64)> = patterns.iter().map(|(p, c)| (p, *c as f64)).collect();
    rows.sort_by(|a, b| a.0.cmp(b.0));
    let total: f64 = rows.iter().map(|(_, c)| c).sum();
    if total == 0.0 {
        return EmResult {
            m,
            match_share: 0.0,
            iterations: 0,
            converged: true,
        };
    }
    let mut iterations = 0;
    let mut converged = false;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        let log_m: Vec<Vec<f64>> = m
            .iter()
            .map(|l| l.iter().map(|x| x.ln()).collect())
            .collect();
        let prior = (share / (1.0 - share)).ln();
        let mut matched = 0.0;
        let mut sums: Vec<Vec<f64>> = m.iter().map(|l| vec![0.0; l.len()]).collect();
        for (pattern, count) in &rows {
            let mut log_odds = prior;
            for (k, &level) in pattern.iter().enumerate() {
                if active[k] && level != NULL_LEVEL {
                    let l = usize::from(level);
                    log_odds += log_m[k][l] - log_u[k][l];
                }
            }
            let w = 1.0 / (1.0 + (-log_odds).exp());
            matched += count * w;
            if estimate_m {
                for (k, &level) in pattern.iter().enumerate() {
                    if active[k] && estimate[k] && level != NULL_LEVEL {
                        sums[k][usize::from(level)] += count * w;
                    }
                }
            }
        }
        let new_share = (matched / total).clamp(1e-12, 1.0 - 1e-12);
        let mut change = (new_share - share).abs();
        share = new_share;
        if estimate_m {
            for (k, levels) in sums.iter().enumerate() {
                if !active[k] || !estimate[k] {
                    continue;
                }
                let denominator: f64 =
                    levels.iter().sum::<f64>() + PSEUDO_COUNT * levels.len() as f64;
                for (l, s) in levels.iter().enumerate() {
                    let value = (s + PSEUDO_COUNT) / denominator;
                    change = change.max((value - m[k][l]).abs());
                    m[k][l] = value;
                }
            }
        }
        if change < TOLERANCE {
            converged = true;
            break;
        }
    }
    EmResult {
        m,
        match_share: share,
        iterations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    use super::*;

    /// Pairs drawn from a known two-class model: EM recovers its m and match share.
    #[test]
    fn recovers_known_parameters() {
        let true_m = [vec![0.9, 0.08, 0.02], vec![0.7, 0.3]];
        let u = vec![vec![0.01, 0.05, 0.94], vec![0.1, 0.9]];
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let mut patterns = Patterns::new();
        let draw = |rng: &mut Pcg64Mcg, p: &[f64]| {
            let x: f64 = rng.random();
            let mut acc = 0.0;
            for (i, v) in p.iter().enumerate() {
                acc += v;
                if x < acc {
                    return i as u8;
                }
            }
            (p.len() - 1) as u8
        };
        for _ in 0..200_000 {
            let is_match = rng.random_bool(0.2);
            let pattern: Vec<u8> = (0..2)
                .map(|k| draw(&mut rng, if is_match { &true_m[k] } else { &u[k] }))
                .collect();
            *patterns.entry(pattern).or_default() += 1;
        }
        let result = run(
            &patterns,
            &u,
            initial_m(&[3, 2]),
            &[true, true],
            &[true, true],
        );
        assert!(result.converged);
        assert!(
            (result.match_share - 0.2).abs() < 0.01,
            "{}",
            result.match_share
        );
        assert!((result.m[0][0] - 0.9).abs() < 0.02, "{:?}", result.m);
        assert!((result.m[1][0] - 0.7).abs() < 0.03, "{:?}", result.m);
    }
}
