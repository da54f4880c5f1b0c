//! `[server]` and `[schedules.NAME]` of `c360.toml`: how `c360 serve` listens, who may connect,
//! what they may do, the limits of one query, and the cron schedules of the pipeline.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `[server]`: the Flight SQL endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on; `--addr` overrides it.
    #[serde(default = "default_addr")]
    pub addr: String,
    /// Bearer tokens accepted, each naming the user it stands for.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// Users who may log in with basic auth (the handshake gives them a bearer token).
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Let clients connect without credentials. Only allowed on a loopback address.
    #[serde(default)]
    pub allow_anonymous: bool,
    /// Clients may only read (no DDL, DML, COPY, SET or model training) unless this is false.
    #[serde(default = "default_true")]
    pub read_only: bool,
    /// Memory one query may reserve, such as `"1GiB"` (within the engine's own limit).
    #[serde(default)]
    pub query_memory_limit: Option<String>,
    /// Seconds a query may take from planning to its last batch.
    #[serde(default = "default_timeout")]
    pub query_timeout_secs: u64,
    /// Queries planned or running at once (a planned query holds its place until its result
    /// is read or it expires); one more waits in line for `queue_timeout_secs`.
    #[serde(default = "default_concurrency")]
    pub max_concurrent_queries: usize,
    /// Seconds a query waits in line (first come, first served) for a place among
    /// `max_concurrent_queries` before it is refused with RESOURCE_EXHAUSTED.
    #[serde(default = "default_short")]
    pub queue_timeout_secs: u64,
    /// Seconds planning one query may take (parsing, planning and constant folding).
    #[serde(default = "default_short")]
    pub planning_timeout_secs: u64,
    /// Seconds a planned query waits for its client to fetch the result (DoGet) before it is
    /// dropped and its place freed.
    #[serde(default = "default_short")]
    pub pending_timeout_secs: u64,
    /// TLS certificate and key (PEM); without it the server speaks plain gRPC.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: default_addr(),
            tokens: Vec::new(),
            users: Vec::new(),
            allow_anonymous: false,
            read_only: true,
            query_memory_limit: None,
            query_timeout_secs: default_timeout(),
            max_concurrent_queries: default_concurrency(),
            queue_timeout_secs: default_short(),
            planning_timeout_secs: default_short(),
            pending_timeout_secs: default_short(),
            tls: None,
        }
    }
}

/// One accepted bearer token: the literal, or the environment variable holding it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who the token stands for (in logs and `current_user`).
    pub user: String,
    /// The token itself (prefer `token_env`: config files get copied around).
    #[serde(default)]
    pub token: Option<String>,
    /// Environment variable holding the token.
    #[serde(default)]
    pub token_env: Option<String>,
}

/// One basic-auth user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The login name.
    pub name: String,
    /// The password (prefer `password_env`).
    #[serde(default)]
    pub password: Option<String>,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
}

/// `[server.tls]`: PEM files, relative to the workspace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain.
    pub cert: String,
    /// Private key.
    pub key: String,
}

/// `[schedules.NAME]`: run the pipeline (or some models) on a cron schedule inside the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Cron expression, 5 fields (minute hour day month weekday) or 6 with seconds first,
    /// evaluated in UTC; e.g. `"0 3 * * *"` every night at 03:00.
    pub cron: String,
    /// Only these models (empty: all).
    #[serde(default)]
    pub select: Vec<String>,
}

fn default_addr() -> String {
    "127.0.0.1:50051".to_string()
}

fn default_true() -> bool {
    true
}

fn default_timeout() -> u64 {
    300
}

fn default_concurrency() -> usize {
    16
}

fn default_short() -> u64 {
    30
}

