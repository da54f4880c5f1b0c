//! Sources: tables registered from files where they lie, on local disk or object storage.
//!
//! A location is a file, a folder (every file with the format's extension is one table) or a
//! glob, given as a path relative to the workspace or as a URL. Schemas are declared in
//! `c360.toml` or inferred; when inference or a scan fails, [`diagnose`] reads the files one
//! by one to name the file that is at fault.

pub mod diagnose;
pub mod object_stores;
pub mod schema;

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::GetExt;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SessionContext;
use futures::TryStreamExt;
use object_store::ObjectMeta;
use url::Url;

use crate::config::{SourceConfig, SourceFormat};
use crate::error::{C360Error, Result};

/// A source as registered: enough to re-read any of its files alone.
#[derive(Debug, Clone)]
pub struct RegisteredSource {
    /// Table name.
    pub name: String,
    /// The location as written in the config.
    pub location: String,
    /// The resolved URL (with glob, if any).
    pub url: ListingTableUrl,
    /// Format, extension and partitioning options.
    pub options: ListingOptions,
    /// The table schema (declared or inferred).
    pub schema: SchemaRef,
}

impl RegisteredSource {
    /// The files the source consists of now.
    pub async fn files(&self, ctx: &SessionContext) -> Result<Vec<ObjectMeta>> {
        list_files(ctx, &self.name, &self.location, &self.url, &self.options).await
    }
}

/// Register one source as a table named `name`.
pub async fn register(
    ctx: &SessionContext,
    root: &Path,
    name: &str,
    source: &SourceConfig,
) -> Result<RegisteredSource> {
    let err = |message: String| C360Error::Source {
        name: name.to_string(),
        message,
    };
    let url = resolve_location(root, &source.location).map_err(err)?;
    let options = listing_options(source, &url);
    let files = list_files(ctx, name, &source.location, &url, &options).await?;
    if files.is_empty() {
        return Err(err(format!(
            "location '{}' has no {} files{}; check the path (relative paths are read from \
             the workspace folder {})",
            source.location,
            options.file_extension,
            if url.scheme() == "file" {
                format!(" (looked in {})", url.as_str())
            } else {
                String::new()
            },
            root.display()
        )));
    }
    let schema = match &source.schema {
        Some(columns) => schema::declared_schema(columns).map_err(err)?,
        None => match infer_from_files(ctx, &url, &options, &files).await {
            Ok(schema) => schema,
            Err(e) => {
                let detail = diagnose::infer_per_file(ctx, root, &url, &options, &files).await;
                return Err(err(detail.unwrap_or_else(|| {
                    format!(
                        "cannot read the schema of '{}': {}",
                        source.location,
                        crate::error::strip_context(&e)
                    )
                })));
            }
        },
    };
    let config = ListingTableConfig::new(url.clone())
        .with_listing_options(options.clone())
        .with_schema(Arc::clone(&schema));
    let table = ListingTable::try_new(config)?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(RegisteredSource {
        name: name.to_string(),
        location: source.location.clone(),
        url,
        options,
        schema,
    })
}

/// Infer the schema of already listed files (empty files are skipped, as DataFusion does),
/// without listing the location again.
async fn infer_from_files(
    ctx: &SessionContext,
    url: &ListingTableUrl,
    options: &ListingOptions,
    files: &[ObjectMeta],
) -> datafusion::error::Result<SchemaRef> {
    let store = ctx.runtime_env().object_store(url)?;
    let files: Vec<ObjectMeta> = files.iter().filter(|f| f.size > 0).cloned().collect();
    options
        .format
        .infer_schema(&ctx.state(), &store, &files)
        .await
}

/// The listing options (format, extension) for a source.
fn listing_options(source: &SourceConfig, url: &ListingTableUrl) -> ListingOptions {
    let compression = match source.compression.as_deref() {
        Some("gzip") => FileCompressionType::GZIP,
        Some("bzip2") => FileCompressionType::BZIP2,
        Some("xz") => FileCompressionType::XZ,
        Some("zstd") => FileCompressionType::ZSTD,
        _ => FileCompressionType::UNCOMPRESSED,
    };
    let format: Arc<dyn FileFormat> = match source.format {
        SourceFormat::Parquet => Arc::new(ParquetFormat::default()),
        SourceFormat::Csv => {
            let csv = &source.csv;
            let mut format = CsvFormat::default()
                .with_has_header(csv.header)
                .with_delimiter(csv.delimiter as u8)
                .with_quote(csv.quote as u8)
                .with_file_compression_type(compression);
            if let Some(null_regex) = &csv.null_regex {
                format = format.with_null_regex(Some(null_regex.clone()));
            }
            Arc::new(format)
        }
        SourceFormat::Json => {
            Arc::new(JsonFormat::default().with_file_compression_type(compression))
        }
    };
    // A single named file is read whatever its extension; folders and globs are filtered.
    let extension = match &source.file_extension {
        Some(ext) => ext.clone(),
        None if !url.is_collection() && url.get_glob().is_none() => String::new(),
        None => format!("{}{}", source.format.extension(), compression.get_ext()),
    };
    ListingOptions::new(format).with_file_extension(extension)
}

