//! The functions that score a saved model (churn, CLV, offers, classes, a match model) as a
//! plan's codec and the cluster planner see them: each can score with a model file carried in
//! the plan ([`crate::models::carried`]) instead of reading its own.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

use crate::models::carried::Carried;

/// A function that scores the model its first argument names.
pub trait ScoresModel {
    /// Model `name`'s file as this process would score with it now; `None` when it has none.
    fn carry(&self, name: &str) -> Option<Carried>;
    /// Whether [`carry`](Self::carry) would find a file.
    fn carries(&self, name: &str) -> bool;
    /// The model file it carries, if any.
    fn carried(&self) -> Option<&Arc<Carried>>;
    /// The same function scoring with `carried`.
    fn carrying(&self, carried: Carried) -> ScalarUDF;
}

/// `udf` as a function that scores a saved model; `None` for every other function.
pub fn scores_model(udf: &ScalarUDF) -> Option<&dyn ScoresModel> {
    let inner = udf.inner().as_ref();
    super::predict::scores_model(inner)
        .or_else(|| super::identity::match_score::scores_model(inner))
}
