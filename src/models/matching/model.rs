//! The trained match model: a readable JSON file with every parameter (the prior, m and u per
//! level, the term frequencies) and how it was trained, plus the arithmetic that turns levels
//! into a match weight and probability.
//!
//! Weights are in bits: a level's weight is log2(m / u); the match weight of a pair is the
//! prior's log2 odds plus the weights of the levels it hits, and the match probability is
//! 2^w / (1 + 2^w). The exact level of a comparison with term frequencies uses the value's own
//! frequency as u, so a shared "smith" counts less than a shared "wojciechowski".

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::comparison::NULL_LEVEL;
use crate::config::matching::ComparisonConfig;

/// A trained Fellegi-Sunter model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatchModel {
    /// The probability that two records drawn at random are the same entity.
    pub prior: f64,
    /// The comparisons with their trained levels.
    pub comparisons: Vec<TrainedComparison>,
    /// How the parameters were estimated.
    pub training: TrainingSummary,
}

/// One comparison with its levels' parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainedComparison {
    /// The comparison as configured.
    #[serde(flatten)]
    pub config: ComparisonConfig,
    /// The levels, strictest first.
    pub levels: Vec<Level>,
    /// Value frequencies for the term-frequency adjustment of the exact level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_frequencies: Option<TermFrequencies>,
}

/// One level of a comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Level {
    /// What the level means, such as "jaro_winkler >= 0.92".
    pub label: String,
    /// P(level | the records match), estimated by EM.
    pub m: f64,
    /// P(level | they do not match), from random record pairs.
    pub u: f64,
    /// m / u.
    pub bayes_factor: f64,
    /// log2(m / u): the bits of evidence this level adds.
    pub weight: f64,
}

/// How often each value occurs among the records' non-NULL values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TermFrequencies {
    /// The number of non-NULL values.
    pub total: u64,
    /// Values seen more than once with their counts; any other value counts once.
    pub counts: BTreeMap<String, u64>,
    /// The same counts hashed, for scoring (built when the model is read).
    #[serde(skip)]
    pub lookup: HashMap<String, u64, ahash::RandomState>,
}

/// How a model was trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingSummary {
    /// The records table.
    pub records_table: String,
    /// Its number of records.
    pub records: u64,
    /// Random pairs drawn for the u-probabilities.
    pub u_pairs: u64,
    /// The EM sessions, one per training blocking rule.
    pub sessions: Vec<EmSession>,
    /// Candidate pairs of all blocking rules, on which the prior was estimated.
    pub blocked_pairs: u64,
    /// The share of those pairs EM judged to be matches.
    pub blocked_match_share: f64,
}

/// One EM session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmSession {
    /// The blocking rule whose pairs it trained on.
    pub rule: String,
    /// Comparisons it left out because the rule uses their column.
    pub fixed: Vec<String>,
    /// Pairs it trained on.
    pub pairs: u64,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the parameters converged before the iteration limit.
    pub converged: bool,
    /// The share of its pairs judged to be matches.
    pub match_share: f64,
}

/// The part of a pair's score one comparison contributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The level label, or "null" when a side was missing.
    pub label: String,
    /// m of the level (NaN for null).
    pub m: f64,
    /// u of the level, after the term-frequency adjustment (NaN for null).
    pub u: f64,
    /// Bits of evidence (0 for null).
    pub weight: f64,
}

impl MatchModel {
    /// Consistency checks a hand-edited file could break.
    pub fn check(&self) -> Result<(), String> {
        if !(self.prior > 0.0 && self.prior < 1.0) {
            return Err(format!(
                "prior {} is not a probability in (0, 1)",
                self.prior
            ));
        }
        for c in &self.comparisons {
            let labels = c.config.level_labels();
            if c.levels.len() != labels.len() {
                return Err(format!(
                    "comparison '{}' has {} levels, its kind and thresholds make {}",
                    c.config.display_name(),
                    c.levels.len(),
                    labels.len()
                ));
            }
            for level in &c.levels {
                if !(level.m > 0.0 && level.m <= 1.0 && level.u > 0.0 && level.u <= 1.0) {
                    return Err(format!(
                        "comparison '{}' level '{}': m and u must be probabilities in (0, 1]",
                        c.config.display_name(),
                        level.label
                    ));
                }
            }
        }
        Ok(())
    }

    /// The prior as log2 odds: the starting weight of every pair.
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// What comparison `k` contributes at `level`; `term` is the pair's value when the level is
    /// exact (for the term-frequency adjustment).
    pub fn contribution(&self, k: usize, level: u8, term: Option<&str>) -> Contribution {
        let c = &self.comparisons[k];
        if level == NULL_LEVEL {
            return Contribution {
                label: "null".to_string(),
                m: f64::NAN,
                u: f64::NAN,
                weight: 0.0,
            };
        }
        let l = &c.levels[usize::from(level)];
        let u = match (&c.term_frequencies, level, term) {
            (Some(tf), 0, Some(value)) => tf.frequency(value),
            _ => l.u,
        };
        Contribution {
            label: l.label.clone(),
            m: l.m,
            u,
            weight: (l.m / u).log2(),
        }
    }

    /// The weight of comparison `k` at `level` (see [`Self::contribution`]).
    #[inline]
    pub fn weight(&self, k: usize, level: u8, term: Option<&str>) -> f64 {
        let c = &self.comparisons[k];
        if level == NULL_LEVEL {
            return 0.0;
        }
        let l = &c.levels[usize::from(level)];
        match (&c.term_frequencies, level, term) {
            (Some(tf), 0, Some(value)) => (l.m / tf.frequency(value)).log2(),
            _ => l.weight,
        }
    }
}

impl TermFrequencies {
    /// The share of values equal to `value` (a value not in the table occurs once).
    pub fn frequency(&self, value: &str) -> f64 {
        let count = if self.lookup.is_empty() {
            self.counts.get(value)
        } else {
            self.lookup.get(value)
        };
        let count = count.copied().unwrap_or(1).max(1);
        count as f64 / self.total.max(1) as f64
    }
}

/// The match probability of a weight in bits.
pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_of_weights() {
        assert_eq!(probability(0.0), 0.5);
        assert!((probability(10.0) - 1024.0 / 1025.0).abs() < 1e-12);
        assert_eq!(probability(5000.0), 1.0);
        assert!(probability(-5000.0) < 1e-300);
    }

    #[test]
    fn rare_values_weigh_more() {
        let tf = TermFrequencies {
            total: 1000,
            counts: BTreeMap::from([("smith".to_string(), 50)]),
            lookup: HashMap::default(),
        };
        assert!(tf.frequency("smith") > tf.frequency("wojciechowski"));
        assert_eq!(tf.frequency("wojciechowski"), 0.001);
    }
}
