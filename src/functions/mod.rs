//! The c360 SQL functions, one file each, grouped by family (identity, journey, metrics,
//! predict). [`register_all`] is the one place that puts them into a session.

use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;

/// Every c360 scalar function.
pub fn scalar_functions() -> Vec<ScalarUDF> {
    Vec::new()
}

/// Every c360 aggregate function.
pub fn aggregate_functions() -> Vec<AggregateUDF> {
    Vec::new()
}

/// Every c360 window function.
pub fn window_functions() -> Vec<WindowUDF> {
    Vec::new()
}

/// Register every c360 function in `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    for udf in scalar_functions() {
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
