//! The c360 SQL functions, one file each, grouped by family (identity, journey, metrics,
//! predict). [`register_all`] is the one place that puts them into a session.

pub mod carried;
pub mod deferred;
pub mod identity;
pub mod journey;
pub mod metrics;
pub mod predict;
pub mod registry;
pub(crate) mod util;

use std::sync::Arc;

use datafusion::catalog::TableFunctionImpl;
use datafusion::error::Result;
use datafusion::logical_expr::{AggregateUDF, Documentation, ScalarUDF, WindowUDF};
use datafusion::prelude::SessionContext;

use crate::config::{Config, Workspace};
use crate::functions::metrics::kmeans_segments;
use crate::functions::predict::trainer::Trainer;
use crate::functions::predict::{
    allocate_offers, decision_tree_rules, fit_clv_model, list_models, next_best_offer,
};
use crate::models::matching::Matching;
use crate::models::store::ModelStore;

/// What the functions of a session read and write besides their arguments: the model store and
/// the workspace's `[matching]` setups.
#[derive(Debug, Clone)]
pub struct Homes {
    /// Where models are saved and read.
    pub store: Arc<ModelStore>,
    /// The matching setups and their trained models.
    pub matching: Arc<Matching>,
}

impl Homes {
    /// The homes of `workspace`.
    pub fn new(workspace: &Workspace) -> Self {
        let store = Arc::new(ModelStore::new(workspace));
        Self {
            matching: Arc::new(Matching::new(workspace, &store)),
            store,
        }
    }

    /// Homes for listing the functions: nothing is read from them.
    pub fn placeholder() -> Self {
        Self::new(&Workspace {
            root: ".".into(),
            config: Config::default(),
        })
    }
}

/// Every c360 scalar function.
pub fn scalar_functions(homes: &Homes) -> Vec<ScalarUDF> {
    let mut functions = identity::scalar_functions();
    functions.extend(identity::match_score::functions(&homes.matching));
    functions.extend(metrics::scalar_functions());
    functions.extend(predict::scalar_functions(&homes.store));
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

/// The name and documentation of every c360 scalar, aggregate and window function (table
/// functions are documented by their registry entry).
pub fn documentation(homes: &Homes) -> Vec<(String, Option<Documentation>)> {
    let mut documented = Vec::new();
    for udf in scalar_functions(homes) {
        documented.push((udf.name().to_string(), udf.documentation().cloned()));
    }
    for udaf in aggregate_functions() {
        documented.push((udaf.name().to_string(), udaf.documentation().cloned()));
    }
    for udwf in window_functions() {
        documented.push((udwf.name().to_string(), udwf.documentation().cloned()));
    }
    documented
}

/// Every c360 table function with its name.
pub fn table_functions(homes: &Homes) -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    let store = || Arc::clone(&homes.store);
    let mut functions: Vec<(&'static str, Arc<dyn TableFunctionImpl>)> = vec![
        ("kmeans_segments", Arc::new(kmeans_segments::KMeansSegments)),
        (
            "fit_clv_model",
            Arc::new(fit_clv_model::FitClvModel { store: store() }),
        ),
        (
            "train_classifier",
            Arc::new(Trainer::classifier(&homes.store)),
        ),
        (
            "decision_tree_rules",
            Arc::new(decision_tree_rules::DecisionTreeRules),
        ),
        (
            "train_multiclass",
            Arc::new(Trainer::multiclass(&homes.store)),
        ),
        ("train_uplift", Arc::new(Trainer::uplift(&homes.store))),
        ("next_best_offer", Arc::new(next_best_offer::NextBestOffer)),
        ("allocate_offers", Arc::new(allocate_offers::AllocateOffers)),
        (
            "list_models",
            Arc::new(list_models::ListModels { store: store() }),
        ),
    ];
    functions.extend(identity::match_tables::functions(&homes.matching));
    functions
}

/// Register every c360 function in `ctx`, reading and saving models in the homes of
/// `workspace`; the model store is also kept in the session's config (see
/// [`model_store`]), for the pipeline runner.
pub fn register_all(ctx: &SessionContext, workspace: &Workspace) -> Result<()> {
    let homes = Homes::new(workspace);
    for udf in scalar_functions(&homes) {
        ctx.register_udf(udf);
    }
    for udaf in aggregate_functions() {
        ctx.register_udaf(udaf);
    }
    for udwf in window_functions() {
        ctx.register_udwf(udwf);
    }
    for (name, udtf) in table_functions(&homes) {
        ctx.register_udtf(name, udtf);
    }
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(Arc::clone(&homes.store));
    Ok(())
}

