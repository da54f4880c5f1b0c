//! The c360 SQL functions, one file each, grouped by family (identity, journey, metrics,
//! predict). [`register_all`] is the one place that puts them into a session.

pub mod identity;
pub mod journey;
pub mod metrics;
pub mod predict;
pub(crate) mod util;

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;

use crate::models::store::ModelStore;

/// Every c360 scalar function; the prediction functions read their models from `store`.
pub fn scalar_functions(store: &Arc<ModelStore>) -> Vec<ScalarUDF> {
    let mut functions = identity::scalar_functions();
    functions.extend(metrics::scalar_functions());
    functions.extend(predict::scalar_functions(store));
    functions
}

/// Every c360 aggregate function.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    let mut functions = identity::aggregate_functions();
    functions.extend(journey::aggregate_functions());
    functions.extend(metrics::aggregate_functions());
    functions.extend(predict::aggregate_functions());
    functions
}

/// Every c360 window function.
pub fn window_functions() -> Vec<WindowUDF> {
    journey::window_functions()
}

/// Register every c360 function in `ctx`, the prediction functions reading models from
/// `store`.
pub fn register_all(ctx: &SessionContext, store: &Arc<ModelStore>) -> Result<()> {
    for udf in scalar_functions(store) {
        ctx.register_udf(udf);
    }
    for udaf in aggregate_functions() {
        ctx.register_udaf(udaf);
    }
    for udwf in window_functions() {
        ctx.register_udwf(udwf);
    }
    Ok(())
}

/// Every name and alias of every c360 function.
pub fn all_names() -> Vec<String> {
    let mut names = Vec::new();
    for udf in scalar_functions(&placeholder_store()) {
        names.push(udf.name().to_string());
        names.extend(udf.aliases().iter().cloned());
    }
    for udaf in aggregate_functions() {
        names.push(udaf.name().to_string());
        names.extend(udaf.aliases().iter().cloned());
    }
    for udwf in window_functions() {
        names.push(udwf.name().to_string());
        names.extend(udwf.aliases().iter().cloned());
    }
    names
}

/// A store for listing the functions (nothing is read from it).
fn placeholder_store() -> Arc<ModelStore> {
    Arc::new(ModelStore::in_dir("models".into()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use datafusion::prelude::SessionContext;

    use super::*;

    #[test]
    fn names_are_unique_and_do_not_shadow_datafusion() {
        let names = all_names();
        let mut seen = HashSet::new();
        for name in &names {
            assert!(
                seen.insert(name.clone()),
                "two c360 functions are called {name}"
            );
        }
        let state = SessionContext::new().state();
        for name in &names {
            assert!(
                !state.scalar_functions().contains_key(name)
                    && !state.aggregate_functions().contains_key(name)
                    && !state.window_functions().contains_key(name),
                "{name} would replace a DataFusion built-in"
            );
        }
    }

    #[test]
    fn every_function_is_documented() {
        for udf in scalar_functions(&placeholder_store()) {
            let doc = udf
                .documentation()
                .unwrap_or_else(|| panic!("{} has no docs", udf.name()));
            assert!(
                doc.sql_example.is_some(),
                "{} has no SQL example",
                udf.name()
            );
        }
        for udaf in aggregate_functions() {
            let doc = udaf
                .documentation()
                .unwrap_or_else(|| panic!("{} has no docs", udaf.name()));
            assert!(
                doc.sql_example.is_some(),
                "{} has no SQL example",
                udaf.name()
            );
        }
        for udwf in window_functions() {
            let doc = udwf
                .documentation()
                .unwrap_or_else(|| panic!("{} has no docs", udwf.name()));
            assert!(
                doc.sql_example.is_some(),
                "{} has no SQL example",
                udwf.name()
            );
        }
    }
}
