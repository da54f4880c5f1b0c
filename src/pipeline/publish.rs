//! Published outputs: each model's materialised Parquet lives in its own version folder
//! (`OUTPUT/MODEL/VERSION/part-*.parquet`) and `OUTPUT/_manifest.json` says which version of
//! each model is current.
//!
//! A run writes new versions beside the old ones and then replaces the manifest in one atomic
//! put (a rename on local disk, a single-object PUT on object storage). Until that put, readers
//! see the last good outputs; a failed or killed run leaves them untouched. Old versions are
//! removed only after the switch, keeping `keep_versions` earlier ones for running readers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SessionContext;
use datafusion::execution::object_store::ObjectStoreUrl;
use futures::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::Workspace;
use crate::error::{C360Error, Result, strip_context};
use crate::sources::RegisteredSource;
use crate::sources::parse_remote_url;

/// The manifest file name inside the output location.
pub const MANIFEST: &str = "_manifest.json";

/// Which version of each model is current.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Current version per model name.
    pub models: BTreeMap<String, PublishedModel>,
}

/// One published model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishedModel {
    /// Version folder name (sortable: UTC time of the run plus a suffix).
    pub version: String,
    /// Rows written.
    pub rows: u64,
    /// When it was published (RFC 3339).
    pub published_at: String,
    /// Earlier versions still kept for readers, newest first.
    #[serde(default)]
    pub previous: Vec<String>,
    /// Digest of what it was built from: its SQL and settings and those of every model
    /// upstream of it (a model kept for its `every` is rebuilt when this changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The model files its build saved (paths under the model folder, such as `churn.json`):
    /// a model kept for its `every` is rebuilt when one of them is gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_files: Vec<String>,
    /// For a model built incrementally: the folders that hold its rows and what each run
    /// processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<Incremental>,
}

impl PublishedModel {
    /// The version folders that hold its rows: its segments, or its one version.
    pub fn folders(&self) -> Vec<String> {
        match &self.incremental {
            Some(inc) if !inc.segments.is_empty() => {
                inc.segments.iter().map(|s| s.version.clone()).collect()
            }
            _ => vec![self.version.clone()],
        }
    }
}

/// The state of an incremental model: an `append` model's rows live in several version
/// folders, each written by one run; a `merge` model's in one. A ledger records the times each
/// run (re)built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incremental {
    /// How it is built (`append` or `merge`).
    pub kind: String,
    /// Digest of the SQL and the `[models.NAME]` settings it was built with: when either
    /// changes, the next run rebuilds it whole.
    pub digest: String,
    /// The event-time column (`append`) or the updated-at column (`merge`).
    pub event_time: String,
    /// The folders holding its rows, oldest first.
    pub segments: Vec<Segment>,
    /// One entry per run that built it, oldest first.
    pub ledger: Vec<LedgerEntry>,
}

/// One folder of an incremental model's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The version folder (the run that wrote it).
    pub version: String,
    /// Rows of it the model shows (those before `until`).
    pub rows: u64,
    /// The earliest and latest event time in it (as text, `CAST(... AS VARCHAR)`); none when
    /// it is empty.
    pub min_time: Option<String>,
    /// See `min_time`.
    pub max_time: Option<String>,
    /// Its rows at or after this event time were rebuilt by a later run and are not shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// What one run of an incremental model processed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The run's version.
    pub version: String,
    /// The event times it rebuilt: from `from` (none: from the beginning, a full build) up
    /// to the latest event time after it, `to`.
    pub from: Option<String>,
    /// See `from`.
    pub to: Option<String>,
    /// Rows it wrote.
    pub rows: u64,
    /// A `partial` model's run that rebuilt only the rows of its condition: the version whose
    /// whole build the other rows come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_from: Option<String>,
}

/// The output location of a workspace, opened through the session's object stores.
#[derive(Debug, Clone)]
pub struct Output {
    /// The location as configured.
    pub location: String,
    /// Its URL, ending in `/`.
    pub url: Url,
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
}

