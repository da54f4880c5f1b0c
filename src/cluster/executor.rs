//! `c360 executor`: Ballista's executor with every c360 function in its registry, c360's
//! object stores (s3/gs/az/http from the environment) in every task's runtime, and the
//! workspace's memory limit as its memory pool.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;

use super::scheduler::MAX_MESSAGE_BYTES;
use crate::config::Workspace;
use crate::error::{C360Error, Result};
use crate::sources::object_stores::EnvObjectStoreRegistry;

/// Seconds between the executor's heartbeats to the scheduler.
const HEARTBEAT_SECONDS: u64 = 3;

/// How the executor is reached and what it offers (the flags of `c360 executor`).
#[derive(Debug, Clone, clap::Args)]
pub struct ExecutorOptions {
    /// The scheduler, HOST:PORT or df://HOST:PORT.
    #[arg(long, default_value = "localhost:50050")]
    pub scheduler: String,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Arrow Flight port (partitions are fetched from it); 0 picks a free one.
    #[arg(long, default_value_t = super::EXECUTOR_PORT)]
    pub port: u16,
    /// gRPC port (the scheduler hands tasks to it); 0 picks a free one.
    #[arg(long, default_value_t = super::EXECUTOR_GRPC_PORT)]
    pub grpc_port: u16,
    /// Host name the scheduler and other executors reach this one by (default: --bind).
    #[arg(long)]
    pub external_host: Option<String>,
    /// Folder for shuffle files and spills (default: a new folder in the system's temp).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Tasks run at once (default: the number of cores).
    #[arg(long, default_value_t = 0)]
    pub slots: usize,
    /// Memory pool of the executor, e.g. 8GiB (default: [engine] memory_limit, else
    /// Ballista's share of the machine's memory).
    #[arg(long, value_parser = memory_limit)]
    pub memory_limit: Option<u64>,
    /// Print no line per task run.
    #[arg(long)]
    pub quiet: bool,
}

/// `--memory-limit` in bytes.
fn memory_limit(text: &str) -> std::result::Result<u64, String> {
    crate::config::parse_bytes(text).map(|bytes| bytes as u64)
}

/// What a started executor reports on its first line.
#[derive(Debug, Clone)]
pub struct Started {
    /// `bind:port` of the Arrow Flight service.
    pub flight: String,
    /// The gRPC port.
    pub grpc_port: u16,
    /// `host:port` of the scheduler.
    pub scheduler: String,
    /// Task slots.
    pub slots: usize,
    /// The memory pool, when bounded.
    pub memory_limit: Option<u64>,
    /// The work folder.
    pub work_dir: PathBuf,
}

/// Run until SIGTERM, Ctrl-C or the scheduler's stop request; `ready` is told where it
/// listens before it connects. Returns how many tasks it ran.
pub async fn run(
    workspace: &Workspace,
    options: &ExecutorOptions,
    ready: impl FnOnce(&Started),
) -> Result<usize> {
    let (scheduler_host, scheduler_port) = super::scheduler_host_port(&options.scheduler)
        .map_err(|message| C360Error::Query(format!("c360 executor --scheduler: {message}")))?;
    let state = super::workspace_state(workspace)?;
    let memory_limit = match options.memory_limit {
        Some(bytes) => Some(bytes),
        None => crate::memory_limit_bytes(workspace)?.map(|bytes| bytes as u64),
    };
    let port = super::pick_port(&options.bind, options.port)?;
    let grpc_port = super::pick_port(&options.bind, options.grpc_port)?;
    let (work_dir, made_work_dir) = match &options.work_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("c360-executor-{}-{grpc_port}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&work_dir).map_err(|e| {
        C360Error::Query(format!(
            "c360 executor: cannot create the work folder {}: {e}; pass --work-dir",
            work_dir.display()
        ))
    })?;
    let slots = if options.slots == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.slots
    };
    let registry = Arc::new(EnvObjectStoreRegistry::new());
    let temp = work_dir.clone();
    let defaults = ExecutorProcessConfig::default();
    let tasks = Arc::new(AtomicUsize::new(0));
    let engine = super::tasks::C360Engine::new(Arc::clone(&tasks), !options.quiet);
    let config = ExecutorProcessConfig {
        bind_host: options.bind.clone(),
        external_host: options.external_host.clone(),
        port,
        grpc_port,
        scheduler_host: scheduler_host.clone(),
        scheduler_port,
        // An executor started with its scheduler waits for it instead of failing.
        scheduler_connect_timeout_seconds: 30,
        vcores: slots,
        // Often enough for the scheduler's executor timeout (20 s by default) to notice a lost
        // executor in seconds rather than Ballista's default minutes.
        executor_heartbeat_interval_seconds: HEARTBEAT_SECONDS,
        work_dir: Some(work_dir.display().to_string()),
        grpc_max_decoding_message_size: MAX_MESSAGE_BYTES,
        grpc_max_encoding_message_size: MAX_MESSAGE_BYTES,
        memory_pool_size: memory_limit,
        override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&state))),
        override_config_producer: Some(Arc::new(super::version::receiving)),
        override_logical_codec: Some(Arc::new(super::codec::LogicalCodec::new(&state))),
        override_physical_codec: Some(Arc::new(super::codec::PhysicalCodec::new(&state))),
        override_execution_engine: Some(Arc::new(engine)),
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| {
            let runtime = RuntimeEnvBuilder::new()
                .with_object_store_registry(Arc::clone(&registry) as _)
                .with_temp_file_path(temp.clone())
                .build()?;
            Ok(Arc::new(runtime))
        })),
        ..defaults
    };
    ready(&Started {
        flight: format!("{}:{port}", options.bind),
        grpc_port,
        scheduler: format!("{scheduler_host}:{scheduler_port}"),
        slots,
        memory_limit,
        work_dir: work_dir.clone(),
    });
    let outcome = start_executor_process(Arc::new(config))
        .await
        .map_err(|e| C360Error::Query(format!("c360 executor: {e}")));
    if made_work_dir {
        std::fs::remove_dir_all(&work_dir).ok();
    }
    outcome.map(|()| tasks.load(Ordering::Relaxed))
}
