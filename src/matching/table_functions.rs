//! The matching table functions: `train_match_model('NAME')`, `blocking_rule_counts('NAME')`
//! and `match_pairs('NAME')`. Their work runs when the query executes (not while it is
//! planned, so EXPLAIN trains nothing), inside the session that called them.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};

use super::blocking::{pairs_sql, parse_rules};
use super::{Matching, check_pair_counts, count_pairs, train};

/// Register the table functions.
pub fn register(ctx: &SessionContext, matching: &Arc<Matching>) {
    for kind in [Kind::Train, Kind::Counts, Kind::Pairs, Kind::PreviousIds] {
        ctx.register_udtf(
            kind.name(),
            Arc::new(MatchingTableFunction {
                kind,
                matching: Arc::clone(matching),
            }),
        );
    }
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
            ],
            Self::PreviousIds => vec![
                f("record_key", DataType::Utf8),
                f("customer_id", DataType::Utf8),
                f("customer_since", DataType::Utf8),
            ],
            Self::Pairs => vec![
                f("left_key", DataType::Utf8),
                f("right_key", DataType::Utf8),
                f("blocking_rule", DataType::Int32),
                f("match_weight", DataType::Float64),
                f("match_probability", DataType::Float64),
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
        let name = match args.exprs() {
            [Expr::Literal(ScalarValue::Utf8(Some(n)) | ScalarValue::Utf8View(Some(n)), _)] => {
                n.clone()
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
        if !matches!(self.kind, Kind::PreviousIds) {
            self.matching.config(&name)?;
        }
        Ok(Arc::new(MatchingTable {
            kind: self.kind,
            name,
            matching: Arc::clone(&self.matching),
            schema: self.kind.schema(),
        }))
    }
}

struct MatchingTable {
    kind: Kind,
    name: String,
    matching: Arc<Matching>,
    schema: SchemaRef,
}

impl fmt::Debug for MatchingTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}('{}')", self.kind.name(), self.name)
    }
}

#[async_trait]
impl TableProvider for MatchingTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
            return plan_err!("{}: needs a c360 session", self.kind.name());
        };
        let partition = Arc::new(Deferred {
            kind: self.kind,
            name: self.name.clone(),
            matching: Arc::clone(&self.matching),
            schema: Arc::clone(&self.schema),
            state: state.clone(),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            Arc::clone(&self.schema),
            vec![partition],
            projection,
            [],
            false,
            limit,
        )?))
    }
}

/// The work of one table function call, started when its stream is first polled.
struct Deferred {
    kind: Kind,
    name: String,
    matching: Arc<Matching>,
    schema: SchemaRef,
    state: SessionState,
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}('{}')", self.kind.name(), self.name)
    }
}

impl PartitionStream for Deferred {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _task: Arc<TaskContext>) -> SendableRecordBatchStream {
        let ctx = SessionContext::new_with_state(self.state.clone());
        let (kind, name, matching, schema) = (
            self.kind,
            self.name.clone(),
            Arc::clone(&self.matching),
            Arc::clone(&self.schema),
        );
        let stream_schema = Arc::clone(&schema);
        let work: BoxFuture<'static, Result<SendableRecordBatchStream>> = Box::pin(async move {
            match kind {
                Kind::Train => {
                    one_batch(&schema, train_batch(&ctx, &matching, &name, &schema).await)
                }
                Kind::Counts => {
                    one_batch(&schema, counts_batch(&ctx, &matching, &name, &schema).await)
                }
                Kind::Pairs => pairs_stream(&ctx, &matching, &name, schema).await,
                Kind::PreviousIds => previous_ids_stream(&ctx, &name, schema).await,
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(
            stream_schema,
            futures::stream::once(work).try_flatten(),
        ))
    }
}

fn one_batch(schema: &SchemaRef, batch: Result<RecordBatch>) -> Result<SendableRecordBatchStream> {
    let batch = batch?;
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        Arc::clone(schema),
        futures::stream::once(async move { Ok(batch) }),
    )))
}

async fn train_batch(
    ctx: &SessionContext,
    matching: &Matching,
    name: &str,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let config = matching.config(name)?;
    let model = train::train(ctx, name, config).await?;
    let path = matching.save(&model)?;
    tracing::info!("match model '{name}' saved to {}", path.display());
    let mut comparison = vec![Some("prior".to_string())];
    let mut level = vec![None];
    let mut label = vec![Some("probability two random records match".to_string())];
    let mut m = vec![Some(model.prior)];
    let mut u = vec![None];
    let mut factor = vec![Some(model.prior / (1.0 - model.prior))];
    let mut weight = vec![Some(model.prior_weight())];
    for c in &model.comparisons {
        for (l, lv) in c.levels.iter().enumerate() {
            comparison.push(Some(c.config.display_name().to_string()));
            level.push(Some(l as i32));
            label.push(Some(lv.label.clone()));
            m.push(Some(lv.m));
            u.push(Some(lv.u));
            factor.push(Some(lv.bayes_factor));
            weight.push(Some(lv.weight));
        }
    }
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(StringArray::from(comparison)),
            Arc::new(Int32Array::from(level)),
            Arc::new(StringArray::from(label)),
            Arc::new(Float64Array::from(m)),
            Arc::new(Float64Array::from(u)),
            Arc::new(Float64Array::from(factor)),
            Arc::new(Float64Array::from(weight)),
        ],
    )?)
}

