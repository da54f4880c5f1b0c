//! `match_score` and `match_explain`: apply a trained match model to pairs of records.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, ListBuilder, StringBuilder, StructArray, StructBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

use crate::functions::carried::ScoresModel;
use crate::functions::util::{finish, string_constant};
use crate::models::carried::Carried;
use crate::models::matching::Matching;
use crate::models::matching::comparison::{NULL_LEVEL, Values, levels};
use crate::models::matching::model::{MatchModel, probability};

/// The scalar functions of matching.
pub fn functions(matching: &Arc<Matching>) -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(MatchFunc::new(Output::Score, matching)),
        ScalarUDF::new_from_impl(MatchFunc::new(Output::Explain, matching)),
    ]
}

fn score_fields() -> Fields {
    Fields::from(vec![
        Field::new("match_weight", DataType::Float64, true),
        Field::new("match_probability", DataType::Float64, true),
    ])
}

fn explain_fields() -> Fields {
    Fields::from(vec![
        Field::new("comparison", DataType::Utf8, true),
        Field::new("level", DataType::Utf8, true),
        Field::new("m", DataType::Float64, true),
        Field::new("u", DataType::Float64, true),
        Field::new("weight", DataType::Float64, true),
    ])
}

/// The model named by the first argument, the other arguments as arrays, and the row count.
fn model_and_arrays(
    func: &MatchFunc,
    function: &str,
    args: &ScalarFunctionArgs,
) -> Result<(Arc<MatchModel>, Vec<ArrayRef>)> {
    let Some(name) = string_constant(args, 0) else {
        return exec_err!(
            "{function}: the first argument must name a [matching.NAME] of c360.toml as a \
             string literal, such as {function}('identity', l.email, r.email, ...)"
        );
    };
    let carried = Carried::for_call(func.carried.as_ref(), &name)?;
    let (_, model) = func.matching.trained_with(&name, carried)?;
    let expected = 1 + 2 * model.comparisons.len();
    if args.args.len() != expected {
        let order = model
            .comparisons
            .iter()
            .map(|c| format!("l.{col}, r.{col}", col = c.config.column))
            .collect::<Vec<_>>()
            .join(", ");
        return exec_err!(
            "{function}('{name}', ...) takes {expected} arguments, got {}: the name, then the \
             left and right value of each comparison in order: {function}('{name}', {order})",
            args.args.len()
        );
    }
    let arrays = args.args[1..]
        .iter()
        .map(|a| a.to_array(args.number_rows))
        .collect::<Result<Vec<_>>>()?;
    Ok((model, arrays))
}

/// The level of each row for each comparison, plus the prepared values.
fn all_levels(
    model: &MatchModel,
    function: &str,
    arrays: &[ArrayRef],
) -> Result<Vec<(Vec<u8>, Values)>> {
    model
        .comparisons
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let what = format!("{function} comparison '{}'", c.config.display_name());
            let left = Values::prepare(&c.config, &arrays[2 * k], &what)?;
            let right = Values::prepare(&c.config, &arrays[2 * k + 1], &what)?;
            let mut out = Vec::new();
            levels(&c.config, &left, &right, &mut out);
            Ok((out, left))
        })
        .collect()
}

/// The term of an exact match at row `i`, for the term-frequency adjustment.
fn exact_term<'a>(
    model: &MatchModel,
    k: usize,
    level: u8,
    values: &'a Values,
    i: usize,
) -> Option<Cow<'a, str>> {
    (level == 0 && model.comparisons[k].term_frequencies.is_some())
        .then(|| values.term(i))
        .flatten()
}

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Scores a pair of records with the trained match model of [matching.NAME]: \
        returns {match_weight, match_probability}. The weight (in bits) is the prior's log2 \
        odds plus, per comparison, log2(m/u) of the level the pair hits (NULL or empty on a \
        side adds 0; an exact match on a comparison with term frequencies uses the value's own \
        frequency as u). The probability is 2^w / (1 + 2^w). Arguments after the name are the \
        left and right value of each comparison, in the order c360.toml lists them.",
    syntax_example = "match_score(name, left_1, right_1, ..., left_n, right_n)",
    sql_example = r#"```sql
> SELECT l.record_key AS left_key, r.record_key AS right_key,
    match_score('identity', l.first_name_std, r.first_name_std, l.last_name_std, r.last_name_std,
      l.email_std, r.email_std, l.phone_std, r.phone_std, l.postcode_std, r.postcode_std,
      l.birth_date, r.birth_date)['match_probability'] AS p
  FROM identity_records l JOIN identity_records r
    ON l.email_std = r.email_std AND l.record_key < r.record_key
  ORDER BY left_key, right_key LIMIT 5;
```"#,
    argument(
        name = "name",
        description = "The [matching.NAME] whose model scores the pair."
    ),
    argument(
        name = "left_k, right_k",
        description = "The values of comparison k on each record."
    )
)]
#[derive(Debug)]
struct MatchScoreDoc;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Why a pair scored what it did: a list with the prior first, then one entry \
        per comparison with the level the pair hit ('null' when a side is missing), its m and \
        u (u after the term-frequency adjustment) and its weight in bits. The weights add up \
        to match_score's match_weight. Takes the same arguments as match_score.",
    syntax_example = "match_explain(name, left_1, right_1, ..., left_n, right_n)",
    sql_example = r#"```sql
> SELECT unnest(match_explain('identity', 'anna', 'anne', 'lee', 'lee', NULL, NULL,
    '+15551234567', '+15559999999', '10001', '10001', DATE '1980-01-01', DATE '1980-01-20'));
