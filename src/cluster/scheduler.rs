//! `c360 scheduler`: Ballista's scheduler with c360's functions and object stores in the
//! session every client's query is decoded and planned in.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use crate::config::Workspace;
use crate::error::{C360Error, Result};

/// The largest gRPC message the scheduler and executors accept (Ballista's default is 16 MiB;
/// a plan that carries many files or a task status with big metrics passes it).
pub const MAX_MESSAGE_BYTES: u32 = 256 << 20;

/// How often the scheduler looks for executors whose heartbeat stopped.
const EXPIRY_CHECK_SECONDS: u64 = 5;

/// Where the scheduler listens (the flags of `c360 scheduler`).
#[derive(Debug, Clone, clap::Args)]
pub struct SchedulerOptions {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Port to listen on; 0 picks a free one (the first line of output names it).
    #[arg(long, default_value_t = super::SCHEDULER_PORT)]
    pub port: u16,
    /// Host name executors and clients reach this scheduler by (default: --bind).
    #[arg(long)]
    pub external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor counts as lost and its tasks run
    /// elsewhere (executors beat every few seconds; Ballista's default is 180).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(10..))]
    pub executor_timeout: u64,
}

/// Serve until `stop` completes; `ready` is told the bound address first.
pub async fn serve(
    workspace: &Workspace,
    options: &SchedulerOptions,
    ready: impl FnOnce(SocketAddr),
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let template = Arc::new(super::workspace_state(workspace)?);
    let logical_codec = Arc::new(super::codec::LogicalCodec::new(&template));
    let physical_codec = Arc::new(super::codec::PhysicalCodec::new(&template));
    let listener = tokio::net::TcpListener::bind((options.bind.as_str(), options.port))
        .await
        .map_err(|e| {
            C360Error::Query(format!(
                "c360 scheduler: cannot listen on {}:{}: {e}; pick another --port",
                options.bind, options.port
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| C360Error::Query(format!("c360 scheduler: {e}")))?;
    let mut config = SchedulerConfig::default()
        .with_hostname(
            options
                .external_host
                .clone()
                .unwrap_or_else(|| options.bind.clone()),
        )
        .with_port(addr.port())
        .with_grpc_client_max_message_size(MAX_MESSAGE_BYTES)
        .with_override_config_producer(Arc::new(super::version::receiving))
        .with_override_session_builder(Arc::new(move |config| {
            super::state_for_client(&template, config)
        }));
    config.bind_host = options.bind.clone();
    config.override_logical_codec = Some(logical_codec);
    config.override_physical_codec = Some(physical_codec);
    config.executor_timeout_seconds = options.executor_timeout;
    config.expire_dead_executor_interval_seconds = EXPIRY_CHECK_SECONDS;
    config.no_executors_grace_period_seconds = options.executor_timeout;
    config.grpc_server_max_decoding_message_size = MAX_MESSAGE_BYTES;
    config.grpc_server_max_encoding_message_size = MAX_MESSAGE_BYTES;
    config
        .validate()
        .map_err(|e| C360Error::Query(format!("c360 scheduler: {e}")))?;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| C360Error::Query(format!("c360 scheduler: {e}")))?;
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
            .await
            .map_err(|e| C360Error::Query(format!("c360 scheduler: {e}")))?;
    ready(addr);
    tokio::select! {
        served = start_grpc_service_with_listener(listener, scheduler) => {
            served.map_err(|e| C360Error::Query(format!("c360 scheduler: {e}")))
        }
        () = stop => Ok(()),
    }
}
