//! The one list of every c360 SQL function: its name, its kind, which of its arguments name a
//! table it reads, whether it fits or scores a model or uses a `[matching.NAME]` setup, and
//! whether calling it writes files. Every other list derives from [`ENTRIES`]: the pipeline's
//! dependency hints, the Flight server's read-only deny list, the shell's help for table
//! functions. A function registered without an entry fails `every_registered_function_has_one_entry`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::prelude::SessionContext;

use crate::functions::identity::match_tables;
use crate::functions::metrics::kmeans_segments;
use crate::functions::predict::trainer;
use crate::functions::predict::{
    allocate_offers, decision_tree_rules, fit_clv_model, list_models, next_best_offer,
};

/// What kind of SQL function a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One value per row (`ScalarUDF`).
    Scalar,
    /// One value per group (`AggregateUDF`).
    Aggregate,
    /// One value per row over a window (`WindowUDF`).
    Window,
    /// A table in `FROM` (`TableFunctionImpl`).
    Table,
}

impl Kind {
    /// The word SQL users know it by.
    pub fn label(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Aggregate => "aggregate",
            Self::Window => "window",
            Self::Table => "table",
        }
    }
}

/// What the first argument of a function names, when it names something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Nothing the pipeline needs to know of.
    Nothing,
    /// A model file the function writes (`models/NAME.json`).
    FittedModel,
    /// A model file the function reads.
    ScoredModel,
    /// A `[matching.NAME]` setup of `c360.toml`, whose records table the function reads.
    MatchingSetup,
}

/// One c360 function.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Its SQL name (aliases are listed in [`ALIASES`]).
    pub name: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// The arguments (from 0) that name, as a string, a table the function reads.
    pub reads: &'static [usize],
    /// What its first argument names.
    pub first_argument: Names,
    /// Whether calling it writes files; such functions are not for read-only clients.
    pub writes: bool,
    /// For table functions (which have no DataFusion documentation): how it is called.
    pub usage: Option<&'static str>,
    /// For table functions: a SQL statement calling it on the sample workspace.
    pub example: Option<&'static str>,
}

const fn function(name: &'static str, kind: Kind) -> Entry {
    Entry {
        name,
        kind,
        reads: &[],
        first_argument: Names::Nothing,
        writes: false,
        usage: None,
        example: None,
    }
}

const fn scalar(name: &'static str) -> Entry {
    function(name, Kind::Scalar)
}

const fn aggregate(name: &'static str) -> Entry {
    function(name, Kind::Aggregate)
}

/// A scalar function that applies the model its first argument names.
const fn scoring(name: &'static str) -> Entry {
    Entry {
        first_argument: Names::ScoredModel,
        ..scalar(name)
    }
}

/// A table function.
const fn table(
    name: &'static str,
    reads: &'static [usize],
    usage: &'static str,
    example: &'static str,
) -> Entry {
    Entry {
        reads,
        usage: Some(usage),
        example: Some(example),
        ..function(name, Kind::Table)
    }
}

/// A table function that trains the model its first argument names and saves it.
const fn fitting(
    name: &'static str,
    reads: &'static [usize],
    usage: &'static str,
    example: &'static str,
) -> Entry {
    Entry {
        first_argument: Names::FittedModel,
        writes: true,
        ..table(name, reads, usage, example)
    }
}

/// A table function on the `[matching.NAME]` setup its first argument names.
const fn matching(name: &'static str, usage: &'static str, example: &'static str) -> Entry {
    Entry {
        first_argument: Names::MatchingSetup,
        ..table(name, &[], usage, example)
    }
}

