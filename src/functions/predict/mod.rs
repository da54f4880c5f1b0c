//! Prediction functions: customer summaries for lifetime value (`clv_summary`) and the
//! functions that apply the models fitted from SQL (`p_alive`, `expected_purchases`,
//! `expected_spend`, `clv`, `churn_probability`, `churn_factors`, ...), reading them from the
//! workspace's model files.

pub mod classifier_functions;
pub mod clv_functions;
pub mod clv_summary;
pub mod multiclass_functions;
pub mod offer_functions;

use std::sync::Arc;

use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

use crate::models::store::ModelStore;

/// The scalar functions of this family, reading models from `store`.
pub fn scalar_functions(store: &Arc<ModelStore>) -> Vec<ScalarUDF> {
    let mut functions = clv_functions::functions(store);
    functions.extend(classifier_functions::functions(store));
    functions.extend(offer_functions::functions(store));
    functions.extend(multiclass_functions::functions(store));
    functions
}

/// The aggregate functions of this family.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    vec![AggregateUDF::new_from_impl(
        clv_summary::ClvSummaryFunc::default(),
    )]
}
