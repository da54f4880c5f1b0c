//! Training a match model without labels: u from random record pairs, m and the share of
//! matches by EM on the pairs of each training blocking rule, the prior from the union of the
//! blocking rules' pairs, value frequencies for the term-frequency adjustment.

use std::collections::HashMap;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_empty_array};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::blocking::{Rule, pairs_sql, parse_rules};
use super::comparison::{NULL_LEVEL, Values, level};
use super::em::{self, Patterns};
use super::model::{
    EmSession, Level, MatchModel, TermFrequencies, TrainedComparison, TrainingSummary,
};
use crate::config::matching::{ComparisonConfig, MatchingConfig};
use crate::memory::Held;

fn error(message: String) -> DataFusionError {
    DataFusionError::Execution(message)
}

/// Train the model of `[matching.NAME]` on the current contents of its records table.
pub async fn train(
    ctx: &SessionContext,
    name: &str,
    config: &MatchingConfig,
) -> Result<MatchModel> {
    let at = format!("train_match_model('{name}')");
    let training_rules = parse_rules(name, config.training_rules()).map_err(error)?;
    let blocking_rules = parse_rules(name, &config.blocking).map_err(error)?;
    super::check_pair_counts(ctx, name, config, &blocking_rules).await?;
    if !config.training_blocking.is_empty() {
        super::check_pair_counts(ctx, name, config, &training_rules).await?;
    }

    let (records, _held) = load_records(ctx, name, config).await?;
    let n = records.first().map_or(0, Values::len);
    if n < 2 {
        return Err(error(format!(
            "{at}: the records table '{}' has {n} rows; training needs at least 2",
            config.records
        )));
    }
    let frequencies: Vec<HashMap<String, u64>> = records.iter().map(value_counts).collect();
    let (u, u_pairs) = estimate_u(config, &records, &frequencies);

    let level_counts: Vec<usize> = config
        .comparisons
        .iter()
        .map(ComparisonConfig::level_count)
        .collect();
    let mut m_sum: Vec<Vec<f64>> = level_counts.iter().map(|&l| vec![0.0; l]).collect();
    let mut m_sessions = vec![0usize; config.comparisons.len()];
    let mut sessions = Vec::new();
    for rule in &training_rules {
        let patterns = pair_patterns(ctx, config, std::slice::from_ref(rule)).await?;
        let active: Vec<bool> = config
            .comparisons
            .iter()
            .map(|c| !rule.columns.contains(&c.column))
            .collect();
        let estimate: Vec<bool> = config.comparisons.iter().map(|c| c.m.is_empty()).collect();
        let result = em::run(&patterns, &u, starting_m(config), &active, &estimate);
        for (k, is_active) in active.iter().enumerate() {
            if *is_active && estimate[k] {
                m_sessions[k] += 1;
                for (sum, m) in m_sum[k].iter_mut().zip(&result.m[k]) {
                    *sum += m;
                }
            }
        }
        sessions.push(EmSession {
            rule: rule.text.clone(),
            fixed: config
                .comparisons
                .iter()
                .zip(&active)
                .filter(|(_, a)| !**a)
                .map(|(c, _)| c.display_name().to_string())
                .collect(),
            pairs: patterns.values().sum(),
            iterations: result.iterations,
            converged: result.converged,
            match_share: result.match_share,
        });
    }
    let mut m = Vec::new();
    for (k, c) in config.comparisons.iter().enumerate() {
        if !c.m.is_empty() {
            m.push(c.m.clone());
            continue;
        }
        if m_sessions[k] == 0 {
            return Err(error(format!(
                "{at}: every training blocking rule uses column '{}', so EM cannot estimate \
                 the m-probabilities of comparison '{}'; add a rule without it to \
                 training_blocking in [matching.{name}]",
                c.column,
                c.display_name()
            )));
        }
        m.push(
            m_sum[k]
                .iter()
                .map(|s| s / m_sessions[k] as f64)
                .collect::<Vec<_>>(),
        );
    }

    let union = pair_patterns(ctx, config, &blocking_rules).await?;
    let blocked_pairs: u64 = union.values().sum();
    let all_active = vec![true; config.comparisons.len()];
    let none = vec![false; config.comparisons.len()];
    let share = em::run(&union, &u, m.clone(), &all_active, &none).match_share;
    let total_pairs = n as f64 * (n as f64 - 1.0) / 2.0;
    let prior = (share * blocked_pairs as f64 / total_pairs).clamp(1e-12, 1.0 - 1e-9);

    let comparisons = config
        .comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| TrainedComparison {
            config: c.clone(),
            levels: c
                .level_labels()
                .into_iter()
                .enumerate()
                .map(|(l, label)| {
                    let (m, u) = (m[k][l], u[k][l]);
                    Level {
                        label,
                        m,
                        u,
                        bayes_factor: m / u,
                        weight: (m / u).log2(),
                    }
                })
                .collect(),
            term_frequencies: c.term_frequency.then(|| TermFrequencies {
                total: frequencies[k].values().sum(),
                counts: frequencies[k]
                    .iter()
                    .filter(|(_, count)| **count > 1)
                    .map(|(v, count)| (v.clone(), *count))
                    .collect(),
                lookup: HashMap::default(),
            }),
        })
        .collect();
    Ok(MatchModel {
        prior,
        comparisons,
        training: TrainingSummary {
            records_table: config.records.clone(),
            records: n as u64,
            u_pairs,
            sessions,
            blocked_pairs,
            blocked_match_share: share,
        },
    })
}

