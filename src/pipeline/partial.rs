//! Partial models (`[models.NAME] kind = "partial"`): every run rebuilds the rows that match
//! the model's `rebuild` condition and keeps the other rows as its last whole build wrote them.
//!
//! Made for the feature tables that hold both the rows a model trains on (snapshots of the
//! past, labelled by what happened after) and the rows it scores (the data's end): the scoring
//! rows must be fresh every night, the training rows only when the model that trains on them is
//! rebuilt (`every`). So a partial model is rebuilt whole when a model downstream of it that has
//! an `every` is due (and on its first run, when its SQL, settings or columns changed); on the
//! other runs its SQL runs with the condition added (DataFusion pushes it down, so the
//! snapshots outside it are never computed), and the published rows outside the condition are
//! copied beside them into the run's version. The kept rows are those the scheduled models
//! were trained and judged on, which is why `--full-refresh` keeps them too: it rebuilds the
//! rows a run would rebuild anyway, not the trained models' rows (name a scheduled model in
//! `--select` to retrain it, which rebuilds its partial models whole).
//!
//! Nothing published is changed in place: a failed or killed run leaves the manifest as it
//! was, and the next run does the same work again.

use datafusion::arrow::datatypes::DataType;
use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::prelude::{cast, ident};

use super::incremental::{Build, digest, same_columns};
use super::models::Model;
use super::publish::{Incremental, LedgerEntry, Segment};
use super::run::write_frame;

/// The kind recorded in the manifest.
const PARTIAL: &str = "partial";

/// Build the partial model into the run's version and return its new state.
pub(super) async fn write_partial(build: Build<'_>) -> Result<Incremental> {
    let Build {
        engine,
        output,
        model,
        version,
        settings,
        previous,
        downstream_due,
        ..
    } = build;
    let condition = settings.rebuild.as_deref().unwrap_or_default();
    let digest = digest(model, settings);
    let frame = engine.ctx.sql(&model.sql).await?;
    let rebuild = parse_condition(&frame, model, condition)?;
    let earlier = match previous.and_then(|p| p.incremental.as_ref()) {
        _ if downstream_due => {
            tracing::info!(model = %model.name, "a scheduled model downstream is due: rebuilding it whole");
            None
        }
        Some(inc) if inc.kind == PARTIAL && inc.digest == digest => {
            let published = engine.ctx.table(model.name.as_str()).await?;
            same_columns(published.schema().inner(), frame.schema().inner())
                .then_some((inc, published))
        }
        _ => None,
    };
    let Some((earlier, published)) = earlier else {
        let rows = write_frame(output, &model.name, version, frame).await?;
        return Ok(state(version, digest, rows, Vec::new(), None));
    };
    let fresh = frame.filter(rebuild)?;
    let kept = kept_rows(&fresh, published, model, condition)?;
    let rows = write_frame(output, &model.name, version, fresh.union(kept)?).await?;
    let whole = whole_build(earlier);
    Ok(state(
        version,
        digest,
        rows,
        earlier.ledger.clone(),
        Some(whole),
    ))
}

/// The condition as an expression over the model's columns, or an error naming the setting.
fn parse_condition(frame: &DataFrame, model: &Model, condition: &str) -> Result<Expr> {
    let expr = frame.parse_sql_expr(condition).map_err(|e| {
        DataFusionError::Plan(format!(
            "[models.{}] rebuild: '{condition}' is not a condition over the model's columns ({e})",
            model.name
        ))
    })?;
    match expr.get_type(frame.schema()) {
        Ok(DataType::Boolean) => Ok(expr),
        Ok(other) => Err(DataFusionError::Plan(format!(
            "[models.{}] rebuild: '{condition}' gives {other} values, not a condition (true or \
             false)",
            model.name
        ))),
        Err(e) => Err(DataFusionError::Plan(format!(
            "[models.{}] rebuild: '{condition}': {e}",
            model.name
        ))),
    }
}

/// The published rows outside the condition, with the columns and types of `fresh` (the
/// published files may read a string column as another string type).
fn kept_rows(
    fresh: &DataFrame,
    published: DataFrame,
    model: &Model,
    condition: &str,
) -> Result<DataFrame> {
    let outside = parse_condition(&published, model, condition)?.is_not_true();
    let columns: Vec<Expr> = fresh
        .schema()
        .fields()
        .iter()
        .map(|f| cast(ident(f.name()), f.data_type().clone()).alias(f.name()))
        .collect();
    published.filter(outside)?.select(columns)
}

/// The version whose whole build the kept rows come from.
fn whole_build(earlier: &Incremental) -> String {
    earlier
        .ledger
        .last()
        .and_then(|entry| entry.kept_from.clone())
        .or_else(|| earlier.ledger.last().map(|entry| entry.version.clone()))
        .unwrap_or_default()
}

/// The model's state after this run: one folder, the run's, and the ledger with this run's
/// entry (`kept_from`: the whole build the rows outside the condition come from, none when this
/// run built it whole).
fn state(
    version: &str,
    digest: String,
    rows: u64,
    mut ledger: Vec<LedgerEntry>,
    kept_from: Option<String>,
) -> Incremental {
    ledger.push(LedgerEntry {
        version: version.to_string(),
        from: None,
        to: None,
        rows,
        kept_from,
    });
    Incremental {
        kind: PARTIAL.to_string(),
        digest,
        event_time: String::new(),
        segments: vec![Segment {
            version: version.to_string(),
            rows,
            min_time: None,
            max_time: None,
            until: None,
        }],
        ledger,
    }
}