```"#,
    argument(
        name = "name",
        description = "The [matching.NAME] whose model scores the pair."
    ),
    argument(
        name = "left_k, right_k",
        description = "The values of comparison k on each record."
    )
)]
#[derive(Debug)]
struct MatchExplainDoc;

/// What a match function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    /// `match_score`: {match_weight, match_probability}.
    Score,
    /// `match_explain`: the list of contributions.
    Explain,
}

/// `match_score` or `match_explain`, bound to the workspace's matching setups.
#[derive(Debug)]
pub struct MatchFunc {
    output: Output,
    matching: Arc<Matching>,
    signature: Signature,
    /// The match model file a plan carried (on a cluster's executors).
    carried: Option<Arc<Carried>>,
}

impl MatchFunc {
    fn new(output: Output, matching: &Arc<Matching>) -> Self {
        Self {
            output,
            matching: Arc::clone(matching),
            signature: Signature::variadic_any(Volatility::Stable),
            carried: None,
        }
    }

    fn score(&self, args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (model, arrays) = model_and_arrays(self, "match_score", args)?;
        let rows = args.number_rows;
        let hits = all_levels(&model, "match_score", &arrays)?;
        let mut weights = vec![model.prior_weight(); rows];
        for (k, (levels, values)) in hits.iter().enumerate() {
            for (i, &level) in levels.iter().enumerate() {
                if level != NULL_LEVEL {
                    let term = exact_term(&model, k, level, values, i);
                    weights[i] += model.weight(k, level, term.as_deref());
                }
            }
        }
        let mut w = Float64Builder::with_capacity(rows);
        let mut p = Float64Builder::with_capacity(rows);
        for weight in weights {
            w.append_value(weight);
            p.append_value(probability(weight));
        }
        let array = StructArray::new(
            score_fields(),
            vec![Arc::new(w.finish()), Arc::new(p.finish())],
            None,
        );
        finish(Arc::new(array), args)
    }

    fn explain(&self, args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (model, arrays) = model_and_arrays(self, "match_explain", args)?;
        let rows = args.number_rows;
        let hits = all_levels(&model, "match_explain", &arrays)?;
        let entry = StructBuilder::from_fields(explain_fields(), model.comparisons.len() + 1);
        let mut list = ListBuilder::new(entry).with_field(explain_item());
        for i in 0..rows {
            let entries = list.values();
            push_entry(
                entries,
                "prior",
                "prior",
                f64::NAN,
                f64::NAN,
                model.prior_weight(),
            );
            for (k, (levels, values)) in hits.iter().enumerate() {
                let term = exact_term(&model, k, levels[i], values, i);
                let c = model.contribution(k, levels[i], term.as_deref());
                push_entry(
                    entries,
                    model.comparisons[k].config.display_name(),
                    &c.label,
                    c.m,
                    c.u,
                    c.weight,
                );
            }
            list.append(true);
        }
        finish(Arc::new(list.finish()), args)
    }
}

fn explain_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(explain_fields()), true))
}

impl PartialEq for MatchFunc {
    fn eq(&self, other: &Self) -> bool {
        self.output == other.output
            && Arc::ptr_eq(&self.matching, &other.matching)
            && self.carried == other.carried
    }
}
impl Eq for MatchFunc {}
impl Hash for MatchFunc {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.output.hash(state);
        self.carried.as_ref().map(|c| &c.digest).hash(state);
    }
}

impl ScoresModel for MatchFunc {
    fn carry(&self, name: &str) -> Option<Carried> {
        self.matching.carry(name)
    }

    fn carries(&self, name: &str) -> bool {
        self.matching.carries(name)
    }

    fn carried(&self) -> Option<&Arc<Carried>> {
        self.carried.as_ref()
    }

    fn carrying(&self, carried: Carried) -> ScalarUDF {
        ScalarUDF::new_from_impl(Self {
            output: self.output,
            matching: Arc::clone(&self.matching),
            signature: self.signature.clone(),
            carried: Some(Arc::new(carried)),
        })
    }
}

/// `f` as `match_score` or `match_explain` (to carry its model in a plan).
pub fn scores_model(f: &dyn ScalarUDFImpl) -> Option<&dyn ScoresModel> {
    crate::functions::predict::as_scoring::<MatchFunc>(f)
}

static SCORE_DOC: MatchScoreDoc = MatchScoreDoc;
static EXPLAIN_DOC: MatchExplainDoc = MatchExplainDoc;

impl ScalarUDFImpl for MatchFunc {
    fn name(&self) -> &str {
        match self.output {
            Output::Score => "match_score",
            Output::Explain => "match_explain",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Score => DataType::Struct(score_fields()),
            Output::Explain => DataType::List(explain_item()),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match self.output {
            Output::Score => self.score(&args),
            Output::Explain => self.explain(&args),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        match self.output {
            Output::Score => SCORE_DOC.doc(),
            Output::Explain => EXPLAIN_DOC.doc(),
        }
    }
}

/// Append one explanation entry; NaN probabilities become NULL.
fn push_entry(
    entries: &mut StructBuilder,
    comparison: &str,
    level: &str,
    m: f64,
    u: f64,
    weight: f64,
) {
    let text = |b: &mut StructBuilder, i: usize, v: &str| {
        if let Some(f) = b.field_builder::<StringBuilder>(i) {
            f.append_value(v);
        }
    };
    let number = |b: &mut StructBuilder, i: usize, v: f64| {
        if let Some(f) = b.field_builder::<Float64Builder>(i) {
            f.append_option((!v.is_nan()).then_some(v));
        }
    };
    text(entries, 0, comparison);
    text(entries, 1, level);
    number(entries, 2, m);
    number(entries, 3, u);
    number(entries, 4, weight);
    entries.append(true);
}
