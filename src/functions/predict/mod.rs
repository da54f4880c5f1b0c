//! Prediction functions: customer summaries for lifetime value (`clv_summary`) and the
//! functions that apply the models fitted from SQL (`p_alive`, `expected_purchases`,
//! `expected_spend`, `clv`, `churn_probability`, `churn_factors`, ...), reading them from the
//! workspace's model files ([`model_and_arguments`] reads the model a call names).

pub mod allocate_offers;
pub mod classifier_functions;
pub mod clv_functions;
pub mod clv_summary;
pub mod decision_tree_rules;
pub mod fit_clv_model;
pub mod list_models;
pub mod multiclass_functions;
pub mod next_best_offer;
pub mod offer_functions;
pub mod trainer;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    AggregateUDF, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

use crate::functions::carried::ScoresModel;
use crate::functions::util::string_constant;
use crate::models::carried::Carried;
use crate::models::classifier::FeatureModel;
use crate::models::store::ModelStore;

/// A scalar function that applies a saved model: which `output` of its family it computes,
/// the store it reads models from, its signature and aliases, and the model file a plan
/// carried (on a cluster's executors, see [`crate::models::carried`]). Two are equal when they
/// compute the same output from the same store and carried file.
#[derive(Debug)]
pub struct ModelFunc<O> {
    pub output: O,
    pub store: Arc<ModelStore>,
    pub signature: Signature,
    pub aliases: Vec<String>,
    pub carried: Option<Arc<Carried>>,
}

impl<O> ModelFunc<O> {
    pub fn new(output: O, store: &Arc<ModelStore>, signature: Signature) -> Self {
        Self {
            output,
            store: Arc::clone(store),
            signature,
            aliases: Vec::new(),
            carried: None,
        }
    }

    /// Model `name` of `kind`: the file the plan carried, or else the store's; `retrain` says
    /// how to make it, for the errors.
    pub fn load<T>(&self, name: &str, kind: &str, retrain: &str) -> Result<Arc<T>>
    where
        T: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        match Carried::for_call(self.carried.as_ref(), name)? {
            Some(carried) => self
                .store
                .load_carried(carried, kind, retrain)
                .map(|(_, model)| model),
            None => self.store.load(name, kind, retrain),
        }
    }
}

impl<O: PartialEq> PartialEq for ModelFunc<O> {
    fn eq(&self, other: &Self) -> bool {
        self.output == other.output
            && Arc::ptr_eq(&self.store, &other.store)
            && self.carried == other.carried
    }
}

impl<O: Eq> Eq for ModelFunc<O> {}

impl<O: Hash> Hash for ModelFunc<O> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.output.hash(state);
        self.carried.as_ref().map(|c| &c.digest).hash(state);
    }
}

impl<O> ScoresModel for ModelFunc<O>
where
    O: Copy,
    ModelFunc<O>: ScalarUDFImpl,
{
    fn carry(&self, name: &str) -> Option<Carried> {
        self.store.carry(name)
    }

    fn carries(&self, name: &str) -> bool {
        self.store.carries(name)
    }

    fn carried(&self) -> Option<&Arc<Carried>> {
        self.carried.as_ref()
    }

    fn carrying(&self, carried: Carried) -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            output: self.output,
            store: Arc::clone(&self.store),
            signature: self.signature.clone(),
            aliases: self.aliases.clone(),
            carried: Some(Arc::new(carried)),
        })
    }
}

/// `f` as a function of this family that scores a saved model.
pub fn scores_model(f: &dyn ScalarUDFImpl) -> Option<&dyn ScoresModel> {
    as_scoring::<classifier_functions::ClassifierFunc>(f)
        .or_else(|| as_scoring::<clv_functions::ClvFunc>(f))
        .or_else(|| as_scoring::<offer_functions::OfferFunc>(f))
        .or_else(|| as_scoring::<multiclass_functions::MulticlassFunc>(f))
}

/// `f` as the scoring function `F`, when it is one.
pub fn as_scoring<F: ScalarUDFImpl + ScoresModel>(
    f: &dyn ScalarUDFImpl,
) -> Option<&dyn ScoresModel> {
    f.downcast_ref::<F>().map(|f| f as &dyn ScoresModel)
}

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

/// The model a prediction function names in its first argument (a string constant), read as
/// `kind` the way `func` reads models, and the call's other arguments as arrays; `train` is the
/// statement that makes such a model, for the errors.
pub fn model_and_arguments<T, O>(
    func: &ModelFunc<O>,
    args: &ScalarFunctionArgs,
    function: &str,
    kind: &str,
    train: &str,
) -> Result<(String, Arc<T>, Vec<ArrayRef>)>
where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let Some(name) = string_constant(args, 0) else {
        return exec_err!(
            "{function}: the model must be a string constant naming models/NAME.json, such as \
             {function}('NAME', ...)"
        );
    };
    let retrain = format!(
        "train it with SELECT * FROM {}",
        train.replace("NAME", &name)
    );
    let model = func.load::<T>(&name, kind, &retrain)?;
    let columns = args.args[1..]
        .iter()
        .map(|a| a.to_array(args.number_rows))
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok((name, model, columns))
}

/// A call of a function scoring a [`FeatureModel`]: the model its first argument names, the
/// feature columns that follow and their column-major matrix (one column per feature, checked).
pub struct FeatureScoring<T> {
    pub model: Arc<T>,
    pub columns: Vec<ArrayRef>,
    pub data: Vec<f64>,
}

impl<T: FeatureModel> FeatureScoring<T> {
    /// Read the call's model (as `func` reads it) and encode its features; `train` is the
    /// statement that makes such a model, for the errors.
    pub fn read<O>(
        func: &ModelFunc<O>,
        args: &ScalarFunctionArgs,
        function: &str,
        train: &str,
    ) -> Result<Self> {
        let (name, model, columns) =
            model_and_arguments::<T, O>(func, args, function, T::KIND, train)?;
        let data = model.matrix(&name, &columns, function)?;
        Ok(Self {
            model,
            columns,
            data,
        })
    }
}

/// Plan-time check of a call scoring a model: the model's name and at least one more argument
/// (`what` names them: "features", "arguments").
pub fn check_scoring_call(function: &str, args: &[DataType], what: &str) -> Result<()> {
    if args.len() < 2 {
        return plan_err!("{function} takes the model's name and then its {what}");
    }
    Ok(())
}
