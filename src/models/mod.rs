//! Models fitted from SQL: k-means segments (`kmeans_segments`), lifetime value
//! (`fit_clv_model`), classifiers (`train_classifier`, `decision_tree_rules`), uplift models
//! (`train_uplift`) and the offer decisions on them (`next_best_offer`, `allocate_offers`), the model files
//! they are saved in (`store`, `list_models`), and the plumbing of table functions whose work
//! runs when the query executes.

pub mod args;
pub mod classifier;
pub mod clv;
pub mod clv_fit;
pub mod deferred;
pub mod kmeans;
pub mod list;
pub mod metric_rows;
pub mod multiclass;
pub mod offers;
pub mod segments;
pub mod store;
pub mod uplift;

use std::sync::Arc;

use datafusion::prelude::SessionContext;

use self::store::ModelStore;

/// Table functions with the argument (from 0) that names the table they read.
pub const TABLE_READING_FUNCTIONS: &[(&str, usize)] = &[
    ("kmeans_segments", 0),
    ("fit_clv_model", 1),
    ("train_classifier", 1),
    ("train_classifier", 4),
    ("decision_tree_rules", 0),
    ("train_multiclass", 1),
    ("train_multiclass", 4),
    ("train_uplift", 1),
    ("train_uplift", 5),
    ("next_best_offer", 0),
    ("allocate_offers", 0),
];

/// Table functions whose first argument names the model file they write.
pub const MODEL_FITTING_FUNCTIONS: &[&str] = &[
    "fit_clv_model",
    "train_classifier",
    "train_multiclass",
    "train_uplift",
];

/// Scalar functions whose first argument names the model file they read.
pub const MODEL_SCORING_FUNCTIONS: &[&str] = &[
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "churn_probability",
    "predict_probability",
    "churn_factors",
    "churn_percentile",
    "churn_risk_band",
    "offer_uplift",
    "offer_acceptance",
    "offer_baseline",
    "predict_class",
    "class_probabilities",
];

/// How a table function of this module is called, for the shell's `\h`.
pub fn table_function_usage(name: &str) -> Option<&'static str> {
    Some(match name {
        "kmeans_segments" => segments::USAGE,
        "fit_clv_model" => clv_fit::USAGE,
        "train_classifier" => classifier::train::USAGE,
        "decision_tree_rules" => classifier::tree::USAGE,
        "train_multiclass" => multiclass::train::USAGE,
        "train_uplift" => uplift::train::USAGE,
        "next_best_offer" => offers::next_best::USAGE,
        "allocate_offers" => offers::allocate::USAGE,
        _ => return None,
    })
}

/// Register the model table functions, saving and listing models in `store`.
pub fn register(ctx: &SessionContext, store: &Arc<ModelStore>) {
    segments::register(ctx);
    ctx.register_udtf(
        "fit_clv_model",
        Arc::new(clv_fit::FitClvModel {
            store: Arc::clone(store),
        }),
    );
    ctx.register_udtf(
        "train_classifier",
        Arc::new(classifier::train::TrainClassifier {
            store: Arc::clone(store),
        }),
    );
    ctx.register_udtf(
        "decision_tree_rules",
        Arc::new(classifier::tree::DecisionTreeRules),
    );
    ctx.register_udtf(
        "train_multiclass",
        Arc::new(multiclass::train::TrainMulticlass {
            store: Arc::clone(store),
        }),
    );
    ctx.register_udtf(
        "train_uplift",
        Arc::new(uplift::train::TrainUplift {
            store: Arc::clone(store),
        }),
    );
    ctx.register_udtf(
        "next_best_offer",
        Arc::new(offers::next_best::NextBestOffer),
    );
    ctx.register_udtf(
        "allocate_offers",
        Arc::new(offers::allocate::AllocateOffers),
    );
    ctx.register_udtf(
        "list_models",
        Arc::new(list::ListModels {
            store: Arc::clone(store),
        }),
    );
}
