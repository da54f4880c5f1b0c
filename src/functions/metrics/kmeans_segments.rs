//! `kmeans_segments(table, key, k, seed, feature, ...)`: data-driven customer segments as a
//! table function: each row of `table` with its segment (1 = largest) and its distance to the
//! segment's centre, from k-means over the standardised features.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, AsArray, Float64Array, Int32Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::prelude::SessionContext;

use crate::functions::deferred::DeferredTable;
use crate::memory::Held;
use crate::models::kmeans;
use crate::stop::Stop;
use crate::values::{integer, quote, text};

pub const USAGE: &str = "kmeans_segments(table, key, k, seed, feature, ...) with the table, key and \
    feature column names as strings and k and seed as integers, such as \
    kmeans_segments('customer_features', 'customer_id', 5, 42, 'recency_days', 'frequency', 'monetary')";

/// `kmeans_segments`.
#[derive(Debug)]
pub struct KMeansSegments;

/// What to segment.
#[derive(Debug, Clone)]
struct Spec {
    table: String,
    key: String,
    k: usize,
    seed: u64,
    features: Vec<String>,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("segment", DataType::Int32, false),
        Field::new("distance", DataType::Float64, false),
    ]))
}

impl TableFunctionImpl for KMeansSegments {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.len() < 5 {
            return plan_err!("kmeans_segments takes at least five arguments: {USAGE}");
        }
        let (Some(table), Some(key), Some(k), Some(seed)) = (
            text(&exprs[0]),
            text(&exprs[1]),
            integer(&exprs[2]),
            integer(&exprs[3]),
        ) else {
            return plan_err!("kmeans_segments: {USAGE}");
        };
        if !(1..=1000).contains(&k) {
            return plan_err!("kmeans_segments: k = {k}; use 1 to 1000 segments");
        }
        let features = exprs[4..]
            .iter()
            .map(text)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| DataFusionError::Plan(format!("kmeans_segments: {USAGE}")))?;
        let spec = Spec {
            table,
            key,
            k: k as usize,
            seed: seed as u64,
            features,
        };
        let label = format!(
            "kmeans_segments('{}', '{}', {}, {}, {})",
            spec.table,
            spec.key,
            spec.k,
            spec.seed,
            spec.features.join(", ")
        );
        Ok(DeferredTable::one_batch(
            label,
            schema(),
            move |ctx, schema| {
                let spec = spec.clone();
                Box::pin(async move { fit(&ctx, &spec, &schema).await })
            },
        ))
    }
}

async fn fit(ctx: &SessionContext, spec: &Spec, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = spec
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| format!("CAST({} AS DOUBLE) AS feature_{i}", quote(f)))
        .collect::<Vec<_>>()
        .join(", ");
    let key = quote(&spec.key);
    let sql = format!(
        "SELECT CAST({key} AS VARCHAR) AS key, {columns} FROM {} WHERE {key} IS NOT NULL ORDER BY 1",
        quote(&spec.table)
    );
    let frame = ctx.sql(&sql).await.map_err(|e| {
        DataFusionError::Plan(format!("kmeans_segments: reading {}: {e}", spec.table))
    })?;
    // The rows read, and the fit's own copy of them, count against the memory limit.
    let mut held = Held::new(ctx, format!("kmeans_segments reading '{}'", spec.table));
    let batches = held.collect(frame).await?;
    let rows_read: usize = batches.iter().map(|b| b.num_rows()).sum();
    let row_bytes = size_of::<Vec<Option<f64>>>()
        + spec.features.len() * size_of::<Option<f64>>()
        + size_of::<String>();
    held.grow(rows_read * row_bytes)?;
    let mut keys = Vec::new();
    let mut rows = Vec::new();
    for batch in &batches {
        let key_column = cast(batch.column(0), &DataType::Utf8)?;
        let key_column = key_column.as_string::<i32>();
        let features: Vec<&Float64Array> = batch.columns()[1..]
            .iter()
            .map(|c| c.as_primitive::<Float64Type>())
            .collect();
        for row in 0..batch.num_rows() {
            keys.push(key_column.value(row).to_string());
            rows.push(
                features
                    .iter()
                    .map(|f| f.is_valid(row).then(|| f.value(row)))
                    .collect(),
            );
        }
    }
    let (features, k, seed) = (spec.features.len(), spec.k, spec.seed);
    let segmentation = Stop::of_session(ctx)
        .blocking("kmeans_segments", move || {
            kmeans::segment(&rows, features, k, seed)
                .map_err(|e| DataFusionError::Execution(format!("kmeans_segments: {e}")))
        })
        .await?;
    Ok(RecordBatch::try_new(
        Arc::clone(schema),
        vec![
            Arc::new(StringArray::from(keys)),
            Arc::new(Int32Array::from_iter_values(
                segmentation.segments.iter().map(|&s| s as i32),
            )),
            Arc::new(Float64Array::from(segmentation.distances)),
        ],
    )?)
}
