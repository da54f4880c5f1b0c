//! Append models (`[models.NAME] kind = "append"`): a run rebuilds only the rows whose event
//! time is at or after the latest one published less the lookback, and keeps the rest.
//!
//! The rows live in segments, one version folder per run that wrote them. A run with a
//! published state works out the cutoff (latest event time less the lookback), keeps the
//! segments wholly before it, cuts those that reach past it there (their rows from the cutoff
//! on are hidden by an `until` in the manifest, not copied), and writes the model's rows at or
//! after the cutoff (its SQL with that filter, which DataFusion pushes down to the scans) in
//! its own folder. Nothing
//! published is changed in place: a run that fails or is killed leaves its folder unreferenced
//! and the manifest as it was, and the next run rebuilds the same interval again, so there are
//! no holes and no duplicates. Each run adds an entry to the model's ledger.
//!
//! The model is rebuilt whole on its first run, after `--full-refresh`, when its SQL, its
//! settings or its output schema changed, and when it holds `max_segments` segments (so that
//! a year of nightly runs does not leave a read listing a year of folders).
//!
//! The decision to build on the published state, the cutoff and the folder checks here are
//! shared with merge models (`merge.rs`).

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::{ident, lit};

use super::models::Model;
use super::publish::{self, Incremental, LedgerEntry, Output, PublishedModel, Segment};
use super::run::write_frame;
use crate::Engine;
use crate::config::{ModelConfig, ModelKind};
use crate::text::md5_hex;
use crate::values::{quote_identifier, quote_literal};

/// The kind recorded in the manifest.
const APPEND: &str = "append";

/// One run's build of an incremental model: what both kinds are built from.
#[derive(Clone, Copy)]
pub struct Build<'a> {
    pub engine: &'a Engine,
    pub output: &'a Output,
    pub model: &'a Model,
    /// The run's version folder.
    pub version: &'a str,
    /// Its `[models.NAME]`, of kind `append` or `merge`.
    pub settings: &'a ModelConfig,
    /// Its published state, if any.
    pub previous: Option<&'a PublishedModel>,
    pub full_refresh: bool,
    /// A model downstream of it that has an `every` is rebuilt by this run (`partial`).
    pub downstream_due: bool,
}

impl Build<'_> {
    /// Build the model into the run's version and return its new state.
    pub async fn write(self) -> Result<Incremental> {
        match self.settings.kind {
            ModelKind::Merge => super::merge::write_merge(self).await,
            ModelKind::Partial => super::partial::write_partial(self).await,
            ModelKind::Append | ModelKind::Full => write_append(self).await,
        }
    }
}

