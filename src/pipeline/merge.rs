//! Merge models (`[models.NAME] kind = "merge"`): a run builds only the rows whose
//! `updated_at` is at or after the latest one published less the lookback, and they replace
//! the published rows with the same `unique_key` (an upsert); rows of other keys are kept.
//!
//! The changed rows are built once, into a scratch folder beside the run's version, checked
//! (the key unique and never NULL), then the run's version is written whole: the published rows
//! whose key did not change, and the changed rows. Readers see one folder, as for a full
//! model. Nothing published is changed in place: a run that fails or is killed leaves the
//! manifest as it was (its folders are removed, or left for the next run's clean-up), and the
//! next run merges the same interval again. Each run adds an entry to the model's ledger.
//!
//! A merge never deletes: a row whose source rows are gone stays until a full rebuild
//! (`c360 run --full-refresh`, or a change of the model's SQL or settings).

use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::{ident, lit};

use super::incremental::{
    Build, ScratchTable, cutoff, describe, digest, first_row, require_column, reusable, scratch,
};
use super::models::Model;
use super::publish::{Incremental, LedgerEntry, Output};
use super::run::write_frame;
use crate::Engine;
use crate::values::quote_identifier;

/// The kind recorded in the manifest.
const MERGE: &str = "merge";

/// Build the merge model into the run's version and return its new state.
pub(super) async fn write_merge(build: Build<'_>) -> Result<Incremental> {
    let Build {
        engine,
        output,
        model,
        version,
        settings,
        previous,
        full_refresh,
        ..
    } = build;
    let _scratch = ScratchTable::of(engine, model);
    let column = settings.updated_at.as_deref().unwrap_or_default();
    let keys = settings.unique_key.clone().unwrap_or_default();
    let digest = digest(model, settings);
    let frame = engine.ctx.sql(&model.sql).await?;
    require_column(&frame, model, "updated_at", column)?;
    for key in &keys {
        require_column(&frame, model, "unique_key", key)?;
    }
    let earlier = reusable(
        engine,
        model,
        &frame,
        previous,
        full_refresh,
        MERGE,
        &digest,
    )
    .await?;
    let Some(earlier) = earlier else {
        let rows = write_frame(output, &model.name, version, frame).await?;
        check_keys(engine, output, model, version, &keys).await?;
        let segment = describe(engine, output, model, version, column, MERGE).await?;
        return Ok(Incremental {
            kind: MERGE.to_string(),
            digest,
            event_time: column.to_string(),
            ledger: vec![LedgerEntry {
                version: version.to_string(),
                from: None,
                to: segment.max_time.clone(),
                rows,
                kept_from: None,
            }],
            segments: vec![segment],
        });
    };

    let cutoff = cutoff(engine, model, column, settings).await?;
    let changes = format!("{version}.changes");
    let merged = async {
        let changed = frame.filter(ident(column).gt_eq(lit(cutoff.clone())))?;
        let rows = write_frame(output, &model.name, &changes, changed).await?;
        check_keys(engine, output, model, &changes, &keys).await?;
        let table = scratch(engine, output, model, std::slice::from_ref(&changes)).await?;
        let matches = keys
            .iter()
            .map(|k| {
                let k = quote_identifier(k);
                format!("c.{k} = p.{k}")
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        // The changed rows are the small side: NOT EXISTS plans as an anti join that hashes
        // them and streams the published rows past.
        let sql = format!(
            "SELECT * FROM {published} p WHERE NOT EXISTS (SELECT 1 FROM {table} c WHERE {matches}) \
             UNION ALL SELECT * FROM {table}",
            published = quote_identifier(&model.name)
        );
        write_frame(output, &model.name, version, engine.ctx.sql(&sql).await?).await?;
        Ok::<_, DataFusionError>(rows)
    }
    .await;
    output.delete_version(&model.name, &changes).await.ok();
    let rows = merged?;
    let segment = describe(engine, output, model, version, column, MERGE).await?;
    let mut ledger = earlier.ledger.clone();
    ledger.push(LedgerEntry {
        version: version.to_string(),
        from: Some(cutoff),
        to: segment.max_time.clone(),
        rows,
        kept_from: None,
    });
    Ok(Incremental {
        kind: MERGE.to_string(),
        digest,
        event_time: column.to_string(),
        segments: vec![segment],
        ledger,
    })
}

/// Fail unless the rows of folder `version` have a unique, never NULL key, naming a key that
/// repeats.
async fn check_keys(
    engine: &Engine,
    output: &Output,
    model: &Model,
    version: &str,
    keys: &[String],
) -> Result<()> {
    let table = scratch(engine, output, model, &[version.to_string()]).await?;
    let quoted: Vec<String> = keys.iter().map(|k| quote_identifier(k)).collect();
    let list = quoted.join(", ");
    let null = quoted
        .iter()
        .map(|k| format!("{k} IS NULL"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let shown = quoted
        .iter()
        .map(|k| format!("CAST({k} AS VARCHAR)"))
        .collect::<Vec<_>>()
        .join(" || ', ' || ");
    let frame = engine
        .ctx
        .sql(&format!(
            "SELECT CAST((SELECT count(*) FROM {table} WHERE {null}) AS VARCHAR), \
                    (SELECT min(k) FROM (SELECT {shown} AS k FROM {table} \
                     WHERE NOT ({null}) GROUP BY {list} HAVING count(*) > 1))"
        ))
        .await?;
    let values = first_row(frame).await?;
    let nulls: u64 = values[0].as_deref().unwrap_or("0").parse().unwrap_or(0);
    let name = &model.name;
    let key = keys.join(", ");
    if nulls > 0 {
        return Err(DataFusionError::Execution(format!(
            "merge model '{name}': {nulls} rows have a NULL unique_key ({key}); a merge replaces \
             rows by their key: leave those rows out in {}, or change [models.{name}] unique_key",
            model.file.display()
        )));
    }
    if let Some(repeated) = &values[1] {
        return Err(DataFusionError::Execution(format!(
            "merge model '{name}': more than one row has the unique_key ({key}) = ({repeated}); \
             a merge replaces one row per key: keep one row per key in {} (for example the \
             newest, with row_number() OVER (PARTITION BY {key} ORDER BY ... DESC) = 1)",
            model.file.display()
        )));
    }
    Ok(())
}