/// List a source's files, with an error that names the location when listing fails.
async fn list_files(
    ctx: &SessionContext,
    name: &str,
    location: &str,
    url: &ListingTableUrl,
    options: &ListingOptions,
) -> Result<Vec<ObjectMeta>> {
    let err = |message: String| C360Error::Source {
        name: name.to_string(),
        message,
    };
    let store = ctx
        .runtime_env()
        .object_store(url)
        .map_err(|e| err(crate::error::strip_context(&e)))?;
    let state = ctx.state();
    let listed = url
        .list_all_files(&state, store.as_ref(), &options.file_extension)
        .await;
    let files = match listed {
        Ok(stream) => stream.try_collect::<Vec<_>>().await,
        Err(e) => Err(e),
    };
    files.map_err(|e| {
        let hint = object_stores::credentials_hint(url.scheme());
        err(format!(
            "cannot list location '{location}': {}{}",
            crate::error::strip_context(&e),
            if url.scheme() == "file" {
                String::new()
            } else {
                format!(" (does the bucket exist? {hint})")
            }
        ))
    })
}

/// Resolve a configured location to a listing URL: URLs as they are (a glob in their path is
/// split off), local paths relative to the workspace root.
pub fn resolve_location(
    root: &Path,
    location: &str,
) -> std::result::Result<ListingTableUrl, String> {
    let location = location.trim();
    if let Some(url) = parse_remote_url(location) {
        let (base, glob) = split_glob(url.as_str());
        let parsed = ListingTableUrl::parse(base)
            .map_err(|e| format!("location '{location}' is not a valid URL: {e}"))?;
        return match glob {
            Some(glob) => parsed
                .with_glob(glob)
                .map_err(|e| format!("location '{location}': bad glob '{glob}': {e}")),
            None => Ok(parsed),
        };
    }
    if let Ok(url) = Url::parse(location)
        && url.scheme().len() > 1
        && url.scheme() != "file"
    {
        return Err(format!(
            "location '{location}': scheme '{}' is not supported; use a local path or a URL \
             with one of file, {}",
            url.scheme(),
            object_stores::REMOTE_SCHEMES.join(", ")
        ));
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let absolute = if Path::new(path).is_absolute() {
        Path::new(path).to_path_buf()
    } else {
        root.join(path)
    };
    let mut text = absolute.to_string_lossy().into_owned();
    let has_glob = text.contains(['*', '?', '[']);
    if !has_glob {
        if !absolute.exists() {
            return Err(format!(
                "location '{location}' does not exist (looked for {}); check the path \
                 (relative paths are read from the workspace folder)",
                absolute.display()
            ));
        }
        if absolute.is_dir() && !text.ends_with('/') {
            text.push('/');
        }
    }
    ListingTableUrl::parse(&text).map_err(|e| format!("location '{location}': {e}"))
}

/// A URL with a scheme c360 treats as remote or explicit (`file://` is handled as a path).
pub fn parse_remote_url(location: &str) -> Option<Url> {
    let url = Url::parse(location).ok()?;
    object_stores::REMOTE_SCHEMES
        .contains(&url.scheme())
        .then_some(url)
}

/// Split `s3://b/dir/*.csv` into `("s3://b/dir/", Some("*.csv"))`.
fn split_glob(url: &str) -> (&str, Option<&str>) {
    match url.find(['*', '?', '[']) {
        Some(first) => {
            let cut = url[..first].rfind('/').map(|i| i + 1).unwrap_or(first);
            (&url[..cut], Some(&url[cut..]))
        }
        None => (url, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_split_at_the_segment() {
        assert_eq!(
            split_glob("s3://b/orders/*.parquet"),
            ("s3://b/orders/", Some("*.parquet"))
        );
        assert_eq!(split_glob("s3://b/orders/"), ("s3://b/orders/", None));
    }

    #[test]
    fn missing_local_path_is_named() {
        let err = resolve_location(Path::new("/nowhere"), "data/x.csv").unwrap_err();
        assert!(
            err.contains("data/x.csv") && err.contains("/nowhere/data/x.csv"),
            "{err}"
        );
    }

    #[test]
    fn remote_urls_are_kept() {
        let url = resolve_location(Path::new("/ws"), "s3://bucket/crm/").unwrap();
        assert_eq!(url.scheme(), "s3");
        assert!(url.is_collection());
    }
}
