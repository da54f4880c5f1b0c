//! `fit_clv_model(name, table [, purchase_model [, unit]])`: fit a lifetime-value model on a
//! table of customer summaries (columns `frequency`, `recency`, `t` and optionally
//! `monetary_value`, as `clv_summary` makes them), save it as `models/NAME.json` and return
//! its parameters and fit statistics as rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::prelude::SessionContext;

use crate::functions::deferred::DeferredTable;
use crate::memory::Held;
use crate::models::clv::{self, ClvModel, KIND, PurchaseKind, Summary, periods_per_month};
use crate::models::metric_rows::MetricRows;
use crate::models::store::ModelStore;
use crate::stop::Stop;
use crate::values::{quote, text};

const NAME: &str = "fit_clv_model";
pub const USAGE: &str = "fit_clv_model(name, table [, purchase_model [, unit]]) with the model \
    name, a table with columns frequency, recency, t and optionally monetary_value, \
    purchase_model 'bg_nbd' (default) or 'pareto_nbd', and the unit of recency and t: 'day' \
    (default), 'week' or 'month'; such as fit_clv_model('clv', 'clv_inputs')";

/// The table function over `store`.
#[derive(Debug)]
pub struct FitClvModel {
    pub store: Arc<ModelStore>,
}

#[derive(Debug, Clone)]
struct Spec {
    name: String,
    table: String,
    kind: PurchaseKind,
    unit: String,
}

/// The fit's rows: [`MetricRows`] under its own column names (part and parameter).
fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("part", DataType::Utf8, false),
        Field::new("parameter", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
    ]))
}

impl TableFunctionImpl for FitClvModel {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if !(2..=4).contains(&exprs.len()) {
            return plan_err!("{NAME} takes two to four arguments: {USAGE}");
        }
        let texts = exprs
            .iter()
            .map(text)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                DataFusionError::Plan(format!("{NAME}: every argument is a string: {USAGE}"))
            })?;
        let kind = match texts.get(2) {
            None => PurchaseKind::BgNbd,
            Some(k) => PurchaseKind::parse(k).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{NAME}: purchase model '{k}': expected 'bg_nbd' or 'pareto_nbd'"
                ))
            })?,
        };
        let unit = texts
            .get(3)
            .map_or("day".to_string(), |u| u.to_ascii_lowercase());
        if periods_per_month(&unit).is_none() {
            return plan_err!("{NAME}: unit '{unit}': expected 'day', 'week' or 'month'");
        }
        self.store.path(&texts[0])?;
        let spec = Spec {
            name: texts[0].clone(),
            table: texts[1].clone(),
            kind,
            unit,
        };
        let label = format!("{NAME}('{}', '{}')", spec.name, spec.table);
        let store = Arc::clone(&self.store);
        Ok(DeferredTable::one_batch(
            label,
            schema(),
            move |ctx, schema| {
                let (spec, store) = (spec.clone(), Arc::clone(&store));
                Box::pin(async move { fit(&ctx, &store, &spec, &schema).await })
            },
        ))
    }
}