/// The shortest password basic auth accepts.
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// The server's settings resolved: secrets read from the environment, files located, the
/// address parsed. Every problem is named with its key.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Token -> user.
    pub tokens: BTreeMap<String, String>,
    /// User -> password.
    pub users: BTreeMap<String, String>,
    /// No credentials needed.
    pub anonymous: bool,
    /// Clients may only read.
    pub read_only: bool,
    /// Per-query memory limit in bytes.
    pub query_memory_limit: Option<usize>,
    /// Per-query time limit.
    pub query_timeout: std::time::Duration,
    /// Queries planned or running at once.
    pub max_concurrent_queries: usize,
    /// How long a query waits in line for a place.
    pub queue_timeout: std::time::Duration,
    /// How long planning may take.
    pub planning_timeout: std::time::Duration,
    /// How long a planned query waits for its DoGet.
    pub pending_timeout: std::time::Duration,
    /// Certificate and key files.
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl ServerConfig {
    /// Resolve against the workspace root and the environment; `addr` overrides the file.
    pub fn resolve(&self, root: &Path, addr: Option<&str>) -> Result<Resolved, String> {
        let text = addr.unwrap_or(&self.addr);
        let addr: SocketAddr = text.parse().map_err(|e| {
            format!("[server] addr '{text}': {e}; expected host:port such as 127.0.0.1:50051")
        })?;
        let mut tokens = BTreeMap::new();
        for (i, t) in self.tokens.iter().enumerate() {
            let key = format!("[[server.tokens]] #{} (user '{}')", i + 1, t.user);
            let token = secret(&key, "token", t.token.as_deref(), t.token_env.as_deref())?;
            if token.len() < 16 {
                return Err(format!(
                    "{key}: the token has {} characters; use at least 16 (e.g. from `openssl rand -hex 24`)",
                    token.len()
                ));
            }
            tokens.insert(token, t.user.clone());
        }
        let mut users = BTreeMap::new();
        for (i, u) in self.users.iter().enumerate() {
            let key = format!("[[server.users]] #{} ('{}')", i + 1, u.name);
            let password = secret(
                &key,
                "password",
                u.password.as_deref(),
                u.password_env.as_deref(),
            )?;
            if password.chars().count() < MIN_PASSWORD_LENGTH {
                return Err(format!(
                    "{key}: the password has {} characters; use at least {MIN_PASSWORD_LENGTH} \
                     (e.g. from `openssl rand -base64 18`)",
                    password.chars().count()
                ));
            }
            users.insert(u.name.clone(), password);
        }
        let anonymous = tokens.is_empty() && users.is_empty();
        if anonymous && !self.allow_anonymous {
            return Err(
                "[server]: no credentials are configured; add [[server.tokens]] (user, token_env) \
                 or [[server.users]], or set allow_anonymous = true for a loopback-only server"
                    .to_string(),
            );
        }
        if anonymous && !addr.ip().is_loopback() {
            return Err(format!(
                "[server]: allow_anonymous is only allowed on a loopback address, not {addr}; \
                 configure [[server.tokens]] to listen there"
            ));
        }
        let query_memory_limit = match &self.query_memory_limit {
            Some(text) => Some(
                super::parse_bytes(text)
                    .map_err(|e| format!("[server] query_memory_limit: {e}"))?,
            ),
            None => None,
        };
        if self.max_concurrent_queries == 0 {
            return Err("[server] max_concurrent_queries must be at least 1".to_string());
        }
        for (key, value) in [
            ("query_timeout_secs", self.query_timeout_secs),
            ("queue_timeout_secs", self.queue_timeout_secs),
            ("planning_timeout_secs", self.planning_timeout_secs),
            ("pending_timeout_secs", self.pending_timeout_secs),
        ] {
            if value == 0 {
                return Err(format!("[server] {key} must be at least 1"));
            }
        }
        let tls = self
            .tls
            .as_ref()
            .map(|t| (root.join(&t.cert), root.join(&t.key)));
        Ok(Resolved {
            addr,
            tokens,
            users,
            anonymous,
            read_only: self.read_only,
            query_memory_limit,
            query_timeout: std::time::Duration::from_secs(self.query_timeout_secs),
            max_concurrent_queries: self.max_concurrent_queries,
            queue_timeout: std::time::Duration::from_secs(self.queue_timeout_secs),
            planning_timeout: std::time::Duration::from_secs(self.planning_timeout_secs),
            pending_timeout: std::time::Duration::from_secs(self.pending_timeout_secs),
            tls,
        })
    }
}

/// A secret given literally or through an environment variable, exactly one of the two.
fn secret(
    key: &str,
    what: &str,
    literal: Option<&str>,
    env: Option<&str>,
) -> Result<String, String> {
    match (literal, env) {
        (Some(value), None) if !value.is_empty() => Ok(value.to_string()),
        (None, Some(var)) => match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(value),
            _ => Err(format!(
                "{key}: environment variable {var} ({what}_env) is not set; export it before `c360 serve`"
            )),
        },
        (Some(_), Some(_)) => Err(format!("{key}: give {what} or {what}_env, not both")),
        _ => Err(format!("{key}: give {what}_env (or {what})")),
    }
}
