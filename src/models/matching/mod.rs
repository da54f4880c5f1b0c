//! Probabilistic record matching (Fellegi-Sunter), configured per `[matching.NAME]`.
//!
//! The flow an analyst follows, all in SQL:
//! 1. `SELECT * FROM blocking_rule_counts('NAME')`: how many pairs each blocking rule yields,
//!    before running anything.
//! 2. `SELECT * FROM train_match_model('NAME')` (or `c360 train NAME`): estimate the model
//!    without labels and save it as a readable JSON file.
//! 3. `SELECT * FROM match_pairs('NAME')`: the candidate pairs of all rules with their match
//!    weight and probability, or `match_score('NAME', l.a, r.a, ...)` on pairs of one's own;
//!    `match_explain(...)` tells why a pair scored what it did.

pub mod blocking;
pub mod comparison;
pub mod em;
pub mod model;
pub mod train;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

use self::blocking::Rule;
use self::model::MatchModel;
use super::carried::Carried;
use super::store::ModelStore;
use crate::config::MatchingConfig;
use crate::config::Workspace;

/// The kind of match model files.
pub const KIND: &str = "match";

/// The `[matching]` setups of a workspace and their trained models, read and saved through the
/// workspace's model store (one file header, one cache, one atomic save for every model).
#[derive(Debug)]
pub struct Matching {
    root: PathBuf,
    configs: BTreeMap<String, MatchingConfig>,
    store: Arc<ModelStore>,
}

impl Matching {
    /// The setups of `workspace`, their models kept through `store`.
    pub fn new(workspace: &Workspace, store: &Arc<ModelStore>) -> Self {
        Self {
            root: workspace.root.clone(),
            configs: workspace.config.matching.clone(),
            store: Arc::clone(store),
        }
    }

    /// The configuration of `[matching.NAME]`.
    pub fn config(&self, name: &str) -> Result<&MatchingConfig> {
        self.configs.get(name).ok_or_else(|| {
            let known = self.configs.keys().cloned().collect::<Vec<_>>();
            DataFusionError::Plan(format!(
                "no [matching.{name}] in c360.toml; {}",
                if known.is_empty() {
                    "add one to configure record matching".to_string()
                } else {
                    format!("configured: {}", known.join(", "))
                }
            ))
        })
    }

    /// Where the model of `name` is saved.
    pub fn model_path(&self, name: &str) -> Result<PathBuf> {
        Ok(self.root.join(&self.config(name)?.model))
    }

    /// The trained model of `name`, read from its file (again when the file changed). It must
    /// have been trained with the comparisons configured now.
    pub fn model(&self, name: &str) -> Result<Arc<MatchModel>> {
        Ok(self.trained(name)?.1)
    }

    /// The trained model of `name` with its version (when it was trained, from the file's
    /// header), which the pairs it scored carry.
    pub fn trained(&self, name: &str) -> Result<(String, Arc<MatchModel>)> {
        self.trained_with(name, None)
    }

    /// [`trained`](Self::trained), from the model file a plan carried when there is one.
    pub fn trained_with(
        &self,
        name: &str,
        carried: Option<&Carried>,
    ) -> Result<(String, Arc<MatchModel>)> {
        let config = self.config(name)?;
        let retrain = format!(
            "train it with `c360 train {name}` or SELECT * FROM train_match_model('{name}')"
        );
        let (header, model) = match carried {
            Some(carried) => self
                .store
                .load_carried::<MatchModel>(carried, KIND, &retrain)?,
            None => {
                let path = self.model_path(name)?;
                self.store
                    .load_file::<MatchModel>(&path, name, KIND, &retrain)?
            }
        };
        model.check().map_err(|e| {
            DataFusionError::Execution(format!("match model {}: {e}; {retrain}", config.model))
        })?;
        if comparisons_changed(config, &model) {
            return Err(DataFusionError::Execution(format!(
                "match model {} was trained with other comparisons than [matching.{name}] \
                 lists now; retrain it with `c360 train {name}`",
                config.model
            )));
        }
        Ok((header.trained_at, model))
    }

    /// The file of `name`'s model as this process would read it now, to carry in a plan.
    pub fn carry(&self, name: &str) -> Option<Carried> {
        self.store.carry_file(&self.model_path(name).ok()?, name)
    }

    /// Whether `name` has a model file (as this run sees it: staged files count).
    pub fn carries(&self, name: &str) -> bool {
        self.model_path(name)
            .is_ok_and(|path| self.store.exists(&path))
    }

    /// Why the model of `name` must be trained before it can score, or `None` when its saved
    /// model is current: `c360 run` trains it then, before the first model that uses it.
    pub fn why_train(&self, name: &str) -> Result<Option<&'static str>> {
        let config = self.config(name)?;
        let path = self.model_path(name)?;
        if !self.store.exists(&path) {
            return Ok(Some("it is not trained yet"));
        }
        let retrain = format!("train it again with `c360 train {name}`");
        let (_, model) = self
            .store
            .load_file::<MatchModel>(&path, name, KIND, &retrain)?;
        Ok(comparisons_changed(config, &model)
            .then_some("it was trained with other comparisons than c360.toml lists now"))
    }

    /// Save the model trained for `name` to its file.
    pub fn save(&self, name: &str, model: &MatchModel) -> Result<PathBuf> {
        let path = self.model_path(name)?;
        let training = &model.training;
        let metrics = vec![
            ("records".to_string(), training.records as f64),
            ("blocked_pairs".to_string(), training.blocked_pairs as f64),
            (
                "blocked_match_share".to_string(),
                training.blocked_match_share,
            ),
        ];
        self.store
            .save_file(&path, name, KIND, &training.records_table, metrics, model)?;
        Ok(path)
    }
}

