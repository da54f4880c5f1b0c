//! What the model trainers share (`train_classifier`, `train_multiclass`, `train_uplift`): their
//! arguments read into one [`Spec`], how a trainer trains ([`Train`]), the training data reader ([`rows`]), the boosting
//! set-up ([`boost`]) and saving the model with what it was trained on ([`save`]).

pub mod boost;
pub mod rows;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::TableFunctionArgs;
use datafusion::common::{Result, plan_err};
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;
use serde::Serialize;

use crate::models::store::ModelStore;
use crate::values::text;

/// A trainer's call: `function(name, table, label, role..., key [, holdout_table])`.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The model's name (its file).
    pub name: String,
    /// The training table.
    pub table: String,
    /// The label column.
    pub label: String,
    /// The columns named between the label and the key (train_uplift's treatment flag).
    pub roles: Vec<String>,
    /// The key column, left out of the features.
    pub key: String,
    /// A table with the same columns from later in time, to judge the model on.
    pub holdout: Option<String>,
}

impl Spec {
    /// Read the call's arguments, every one a string constant: the name, the table, the label,
    /// `roles` more columns, the key and optionally the holdout table. The name must make a
    /// valid model file of `store`.
    pub fn from_args(
        function: &str,
        usage: &str,
        args: &TableFunctionArgs,
        roles: usize,
        store: &ModelStore,
    ) -> Result<Self> {
        let exprs = args.exprs();
        let required = 4 + roles;
        if !(required..=required + 1).contains(&exprs.len()) {
            return plan_err!(
                "{function} takes {} or {} arguments: {usage}",
                in_words(required),
                in_words(required + 1)
            );
        }
        let Some(texts) = exprs.iter().map(text).collect::<Option<Vec<String>>>() else {
            return plan_err!("{function}: every argument is a string: {usage}");
        };
        store.path(&texts[0])?;
        Ok(Self {
            name: texts[0].clone(),
            table: texts[1].clone(),
            label: texts[2].clone(),
            roles: texts[3..3 + roles].to_vec(),
            key: texts[3 + roles].clone(),
            holdout: texts.get(4 + roles).cloned(),
        })
    }

    /// What the model was trained on, for its file's header.
    pub fn trained_on(&self) -> String {
        match &self.holdout {
            Some(h) => format!("{} (holdout {h})", self.table),
            None => self.table.clone(),
        }
    }
}

fn in_words(n: usize) -> String {
    match n {
        4 => "four".to_string(),
        5 => "five".to_string(),
        6 => "six".to_string(),
        n => n.to_string(),
    }
}

/// How a trainer trains: the session it runs in, the store, its call; the metric rows.
pub type Train =
    fn(SessionContext, Arc<ModelStore>, Spec) -> BoxFuture<'static, Result<RecordBatch>>;

/// Save the model trained for `spec` with its headline `metrics`, and log where.
pub fn save<T: Serialize>(
    store: &ModelStore,
    function: &str,
    kind: &str,
    spec: &Spec,
    metrics: Vec<(String, f64)>,
    model: &T,
) -> Result<()> {
    let path = store.save(&spec.name, kind, &spec.trained_on(), metrics, model)?;
    tracing::info!("{function}: saved {}", path.display());
    Ok(())
}
