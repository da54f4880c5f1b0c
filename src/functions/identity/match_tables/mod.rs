//! The matching table functions: `train_match_model('NAME')`, `blocking_rule_counts('NAME')`,
//! `match_pairs('NAME')` and `previous_customer_ids('MODEL')`, one file each. Their work runs when the query executes (not while it is
//! planned, so EXPLAIN trains nothing), inside the session that called them, as a
//! [`DeferredTable`].

mod blocking_rule_counts;
mod match_pairs;
mod previous_customer_ids;
mod train_match_model;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use self::blocking_rule_counts::counts_batch;
use self::match_pairs::pairs_stream;
use self::previous_customer_ids::previous_ids_stream;
use self::train_match_model::train_batch;
use crate::functions::deferred::DeferredTable;
use crate::models::matching::Matching;
use crate::values::{cast_batch, text};

/// How `train_match_model` is called.
pub const TRAIN_USAGE: &str = "train_match_model(setup): estimate the match model of the \
    [matching.SETUP] of c360.toml without labels (u from random pairs, m by expectation \
    maximisation over the blocked pairs), save it to its model file and return each \
    comparison level's m, u, Bayes factor and weight, such as train_match_model('identity')";

/// How `blocking_rule_counts` is called.
pub const COUNTS_USAGE: &str = "blocking_rule_counts(setup): for each blocking rule of \
    [matching.SETUP], the candidate pairs it yields, its largest block, whether it stays \
    within max_pairs and, for a rule that does not, a stricter rule that would (the rule and \
    one comparison column's equality) with its pairs, all counted without running the joins, \
    such as blocking_rule_counts('identity')";

/// How `match_pairs` is called.
pub const PAIRS_USAGE: &str = "match_pairs(setup [, previous_pairs]): the candidate pairs of \
    every blocking rule of [matching.SETUP] scored by its trained model (match weight and \
    probability); with the name of the table of the pairs published last time, only pairs with \
    a changed record are scored again, such as match_pairs('identity', 'identity_pairs')";

/// How `previous_customer_ids` is called.
pub const PREVIOUS_IDS_USAGE: &str = "previous_customer_ids(model): the record keys and \
    customer ids the model published last time (none on a first run), so that a rerun keeps \
    each customer's id, such as previous_customer_ids('identity_graph')";

/// The table functions with their names.
pub fn functions(matching: &Arc<Matching>) -> Vec<(&'static str, Arc<dyn TableFunctionImpl>)> {
    [Kind::Train, Kind::Counts, Kind::Pairs, Kind::PreviousIds]
        .into_iter()
        .map(|kind| {
            let function: Arc<dyn TableFunctionImpl> = Arc::new(MatchingTableFunction {
                kind,
                matching: Arc::clone(matching),
            });
            (kind.name(), function)
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Train,
    Counts,
    Pairs,
    PreviousIds,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Train => "train_match_model",
            Self::Counts => "blocking_rule_counts",
            Self::Pairs => "match_pairs",
            Self::PreviousIds => "previous_customer_ids",
        }
    }

    fn schema(self) -> SchemaRef {
        let f = |name: &str, t: DataType| Field::new(name, t, true);
        Arc::new(Schema::new(match self {
            Self::Train => vec![
                f("comparison", DataType::Utf8),
                f("level", DataType::Int32),
                f("label", DataType::Utf8),
                f("m", DataType::Float64),
                f("u", DataType::Float64),
                f("bayes_factor", DataType::Float64),
                f("weight", DataType::Float64),
            ],
            Self::Counts => vec![
                f("rule", DataType::Int32),
                f("condition", DataType::Utf8),
                f("pairs", DataType::Int64),
                f("exact", DataType::Boolean),
                f("largest_block", DataType::Int64),
                f("largest_block_key", DataType::Utf8),
                f("within_max_pairs", DataType::Boolean),
                f("stricter_rule", DataType::Utf8),
                f("stricter_rule_pairs", DataType::Int64),
            ],
            Self::PreviousIds => vec![
                f("record_key", DataType::Utf8),
                f("customer_id", DataType::Utf8),
                f("customer_since", DataType::Utf8),
            ],
            // String views, as DataFusion produces them: the pairs stream out without a copy.
            Self::Pairs => vec![
                f("left_key", DataType::Utf8View),
                f("right_key", DataType::Utf8View),
                f("blocking_rule", DataType::Int32),
                f("match_weight", DataType::Float64),
                f("match_probability", DataType::Float64),
                f("left_fingerprint", DataType::Utf8View),
                f("right_fingerprint", DataType::Utf8View),
                f("model_version", DataType::Utf8View),
                f(
                    "scored_at",
                    DataType::Timestamp(TimeUnit::Microsecond, None),
                ),
            ],
        }))
    }
}

