//! Assertions on a model's new output, checked before it is published: unique keys, non-NULL
//! columns and free SQL that must return no rows. The model's table name already points at
//! the new (staged) output when they run.

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::context::SessionContext;

use crate::cluster::retry;
use crate::config::AssertionConfig;
use crate::error::strip_context;
use crate::values::quote_identifier;

/// Run every assertion of `model`; the error is the first failed check, with examples.
pub async fn check(
    ctx: &SessionContext,
    model: &str,
    config: &AssertionConfig,
) -> Result<(), String> {
    for key in &config.unique {
        let columns = key
            .split(',')
            .map(|c| quote_identifier(c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, count(*) AS n FROM {model} GROUP BY {columns} HAVING count(*) > 1 \
             ORDER BY n DESC LIMIT 3"
        );
        let found = failing_rows(ctx, &sql).await?;
        if !found.is_empty() {
            return Err(format!(
                "assertion unique({key}) failed: duplicated keys such as {}",
                found.join("; ")
            ));
        }
    }
    for column in &config.not_null {
        let sql = format!(
            "SELECT count(*) AS n FROM {model} WHERE {} IS NULL HAVING count(*) > 0",
            quote_identifier(column)
        );
        let found = failing_rows(ctx, &sql).await?;
        if let Some(count) = found.first() {
            return Err(format!(
                "assertion not_null({column}) failed: {count} NULL values"
            ));
        }
    }
    for sql in &config.sql {
        let found = failing_rows(ctx, &format!("SELECT * FROM ({sql}) LIMIT 3")).await?;
        if !found.is_empty() {
            return Err(format!(
                "assertion failed, the query returned rows (showing up to 3): {}; query: {sql}",
                found.join("; ")
            ));
        }
    }
    Ok(())
}

/// Run `sql` and render each returned row as `a=1, b=x`.
async fn failing_rows(ctx: &SessionContext, sql: &str) -> Result<Vec<String>, String> {
    let run = || async { ctx.sql(sql).await?.collect().await };
    let batches = retry::on_lost_connection(ctx, "assertion query", run, || async { Ok(()) })
        .await
        .map_err(|e| {
            format!(
                "assertion query failed: {}; query: {sql}",
                strip_context(&e)
            )
        })?;
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in &batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let schema = batch.schema();
        // A lone count column (the not_null check) is shown as the bare number.
        let bare_count = schema.fields().len() == 1 && schema.field(0).name() == "n";
        for row in 0..batch.num_rows() {
            rows.push(if bare_count {
                formatters[0].value(row).to_string()
            } else {
                schema
                    .fields()
                    .iter()
                    .zip(&formatters)
                    .map(|(f, fmt)| format!("{}={}", f.name(), fmt.value(row)))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
        }
    }
    Ok(rows)
}
