//! Naming the bad file: when a source's schema cannot be inferred or a scan fails, its files
//! are read one at a time so the error can say which file, and what is wrong with it.
//!
//! This only runs after a failure, so the normal path pays nothing for it.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SessionContext;
use futures::StreamExt;
use object_store::ObjectMeta;

use super::RegisteredSource;
use crate::error::strip_context;

/// Infer each file's schema alone; report the first file that cannot be read or whose column
/// types disagree with an earlier file.
pub async fn infer_per_file(
    ctx: &SessionContext,
    root: &Path,
    url: &ListingTableUrl,
    options: &ListingOptions,
    files: &[ObjectMeta],
) -> Option<String> {
    let mut first: Option<(String, SchemaRef)> = None;
    for meta in files {
        let (_, shown) = file_url(root, url, meta)?;
        let one = std::slice::from_ref(meta);
        let schema = match super::infer_from_files(ctx, url, options, one).await {
            Ok(schema) => schema,
            Err(e) => {
                return Some(format!(
                    "file {shown}: cannot read it as {}: {}",
                    format_name(options),
                    reader_message(&strip_context(&e))
                ));
            }
        };
        match &first {
            None => first = Some((shown, schema)),
            Some((first_shown, first_schema)) => {
                for field in schema.fields() {
                    if let Ok(earlier) = first_schema.field_with_name(field.name())
                        && earlier.data_type() != field.data_type()
                    {
                        return Some(format!(
                            "file {shown}: column '{}' is {} but file {first_shown} has {}; \
                             the files of one source must agree on column types (fix the \
                             file, or declare the schema in c360.toml to read both as one type)",
                            field.name(),
                            field.data_type(),
                            earlier.data_type()
                        ));
                    }
                }
            }
        }
    }
    None
}

/// Scan every file of a source alone and return the first file's error, naming the file.
pub async fn scan_per_file(
    ctx: &SessionContext,
    root: &Path,
    source: &RegisteredSource,
) -> Option<String> {
    let files = match source.files(ctx).await {
        Ok(files) => files,
        Err(e) => return Some(e.to_string()),
    };
    for meta in &files {
        let (url, shown) = file_url(root, &source.url, meta)?;
        if let Err(e) = scan_file(ctx, source, url).await {
            if crate::error::is_cluster_failure(&e) {
                // Not the file's fault; the query's own error says what failed.
                return None;
            }
            return Some(format!(
                "file {shown}: {}",
                reader_message(&strip_context(&e))
            ));
        }
    }
    None
}

async fn scan_file(
    ctx: &SessionContext,
    source: &RegisteredSource,
    url: ListingTableUrl,
) -> datafusion::error::Result<()> {
    let config = ListingTableConfig::new(url)
        .with_listing_options(source.options.clone().with_file_extension(""))
        .with_schema(Arc::clone(&source.schema));
    let table = ListingTable::try_new(config)?;
    let mut stream = ctx.read_table(Arc::new(table))?.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        batch?;
    }
    Ok(())
}

/// The URL of one file of the source and how to show it to a user (relative to the workspace
/// for local files).
fn file_url(
    root: &Path,
    source_url: &ListingTableUrl,
    meta: &ObjectMeta,
) -> Option<(ListingTableUrl, String)> {
    let base = source_url.object_store();
    let full = format!("{}{}", base.as_str(), meta.location);
    let url = ListingTableUrl::parse(&full).ok()?;
    let shown = if source_url.scheme() == "file" {
        let path = format!("/{}", meta.location);
        Path::new(&path)
            .strip_prefix(root)
            .map(|p| p.display().to_string())
            .unwrap_or(path)
    } else {
        full
    };
    Some((url, shown))
}

/// The reader's own message without the wrappers that repeat the file path or the layer.
fn reader_message(message: &str) -> String {
    let mut text = message.trim_start_matches("External error: ");
    if let Some(rest) = text.strip_prefix("Error when processing CSV file ")
        && let Some(cut) = rest.find(": ")
    {
        text = &rest[cut + 2..];
    }
    for prefix in [
        "Arrow error: ",
        "Parquet error: ",
        "Csv error: ",
        "Json error: ",
    ] {
        while let Some(rest) = text.strip_prefix(prefix) {
            text = rest;
        }
    }
    text.to_string()
}

fn format_name(options: &ListingOptions) -> String {
    options.format.get_ext().trim_start_matches('.').to_string()
}