/// Build the append model into the run's version and return its new state.
async fn write_append(build: Build<'_>) -> Result<Incremental> {
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
    let column = settings.event_time.as_deref().unwrap_or_default();
    let digest = digest(model, settings);
    let frame = engine.ctx.sql(&model.sql).await?;
    require_column(&frame, model, "event_time", column)?;
    // A model with as many segments as it may keep is rebuilt whole into one (compaction);
    // its ledger goes on.
    let (earlier, compacted) = match reusable(
        engine,
        model,
        &frame,
        previous,
        full_refresh,
        APPEND,
        &digest,
    )
    .await?
    {
        Some(inc) if inc.segments.len() >= settings.max_segments() => {
            tracing::info!(
                model = %model.name,
                segments = inc.segments.len(),
                "max_segments reached: rebuilding it whole into one segment"
            );
            (None, Some(inc))
        }
        earlier => (earlier, None),
    };
    let Some(earlier) = earlier else {
        let rows = write_frame(output, &model.name, version, frame).await?;
        let segment = describe(engine, output, model, version, column, APPEND).await?;
        let mut ledger = compacted.map(|c| c.ledger.clone()).unwrap_or_default();
        ledger.push(LedgerEntry {
            version: version.to_string(),
            from: None,
            to: segment.max_time.clone(),
            rows,
            kept_from: None,
        });
        return Ok(Incremental {
            kind: APPEND.to_string(),
            digest,
            event_time: column.to_string(),
            ledger,
            segments: vec![segment],
        });
    };

    let ctx = &engine.ctx;
    let quoted = quote_identifier(column);
    let cutoff = cutoff(engine, model, column, settings).await?;
    // Segments wholly before the cutoff stay as they are, decided from the manifest (times of
    // one column cast to text compare as the times do: ISO 8601, one canonical form per value,
    // one offset per column); the others are cut at the cutoff (their later rows are hidden,
    // not copied) and only they are read, to count the rows they still show.
    let mut kept = Vec::new();
    for segment in &earlier.segments {
        let Some(max_time) = &segment.max_time else {
            continue;
        };
        if max_time.as_str() < cutoff.as_str() {
            kept.push(segment.clone());
            continue;
        }
        let until = match &segment.until {
            Some(u) if u.as_str() < cutoff.as_str() => u.clone(),
            _ => cutoff.clone(),
        };
        let table = scratch(
            engine,
            output,
            model,
            std::slice::from_ref(&segment.version),
        )
        .await?;
        let visible: u64 = text(
            ctx,
            &format!(
                "SELECT CAST(count(*) AS VARCHAR) FROM {table} WHERE {quoted} < {}",
                quote_literal(&until)
            ),
        )
        .await?
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
        if visible > 0 {
            kept.push(Segment {
                rows: visible,
                until: Some(until),
                ..segment.clone()
            });
        }
    }
    let newer = frame.filter(ident(column).gt_eq(lit(cutoff.clone())))?;
    let rows = write_frame(output, &model.name, version, newer).await?;
    let segment = describe(engine, output, model, version, column, APPEND).await?;
    let latest = earlier
        .segments
        .iter()
        .filter_map(|s| s.max_time.clone())
        .chain(segment.max_time.clone())
        .max();
    let mut ledger = earlier.ledger.clone();
    ledger.push(LedgerEntry {
        version: version.to_string(),
        from: Some(cutoff),
        to: latest,
        rows,
        kept_from: None,
    });
    kept.push(segment);
    Ok(Incremental {
        kind: APPEND.to_string(),
        digest,
        event_time: column.to_string(),
        segments: kept,
        ledger,
    })
}

/// The published state of an incremental model of `kind` that this run can build on: none on
/// the first run, after `--full-refresh`, and when its kind, SQL, settings (`digest`) or
/// columns changed (the model is then rebuilt whole).
pub(super) async fn reusable<'a>(
    engine: &Engine,
    model: &Model,
    frame: &DataFrame,
    previous: Option<&'a PublishedModel>,
    full_refresh: bool,
    kind: &str,
    digest: &str,
) -> Result<Option<&'a Incremental>> {
    let Some(inc) = previous.and_then(|p| p.incremental.as_ref()) else {
        return Ok(None);
    };
    if full_refresh {
        tracing::info!(model = %model.name, "--full-refresh: rebuilding it whole");
        return Ok(None);
    }
    if inc.kind != kind || inc.digest != digest {
        tracing::info!(model = %model.name, "its SQL or settings changed: rebuilding it whole");
        return Ok(None);
    }
    if inc.segments.iter().all(|s| s.max_time.is_none()) {
        return Ok(None);
    }
    let published = engine.ctx.table(model.name.as_str()).await?;
    if !same_columns(published.schema().inner(), frame.schema().inner()) {
        tracing::info!(model = %model.name, "its columns changed: rebuilding it whole");
        return Ok(None);
    }
    Ok(Some(inc))
}

/// What decides whether earlier rows can be kept: the SQL and the settings.
pub(super) fn digest(model: &Model, settings: &ModelConfig) -> String {
    let mut text = format!(
        "{}\0{}\0{}",
        model.sql,
        settings.event_time.as_deref().unwrap_or_default(),
        settings.lookback()
    );
    if let Some(rebuild) = &settings.rebuild {
        text.push_str(&format!("\0{rebuild}"));
    }
    if let (Some(updated_at), Some(keys)) = (&settings.updated_at, &settings.unique_key) {
        text.push_str(&format!("\0{updated_at}\0{}", keys.join("\0")));
    }
    md5_hex(text.as_bytes())
}

/// The latest time of `column` in the published model less the lookback, as text.
pub(super) async fn cutoff(
    engine: &Engine,
    model: &Model,
    column: &str,
    settings: &ModelConfig,
) -> Result<String> {
    text(
        &engine.ctx,
        &format!(
            "SELECT CAST(max({}) - INTERVAL {} AS VARCHAR) FROM {}",
            quote_identifier(column),
            quote_literal(settings.lookback()),
            quote_identifier(&model.name)
        ),
    )
    .await?
    .ok_or_else(|| {
        DataFusionError::Execution(format!("model '{}': no latest {column}", model.name))
    })
}

