//! The trainers' table functions (`train_classifier`, `train_multiclass`, `train_uplift`): the
//! call read into a [`Spec`] while planning, the training itself when the query executes (so
//! EXPLAIN trains nothing), the model saved in the workspace's store.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use crate::functions::deferred::DeferredTable;
use crate::models::metric_rows;
use crate::models::store::ModelStore;
use crate::models::training::{Spec, Train};
use crate::models::{classifier, multiclass, uplift};

pub const TRAIN_CLASSIFIER_USAGE: &str = "train_classifier(name, table, label, key [, holdout_table]): the model \
    name, the training table, its boolean label column, its key column (left out of the \
    features) and optionally a table with the same columns labelled later in time to evaluate \
    on, such as train_classifier('churn', 'churn_training', 'churned', 'customer_id', \
    'churn_holdout')";

pub const TRAIN_MULTICLASS_USAGE: &str = "train_multiclass(name, table, label, key [, holdout_table]): the model \
    name, the training table, its label column (the classes), its key column (left out of the \
    features) and optionally a table with the same columns labelled later in time to evaluate \
    on, such as train_multiclass('next_category', 'category_training', 'next_category', \
    'customer_id', 'category_holdout')";

pub const TRAIN_UPLIFT_USAGE: &str = "train_uplift(name, table, label, treatment, key [, holdout_table]): the \
    model name, the training table, its boolean conversion label, its boolean treatment column \
    (true = treated, false = the randomised control group), its key column and optionally a \
    table with the same columns from later in time to evaluate on, such as \
    train_uplift('offers', 'offer_training', 'converted', 'treated', 'decision_id', \
    'offer_holdout')";

/// A trainer's table function: its call read into a [`Spec`], its table the metric rows
/// ([`metric_rows::schema`]) that `train` makes when the query executes.
#[derive(Debug)]
pub struct Trainer {
    /// The SQL name.
    pub name: &'static str,
    /// How it is called, for the errors.
    pub usage: &'static str,
    /// How many columns it names between the label and the key.
    pub roles: usize,
    /// Where models are saved.
    pub store: Arc<ModelStore>,
    /// The training.
    pub train: Train,
}

impl TableFunctionImpl for Trainer {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let spec = Spec::from_args(self.name, self.usage, &args, self.roles, &self.store)?;
        let label = format!("{}('{}', '{}')", self.name, spec.name, spec.table);
        let (store, train) = (Arc::clone(&self.store), self.train);
        Ok(DeferredTable::one_batch(
            label,
            metric_rows::schema(),
            move |ctx, _schema| train(ctx, Arc::clone(&store), spec.clone()),
        ))
    }
}

impl Trainer {
    /// `train_classifier`, saving models in `store`.
    pub fn classifier(store: &Arc<ModelStore>) -> Self {
        Self {
            name: classifier::train::NAME,
            usage: TRAIN_CLASSIFIER_USAGE,
            roles: 0,
            store: Arc::clone(store),
            train: |ctx, store, spec| {
                Box::pin(async move { classifier::train::train(&ctx, &store, &spec).await })
            },
        }
    }

    /// `train_multiclass`, saving models in `store`.
    pub fn multiclass(store: &Arc<ModelStore>) -> Self {
        Self {
            name: multiclass::train::NAME,
            usage: TRAIN_MULTICLASS_USAGE,
            roles: 0,
            store: Arc::clone(store),
            train: |ctx, store, spec| {
                Box::pin(async move { multiclass::train::train(&ctx, &store, &spec).await })
            },
        }
    }

    /// `train_uplift`, saving models in `store`.
    pub fn uplift(store: &Arc<ModelStore>) -> Self {
        Self {
            name: uplift::train::NAME,
            usage: TRAIN_UPLIFT_USAGE,
            roles: 1,
            store: Arc::clone(store),
            train: |ctx, store, spec| {
                Box::pin(async move { uplift::train::train(&ctx, &store, &spec).await })
            },
        }
    }
}
