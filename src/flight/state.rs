//! The server's shared state: the engine new queries run on (swapped whole after a scheduled
//! run), the queries planned and running, prepared statements, sessions and limits.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use rand::RngCore;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tonic::Status;

use super::auth::Authenticator;
use super::memory::QueryPool;
use super::places::{Counters, Places, QueryRuntime};
use super::query::{self, Planned, parse_one};
use super::schedule::RunLog;
use super::session::{Options, Sessions};
use super::status::{from_c360, from_datafusion};
use super::system_tables::register_system_tables;
use crate::Engine;
use crate::config::server::Resolved;
use crate::functions::registry::{self, Kind};
use crate::stop::Stop;

/// A prepared statement.
#[derive(Clone)]
pub struct Prepared {
    /// Its owner.
    pub user: String,
    /// The session it was made in.
    pub session: String,
    /// Its SQL.
    pub sql: String,
    /// The bound parameter values (one row).
    pub values: Option<Vec<ScalarValue>>,
    /// The result schema (empty for statements that change something).
    pub dataset_schema: SchemaRef,
    /// The parameter schema.
    pub parameter_schema: SchemaRef,
}

/// A query the server knows: planned and holding its place among the concurrent queries
/// until its DoGet, or running (its place is then held by the stream).
enum Entry {
    Pending(Box<Planned>, OwnedSemaphorePermit),
    Running {
        user: String,
        cancel: CancellationToken,
    },
}

/// The state every RPC shares.
pub struct Server {
    engine: RwLock<Arc<Engine>>,
    /// Resolved settings.
    pub settings: Resolved,
    /// Credentials.
    pub auth: Authenticator,
    /// Client sessions.
    pub sessions: Sessions,
    /// Scheduled runs.
    pub runs: Arc<RunLog>,
    /// Started at.
    pub started: Instant,
    /// Counters.
    pub counters: Counters,
    places: Places,
    executor: QueryRuntime,
    queries: Mutex<HashMap<String, (Instant, Entry)>>,
    prepared: Mutex<HashMap<String, Prepared>>,
}

/// Make an engine ready to serve: writing functions gone for read-only clients, the system
/// tables registered.
fn prepare_engine(engine: &Engine, read_only: bool, runs: &Arc<RunLog>) -> Result<(), Status> {
    if read_only {
        for entry in registry::ENTRIES.iter().filter(|e| e.writes) {
            match entry.kind {
                Kind::Scalar => engine.ctx.deregister_udf(entry.name),
                Kind::Aggregate => engine.ctx.deregister_udaf(entry.name),
                Kind::Window => engine.ctx.deregister_udwf(entry.name),
                Kind::Table => engine.ctx.deregister_udtf(entry.name),
            }
        }
    }
    register_system_tables(&engine.ctx, runs).map_err(|e| from_datafusion(&e))
}

/// The prepared statement `handle` when it belongs to `user`.
fn owned<'a>(
    map: &'a mut HashMap<String, Prepared>,
    handle: &str,
    user: &str,
) -> Result<&'a mut Prepared, Status> {
    match map.get_mut(handle) {
        Some(p) if p.user == user => Ok(p),
        Some(_) => Err(Status::permission_denied(
            "this prepared statement belongs to another user",
        )),
        None => Err(Status::not_found(
            "unknown prepared statement handle (closed, or the session ended)",
        )),
    }
}