/// Every c360 function, by family.
pub const ENTRIES: &[Entry] = &[
    // identity: standardisation and similarity
    scalar("normalize_email"),
    scalar("normalize_phone"),
    scalar("normalize_name"),
    scalar("nickname_canonical"),
    scalar("double_metaphone"),
    scalar("normalize_postcode"),
    scalar("jaro"),
    scalar("jaro_winkler"),
    scalar("damerau_levenshtein"),
    scalar("levenshtein_similarity"),
    scalar("jaccard_similarity"),
    scalar("token_set_similarity"),
    scalar("date_diff_days"),
    // identity: clustering and survivorship
    aggregate("connected_components"),
    aggregate("pair_count"),
    aggregate("stable_ids"),
    aggregate("most_recent"),
    aggregate("most_frequent"),
    aggregate("source_priority"),
    // identity: record matching on a [matching.NAME] setup
    Entry {
        first_argument: Names::MatchingSetup,
        ..scalar("match_score")
    },
    Entry {
        first_argument: Names::MatchingSetup,
        ..scalar("match_explain")
    },
    Entry {
        writes: true,
        ..matching(
            "train_match_model",
            match_tables::TRAIN_USAGE,
            "SELECT comparison, level, weight FROM train_match_model('identity')",
        )
    },
    matching(
        "blocking_rule_counts",
        match_tables::COUNTS_USAGE,
        "SELECT rule, pairs, largest_block FROM blocking_rule_counts('identity')",
    ),
    matching(
        "match_pairs",
        match_tables::PAIRS_USAGE,
        "SELECT left_key, right_key, match_probability FROM match_pairs('identity') \
         ORDER BY left_key, right_key LIMIT 5",
    ),
    table(
        "previous_customer_ids",
        &[],
        match_tables::PREVIOUS_IDS_USAGE,
        "SELECT record_key, customer_id FROM previous_customer_ids('identity_graph') \
         ORDER BY record_key LIMIT 5",
    ),
    // journey
    aggregate("window_funnel"),
    aggregate("funnel_step_seconds"),
    aggregate("retention"),
    aggregate("sequence_match"),
    aggregate("sequence_count"),
    aggregate("lifecycle"),
    function("sessionize", Kind::Window),
    // metrics
    scalar("rfm_segment"),
    scalar("distress_index"),
    aggregate("nps"),
    aggregate("csat"),
    // predict: lifetime value
    aggregate("clv_summary"),
    fitting(
        "fit_clv_model",
        &[1],
        fit_clv_model::USAGE,
        "SELECT * FROM fit_clv_model('clv', 'clv_inputs')",
    ),
    scoring("p_alive"),
    scoring("expected_purchases"),
    scoring("expected_spend"),
    scoring("clv"),
    // predict: classifiers
    fitting(
        "train_classifier",
        &[1, 4],
        trainer::TRAIN_CLASSIFIER_USAGE,
        "SELECT metric, value FROM train_classifier('churn', 'churn_training', 'churned', \
         'customer_id', 'churn_holdout')",
    ),
    table(
        "decision_tree_rules",
        &[0],
        decision_tree_rules::USAGE,
        "SELECT * FROM decision_tree_rules('churn_training', 'churned', 'customer_id', 3)",
    ),
    scoring("churn_probability"),
    scoring("churn_factors"),
    scoring("churn_percentile"),
    scoring("churn_risk_band"),
    // predict: multiclass traits
    fitting(
        "train_multiclass",
        &[1, 4],
        trainer::TRAIN_MULTICLASS_USAGE,
        "SELECT metric, value FROM train_multiclass('next_category', 'next_category_training', \
         'next_category', 'customer_id', 'next_category_holdout')",
    ),
    scoring("predict_class"),
    scoring("class_probabilities"),
    // predict: offers
    fitting(
        "train_uplift",
        &[1, 5],
        trainer::TRAIN_UPLIFT_USAGE,
        "SELECT metric, value FROM train_uplift('offers', 'offer_training', 'converted', \
         'treated', 'decision_id', 'offer_holdout')",
    ),
    scoring("offer_uplift"),
    scoring("offer_acceptance"),
    scoring("offer_baseline"),
    table(
        "next_best_offer",
        &[0],
        next_best_offer::USAGE,
        "SELECT * FROM next_best_offer('offer_candidates', 3, 2) ORDER BY customer_id, rank LIMIT 5",
    ),
    table(
        "allocate_offers",
        &[0],
        allocate_offers::USAGE,
        "SELECT * FROM allocate_offers('offer_candidates', 500.0, 1) \
         ORDER BY customer_id, offer_id LIMIT 5",
    ),
    // segments and the model store
    table(
        "kmeans_segments",
        &[0],
        kmeans_segments::USAGE,
        "SELECT key, segment, distance FROM kmeans_segments('customer_features', 'customer_id', \
         5, 42, 'recency_days', 'frequency', 'monetary') ORDER BY key LIMIT 5",
    ),
    table(
        "list_models",
        &[],
        list_models::USAGE,
        "SELECT name, kind FROM list_models()",
    ),
];

/// Other names of the functions: (alias, the entry's name).
pub const ALIASES: &[(&str, &str)] = &[("predict_probability", "churn_probability")];

/// The entry of `name` (or of the function `name` is an alias of).
pub fn entry(name: &str) -> Option<&'static Entry> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, of)| of);
    ENTRIES.iter().find(|e| e.name == name)
}

/// The names of the functions whose first argument names `what`, with their aliases.
pub fn first_argument_names(what: Names) -> Vec<&'static str> {
    names_where(|e| e.first_argument == what)
}

/// The names (and aliases) of the functions that write files.
pub fn writing_names() -> Vec<&'static str> {
    names_where(|e| e.writes)
}

fn names_where(wanted: impl Fn(&Entry) -> bool) -> Vec<&'static str> {
    let mut names = Vec::new();
    for e in ENTRIES.iter().filter(|e| wanted(e)) {
        names.push(e.name);
        names.extend(
            ALIASES
                .iter()
                .filter(|(_, of)| *of == e.name)
                .map(|(alias, _)| *alias),
        );
    }
    names
}

/// The c360 scalar functions of plain text (no model, no matching setup) registered in `ctx`,
/// each with the numbers of text arguments it accepts (1, 2 or both), found from the
/// functions' own signatures. The hostile-client suite and the fuzz targets call each of them
/// with giant or arbitrary strings, so a new string function is covered without being listed.
pub fn text_functions(ctx: &SessionContext) -> Vec<(&'static str, Vec<usize>)> {
    let text = Arc::new(Field::new("text", DataType::Utf8, true));
    ENTRIES
        .iter()
        .filter(|e| e.kind == Kind::Scalar && e.first_argument == Names::Nothing)
        .filter_map(|e| {
            let udf = ctx.udf(e.name).ok()?;
            let arities: Vec<usize> = (1..=2)
                .filter(|&n| fields_with_udf(&vec![text.clone(); n], udf.as_ref()).is_ok())
                .collect();
            (!arities.is_empty()).then_some((e.name, arities))
        })
        .collect()
}