/// Fail unless the model has `column`, naming the setting and the columns it has.
pub(super) fn require_column(
    frame: &DataFrame,
    model: &Model,
    setting: &str,
    column: &str,
) -> Result<()> {
    if frame.schema().field_with_unqualified_name(column).is_ok() {
        return Ok(());
    }
    Err(DataFusionError::Plan(format!(
        "[models.{}] {setting}: the model has no column '{column}'; its columns are {}",
        model.name,
        frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The same column names and types (a string column may be read as Utf8 or Utf8View).
pub(super) fn same_columns(a: &SchemaRef, b: &SchemaRef) -> bool {
    let plain = |t: &DataType| match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        other => other.clone(),
    };
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && plain(x.data_type()) == plain(y.data_type()))
}

fn scratch_name(model: &Model) -> String {
    format!("__c360_segments_{}", model.name)
}

/// Drops the scratch table when the build ends, however it ends.
pub(super) struct ScratchTable<'a>(&'a datafusion::prelude::SessionContext, String);

impl<'a> ScratchTable<'a> {
    /// The guard of `model`'s scratch table (see [`scratch`]).
    pub(super) fn of(engine: &'a Engine, model: &Model) -> Self {
        Self(&engine.ctx, scratch_name(model))
    }
}

impl Drop for ScratchTable<'_> {
    fn drop(&mut self) {
        self.0.deregister_table(self.1.as_str()).ok();
    }
}

/// Register folders of the model as its scratch table and return its name, quoted.
pub(super) async fn scratch(
    engine: &Engine,
    output: &Output,
    model: &Model,
    versions: &[String],
) -> Result<String> {
    let name = scratch_name(model);
    let folders: Vec<String> = versions
        .iter()
        .map(|v| output.version_url(&model.name, v))
        .collect();
    publish::register_parquet_folders(&engine.ctx, &name, &folders)
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    Ok(quote_identifier(&name))
}

/// The rows and time range (of `column`) of a folder of a `kind` model; a NULL time is an
/// error.
pub(super) async fn describe(
    engine: &Engine,
    output: &Output,
    model: &Model,
    version: &str,
    column: &str,
    kind: &str,
) -> Result<Segment> {
    let table = scratch(engine, output, model, &[version.to_string()]).await?;
    let quoted = quote_identifier(column);
    let frame = engine
        .ctx
        .sql(&format!(
            "SELECT CAST(count(*) AS VARCHAR), CAST(count(*) - count({quoted}) AS VARCHAR), \
                    CAST(min({quoted}) AS VARCHAR), CAST(max({quoted}) AS VARCHAR) FROM {table}"
        ))
        .await?;
    let values = first_row(frame).await?;
    let rows: u64 = values[0].as_deref().unwrap_or("0").parse().unwrap_or(0);
    let nulls: u64 = values[1].as_deref().unwrap_or("0").parse().unwrap_or(0);
    if nulls > 0 {
        return Err(DataFusionError::Execution(format!(
            "{kind} model '{}': {nulls} rows have no {column} (NULL); every row of a {kind} \
             model needs its time: leave those rows out in {}, or build the model whole \
             (remove [models.{}] from c360.toml)",
            model.name,
            model.file.display(),
            model.name
        )));
    }
    Ok(Segment {
        version: version.to_string(),
        rows,
        min_time: values[2].clone(),
        max_time: values[3].clone(),
        until: None,
    })
}

/// The one text value of a one-row query.
pub(super) async fn text(
    ctx: &datafusion::prelude::SessionContext,
    sql: &str,
) -> Result<Option<String>> {
    Ok(first_row(ctx.sql(sql).await?).await?.remove(0))
}

/// The first row of a query, each value as text.
pub(super) async fn first_row(frame: DataFrame) -> Result<Vec<Option<String>>> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::cast;
    let batches = frame.collect().await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Err(DataFusionError::Execution("an empty answer".to_string()));
    };
    batch
        .columns()
        .iter()
        .map(|column| {
            let column = cast(column, &DataType::Utf8)?;
            let strings = column.as_string::<i32>();
            Ok((!strings.is_null(0)).then(|| strings.value(0).to_string()))
        })
        .collect()
}