/// The model store the functions of `ctx` save and read models in.
pub fn model_store(ctx: &SessionContext) -> Option<Arc<ModelStore>> {
    ctx.state().config().get_extension::<ModelStore>()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use datafusion::execution::SessionState;
    use datafusion::prelude::SessionContext;
    use datafusion::sql::parser::DFParser;

    use super::registry::{self, ALIASES, ENTRIES, Kind, entry};
    use super::*;

    /// Every name (aliases included) a state knows, with its kind.
    fn names(state: &SessionState) -> BTreeMap<String, Kind> {
        let mut names = BTreeMap::new();
        for name in state.scalar_functions().keys() {
            names.insert(name.clone(), Kind::Scalar);
        }
        for name in state.aggregate_functions().keys() {
            names.insert(name.clone(), Kind::Aggregate);
        }
        for name in state.window_functions().keys() {
            names.insert(name.clone(), Kind::Window);
        }
        for name in state.table_functions().keys() {
            names.insert(name.clone(), Kind::Table);
        }
        names
    }

    fn registered() -> BTreeMap<String, Kind> {
        let ctx = SessionContext::new();
        let workspace = Workspace {
            root: ".".into(),
            config: Config::default(),
        };
        register_all(&ctx, &workspace).expect("register");
        let builtin = names_of_builtins();
        names(&ctx.state())
            .into_iter()
            .filter(|(name, _)| !builtin.contains(name))
            .collect()
    }

    #[test]
    fn every_registered_function_has_one_entry() {
        let registered = registered();
        for (name, kind) in &registered {
            let entry = entry(name).unwrap_or_else(|| {
                panic!("{name} is registered but has no entry in functions::registry::ENTRIES")
            });
            assert_eq!(entry.kind, *kind, "{name} is registered as another kind");
        }
        let mut seen = BTreeSet::new();
        for entry in ENTRIES {
            assert!(seen.insert(entry.name), "two entries for {}", entry.name);
            assert!(
                registered.contains_key(entry.name),
                "{} has an entry but register_all does not register it",
                entry.name
            );
        }
        for (alias, of) in ALIASES {
            assert!(seen.insert(alias), "{alias} is both a name and an alias");
            assert!(
                registered.contains_key(*alias),
                "alias {alias} of {of} not registered"
            );
        }
    }

    #[test]
    fn text_functions_are_found_from_their_signatures() {
        let ctx = SessionContext::new();
        let workspace = Workspace {
            root: ".".into(),
            config: Config::default(),
        };
        register_all(&ctx, &workspace).expect("register");
        let found: BTreeMap<_, _> = registry::text_functions(&ctx).into_iter().collect();
        assert_eq!(found.get("normalize_email"), Some(&vec![1]));
        assert_eq!(found.get("normalize_phone"), Some(&vec![1, 2]));
        assert_eq!(found.get("jaro_winkler"), Some(&vec![2]));
        assert_eq!(found.get("token_set_similarity"), Some(&vec![2]));
        for numeric in ["rfm_segment", "churn_probability", "match_score"] {
            assert!(
                !found.contains_key(numeric),
                "{numeric} is not a text function"
            );
        }
        assert!(found.len() >= 12, "{found:?}");
    }

    #[test]
    fn names_are_unique_and_do_not_shadow_datafusion() {
        let homes = Homes::placeholder();
        let mut names: Vec<String> = Vec::new();
        for udf in scalar_functions(&homes) {
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
        names.extend(table_functions(&homes).iter().map(|(n, _)| n.to_string()));
        let mut seen = BTreeSet::new();
        for name in &names {
            assert!(seen.insert(name), "two c360 functions are called {name}");
        }
        let builtin = names_of_builtins();
        for name in &names {
            assert!(
                !builtin.contains(name),
                "{name} would replace a DataFusion built-in"
            );
        }
    }

    fn names_of_builtins() -> BTreeSet<String> {
        names(&SessionContext::new().state()).into_keys().collect()
    }

    fn assert_example_calls(name: &str, sql: &str) {
        let statements = DFParser::parse_sql(sql)
            .unwrap_or_else(|e| panic!("{name}: example does not parse: {e}\n{sql}"));
        assert_eq!(
            statements.len(),
            1,
            "{name}: example is one statement: {sql}"
        );
        assert!(
            sql.to_lowercase().contains(&format!("{name}(")),
            "{name}: example does not call it: {sql}"
        );
    }

    #[test]
    fn every_function_is_documented_with_an_example() {
        for (name, doc) in documentation(&Homes::placeholder()) {
            let doc = doc.unwrap_or_else(|| panic!("{name} has no documentation"));
            let example = doc
                .sql_example
                .unwrap_or_else(|| panic!("{name} has no SQL example"));
            assert!(example.contains(&format!("{name}(")), "{name}: {example}");
        }
        for entry in ENTRIES.iter().filter(|e| e.kind == Kind::Table) {
            let usage = entry
                .usage
                .unwrap_or_else(|| panic!("table function {} has no usage", entry.name));
            assert!(usage.starts_with(&format!("{}(", entry.name)), "{usage}");
            let example = entry
                .example
                .unwrap_or_else(|| panic!("table function {} has no example", entry.name));
            assert_example_calls(entry.name, example);
        }
    }
}