/// EM's starting m: the configured m where fixed, a decreasing guess elsewhere.
fn starting_m(config: &MatchingConfig) -> Vec<Vec<f64>> {
    let counts: Vec<usize> = config
        .comparisons
        .iter()
        .map(ComparisonConfig::level_count)
        .collect();
    em::initial_m(&counts)
        .into_iter()
        .zip(&config.comparisons)
        .map(|(guess, c)| if c.m.is_empty() { guess } else { c.m.clone() })
        .collect()
}

/// Every comparison's column of every record, prepared for its comparison, with the memory
/// they hold in the session's pool (the columns read and the values prepared from them) for
/// as long as the training keeps them.
async fn load_records(
    ctx: &SessionContext,
    name: &str,
    config: &MatchingConfig,
) -> Result<(Vec<Values>, Held)> {
    let select = config
        .comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| format!("l.{} AS c{k}", c.column))
        .collect::<Vec<_>>()
        .join(", ");
    let mut held = Held::new(
        ctx,
        format!("train_match_model('{name}') reading '{}'", config.records),
    );
    // Ordered by key: the random pairs are drawn by position, so the same records give the
    // same sample (and the same model) whatever order the scan returns them in.
    let frame = ctx
        .sql(&format!(
            "SELECT {select} FROM {} AS l ORDER BY CAST(l.{} AS VARCHAR)",
            config.records, config.key
        ))
        .await?;
    let batches = held.collect(frame).await?;
    let read = held.size();
    // The columns joined into one each and the values prepared from them.
    held.grow(2 * read)?;
    let values = config
        .comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let parts: Vec<&ArrayRef> = batches.iter().map(|b| b.column(k)).collect();
            let column = if parts.is_empty() {
                new_empty_array(&DataType::Utf8)
            } else {
                concat(&parts.iter().map(|a| a.as_ref()).collect::<Vec<_>>())?
            };
            Values::prepare(c, &column, "train_match_model")
        })
        .collect::<Result<Vec<Values>>>()?;
    drop(batches);
    held.shrink(read);
    Ok((values, held))
}

/// How often each non-NULL value occurs.
fn value_counts(values: &Values) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for i in 0..values.len() {
        if let Some(term) = values.term(i) {
            match counts.get_mut(term.as_ref()) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(term.into_owned(), 1);
                }
            }
        }
    }
    counts
}

