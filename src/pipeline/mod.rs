//! The SQL pipeline: models in `sql/` built in dependency order, checked and published
//! atomically as Parquet.

pub mod assertions;
pub mod incremental;
pub mod merge;
pub mod models;
pub mod partial;
pub mod progress;
pub mod publish;
pub mod references;
pub mod run;

pub use run::{RunOptions, RunSummary, Status, run};
