//! Models fitted from SQL: k-means segments (`kmeans_segments`), and the plumbing of table
//! functions whose work runs when the query executes.

pub mod clv;
pub mod deferred;
pub mod kmeans;
pub mod segments;

use datafusion::prelude::SessionContext;

/// Table functions whose first argument names the table they read.
pub const TABLE_READING_FUNCTIONS: &[&str] = &["kmeans_segments"];

/// Register the model table functions.
pub fn register(ctx: &SessionContext) {
    segments::register(ctx);
}