/// A new random handle.
pub fn new_handle() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Server {
    /// The state around an opened engine.
    pub fn new(engine: Engine, settings: Resolved, runs: Arc<RunLog>) -> Result<Self, Status> {
        let auth = Authenticator::new(
            settings.tokens.clone(),
            settings.users.clone(),
            settings.anonymous,
        );
        let places = Places::new(settings.max_concurrent_queries, settings.queue_timeout);
        prepare_engine(&engine, settings.read_only, &runs)?;
        let threads = engine
            .ctx
            .state()
            .config()
            .options()
            .execution
            .target_partitions
            .max(1);
        let executor = QueryRuntime::start(threads)?;
        Ok(Self {
            executor,
            engine: RwLock::new(Arc::new(engine)),
            settings,
            auth,
            sessions: Sessions::default(),
            runs,
            started: Instant::now(),
            counters: Counters::default(),
            places,
            queries: Mutex::new(HashMap::new()),
            prepared: Mutex::new(HashMap::new()),
        })
    }

    /// The engine new queries use.
    pub fn engine(&self) -> Arc<Engine> {
        Arc::clone(&self.engine.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Make `engine` the one new queries use; queries already running keep theirs.
    pub fn replace_engine(&self, engine: Engine) -> Result<(), Status> {
        prepare_engine(&engine, self.settings.read_only, &self.runs)?;
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(engine);
        Ok(())
    }

    /// Where query plans execute.
    pub fn executor(&self) -> &tokio::runtime::Handle {
        self.executor.handle()
    }

    /// Places among the concurrent queries in use now: queries being planned, planned and
    /// waiting for their DoGet, or running.
    pub fn in_use(&self) -> usize {
        self.places.in_use()
    }

    /// Queries (pending, running) now.
    pub fn counts(&self) -> (usize, usize) {
        let queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        let pending = queries
            .values()
            .filter(|(_, e)| matches!(e, Entry::Pending(..)))
            .count();
        (pending, queries.len() - pending)
    }

    /// A context for one query of `session`: the engine's state with the session's default
    /// catalog and schema, the query's own memory pool and its stop (see [`crate::stop`]).
    fn context(&self, options: &Options, stop: Stop) -> (SessionContext, Option<Arc<QueryPool>>) {
        let engine = self.engine();
        let mut state = engine.ctx.state();
        state.config_mut().options_mut().extensions.insert(stop);
        let catalog = &mut state.config_mut().options_mut().catalog;
        if let Some(c) = &options.catalog {
            catalog.default_catalog = c.clone();
        }
        if let Some(s) = &options.schema {
            catalog.default_schema = s.clone();
        }
        let pool = self.settings.query_memory_limit.map(|limit| {
            Arc::new(QueryPool::new(
                Arc::clone(&state.runtime_env().memory_pool),
                limit,
            ))
        });
        let state = query::query_state(state, pool.as_ref());
        (SessionContext::new_with_state(state), pool)
    }

    /// Parse and plan `sql` to a logical plan, enforcing the read-only rule.
    async fn logical(&self, ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, Status> {
        let engine = self.engine();
        let statement = parse_one(sql, &engine.workspace.config.engine.sql_limits())?;
        let state = ctx.state();
        if let Ok(tables) = state.resolve_table_references(&statement) {
            engine
                .check_sources(tables.iter().map(|t| t.table()))
                .map_err(|e| from_c360(&e))?;
        }
        let plan = state
            .statement_to_plan(statement)
            .await
            .map_err(|e| from_datafusion(&e))?;
        if self.settings.read_only {
            SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false)
                .verify_plan(&plan)
                .map_err(|e| {
                    Status::permission_denied(format!(
                        "this server is read-only: {}; an administrator can set [server] \
                         read_only = false in c360.toml",
                        crate::error::strip_context(&e)
                    ))
                })?;
        }
        Ok(plan)
    }

    /// Take a place among the concurrent queries (waiting in line for one), then, on the
    /// query runtime and within the planning time limit, plan `sql` for `session` with
    /// `values` bound and finish with `then`. Returns the place, the query's stop token
    /// (cancelled here when planning fails or runs out of time, so folding constants stops
    /// too) and what `then` made.
    async fn planned<T, F, Fut>(
        self: &Arc<Self>,
        session: &str,
        sql: &str,
        values: Option<&[ScalarValue]>,
        then: F,
    ) -> Result<(OwnedSemaphorePermit, CancellationToken, T), Status>
    where
        T: Send + 'static,
        F: FnOnce(SessionContext, Option<Arc<QueryPool>>, LogicalPlan) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Status>> + Send + 'static,
    {
        let place = self.places.take(&self.counters).await?;
        let stop = CancellationToken::new();
        let stop_on_failure = stop.clone().drop_guard();
        let server = Arc::clone(self);
        let options = self.sessions.get(session);
        let (text, values) = (sql.to_string(), values.map(<[ScalarValue]>::to_vec));
        let work = async move {
            let (ctx, pool) = server.context(&options, Stop::new(stop));
            let mut plan = server.logical(&ctx, &text).await?;
            if let Some(values) = values {
                plan = query::bind(plan, &values)?;
            }
            then(ctx, pool, plan).await
        };
        let planning = ("planning the query", "planning_timeout_secs");
        let made = self
            .executor
            .run(self.settings.planning_timeout, planning, work)
            .await?;
        Ok((place, stop_on_failure.disarm(), made))
    }

    /// Plan a query (with bound parameters for a prepared one) and keep it for its DoGet;
    /// returns its handle and schema. The query holds a place among the concurrent queries
    /// from here until its result is read, or until it expires unread.
    pub async fn plan(
        self: &Arc<Self>,
        user: &str,
        session: &str,
        sql: &str,
        values: Option<&[ScalarValue]>,
    ) -> Result<(String, SchemaRef), Status> {
        let started = Instant::now();
        let bound = values.is_some();
        let owner = user.to_string();
        let (permit, cancel, (plan, task, pool, constants)) = self
            .planned(session, sql, values, move |ctx, pool, plan| async move {
                let params = query::parameters(&plan)?;
                if !bound && !params.is_empty() {
                    return Err(Status::invalid_argument(format!(
                        "the statement has {} parameter(s); prepare it and bind values first",
                        params.len()
                    )));
                }
                let (plan, task, constants) = query::physical(&ctx, plan, &owner)
                    .await
                    .map_err(|e| from_datafusion(&e))?;
                Ok((plan, task, pool, constants))
            })
            .await?;
        let schema = query::wire_schema(&plan.schema());
        let handle = new_handle();
        let planned = Planned {
            user: user.to_string(),
            sql: sql.to_string(),
            plan,
            task,
            schema: Arc::clone(&schema),
            started,
            pool,
            cancel,
            constants,
        };
        self.queries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                handle.clone(),
                (Instant::now(), Entry::Pending(Box::new(planned), permit)),
            );
        self.expire_unfetched(handle.clone());
        Ok((handle, schema))
    }

    /// Drop the planned query `handle` (and free its place) if its client has not fetched it
    /// within the pending timeout.
    fn expire_unfetched(self: &Arc<Self>, handle: String) {
        let server = Arc::downgrade(self);
        let wait = self.settings.pending_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let Some(server) = server.upgrade() else {
                return;
            };
            let mut queries = server.queries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, Entry::Pending(planned, _))) = queries.get(&handle) {
                tracing::info!(
                    user = %planned.user,
                    "a planned query was not fetched within {} s ([server] \
                     pending_timeout_secs) and is dropped",
                    wait.as_secs()
                );
                queries.remove(&handle);
                server.counters.expired.fetch_add(1, Ordering::Relaxed);
            }
        });
    }

    /// Plan an execution of the prepared statement `handle` with its bound values.
    pub async fn plan_prepared(
        self: &Arc<Self>,
        user: &str,
        handle: &str,
    ) -> Result<(String, SchemaRef), Status> {
        let prepared = self.prepared(handle, user)?;
        let values = prepared.values.as_deref();
        self.plan(user, &prepared.session, &prepared.sql, values)
            .await
    }

    /// Start the planned query `handle`: it and its place among the concurrent queries.
    pub fn start(
        &self,
        handle: &str,
        user: &str,
    ) -> Result<(Planned, OwnedSemaphorePermit), Status> {
        let mut queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        let (planned, permit) = match queries.remove(handle) {
            Some((_, Entry::Pending(planned, permit))) if planned.user == user => (planned, permit),
            Some(entry @ (_, Entry::Pending(..))) => {
                queries.insert(handle.to_string(), entry);
                return Err(Status::permission_denied(
                    "this query belongs to another user",
                ));
            }
            Some(entry) => {
                queries.insert(handle.to_string(), entry);
                return Err(Status::failed_precondition(
                    "this query's result is already being read; each ticket is read once",
                ));
            }
            None => {
                return Err(Status::not_found(format!(
                    "unknown or expired query handle (a planned query is kept {} s, [server] \
                     pending_timeout_secs); call GetFlightInfo again",
                    self.settings.pending_timeout.as_secs()
                )));
            }
        };
        queries.insert(
            handle.to_string(),
            (
                Instant::now(),
                Entry::Running {
                    user: user.to_string(),
                    cancel: planned.cancel.clone(),
                },
            ),
        );
        self.counters.queries.fetch_add(1, Ordering::Relaxed);
        Ok((*planned, permit))
    }

    /// The query `handle` has ended.
    pub fn forget(&self, handle: &str) {
        let mut queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        queries.remove(handle);
    }

    /// Cancel a planned or running query of `user`; false when it is unknown (finished or
    /// expired) or another user's.
    pub fn cancel(&self, handle: &str, user: &str) -> bool {
        let mut queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        let owner = match queries.get(handle) {
            Some((_, Entry::Pending(planned, _))) => planned.user.as_str(),
            Some((_, Entry::Running { user, .. })) => user.as_str(),
            None => return false,
        };
        if owner != user {
            tracing::warn!(
                user,
                owner,
                "a client asked to cancel another user's query; refused"
            );
            return false;
        }
        match queries.remove(handle) {
            Some((_, Entry::Pending(planned, _))) => planned.cancel.cancel(),
            Some((_, Entry::Running { cancel, .. })) => cancel.cancel(),
            None => {}
        }
        true
    }

    /// Cancel every planned and running query (the server is stopping).
    pub fn cancel_all(&self) {
        let mut queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        for (_, (_, entry)) in queries.drain() {
            match entry {
                Entry::Pending(planned, _) => planned.cancel.cancel(),
                Entry::Running { cancel, .. } => cancel.cancel(),
            }
        }
    }

    /// Prepare `sql`: plan it to learn its result and parameter schemas.
    pub async fn prepare(
        self: &Arc<Self>,
        user: &str,
        session: &str,
        sql: &str,
    ) -> Result<String, Status> {
        let (_place, _, plan) = self
            .planned(session, sql, None, |_, _, plan| async move { Ok(plan) })
            .await?;
        let changes = matches!(
            plan,
            LogicalPlan::Ddl(_)
                | LogicalPlan::Dml(_)
                | LogicalPlan::Copy(_)
                | LogicalPlan::Statement(_)
        );
        let dataset_schema = if changes {
            Arc::new(Schema::empty())
        } else {
            query::wire_schema(plan.schema().as_arrow())
        };
        let fields: Vec<Field> = query::parameters(&plan)?
            .into_iter()
            .map(|(id, t)| Field::new(id, t.unwrap_or(DataType::Null), true))
            .collect();
        let handle = new_handle();
        let prepared = Prepared {
            user: user.to_string(),
            session: session.to_string(),
            sql: sql.to_string(),
            values: None,
            dataset_schema,
            parameter_schema: Arc::new(Schema::new(fields)),
        };
        self.prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(handle.clone(), prepared);
        Ok(handle)
    }

    /// The result schema of `sql` with `values` bound (GetSchema): planned, not kept.
    pub async fn schema(
        self: &Arc<Self>,
        session: &str,
        sql: &str,
        values: Option<&[ScalarValue]>,
    ) -> Result<SchemaRef, Status> {
        let (_place, _, schema) = self
            .planned(session, sql, values, |_, _, plan| async move {
                Ok(query::wire_schema(plan.schema().as_arrow()))
            })
            .await?;
        Ok(schema)
    }

    /// A prepared statement of `user`.
    pub fn prepared(&self, handle: &str, user: &str) -> Result<Prepared, Status> {
        let mut map = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        owned(&mut map, handle, user).map(|p| p.clone())
    }

    /// Bind parameter values to a prepared statement.
    pub fn bind(&self, handle: &str, user: &str, values: Vec<ScalarValue>) -> Result<(), Status> {
        let mut map = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        owned(&mut map, handle, user)?.values = Some(values);
        Ok(())
    }

    /// Close a prepared statement.
    pub fn close_prepared(&self, handle: &str, user: &str) -> Result<(), Status> {
        let mut map = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        owned(&mut map, handle, user)?;
        map.remove(handle);
        Ok(())
    }

    /// Close a session: its options and its prepared statements.
    pub fn close_session(&self, session: &str) -> bool {
        let had = self.sessions.close(session);
        let mut map = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        let before = map.len();
        map.retain(|_, p| p.session != session);
        had || map.len() != before
    }

    /// Run a statement that changes something (DDL/DML, when allowed) and count its rows.
    pub async fn update(
        self: &Arc<Self>,
        session: &str,
        sql: &str,
        values: Option<&[ScalarValue]>,
    ) -> Result<i64, Status> {
        let (_place, stop, (ctx, plan)) = self
            .planned(session, sql, values, |ctx, _, plan| async move {
                Ok((ctx, plan))
            })
            .await?;
        let _stop_when_done = stop.drop_guard();
        let run = async move {
            ctx.execute_logical_plan(plan)
                .await
                .map_err(|e| from_datafusion(&e))?
                .collect()
                .await
                .map_err(|e| from_datafusion(&e))
        };
        let limit = ("the statement", "query_timeout_secs");
        let batches = self
            .executor
            .run(self.settings.query_timeout, limit, run)
            .await?;
        let count = batches
            .first()
            .filter(|b| b.num_columns() == 1 && b.num_rows() == 1)
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<UInt64Array>()
                    .map(|a| a.value(0))
            });
        Ok(count.map_or(0, |c| c as i64))
    }
}