/// Whether `model` was trained with other comparisons than `config` lists.
fn comparisons_changed(config: &MatchingConfig, model: &MatchModel) -> bool {
    let trained: Vec<_> = model.comparisons.iter().map(|c| &c.config).collect();
    let configured: Vec<_> = config.comparisons.iter().collect();
    trained != configured
}

/// What a blocking rule yields, from its equality conditions.
#[derive(Debug, Clone)]
pub struct RuleCount {
    /// Candidate pairs (an upper bound when `exact` is false).
    pub pairs: i64,
    /// Whether `pairs` is exact.
    pub exact: bool,
    /// Records in the largest block.
    pub largest: Option<i64>,
    /// The key of the largest block.
    pub largest_key: Option<String>,
}

/// Count the pairs of each rule without running the joins.
pub async fn count_pairs(
    ctx: &SessionContext,
    config: &MatchingConfig,
    rules: &[Rule],
) -> Result<Vec<RuleCount>> {
    let mut counts = Vec::new();
    for rule in rules {
        counts.push(match rule.count_sql(&config.records) {
            Some(sql) => {
                let batches = ctx.sql(&sql).await?.collect().await?;
                let batch = batches.first().filter(|b| b.num_rows() > 0);
                let int = |c: usize| {
                    batch.and_then(|b| {
                        let a = b.column(c).as_primitive_opt::<Int64Type>()?;
                        a.is_valid(0).then(|| a.value(0))
                    })
                };
                let key = batch.and_then(|b| {
                    let text = cast(b.column(2), &DataType::Utf8).ok()?;
                    let a = text.as_string_opt::<i32>()?;
                    a.is_valid(0).then(|| a.value(0).to_string())
                });
                RuleCount {
                    pairs: int(0).unwrap_or(0),
                    exact: rule.symmetric(),
                    largest: int(1),
                    largest_key: key,
                }
            }
            None => {
                let batches = ctx
                    .sql(&format!(
                        "SELECT CAST(count(*) AS BIGINT) FROM {}",
                        config.records
                    ))
                    .await?
                    .collect()
                    .await?;
                let n = batches
                    .first()
                    .and_then(|b| b.column(0).as_any().downcast_ref::<Int64Array>())
                    .map_or(0, |a| a.value(0));
                RuleCount {
                    pairs: n.saturating_mul(n.saturating_sub(1)) / 2,
                    exact: false,
                    largest: Some(n),
                    largest_key: None,
                }
            }
        });
    }
    Ok(counts)
}

/// A stricter form of `rule` that stays within `max_pairs`: the rule AND one comparison
/// column's equality (`l.postcode_std = r.postcode_std`), the one that keeps the most pairs
/// within the limit, with its pair count; `None` when no single column is enough. Counted
/// without running the joins, like the rule itself.
pub async fn stricter_rule(
    ctx: &SessionContext,
    name: &str,
    config: &MatchingConfig,
    rule: &Rule,
) -> Result<Option<(String, i64)>> {
    let mut best: Option<(String, i64)> = None;
    for column in config.comparisons.iter().map(|c| c.column.as_str()) {
        let condition = format!("l.{column} = r.{column}");
        if rule.text.contains(&condition) {
            continue;
        }
        let text = format!("{} AND {condition}", rule.text);
        let Ok(candidate) = Rule::parse(&text, &format!("[matching.{name}] a stricter rule"))
        else {
            continue;
        };
        let count = &count_pairs(ctx, config, std::slice::from_ref(&candidate)).await?[0];
        // An upper bound within the limit is enough: the rule then fits.
        let fits = count.pairs > 0 && count.pairs as u64 <= config.max_pairs;
        if fits && best.as_ref().is_none_or(|(_, pairs)| count.pairs > *pairs) {
            best = Some((text, count.pairs));
        }
    }
    Ok(best)
}

/// Refuse to run a rule that yields more pairs than `max_pairs`, naming its largest block
/// and a stricter rule that would fit, when one column is enough.
pub async fn check_pair_counts(
    ctx: &SessionContext,
    name: &str,
    config: &MatchingConfig,
    rules: &[Rule],
) -> Result<()> {
    for (rule, count) in rules.iter().zip(count_pairs(ctx, config, rules).await?) {
        if count.pairs as u64 > config.max_pairs {
            let block = match (&count.largest_key, count.largest) {
                (Some(key), Some(n)) => format!("its largest block, key '{key}', has {n} records"),
                _ => "it has no equality between an l. and an r. column, so it pairs every \
                      record with every other"
                    .to_string(),
            };
            let stricter = match stricter_rule(ctx, name, config, rule).await? {
                Some((text, pairs)) => format!("such as `{text}` ({pairs} pairs)"),
                None => "add a condition such as AND l.last_name = r.last_name".to_string(),
            };
            return Err(DataFusionError::Execution(format!(
                "[matching.{name}] blocking rule `{}` yields {} candidate pairs, above \
                 max_pairs = {}: {block}. Make the rule stricter ({stricter}) or raise \
                 max_pairs; SELECT * FROM blocking_rule_counts('{name}') shows every rule",
                rule.text, count.pairs, config.max_pairs
            )));
        }
    }
    Ok(())
}