/// The summaries of `table`, identical rows counted once with their number as weight (in a
/// fixed order, so the fit is the same bit for bit on the same data).
async fn read(ctx: &SessionContext, table: &str) -> Result<(Vec<(Summary, f64)>, bool)> {
    let provider = ctx
        .table_provider(table)
        .await
        .map_err(|e| DataFusionError::Plan(format!("{NAME}: reading table '{table}': {e}")))?;
    let schema = provider.schema();
    for column in ["frequency", "recency", "t"] {
        if schema.field_with_name(column).is_err() {
            return plan_err!(
                "{NAME}: table '{table}' has no column '{column}'; it needs frequency, recency, \
                 t and optionally monetary_value (SELECT s.* FROM (SELECT clv_summary(at, value, \
                 cut_off) AS s ... GROUP BY customer) makes them)"
            );
        }
    }
    let monetary = schema.field_with_name("monetary_value").is_ok();
    let sql = format!(
        "SELECT CAST(frequency AS DOUBLE), CAST(recency AS DOUBLE), CAST(t AS DOUBLE), {} FROM {}",
        if monetary {
            "CAST(monetary_value AS DOUBLE)"
        } else {
            "CAST(NULL AS DOUBLE)"
        },
        quote(table)
    );
    let mut held = Held::new(ctx, format!("fit_clv_model reading '{table}'"));
    let batches = held.collect(ctx.sql(&sql).await?).await?;
    let mut counts: BTreeMap<[u64; 4], f64> = BTreeMap::new();
    let mut row_number = 0usize;
    for batch in &batches {
        let c: Vec<&Float64Array> = batch
            .columns()
            .iter()
            .map(|c| c.as_primitive::<Float64Type>())
            .collect();
        for row in 0..batch.num_rows() {
            row_number += 1;
            if c[..3].iter().any(|col| col.is_null(row)) {
                continue;
            }
            let summary = Summary {
                frequency: c[0].value(row),
                recency: c[1].value(row),
                t: c[2].value(row),
                monetary_value: (c[3].is_valid(row) && c[0].value(row) > 0.0)
                    .then(|| c[3].value(row)),
            };
            if let Some(problem) = summary.problem() {
                return Err(DataFusionError::Execution(format!(
                    "{NAME}: table '{table}', row {row_number}: {problem}"
                )));
            }
            let key = [
                summary.frequency.to_bits(),
                summary.recency.to_bits(),
                summary.t.to_bits(),
                summary.monetary_value.map_or(u64::MAX, f64::to_bits),
            ];
            *counts.entry(key).or_insert(0.0) += 1.0;
        }
    }
    let customers = counts
        .into_iter()
        .map(|(k, w)| {
            let summary = Summary {
                frequency: f64::from_bits(k[0]),
                recency: f64::from_bits(k[1]),
                t: f64::from_bits(k[2]),
                monetary_value: (k[3] != u64::MAX).then(|| f64::from_bits(k[3])),
            };
            (summary, w)
        })
        .collect();
    Ok((customers, monetary))
}

async fn fit(
    ctx: &SessionContext,
    store: &ModelStore,
    spec: &Spec,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let (customers, monetary) = read(ctx, &spec.table).await?;
    let failed = |what: &str, e: String| {
        DataFusionError::Execution(format!("{NAME}('{}'): {what}: {e}", spec.name))
    };
    let kind = spec.kind;
    // The fit is CPU work: off the async threads.
    let (purchase, spend) = Stop::of_session(ctx)
        .blocking(NAME, move || {
            let purchase = clv::fit_purchase(kind, &customers);
            let spend = monetary.then(|| clv::fit_spend(&customers));
            Ok((purchase, spend))
        })
        .await?;
    let purchase = purchase.map_err(|e| failed("purchase model", e))?;
    let spend = spend.transpose().map_err(|e| failed("spend model", e))?;
    let model = ClvModel {
        unit: spec.unit.clone(),
        purchase,
        spend,
    };
    let mut rows = MetricRows::default();
    let purchase = &model.purchase;
    let part = purchase.kind.name();
    for (name, value) in &purchase.parameters {
        rows.push(part, name, *value);
    }
    rows.push(part, "log_likelihood", purchase.log_likelihood);
    rows.push(part, "customers", purchase.customers as f64);
    rows.push(part, "iterations", purchase.iterations as f64);
    rows.push(part, "converged", f64::from(u8::from(purchase.converged)));
    if let Some(s) = &model.spend {
        let part = "gamma_gamma";
        for (name, value) in [("p", s.p), ("q", s.q), ("gamma", s.gamma)] {
            rows.push(part, name, value);
        }
        rows.push(part, "log_likelihood", s.log_likelihood);
        rows.push(part, "customers", s.customers as f64);
        rows.push(part, "iterations", s.iterations as f64);
        rows.push(part, "converged", f64::from(u8::from(s.converged)));
    }
    let mut metrics = vec![
        ("log_likelihood".to_string(), model.purchase.log_likelihood),
        ("customers".to_string(), model.purchase.customers as f64),
    ];
    if let Some(s) = &model.spend {
        metrics.push(("spend_log_likelihood".to_string(), s.log_likelihood));
    }
    let path = store.save(&spec.name, KIND, &spec.table, metrics, &model)?;
    tracing::info!("{NAME}: saved {}", path.display());
    rows.batch(&spec.name, schema)
}
