//! The matching table functions: `train_match_model('NAME')`, `blocking_rule_counts('NAME')`
//! and `match_pairs('NAME')`. Their work runs when the query executes (not while it is
//! planned, so EXPLAIN trains nothing), inside the session that called them, as a
//! [`DeferredTable`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};
use datafusion::arrow::compute::kernels::boolean::not;
use datafusion::arrow::compute::{cast, filter_record_batch, prep_null_mask_filter};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::datasource::MemTable;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::functions::deferred::DeferredTable;
use crate::models::matching::blocking::{parse_rules, sided_pairs_sql};
use crate::models::matching::{Matching, check_pair_counts, count_pairs, train};
use crate::values::{quote_literal, text};

/// How `train_match_model` is called.
pub const TRAIN_USAGE: &str = "train_match_model(setup): estimate the match model of the \
    [matching.SETUP] of c360.toml without labels (u from random pairs, m by expectation \
    maximisation over the blocked pairs), save it to its model file and return each \
    comparison level's m, u, Bayes factor and weight, such as train_match_model('identity')";

/// How `blocking_rule_counts` is called.
pub const COUNTS_USAGE: &str = "blocking_rule_counts(setup): for each blocking rule of \
    [matching.SETUP], the candidate pairs it yields, its largest block and whether it stays \
    within max_pairs, counted without running the joins, such as \
    blocking_rule_counts('identity')";

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
        if !matches!(self.kind, Kind::PreviousIds) {
            self.matching.config(&name)?;
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
    let path = matching.save(name, &model)?;
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

/// The scored candidate pairs. With `previous` (the pairs published last time, by the same
/// model), only pairs with a new or changed record are scored: a record is settled when its key
/// and fingerprint (a digest of its compared values) appear in `previous`; pairs of settled
/// records are carried over with their scores.
async fn pairs_stream(
    ctx: &SessionContext,
    matching: &Matching,
    name: &str,
    previous: Option<&str>,
    schema: SchemaRef,
) -> Result<SendableRecordBatchStream> {
    let config = matching.config(name)?;
    // Fail before joining anything when the model is missing or stale.
    let (version, _) = matching.trained(name)?;
    let rules = parse_rules(name, &config.blocking).map_err(DataFusionError::Plan)?;
    check_pair_counts(ctx, name, config, &rules).await?;
    let key = &config.key;
    let arguments = config
        .comparisons
        .iter()
        .map(|c| format!("l.{col}, r.{col}", col = c.column))
        .collect::<Vec<_>>()
        .join(", ");
    let fingerprint = config
        .comparisons
        .iter()
        .map(|c| format!("coalesce(CAST(t.{} AS VARCHAR), chr(30))", c.column))
        .collect::<Vec<_>>()
        .join(", ");
    let quoted_version = quote_literal(&version);
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f");
    let select = format!(
        "CAST(l.{key} AS VARCHAR) AS left_key, CAST(r.{key} AS VARCHAR) AS right_key, \
         match_score('{name}', {arguments}) AS score, \
         l.__fingerprint AS left_fingerprint, r.__fingerprint AS right_fingerprint"
    );
    let swapped = format!(
        "CAST(r.{key} AS VARCHAR) AS left_key, CAST(l.{key} AS VARCHAR) AS right_key, \
         match_score('{name}', {arguments}) AS score, \
         r.__fingerprint AS left_fingerprint, l.__fingerprint AS right_fingerprint"
    );
    let scored = |sql: String| {
        format!(
            "SELECT left_key, right_key, blocking_rule, score['match_weight'] AS match_weight, \
             score['match_probability'] AS match_probability, left_fingerprint, \
             right_fingerprint, {quoted_version} AS model_version, \
             CAST('{now}' AS TIMESTAMP) AS scored_at FROM ({sql})"
        )
    };
    let incremental = match previous {
        Some(table) => reusable(ctx, table, &version).await?,
        None => false,
    };
    // The records with their fingerprints, their position in key order and whether they are
    // new or changed since `previous`, computed once and held in memory for the joins (a CTE
    // would be computed again for every rule and side).
    let records = format!(
        "SELECT t.*, md5(concat_ws(chr(31), {fingerprint})) AS __fingerprint, \
         row_number() OVER (ORDER BY CAST(t.{key} AS VARCHAR)) AS __row FROM {} t",
        config.records
    );
    let snapshot_sql = match previous.filter(|_| incremental) {
        Some(table) => format!(
            "SELECT c.*, k.k IS NULL AS __fresh FROM ({records}) c \
             LEFT JOIN (SELECT DISTINCT k, fp FROM \
                          (SELECT left_key AS k, left_fingerprint AS fp FROM {table} \
                           UNION ALL SELECT right_key, right_fingerprint FROM {table}) \
                        WHERE fp IS NOT NULL) k \
             ON CAST(c.{key} AS VARCHAR) = k.k AND c.__fingerprint = k.fp"
        ),
        None => format!("SELECT *, TRUE AS __fresh FROM ({records})"),
    };
    // Two in-memory tables with exact row counts, so every join builds on the small side.
    let (fresh, settled) = Snapshot::split(ctx, &snapshot_sql, "__fresh").await?;
    let (f, st) = (fresh.name.as_str(), settled.name.as_str());
    let sql = if let Some(table) = previous.filter(|_| incremental) {
        // The settled records are on the left of both joins, so the hash tables hold them
        // (one row per record) and the previous pairs (many per record) stream past.
        format!(
            "WITH settled_keys AS (SELECT CAST({key} AS VARCHAR) AS k, __fingerprint AS fp \
                                   FROM {st}) \
             {} UNION ALL {} UNION ALL {} UNION ALL \
             SELECT p.left_key, p.right_key, p.blocking_rule, p.match_weight, \
                    p.match_probability, p.left_fingerprint, p.right_fingerprint, \
                    p.model_version, CAST(p.scored_at AS TIMESTAMP) \
             FROM settled_keys b \
             JOIN (SELECT p.* FROM settled_keys a \
                   JOIN {table} p ON a.k = p.left_key AND a.fp = p.left_fingerprint) p \
               ON b.k = p.right_key AND b.fp = p.right_fingerprint",
            scored(sided_pairs_sql(&rules, &select, f, f, BEFORE)),
            scored(sided_pairs_sql(&rules, &select, f, st, BEFORE)),
            // Settled before fresh, written with the fresh records as l so the join builds
            // on them (rules and comparisons are symmetric; the keys are put back in order).
            scored(sided_pairs_sql(&rules, &swapped, f, st, AFTER)),
        )
    } else {
        scored(sided_pairs_sql(&rules, &select, f, f, BEFORE))
    };
    tracing::info!(
        "match_pairs('{name}'): {}",
        if incremental {
            "incremental: only pairs with a new or changed record are scored"
        } else {
            "scoring every candidate pair"
        }
    );
    let stream = ctx.sql(&sql).await?.execute_stream().await?;
    let stream = conform(stream, schema);
    // The snapshot lives as long as the stream reads it.
    let schema = stream.schema();
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        schema,
        stream.map(move |batch| {
            let _ = (&fresh, &settled);
            batch
        }),
    )))
}