impl Output {
    /// Resolve the workspace's output location (creating a local folder if needed).
    pub fn open(ctx: &SessionContext, workspace: &Workspace) -> Result<Self> {
        let location = workspace.config.pipeline.output.clone();
        let err = |message: String| C360Error::Output {
            location: location.clone(),
            message,
        };
        let mut url = match parse_remote_url(&location) {
            Some(url) => url,
            None => {
                let path = location.strip_prefix("file://").unwrap_or(&location);
                let path = workspace.root.join(path);
                std::fs::create_dir_all(&path)
                    .map_err(|e| err(format!("cannot create folder {}: {e}", path.display())))?;
                let path = path.canonicalize().unwrap_or(path);
                Url::from_directory_path(&path)
                    .map_err(|_| err(format!("{} is not an absolute path", path.display())))?
            }
        };
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let store_url = ObjectStoreUrl::parse(&url[..url::Position::BeforePath])
            .map_err(|e| err(strip_context(&e)))?;
        let store = ctx
            .runtime_env()
            .object_store(&store_url)
            .map_err(|e| err(strip_context(&e)))?;
        let prefix = StorePath::from_url_path(url.path()).map_err(|e| err(e.to_string()))?;
        Ok(Self {
            location,
            url,
            store,
            prefix,
        })
    }

    fn err(&self, message: String) -> C360Error {
        C360Error::Output {
            location: self.location.clone(),
            message,
        }
    }

    fn path(&self, relative: &str) -> StorePath {
        let mut path = self.prefix.clone();
        for part in relative.split('/').filter(|p| !p.is_empty()) {
            path = path.join(part);
        }
        path
    }

    /// URL of a model version's folder, ending in `/`.
    pub fn version_url(&self, model: &str, version: &str) -> String {
        format!("{}{model}/{version}/", self.url)
    }

    /// Read the manifest; an output location without one has published nothing yet.
    pub async fn read_manifest(&self) -> Result<Manifest> {
        match self.store.get(&self.path(MANIFEST)).await {
            Ok(got) => {
                let bytes = got
                    .bytes()
                    .await
                    .map_err(|e| self.err(format!("cannot read {MANIFEST}: {e}")))?;
                serde_json::from_slice(&bytes).map_err(|e| {
                    self.err(format!(
                        "{MANIFEST} is not valid ({e}); restore it from backup or delete it \
                         and run `c360 run` again"
                    ))
                })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(Manifest::default()),
            Err(e) => Err(self.err(format!("cannot read {MANIFEST}: {e}"))),
        }
    }

    /// Replace the manifest atomically.
    pub async fn write_manifest(&self, manifest: &Manifest) -> Result<()> {
        let json = serde_json::to_vec_pretty(manifest)
            .map_err(|e| self.err(format!("cannot encode {MANIFEST}: {e}")))?;
        self.store
            .put(&self.path(MANIFEST), PutPayload::from(json))
            .await
            .map_err(|e| self.err(format!("cannot write {MANIFEST}: {e}")))?;
        Ok(())
    }

    /// Number of files in a model version's folder.
    pub async fn count_files(&self, model: &str, version: &str) -> Result<usize> {
        let prefix = self.path(&format!("{model}/{version}"));
        let files: Vec<_> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| self.err(format!("cannot list {model}/{version}: {e}")))?;
        Ok(files.len())
    }

    /// Write an empty Parquet file with `schema` into a version folder, so that a model with
    /// no rows still has a readable, typed output.
    pub async fn write_empty(&self, model: &str, version: &str, schema: SchemaRef) -> Result<()> {
        let mut buffer = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut buffer, schema, None)
            .map_err(|e| self.err(format!("cannot encode empty output of {model}: {e}")))?;
        writer.flush().ok();
        writer
            .close()
            .map_err(|e| self.err(format!("cannot encode empty output of {model}: {e}")))?;
        self.store
            .put(
                &self.path(&format!("{model}/{version}/part-0.parquet")),
                PutPayload::from(buffer),
            )
            .await
            .map_err(|e| self.err(format!("cannot write empty output of {model}: {e}")))?;
        Ok(())
    }

    /// Delete a model version's folder (a staged output that failed, or an old version).
    pub async fn delete_version(&self, model: &str, version: &str) -> Result<()> {
        let prefix = self.path(&format!("{model}/{version}"));
        let files: Vec<_> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|e| self.err(format!("cannot list {model}/{version}: {e}")))?;
        for file in files {
            match self.store.delete(&file).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.err(format!("cannot delete {file}: {e}"))),
            }
        }
        if self.url.scheme() == "file" {
            // Object stores have no folders; on local disk remove the now empty one.
            let dir = Path::new("/").join(prefix.as_ref());
            std::fs::remove_dir(dir).ok();
        }
        Ok(())
    }

    /// Version folders present for a model, whether published or not.
    pub async fn versions(&self, model: &str) -> Result<Vec<String>> {
        let listing = self
            .store
            .list_with_delimiter(Some(&self.path(model)))
            .await
            .map_err(|e| self.err(format!("cannot list {model}/: {e}")))?;
        Ok(listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect())
    }
}

/// Register a model version as table `name` (replacing any table of that name).
pub async fn register_version(
    ctx: &SessionContext,
    output: &Output,
    name: &str,
    version: &str,
) -> Result<()> {
    register_parquet_folder(ctx, name, &output.version_url(name, version)).await
}

