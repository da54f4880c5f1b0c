//! c360: an embedded customer-360 query engine on Apache DataFusion.
//!
//! [`Engine::open`] is the one facade every interface uses: given a [`Workspace`] it builds a
//! [`SessionContext`] with information_schema on, every source registered, every c360 SQL
//! function registered and the published outputs of earlier pipeline runs registered as tables.

pub mod cluster;
pub mod config;
pub mod error;
pub mod eval;
pub mod flight;
pub mod functions;
pub mod generate;
pub mod memory;
pub mod models;
pub mod pipeline;
pub mod shell;
pub mod sources;
pub mod sql_limits;
pub mod stop;
pub mod text;
pub mod values;

use std::collections::BTreeMap;
use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use datafusion::execution::SessionState;
use datafusion::execution::context::SessionContext;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionConfig;

pub use crate::config::Workspace;
pub use crate::error::{C360Error, Result};
use crate::sources::RegisteredSource;

/// A workspace opened for querying: the session plus what was registered in it.
pub struct Engine {
    /// The workspace this engine reads.
    pub workspace: Workspace,
    /// The DataFusion session with sources, functions and published models.
    pub ctx: SessionContext,
    /// Registered sources by name.
    pub sources: BTreeMap<String, RegisteredSource>,
    /// Names of the published models registered as tables.
    pub published: Vec<String>,
    /// Sources that could not be registered, with the reason. The rest of the workspace stays
    /// usable; a query or model that reads one of these gets this error.
    pub broken: BTreeMap<String, String>,
}

impl Engine {
    /// Open a workspace: register its sources, the c360 functions and published models.
    pub async fn open(workspace: &Workspace) -> Result<Self> {
        let ctx = session_context(workspace)?;
        let mut sources = BTreeMap::new();
        let mut broken = BTreeMap::new();
        for (name, source) in &workspace.config.sources {
            match sources::register(&ctx, &workspace.root, name, source).await {
                Ok(registered) => {
                    sources.insert(name.clone(), registered);
                }
                Err(e) => {
                    tracing::warn!("{e}");
                    broken.insert(name.clone(), e.to_string());
                }
            }
        }
        let published = pipeline::publish::register_published(&ctx, workspace, &sources).await?;
        Ok(Self {
            workspace: workspace.clone(),
            ctx,
            sources,
            published,
            broken,
        })
    }

    /// The registration error of the first broken source among `tables`, if any.
    pub fn check_sources<'a>(&self, tables: impl IntoIterator<Item = &'a str>) -> Result<()> {
        for table in tables {
            if let Some(message) = self.broken.get(table) {
                return Err(C360Error::Query(message.clone()));
            }
        }
        Ok(())
    }

    /// After a query over `tables` failed, read the files of those that are sources one by one
    /// and return the first file-level error, naming the file.
    pub async fn diagnose_sources<'a>(
        &self,
        tables: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        for table in tables {
            if let Some(source) = self.sources.get(table)
                && let Some(message) =
                    sources::diagnose::scan_per_file(&self.ctx, &self.workspace.root, source).await
            {
                return Some(format!("source '{table}': {message}"));
            }
        }
        None
    }
}

/// A session configured from the workspace (memory limit, partitions, object stores from the
/// environment, all c360 functions) with no tables registered yet. With `[engine] cluster`
/// set, plans that read only files run on that Ballista cluster.
pub fn session_context(workspace: &Workspace) -> Result<SessionContext> {
    let state = session_state(workspace)?;
    let state = match &workspace.config.engine.cluster {
        Some(url) => cluster::connect(state, url, workspace)?,
        None => state,
    };
    // After the cluster upgrade, which resets the function lists to DataFusion's.
    let ctx = SessionContext::new_with_state(state);
    functions::register_all(&ctx, workspace)?;
    Ok(ctx)
}

/// The workspace's session settings and runtime (memory pool, object stores), without c360's
/// functions or any table.
pub fn session_state(workspace: &Workspace) -> Result<SessionState> {
    let engine = &workspace.config.engine;
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_batch_size(engine.batch_size);
    if engine.cluster.is_some() {
        // Ballista's settings (`ballista.*`) exist before [engine.options] sets them.
        config = cluster::version::stamped(config.upgrade_for_ballista());
        // Results are fetched from the executors in messages of up to this size (Ballista's
        // default of 16 MiB is passed by one wide batch of a model at 300,000 customers).
        config.options_mut().set(
            "ballista.client.grpc_max_message_size",
            &cluster::scheduler::MAX_MESSAGE_BYTES.to_string(),
        )?;
    }
    if let Some(partitions) = engine.target_partitions {
        config = config.with_target_partitions(partitions);
    }
    // Published models are read far more often than written: snappy (DuckDB's default too)
    // writes ~15% faster than DataFusion's zstd(3) and reads faster; [engine.options] overrides.
    config.options_mut().execution.parquet.compression = Some("snappy".to_string());
    // Strings read from Parquet as plain Utf8, not Utf8View. A view array taken through a
    // chain of hash joins keeps pointing into the whole build side's buffers, and a sort or
    // join counts those shared buffers once per batch: customer_features at 115,000 customers
    // asked the pool for 52 GB. Plain strings are copied by each join, so memory is what the
    // rows hold. [engine.options] can turn views back on.
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    for (key, value) in &engine.options {
        config
            .options_mut()
            .set(key, value)
            .map_err(|e| C360Error::Config {
                file: workspace.root.join(config::CONFIG_FILE),
                message: format!(
                    "[engine.options] '{key}' = '{value}': {}; see SHOW ALL for the settings",
                    error::strip_context(&e)
                ),
            })?;
    }
    let mut runtime = RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(
        sources::object_stores::EnvObjectStoreRegistry::new(),
    ));
    if let Some(bytes) = memory_limit_bytes(workspace)? {
        runtime = runtime.with_memory_limit(bytes, 1.0);
    }
    // The pool with a high-water mark in front of the configured one (per-model peaks).
    let configured = runtime.memory_pool.clone().unwrap_or_else(|| {
        Arc::new(datafusion::execution::memory_pool::UnboundedMemoryPool::default())
    });
    let pool = Arc::new(memory::PeakPool::new(configured));
    runtime = runtime.with_memory_pool(Arc::clone(&pool) as _);
    Ok(SessionStateBuilder::new()
        .with_config(config.with_extension(pool))
        .with_runtime_env(runtime.build_arc()?)
        .with_default_features()
        .build())
}

/// `[engine] memory_limit` in bytes, if set.
pub fn memory_limit_bytes(workspace: &Workspace) -> Result<Option<usize>> {
    let Some(limit) = &workspace.config.engine.memory_limit else {
        return Ok(None);
    };
    config::parse_bytes(limit)
        .map(Some)
        .map_err(|message| C360Error::Config {
            file: workspace.root.join(config::CONFIG_FILE),
            message: format!("[engine] memory_limit: {message}"),
        })
}