/// Orients a pair by the records' positions in key order: the same order as the keys, compared
/// as numbers.
const BEFORE: &str = "l.__row < r.__row";
/// The other orientation, for joins written with the later record as `l`.
const AFTER: &str = "r.__row < l.__row";

/// `batch` with each string view column copied into buffers of its own. Sorted or filtered
/// view arrays still point into the buffers of the batches they came from; held in memory,
/// every batch would count (and keep alive) all of them, so a million records would claim
/// gigabytes of the memory pool.
fn compact(batch: RecordBatch) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => Arc::new(column.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(column.as_binary_view().gc()) as ArrayRef,
            _ => Arc::clone(column),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// A query's result held in memory under a unique temporary table name, dropped from the
/// session with the value.
struct Snapshot {
    ctx: SessionContext,
    name: String,
}

impl Snapshot {
    /// Run `sql` once and keep its rows in two tables: those where the boolean column `flag`
    /// is true, and the others.
    async fn split(ctx: &SessionContext, sql: &str, flag: &str) -> Result<(Self, Self)> {
        let df = ctx.sql(sql).await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let index = schema.index_of(flag)?;
        let (mut yes, mut no) = (Vec::new(), Vec::new());
        for batch in df.collect().await? {
            let Some(mask) = batch.column(index).as_boolean_opt().cloned() else {
                return plan_err!("snapshot flag column {flag} is not boolean");
            };
            // NULL counts as false (prep_null_mask_filter requires a null buffer).
            let mask = if mask.null_count() > 0 {
                prep_null_mask_filter(&mask)
            } else {
                mask
            };
            yes.push(compact(filter_record_batch(&batch, &mask)?)?);
            no.push(compact(filter_record_batch(&batch, &not(&mask)?)?)?);
        }
        Ok((
            Self::keep(ctx, Arc::clone(&schema), yes)?,
            Self::keep(ctx, schema, no)?,
        ))
    }

    /// Register `batches` under a new temporary name.
    fn keep(ctx: &SessionContext, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let parts = ctx.state().config().target_partitions().max(1);
        let mut partitions: Vec<Vec<RecordBatch>> = vec![Vec::new(); parts];
        for (i, batch) in batches.into_iter().enumerate() {
            partitions[i % parts].push(batch);
        }
        let table = MemTable::try_new(schema, partitions)?;
        let name = format!(
            "__c360_snapshot_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        ctx.register_table(name.as_str(), Arc::new(table))?;
        Ok(Self {
            ctx: ctx.clone(),
            name,
        })
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = self.ctx.deregister_table(self.name.as_str());
    }
}

/// The column names of `table` in the session (a model's last published version), or `None`
/// when it was never published.
async fn published_columns(ctx: &SessionContext, table: &str) -> Result<Option<Vec<String>>> {
    if !ctx.table_exist(table)? {
        return Ok(None);
    }
    let schema = ctx.table(table).await?.schema().clone();
    Ok(Some(
        schema.fields().iter().map(|f| f.name().clone()).collect(),
    ))
}

/// Whether the published `table` holds pairs scored by the model trained at `version`, so its
/// scores can be carried over.
async fn reusable(ctx: &SessionContext, table: &str, version: &str) -> Result<bool> {
    let Some(columns) = published_columns(ctx, table).await? else {
        return Ok(false);
    };
    let needed = [
        "left_key",
        "right_key",
        "blocking_rule",
        "match_weight",
        "match_probability",
        "left_fingerprint",
        "right_fingerprint",
        "model_version",
        "scored_at",
    ];
    if let Some(missing) = needed.iter().find(|n| !columns.iter().any(|c| c == *n)) {
        tracing::warn!(
            "match_pairs: the previous pairs table '{table}' has no column '{missing}', so every \
             pair is scored again; publish match_pairs' columns unchanged to score only new ones"
        );
        return Ok(false);
    }
    let version = quote_literal(version);
    let batches = ctx
        .sql(&format!(
            "SELECT CAST(count(*) AS BIGINT), \
                    CAST(count(*) FILTER (WHERE model_version = {version}) AS BIGINT) \
             FROM {table} WHERE model_version IS NOT NULL"
        ))
        .await?
        .collect()
        .await?;
    let Some(batch) = batches.first().filter(|b| b.num_rows() == 1) else {
        return Ok(false);
    };
    let (all, same) = (
        batch.column(0).as_primitive::<Int64Type>().value(0),
        batch.column(1).as_primitive::<Int64Type>().value(0),
    );
    Ok(all > 0 && all == same)
}

/// The customer ids the last published version of `model` gave each record: empty before the
/// model was first published. The model must have source, source_record_id and customer_id
/// columns; customer_since is read when present.
async fn previous_ids_stream(
    ctx: &SessionContext,
    model: &str,
    schema: SchemaRef,
) -> Result<SendableRecordBatchStream> {
    let Some(columns) = published_columns(ctx, model).await? else {
        return one_batch(&schema, Ok(RecordBatch::new_empty(Arc::clone(&schema))));
    };
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