/// u-probabilities: the exact level from the value counts (the chance two random non-NULL
/// values are equal, computed exactly), the other levels from random record pairs (all pairs
/// when there are fewer than `u_sample_pairs`), scaled to share the rest. Returns u and the
/// number of pairs drawn.
fn estimate_u(
    config: &MatchingConfig,
    records: &[Values],
    frequencies: &[HashMap<String, u64>],
) -> (Vec<Vec<f64>>, u64) {
    let n = records[0].len();
    let all_pairs = n as u64 * (n as u64 - 1) / 2;
    let mut counts: Vec<Vec<u64>> = config
        .comparisons
        .iter()
        .map(|c| vec![0; c.level_count()])
        .collect();
    let mut tally = |i: usize, j: usize| {
        for (k, c) in config.comparisons.iter().enumerate() {
            let l = level(c, &records[k], i, &records[k], j);
            if l != NULL_LEVEL {
                counts[k][usize::from(l)] += 1;
            }
        }
    };
    let drawn = if all_pairs <= config.u_sample_pairs {
        for i in 0..n {
            for j in i + 1..n {
                tally(i, j);
            }
        }
        all_pairs
    } else {
        let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
        for _ in 0..config.u_sample_pairs {
            let i = rng.random_range(0..n);
            let mut j = rng.random_range(0..n - 1);
            if j >= i {
                j += 1;
            }
            tally(i, j);
        }
        config.u_sample_pairs
    };
    let u = counts
        .iter()
        .zip(frequencies)
        .map(|(levels, values)| {
            let non_null: f64 = values.values().sum::<u64>() as f64;
            let equal: f64 = values.values().map(|&c| c as f64 * (c as f64 - 1.0)).sum();
            // At least one equal pair in a sample the size of the data: never exactly 0.
            let exact = if non_null > 1.0 {
                (equal / (non_null * (non_null - 1.0))).max(1.0 / (non_null * non_null))
            } else {
                0.5
            };
            let rest: u64 = levels[1..].iter().sum();
            let smoothing = levels.len() as f64 - 1.0;
            let mut u = vec![exact];
            u.extend(
                levels[1..]
                    .iter()
                    .map(|&c| (1.0 - exact) * (c as f64 + 1.0) / (rest as f64 + smoothing)),
            );
            u
        })
        .collect();
    (u, drawn)
}

/// The comparison patterns of the pairs `rules` yield, with their counts.
async fn pair_patterns(
    ctx: &SessionContext,
    config: &MatchingConfig,
    rules: &[Rule],
) -> Result<Patterns> {
    let select = config
        .comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| format!("l.{col} AS l{k}, r.{col} AS r{k}", col = c.column))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stream = ctx
        .sql(&pairs_sql(config, rules, &select))
        .await?
        .execute_stream()
        .await?;
    let mut patterns = Patterns::new();
    let mut levels: Vec<Vec<u8>> = vec![Vec::new(); config.comparisons.len()];
    while let Some(batch) = stream.next().await {
        let batch: RecordBatch = batch?;
        for (k, c) in config.comparisons.iter().enumerate() {
            let left = Values::prepare(c, batch.column(2 * k), "train_match_model")?;
            let right = Values::prepare(c, batch.column(2 * k + 1), "train_match_model")?;
            super::comparison::levels(c, &left, &right, &mut levels[k]);
        }
        let mut pattern = vec![0u8; levels.len()];
        for row in 0..batch.num_rows() {
            for (k, l) in levels.iter().enumerate() {
                pattern[k] = l[row];
            }
            match patterns.get_mut(&pattern) {
                Some(count) => *count += 1,
                None => {
                    patterns.insert(pattern.clone(), 1);
                }
            }
        }
    }
    Ok(patterns)
}