#[derive(Debug)]
struct MatchingTableFunction {
    kind: Kind,
    matching: Arc<Matching>,
}

impl TableFunctionImpl for MatchingTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let function = self.kind.name();
        let literal = text;
        let (name, previous) = match args.exprs() {
            [one] if literal(one).is_some() => (literal(one).unwrap_or_default(), None),
            [one, two] if matches!(self.kind, Kind::Pairs) && literal(one).is_some() => {
                match literal(two) {
                    Some(previous) => (literal(one).unwrap_or_default(), Some(previous)),
                    None => {
                        return plan_err!(
                            "match_pairs: the second argument names the table of the pairs \
                             published last time, as a string literal, such as \
                             match_pairs('identity', 'identity_pairs')"
                        );
                    }
                }
            }
            _ => {
                return plan_err!(
                    "{function} takes one argument, {}, such as {function}('{}')",
                    match self.kind {
                        Kind::PreviousIds => "the name of the model that publishes customer ids",
                        _ => "the name of a [matching.NAME] of c360.toml as a string literal",
                    },
                    match self.kind {
                        Kind::PreviousIds => "identity_graph",
                        _ => "identity",
                    }
                );
            }
        };
        if matches!(self.kind, Kind::PreviousIds) {
            table_name(function, "the model", &name)?;
        } else {
            self.matching.config(&name)?;
        }
        if let Some(previous) = &previous {
            table_name(function, "the previous pairs table", previous)?;
        }
        let (kind, matching, schema) = (self.kind, Arc::clone(&self.matching), self.kind.schema());
        let stream_schema = Arc::clone(&schema);
        Ok(Arc::new(DeferredTable {
            label: format!("{}('{}')", kind.name(), name),
            schema,
            work: Arc::new(move |ctx| {
                let (matching, schema, name, previous) = (
                    Arc::clone(&matching),
                    Arc::clone(&stream_schema),
                    name.clone(),
                    previous.clone(),
                );
                Box::pin(async move {
                    match kind {
                        Kind::Train => {
                            one_batch(&schema, train_batch(&ctx, &matching, &name, &schema).await)
                        }
                        Kind::Counts => {
                            one_batch(&schema, counts_batch(&ctx, &matching, &name, &schema).await)
                        }
                        Kind::Pairs => {
                            pairs_stream(&ctx, &matching, &name, previous.as_deref(), schema).await
                        }
                        Kind::PreviousIds => previous_ids_stream(&ctx, &name, schema).await,
                    }
                })
            }),
        }))
    }
}

/// `name` when it names a table the pipeline publishes (lowercase letters, digits and `_`,
/// not starting with a digit); anything else (a path, a quoted expression) is an error.
fn table_name(function: &str, what: &str, name: &str) -> Result<()> {
    if crate::config::is_identifier(name) {
        Ok(())
    } else {
        plan_err!(
            "{function}: {what} '{name}' is not a model name; name a model of the pipeline \
             (lowercase letters, digits and '_'), such as 'identity_graph'"
        )
    }
}

pub(super) fn one_batch(
    schema: &SchemaRef,
    batch: Result<RecordBatch>,
) -> Result<SendableRecordBatchStream> {
    let batch = batch?;
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        Arc::clone(schema),
        futures::stream::once(async move { Ok(batch) }),
    )))
}

/// The column names of `table` in the session (a model's last published version), or `None`
/// when it was never published.
pub(super) async fn published_columns(
    ctx: &SessionContext,
    table: &str,
) -> Result<Option<Vec<String>>> {
    if !ctx.table_exist(table)? {
        return Ok(None);
    }
    let schema = ctx.table(table).await?.schema().clone();
    Ok(Some(
        schema.fields().iter().map(|f| f.name().clone()).collect(),
    ))
}

/// Each batch of `stream` cast to `schema` (string views to strings and the like).
pub(super) fn conform(
    stream: SendableRecordBatchStream,
    schema: SchemaRef,
) -> SendableRecordBatchStream {
    let out_schema = Arc::clone(&schema);
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        stream.map(move |batch| Ok(cast_batch(batch?, &out_schema)?)),
    ))
}
