//! `c360 serve`: the workspace's engine over Arrow Flight SQL, with authentication, TLS,
//! read-only clients, per-query limits and the pipeline's cron schedules.

pub mod auth;
pub mod grpc;
pub mod lockout;
pub mod memory;
pub mod metadata;
pub mod places;
pub mod query;
pub mod replies;
pub mod schedule;
pub mod service;
pub mod session;
pub mod sql_info;
pub mod state;
pub mod status;
pub mod system_tables;

use std::net::SocketAddr;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, ServerTlsConfig};

use crate::error::{C360Error, Result};
use crate::{Engine, Workspace, pipeline};
use schedule::{RunLog, ScheduleState};
use state::Server;

/// The largest message a client may send (bound parameters, DoPut) or receive.
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// A running server: its address, and what stops it.
pub struct Running {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// Whether it speaks TLS.
    pub tls: bool,
    /// The shared state (for tests and the health action).
    pub server: Arc<Server>,
    shutdown: Option<oneshot::Sender<()>>,
    tasks: JoinSet<()>,
}

impl Running {
    /// Stop accepting calls, let running ones end, stop the schedules.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }

    /// Wait until the server ends (it only ends when stopped or on a fatal error).
    pub async fn wait(mut self) {
        while let Some(result) = self.tasks.join_next().await {
            if let Err(e) = result
                && e.is_panic()
            {
                tracing::error!("a server task panicked: {e}");
            }
        }
    }
}

fn config_error(workspace: &Workspace, message: String) -> C360Error {
    C360Error::Config {
        file: workspace.root.join(crate::config::CONFIG_FILE),
        message,
    }
}

/// Open the workspace and start serving it; `addr` overrides `[server] addr`.
pub async fn serve(workspace: &Workspace, addr: Option<&str>) -> Result<Running> {
    let settings = workspace
        .config
        .server
        .resolve(&workspace.root, addr)
        .map_err(|m| config_error(workspace, m))?;
    let schedules =
        schedule::parse_all(&workspace.config.schedules).map_err(|m| config_error(workspace, m))?;
    let tls = match &settings.tls {
        Some((cert, key)) => {
            let read = |path: &std::path::Path| {
                std::fs::read(path).map_err(|e| {
                    C360Error::io(format!("[server.tls] reading {}", path.display()), e)
                })
            };
            Some(ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?)))
        }
        None => None,
    };
    if settings.anonymous {
        tracing::warn!("c360 serve: no credentials configured; anyone on this machine may query");
    }
    let engine = Engine::open(workspace).await?;
    let runs = Arc::new(RunLog::default());
    runs.set_schedules(
        schedules
            .iter()
            .map(|(name, cron, config)| ScheduleState {
                name: name.clone(),
                cron: config.cron.clone(),
                select: config.select.clone(),
                next_run_at: schedule::next_after(cron, chrono::Utc::now()),
            })
            .collect(),
    );
    let server = Arc::new(
        Server::new(engine, settings.clone(), Arc::clone(&runs))
            .map_err(|s| C360Error::Query(s.message().to_string()))?,
    );
    let listener = TcpListener::bind(settings.addr)
        .await
        .map_err(|e| C360Error::io(format!("listening on {}", settings.addr), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| C360Error::io("reading the bound address".to_string(), e))?;
    let endpoint = grpc::Endpoint::new(service::Service::new(Arc::clone(&server)));
    let service = FlightServiceServer::new(endpoint)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let mut builder = tonic::transport::Server::builder();
    let is_tls = tls.is_some();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls)
            .map_err(|e| config_error(workspace, format!("[server.tls]: {e}")))?;
    }
    let (tx, rx) = oneshot::channel::<()>();
    let router = builder.add_service(service);
    let mut tasks = JoinSet::new();
    tasks.spawn(async move {
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let shutdown = async {
            let _ = rx.await;
        };
        if let Err(e) = router
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
        {
            tracing::error!("c360 serve: the server stopped: {e}");
        }
    });
    let pipeline_lock = Arc::new(tokio::sync::Mutex::new(()));
    for (name, cron, config) in schedules {
        let server = Arc::clone(&server);
        let workspace = workspace.clone();
        let lock = Arc::clone(&pipeline_lock);
        tasks.spawn(async move {
            loop {
                let now = chrono::Utc::now();
                let Some(next) = schedule::next_after(&cron, now) else {
                    tracing::warn!(schedule = %name, "the schedule never fires again");
                    return;
                };
                server.runs.set_next(&name, Some(next));
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let _guard = lock.lock().await;
                run_schedule(&server, &workspace, &name, &config.select).await;
            }
        });
    }
    tracing::info!(addr = %local, tls = is_tls, "c360 serve: listening");
    Ok(Running {
        addr: local,
        tls: is_tls,
        server,
        shutdown: Some(tx),
        tasks,
    })
}

/// One scheduled run: build on an engine of its own; publish and swap in a fresh engine for
/// new queries only when every model succeeded.
async fn run_schedule(server: &Server, workspace: &Workspace, name: &str, select: &[String]) {
    let started = server.runs.start(name);
    tracing::info!(schedule = %name, "scheduled run started");
    let options = pipeline::RunOptions {
        select: select.to_vec(),
        all_or_nothing: true,
        progress: None,
        full_refresh: false,
    };
    let outcome = async {
        let engine = Engine::open(workspace).await?;
        let summary = pipeline::run(&engine, &options).await?;
        if summary.failed() == 0 && summary.skipped() == 0 {
            let fresh = Engine::open(workspace).await?;
            server
                .replace_engine(fresh)
                .map_err(|s| C360Error::Query(s.message().to_string()))?;
        }
        Ok::<_, C360Error>(summary)
    }
    .await;
    match outcome {
        Ok(summary) => {
            let failed = summary.failed() as u64;
            let skipped = summary.skipped() as u64;
            let error = summary.outcomes.iter().find_map(|o| match &o.status {
                pipeline::Status::Failed { error } => Some(format!("{}: {error}", o.model)),
                _ => None,
            });
            let ok = failed == 0 && skipped == 0;
            if ok {
                tracing::info!(schedule = %name, version = %summary.version, seconds = summary.seconds, "scheduled run published");
            } else {
                tracing::warn!(schedule = %name, error = error.as_deref().unwrap_or(""), "scheduled run failed; nothing changed");
            }
            server.runs.finish(name, started, |r| {
                r.status = if ok { "published" } else { "failed" }.to_string();
                r.models_ok = summary.outcomes.len() as u64 - failed - skipped;
                r.models_failed = failed;
                r.models_skipped = skipped;
                r.version = Some(summary.version.clone());
                r.error = error;
            });
        }
        Err(e) => {
            tracing::warn!(schedule = %name, error = %e, "scheduled run failed; nothing changed");
            server.runs.finish(name, started, |r| {
                r.status = "failed".to_string();
                r.error = Some(e.to_string());
            });
        }
    }
}
