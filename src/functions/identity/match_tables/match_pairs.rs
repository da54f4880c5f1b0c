//! `match_pairs(setup [, previous_pairs])`: the scored candidate pairs, incrementally when the
//! pairs published last time can be carried over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::kernels::boolean::not;
use datafusion::arrow::compute::{filter_record_batch, prep_null_mask_filter};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::datasource::MemTable;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use super::{conform, published_columns};
use crate::memory::Held;
use crate::models::matching::blocking::{parse_rules, sided_pairs_sql};
use crate::models::matching::{Matching, check_pair_counts};
use crate::values::quote_literal;

/// The scored candidate pairs. With `previous` (the pairs published last time, by the same
/// model), only pairs with a new or changed record are scored: a record is settled when its key
/// and fingerprint (a digest of its compared values) appear in `previous`; pairs of settled
/// records are carried over with their scores.
pub(super) async fn pairs_stream(
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
    /// Its rows' memory, held in the session's pool while the snapshot lives.
    _held: Held,
}

impl Snapshot {
    /// Run `sql` once and keep its rows in two tables: those where the boolean column `flag`
    /// is true, and the others.
    async fn split(ctx: &SessionContext, sql: &str, flag: &str) -> Result<(Self, Self)> {
        let df = ctx.sql(sql).await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let index = schema.index_of(flag)?;
        let (mut yes, mut no) = (Vec::new(), Vec::new());
        let (mut held_yes, mut held_no) = (
            Held::new(ctx, format!("match_pairs snapshot of {flag} rows")),
            Held::new(ctx, format!("match_pairs snapshot of rows without {flag}")),
        );
        let mut stream = df.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let Some(mask) = batch.column(index).as_boolean_opt().cloned() else {
                return plan_err!("snapshot flag column {flag} is not boolean");
            };
            // NULL counts as false (prep_null_mask_filter requires a null buffer).
            let mask = if mask.null_count() > 0 {
                prep_null_mask_filter(&mask)
            } else {
                mask
            };
            let (y, n) = (
                compact(filter_record_batch(&batch, &mask)?)?,
                compact(filter_record_batch(&batch, &not(&mask)?)?)?,
            );
            held_yes.grow(y.get_array_memory_size())?;
            held_no.grow(n.get_array_memory_size())?;
            yes.push(y);
            no.push(n);
        }
        Ok((
            Self::keep(ctx, Arc::clone(&schema), yes, held_yes)?,
            Self::keep(ctx, schema, no, held_no)?,
        ))
    }

    /// Register `batches` under a new temporary name.
    fn keep(
        ctx: &SessionContext,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        held: Held,
    ) -> Result<Self> {
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
            _held: held,
        })
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = self.ctx.deregister_table(self.name.as_str());
    }
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
