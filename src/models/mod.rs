//! What is trained, saved and scored: k-means, lifetime value (clv), classifiers, multiclass and
//! uplift models and the fast scoring of their trees (forest), the offer decisions on them, the match models (matching), what the trainers
//! share (training, metric_rows) and the one model store. Their SQL surfaces (the table
//! functions that train, score and list) live in `functions/`; nothing here imports it.

pub mod carried;
pub mod classifier;
pub mod clv;
pub mod forest;
pub mod kmeans;
pub mod matching;
pub mod metric_rows;
pub mod multiclass;
pub mod offers;
pub mod store;
pub mod training;
pub mod uplift;
