//! c360 on a cluster: the same workspace, SQL and functions on Apache DataFusion Ballista.
//!
//! A Ballista query is planned on the client, sent to the scheduler as protobuf (functions by
//! name) and executed by executors that decode each task again, so every process builds the
//! same function list from the workspace ([`workspace_state`]): the client's session
//! ([`connect`]), the scheduler's session builder ([`scheduler`]) and the executor's function
//! registry ([`executor`]). Plans that read only files go to the cluster; plans that need a
//! c360 table function or an in-memory table run on the client ([`planner`]). A call that
//! scores a model carries the model's file in the plan ([`codec`]).

pub mod codec;
pub mod executor;
pub mod planner;
pub mod retry;
pub mod scheduler;
mod tasks;
pub mod version;

use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::planner::BallistaQueryPlanner;
use datafusion::common::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::protobuf::LogicalPlanNode;

use crate::config::{self, Workspace};
use crate::error::{C360Error, Result};

/// The scheduler's default port (Ballista's); `c360 serve` keeps 50051.
pub const SCHEDULER_PORT: u16 = 50050;
/// The executor's default Arrow Flight port (partitions are fetched from it).
pub const EXECUTOR_PORT: u16 = 50052;
/// The executor's default gRPC port (the scheduler hands it tasks there).
pub const EXECUTOR_GRPC_PORT: u16 = 50053;

/// The scheduler's gRPC address (`http://host:port`) of a `df://host[:port]` URL.
pub fn scheduler_url(text: &str) -> std::result::Result<String, String> {
    let rest = text.strip_prefix("df://").ok_or_else(|| {
        format!(
            "'{text}' is not a scheduler URL; expected df://HOST:PORT, \
             e.g. df://localhost:{SCHEDULER_PORT}"
        )
    })?;
    let (host, port) = scheduler_host_port(rest)?;
    Ok(format!("http://{host}:{port}"))
}

/// The host and port of a scheduler given as `host[:port]` or `df://host[:port]`.
pub fn scheduler_host_port(text: &str) -> std::result::Result<(String, u16), String> {
    let rest = text.strip_prefix("df://").unwrap_or(text);
    let url = url::Url::parse(&format!("http://{rest}"))
        .map_err(|e| format!("'{text}': {e}; expected HOST:PORT"))?;
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| format!("'{text}' names no host; expected HOST:PORT"))?;
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return Err(format!(
            "'{text}': a scheduler address is only HOST:PORT (no path, query or user)"
        ));
    }
    Ok((host.to_string(), url.port().unwrap_or(SCHEDULER_PORT)))
}

/// The workspace's session with every c360 function, as the scheduler and the executors
/// build it (the client's comes from [`crate::session_context`]).
pub fn workspace_state(workspace: &Workspace) -> Result<SessionState> {
    let ctx = SessionContext::new_with_state(crate::session_state(workspace)?);
    crate::functions::register_all(&ctx, workspace)?;
    Ok(ctx.state())
}

/// How many plans the session of `ctx` has sent to a cluster; `None` when it is not a cluster
/// client.
pub fn jobs(ctx: &SessionContext) -> Option<usize> {
    ctx.state_ref()
        .read()
        .config()
        .get_extension::<planner::Jobs>()
        .map(|jobs| jobs.count())
}

/// `template` (a [`workspace_state`]) with a client's session settings: what the scheduler
/// plans a client's query in. A client of another c360 version is refused.
pub fn state_for_client(
    template: &SessionState,
    config: SessionConfig,
) -> datafusion::common::Result<SessionState> {
    version::check(&config, "c360 scheduler").map_err(DataFusionError::Execution)?;
    let mut config = config;
    if let Some(store) = template
        .config()
        .get_extension::<crate::models::store::ModelStore>()
    {
        config = config.with_extension(store);
    }
    Ok(SessionStateBuilder::new_from_existing(template.clone())
        .with_config(config)
        .build())
}

/// `state` turned into a client of the scheduler at `url` (`df://host:port`): plans that read
/// only files run on the cluster, the rest here. Register c360's functions after this (the
/// upgrade resets the function lists to DataFusion's).
pub fn connect(state: SessionState, url: &str, workspace: &Workspace) -> Result<SessionState> {
    let scheduler = scheduler_url(url).map_err(|message| C360Error::Config {
        file: workspace.root.join(config::CONFIG_FILE),
        message: format!("[engine] cluster (or --cluster): {message}"),
    })?;
    reachable(url).map_err(C360Error::Query)?;
    // The client only encodes plans: its codec needs no functions to decode onto.
    let codec = Arc::new(codec::LogicalCodec::default());
    let config = state
        .config()
        .clone()
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(codec.clone());
    let remote = BallistaQueryPlanner::<LogicalPlanNode>::with_extension(
        scheduler.clone(),
        config.ballista_config(),
        codec,
    );
    let jobs = Arc::new(planner::Jobs::default());
    let planner = planner::HybridPlanner::new(remote, scheduler.clone(), Arc::clone(&jobs));
    let config = config
        .with_ballista_query_planner(Arc::new(planner))
        .with_extension(jobs);
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build();
    state
        .upgrade_for_ballista(scheduler)
        .map_err(|e| C360Error::Query(format!("cannot connect to the cluster at {url}: {e}")))
}

/// How long a client waits for the scheduler to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `Ok` when something accepts connections at the scheduler's address of `url`; otherwise
/// what failed, naming the address, within [`CONNECT_TIMEOUT`] per address.
fn reachable(url: &str) -> std::result::Result<(), String> {
    let (host, port) = scheduler_host_port(url)?;
    let fail = |why: String| {
        format!(
            "cluster {url}: {why}; start `c360 scheduler` there, or fix [engine] cluster \
             (or --cluster)"
        )
    };
    let addrs = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| fail(format!("cannot resolve {host}: {e}")))?;
    let mut failure = format!("{host} has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => failure = format!("no scheduler answers at {addr}: {e}"),
        }
    }
    Err(fail(failure))
}

/// `port`, or when it is 0 a free port of `host` (bound, read back, released).
pub fn pick_port(host: &str, port: u16) -> Result<u16> {
    if port != 0 {
        return Ok(port);
    }
    let listener = TcpListener::bind((host, 0))
        .map_err(|e| C360Error::Query(format!("cannot find a free port on {host}: {e}")))?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(|e| C360Error::Query(format!("cannot read a free port on {host}: {e}")))?;
    Ok(addr.port())
}

#[cfg(test)]
mod tests {
    use super::{scheduler_host_port, scheduler_url};

    #[test]
    fn scheduler_urls() {
        assert_eq!(
            scheduler_url("df://localhost:50050").unwrap(),
            "http://localhost:50050"
        );
        assert_eq!(
            scheduler_url("df://10.0.0.5").unwrap(),
            "http://10.0.0.5:50050"
        );
        assert!(
            scheduler_url("http://localhost:50050")
                .unwrap_err()
                .contains("expected df://HOST:PORT")
        );
        assert!(scheduler_url("df://").unwrap_err().contains("HOST"));
        assert!(
            scheduler_url("df://host:1/x")
                .unwrap_err()
                .contains("no path")
        );
        assert_eq!(
            scheduler_host_port("sched.internal:7000").unwrap(),
            ("sched.internal".to_string(), 7000)
        );
    }
}