async fn counts_batch(
    ctx: &SessionContext,
    matching: &Matching,
    name: &str,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let config = matching.config(name)?;
    let rules = parse_rules(name, &config.blocking).map_err(DataFusionError::Plan)?;
    let counts = count_pairs(ctx, config, &rules).await?;
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(Int32Array::from_iter_values(1..=rules.len() as i32)),
            Arc::new(StringArray::from_iter_values(
                rules.iter().map(|r| r.text.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(counts.iter().map(|c| c.pairs))),
            Arc::new(BooleanArray::from_iter(
                counts.iter().map(|c| Some(c.exact)),
            )),
            Arc::new(Int64Array::from_iter(counts.iter().map(|c| c.largest))),
            Arc::new(StringArray::from_iter(
                counts.iter().map(|c| c.largest_key.clone()),
            )),
            Arc::new(BooleanArray::from_iter(
                counts
                    .iter()
                    .map(|c| Some(c.pairs as u64 <= config.max_pairs)),
            )),
        ],
    )?)
}

async fn pairs_stream(
    ctx: &SessionContext,
    matching: &Matching,
    name: &str,
    schema: SchemaRef,
) -> Result<SendableRecordBatchStream> {
    let config = matching.config(name)?;
    // Fail before joining anything when the model is missing or stale.
    matching.model(name)?;
    let rules = parse_rules(name, &config.blocking).map_err(DataFusionError::Plan)?;
    check_pair_counts(ctx, name, config, &rules).await?;
    let arguments = config
        .comparisons
        .iter()
        .map(|c| format!("l.{col}, r.{col}", col = c.column))
        .collect::<Vec<_>>()
        .join(", ");
    let key = &config.key;
    let select = format!(
        "CAST(l.{key} AS VARCHAR) AS left_key, CAST(r.{key} AS VARCHAR) AS right_key, \
         match_score('{name}', {arguments}) AS score"
    );
    let sql = format!(
        "SELECT left_key, right_key, blocking_rule, score['match_weight'] AS match_weight, \
         score['match_probability'] AS match_probability FROM ({})",
        pairs_sql(config, &rules, &select)
    );
    let stream = ctx.sql(&sql).await?.execute_stream().await?;
    Ok(conform(stream, schema))
}

/// The customer ids the last published version of `model` gave each record: empty before the
/// model was first published. The model must have source, source_record_id and customer_id
/// columns; customer_since is read when present.
async fn previous_ids_stream(
    ctx: &SessionContext,
    model: &str,
    schema: SchemaRef,
) -> Result<SendableRecordBatchStream> {
    if !ctx.table_exist(model)? {
        return one_batch(&schema, Ok(RecordBatch::new_empty(Arc::clone(&schema))));
    }
    let table = ctx.table(model).await?;
    let columns: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for needed in ["source", "source_record_id", "customer_id"] {
        if !columns.iter().any(|c| c == needed) {
            return Err(DataFusionError::Plan(format!(
                "previous_customer_ids('{model}'): the published {model} has no column \
                 '{needed}'; the model must publish source, source_record_id and customer_id"
            )));
        }
    }
    let since = if columns.iter().any(|c| c == "customer_since") {
        "CAST(customer_since AS VARCHAR)"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    let sql = format!(
        "SELECT CAST(source || ':' || source_record_id AS VARCHAR), CAST(customer_id AS VARCHAR), \
         {since} FROM {model}"
    );
    let stream = ctx.sql(&sql).await?.execute_stream().await?;
    Ok(conform(stream, schema))
}

/// Cast each batch of `stream` to `schema` (string views to strings and the like).
fn conform(stream: SendableRecordBatchStream, schema: SchemaRef) -> SendableRecordBatchStream {
    let out_schema = Arc::clone(&schema);
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        stream.map(move |batch| {
            let batch = batch?;
            let columns = batch
                .columns()
                .iter()
                .zip(out_schema.fields())
                .map(|(c, f)| cast(c, f.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(RecordBatch::try_new(Arc::clone(&out_schema), columns)?)
        }),
    ))
}