/// Register a published model as table `name`: its version, or an incremental model's
/// segments (each without the rows a later run rebuilt).
pub async fn register_model(
    ctx: &SessionContext,
    output: &Output,
    name: &str,
    version: &str,
    incremental: Option<&Incremental>,
) -> Result<()> {
    let Some(inc) = incremental.filter(|inc| !inc.segments.is_empty()) else {
        return register_version(ctx, output, name, version).await;
    };
    let folders: Vec<String> = inc
        .segments
        .iter()
        .map(|s| output.version_url(name, &s.version))
        .collect();
    if inc.segments.iter().all(|s| s.until.is_none()) {
        return register_parquet_folders(ctx, name, &folders).await;
    }
    // Each segment as its own scan, cut at its `until`, all of them under one view.
    let mut union: Option<datafusion::dataframe::DataFrame> = None;
    for (segment, folder) in inc.segments.iter().zip(&folders) {
        let table = listing_table(ctx, std::slice::from_ref(folder)).await?;
        let mut frame = ctx.read_table(table)?;
        if let Some(until) = &segment.until {
            frame = frame.filter(
                datafusion::prelude::ident(&inc.event_time)
                    .lt(datafusion::prelude::lit(until.clone())),
            )?;
        }
        union = Some(match union {
            None => frame,
            Some(all) => all.union(frame)?,
        });
    }
    let view = union.expect("segments are not empty").into_view();
    ctx.deregister_table(name)?;
    ctx.register_table(name, view)?;
    Ok(())
}

/// Register the Parquet files of a folder (a URL ending in `/`) as table `name`, replacing any
/// table of that name. String columns are read as plain Utf8 even where the files' Arrow
/// schema says Utf8View (see `session_context`: views taken through join chains keep whole
/// build sides alive, counted once per batch).
pub async fn register_parquet_folder(ctx: &SessionContext, name: &str, folder: &str) -> Result<()> {
    register_parquet_folders(ctx, name, &[folder.to_string()]).await
}

/// Register the Parquet files of several folders as one table `name`; the first folder's
/// files give the schema.
pub async fn register_parquet_folders(
    ctx: &SessionContext,
    name: &str,
    folders: &[String],
) -> Result<()> {
    let table = listing_table(ctx, folders).await?;
    ctx.deregister_table(name)?;
    ctx.register_table(name, table)?;
    Ok(())
}

/// A table over the Parquet files of `folders`, string columns read as Utf8.
async fn listing_table(ctx: &SessionContext, folders: &[String]) -> Result<Arc<ListingTable>> {
    let urls = folders
        .iter()
        .map(ListingTableUrl::parse)
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    let Some(url) = urls.first() else {
        return Err(C360Error::Pipeline("no folder to read".to_string()));
    };
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let inferred = options.infer_schema(&ctx.state(), url).await?;
    let schema = Arc::new(Schema::new_with_metadata(
        inferred
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8View => Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8)),
                _ => Arc::clone(f),
            })
            .collect::<Vec<_>>(),
        inferred.metadata().clone(),
    ));
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Register every published model of the workspace; returns their names. A model whose name
/// is also a source is skipped with a warning (the source wins).
pub async fn register_published(
    ctx: &SessionContext,
    workspace: &Workspace,
    sources: &BTreeMap<String, RegisteredSource>,
) -> Result<Vec<String>> {
    let output = Output::open(ctx, workspace)?;
    let manifest = output.read_manifest().await?;
    let mut names = Vec::new();
    for (name, model) in &manifest.models {
        if sources.contains_key(name) {
            tracing::warn!("published model '{name}' has the name of a source; the source wins");
            continue;
        }
        match register_model(
            ctx,
            &output,
            name,
            &model.version,
            model.incremental.as_ref(),
        )
        .await
        {
            Ok(()) => names.push(name.clone()),
            Err(e) => tracing::warn!(
                "published model '{name}' (version {}) cannot be read: {e}; run `c360 run` \
                 to rebuild it",
                model.version
            ),
        }
    }
    Ok(names)
}

/// The rows of every published model, from the manifest (empty when nothing is published or
/// the output cannot be read).
pub async fn published_rows(engine: &crate::Engine) -> BTreeMap<String, u64> {
    let Ok(output) = Output::open(&engine.ctx, &engine.workspace) else {
        return BTreeMap::new();
    };
    output
        .read_manifest()
        .await
        .map(|m| m.models.into_iter().map(|(k, v)| (k, v.rows)).collect())
        .unwrap_or_default()
}
