//! `[matching.NAME]` in `c360.toml`: which table holds the records, how candidate pairs are
//! found (blocking rules) and how two records are compared (comparisons with levels).

use serde::Deserialize;

/// A probabilistic record-matching setup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingConfig {
    /// The table (source or model) with one row per record.
    pub records: String,
    /// Its unique record key column.
    pub key: String,
    /// Where the trained model is saved and read, relative to the workspace.
    pub model: String,
    /// Blocking rules: SQL join conditions over `l.` and `r.` (the two records of a pair).
    /// Candidate pairs are the union of the pairs each rule joins.
    pub blocking: Vec<String>,
    /// Rules for the EM training sessions; the blocking rules when empty.
    #[serde(default)]
    pub training_blocking: Vec<String>,
    /// A blocking rule that would yield more pairs than this is refused with an error.
    #[serde(default = "default_max_pairs")]
    pub max_pairs: u64,
    /// Random record pairs drawn to estimate the u-probabilities.
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: u64,
    /// Seed of the random pair sampling, so training is reproducible.
    #[serde(default)]
    pub seed: u64,
    /// The comparisons, in the order `match_score` takes their arguments.
    pub comparisons: Vec<ComparisonConfig>,
}

fn default_max_pairs() -> u64 {
    50_000_000
}

fn default_u_pairs() -> u64 {
    2_000_000
}

/// One comparison of a column between the two records of a pair.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComparisonConfig {
    /// The name shown in explanations; the column name when absent.
    #[serde(default)]
    pub name: String,
    /// The column compared.
    pub column: String,
    /// How values are compared.
    pub kind: ComparisonKind,
    /// Fuzzy level thresholds, strictest first (similarities for the similarity kinds, edit
    /// counts for damerau_levenshtein, days for date).
    #[serde(default)]
    pub thresholds: Vec<f64>,
    /// Adjust the exact level by how common the value is (a shared rare surname counts more).
    #[serde(default)]
    pub term_frequency: bool,
    /// Fixed m-probabilities, one per level strictest first (prior knowledge such as "a
    /// person's first name rarely differs between records"); EM estimates them when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub m: Vec<f64>,
}

/// The comparison functions a level can use.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonKind {
    /// Equal or not.
    Exact,
    /// Jaro-Winkler similarity at least each threshold.
    JaroWinkler,
    /// Jaro similarity at least each threshold.
    Jaro,
    /// Normalised Levenshtein similarity at least each threshold.
    Levenshtein,
    /// Damerau-Levenshtein distance at most each threshold.
    DamerauLevenshtein,
    /// Jaccard similarity of the word sets at least each threshold.
    Jaccard,
    /// Days between two dates at most each threshold.
    Date,
    /// E-mail addresses: equal, same user name, user names with Jaro-Winkler at least each
    /// threshold.
    Email,
}

impl MatchingConfig {
    /// Checks serde cannot express; the message names the key.
    pub fn validate(&self, name: &str) -> Result<(), String> {
        let at = format!("[matching.{name}]");
        if self.comparisons.is_empty() {
            return Err(format!("{at} comparisons: list at least one comparison"));
        }
        if self.blocking.is_empty() {
            return Err(format!(
                "{at} blocking: list at least one rule, such as \"l.email = r.email\""
            ));
        }
        if self.max_pairs == 0 || self.u_sample_pairs == 0 {
            return Err(format!(
                "{at} max_pairs and u_sample_pairs: must be at least 1"
            ));
        }
        for c in &self.comparisons {
            let what = format!("{at} comparison '{}'", c.display_name());
            let ascending =
                c.kind == ComparisonKind::DamerauLevenshtein || c.kind == ComparisonKind::Date;
            for pair in c.thresholds.windows(2) {
                let ordered = if ascending {
                    pair[0] < pair[1]
                } else {
                    pair[0] > pair[1]
                };
                if !ordered {
                    return Err(format!(
                        "{what} thresholds: list them strictest first ({})",
                        if ascending {
                            "increasing"
                        } else {
                            "decreasing"
                        }
                    ));
                }
            }
            if !c.m.is_empty() {
                let levels = c.level_count();
                let sum: f64 = c.m.iter().sum();
                if c.m.len() != levels
                    || c.m.iter().any(|m| !(*m > 0.0 && *m < 1.0))
                    || (sum - 1.0).abs() > 1e-6
                {
                    return Err(format!(
                        "{what} m: give {levels} probabilities in (0, 1) that sum to 1, one per \
                         level ({})",
                        c.level_labels().join(", ")
                    ));
                }
            }
            for t in &c.thresholds {
                let valid = match c.kind {
                    ComparisonKind::Exact => false,
                    ComparisonKind::DamerauLevenshtein | ComparisonKind::Date => {
                        *t >= 0.0 && t.fract() == 0.0
                    }
                    _ => *t > 0.0 && *t < 1.0,
                };
                if !valid {
                    return Err(format!(
                        "{what} thresholds: {t} is not valid for kind {:?} ({})",
                        c.kind,
                        match c.kind {
                            ComparisonKind::Exact => "exact takes no thresholds",
                            ComparisonKind::DamerauLevenshtein => "whole numbers of edits",
                            ComparisonKind::Date => "whole numbers of days",
                            _ => "similarities between 0 and 1, exclusive",
                        }
                    ));
                }
            }
        }
        Ok(())
    }

    /// The rules the EM sessions train on.
    pub fn training_rules(&self) -> &[String] {
        if self.training_blocking.is_empty() {
            &self.blocking
        } else {
            &self.training_blocking
        }
    }
}

impl ComparisonConfig {
    /// The name, or the column when no name was given.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.column
        } else {
            &self.name
        }
    }

    /// The number of levels of the comparison (the NULL case not counted).
    pub fn level_count(&self) -> usize {
        let extra = usize::from(self.kind == ComparisonKind::Email);
        2 + extra + self.thresholds.len()
    }

    /// Readable labels of the levels, strictest first.
    pub fn level_labels(&self) -> Vec<String> {
        let mut labels = vec!["exact".to_string()];
        if self.kind == ComparisonKind::Email {
            labels.push("same user name".to_string());
        }
        for t in &self.thresholds {
            labels.push(match self.kind {
                // Validation refuses thresholds on exact comparisons.
                ComparisonKind::Exact => format!("threshold {t}"),
                ComparisonKind::JaroWinkler => format!("jaro_winkler >= {t}"),
                ComparisonKind::Jaro => format!("jaro >= {t}"),
                ComparisonKind::Levenshtein => format!("levenshtein_similarity >= {t}"),
                ComparisonKind::DamerauLevenshtein => format!("damerau_levenshtein <= {t}"),
                ComparisonKind::Jaccard => format!("jaccard >= {t}"),
                ComparisonKind::Date => format!("within {t} days"),
                ComparisonKind::Email => format!("user name jaro_winkler >= {t}"),
            });
        }
        labels.push("else".to_string());
        labels
    }
}
