//! Models fitted from SQL: k-means segments (`kmeans_segments`), lifetime value
//! (`fit_clv_model`), classifiers (`train_classifier`, `decision_tree_rules`), uplift models
//! (`train_uplift`) and the offer decisions on them (`next_best_offer`, `allocate_offers`), the model files
//! they are saved in (`store`, `list_models`), and the plumbing of table functions whose work
//! runs when the query executes.

pub mod classifier;
pub mod clv;
pub mod clv_fit;
pub mod deferred;
pub mod kmeans;
pub mod list;
pub mod matching;
pub mod metric_rows;
pub mod multiclass;
pub mod offers;
pub mod segments;
pub mod store;
pub mod training;
pub mod uplift;
