//! The Flight SQL service: each RPC turned into a call on the shared [`Server`] state. The
//! caller was authenticated by the endpoint in front (see `grpc.rs`) and is in the
//! request's extensions.

use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfoData};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionCancelQueryRequest, ActionCancelQueryResult, ActionClosePreparedStatementRequest,
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, CommandGetCatalogs,
    CommandGetDbSchemas, CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes,
    CommandGetTables, CommandGetXdbcTypeInfo, CommandPreparedStatementQuery,
    CommandPreparedStatementUpdate, CommandStatementQuery, CommandStatementUpdate,
    DoPutPreparedStatementResult, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, ActionType, CancelFlightInfoRequest, CancelFlightInfoResult, FlightDescriptor,
    FlightInfo, HandshakeRequest, HandshakeResponse, Ticket,
};
use futures::{Stream, StreamExt};
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use super::auth::User;
use super::metadata;
use super::query;
use super::replies::{
    batch_stream, command_info, handle_of_info, handle_text, ipc_schema, parameter_rows, query_info,
};
use super::session::{self, CloseSessionResult, SetSessionOptionsRequest};
use super::state::Server;

/// The Flight SQL service over the shared state.
pub struct Service {
    /// Shared state.
    pub server: Arc<Server>,
    sql_info: SqlInfoData,
    xdbc: XdbcTypeInfoData,
}

impl Service {
    /// A service over `server`.
    pub fn new(server: Arc<Server>) -> Self {
        let engine = server.engine();
        let sql_info = super::sql_info::build(
            &engine.ctx.state(),
            server.settings.read_only,
            server.settings.query_timeout.as_secs(),
        );
        Self {
            server,
            sql_info,
            xdbc: metadata::xdbc_types(),
        }
    }
}

/// The authenticated caller of a request.
pub fn caller<T>(request: &Request<T>) -> Result<User, Status> {
    request
        .extensions()
        .get::<User>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("the call was not authenticated"))
}

fn session_key<T>(request: &Request<T>, user: &User) -> String {
    session::key(request.metadata(), &user.name, request.remote_addr())
}

/// Releases a query's slot in the registry when its stream ends or is dropped.
struct Forget {
    server: Arc<Server>,
    handle: String,
}

impl Drop for Forget {
    fn drop(&mut self) {
        self.server.forget(&self.handle);
    }
}

impl Service {
    fn action_result(body: Vec<u8>) -> Response<<Self as FlightService>::DoActionStream> {
        let result = arrow_flight::Result { body: body.into() };
        Response::new(Box::pin(futures::stream::once(async move { Ok(result) })))
    }

    fn health(&self) -> Vec<u8> {
        let engine = self.server.engine();
        let runs = self.server.runs.runs();
        let last = runs.last().map(|r| {
            serde_json::json!({
                "schedule": r.schedule,
                "status": r.status,
                "started_at": r.started_at.to_rfc3339(),
            })
        });
        let counters = &self.server.counters;
        let (pending, running) = self.server.counts();
        use std::sync::atomic::Ordering::Relaxed;
        serde_json::json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": self.server.started.elapsed().as_secs(),
            "running_queries": running,
            "pending_queries": pending,
            "waiting_queries": counters.waiting.load(Relaxed),
            "places_in_use": self.server.in_use(),
            "max_concurrent_queries": self.server.settings.max_concurrent_queries,
            "queries_started": counters.queries.load(Relaxed),
            "queries_refused": counters.refused.load(Relaxed),
            "queries_expired": counters.expired.load(Relaxed),
            "published_models": engine.published.len(),
            "broken_sources": engine.broken.keys().collect::<Vec<_>>(),
            "last_run": last,
        })
        .to_string()
        .into_bytes()
    }
}

#[tonic::async_trait]
impl FlightSqlService for Service {
    type FlightService = Service;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        let metadata = request.metadata().clone();
        let peer = request.remote_addr().map(|a| a.ip());
        let mut stream = request.into_inner();
        let payload = match stream.next().await {
            Some(Ok(message)) => message.payload.to_vec(),
            _ => Vec::new(),
        };
        let token = self.server.auth.handshake(&metadata, &payload, peer)?;
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into_bytes().into(),
        };
        let mut response: Response<
            Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>,
        > = Response::new(Box::pin(futures::stream::once(async move { Ok(reply) })));
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::internal("the issued token is not a valid header"))?;
        response.metadata_mut().insert("authorization", header);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let user = caller(&request)?;
        let session = session_key(&request, &user);
        let (handle, schema) = self
            .server
            .plan(&user.name, &session, &query.query, None)
            .await?;
        query_info(handle, &schema, request.into_inner())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let user = caller(&request)?;
        let handle = handle_text(&command.prepared_statement_handle)?;
        let (query, schema) = self.server.plan_prepared(&user.name, &handle).await?;
        query_info(query, &schema, request.into_inner())
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        command_info(&schema, &query, request)
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        command_info(&schema, &query, request)
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        command_info(&schema, &query, request)
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        command_info(&schema, &query, request)
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        command_info(SqlInfoDataBuilder::schema(), &query, request)
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        command_info(&metadata::primary_keys_schema(), &query, request)
    }

    async fn get_flight_info_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        command_info(&self.xdbc.schema(), &query, request)
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let user = caller(&request)?;
        let handle = handle_text(&ticket.statement_handle)?;
        let (planned, permit) = self.server.start(&handle, &user.name)?;
        let guard = Forget {
            server: Arc::clone(&self.server),
            handle,
        };
        let stream = query::stream(
            planned,
            self.server.settings.query_timeout,
            self.server.executor(),
            (permit, guard),
        )?;
        Ok(Response::new(Box::pin(stream)))
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let engine = self.server.engine();
        Ok(batch_stream(metadata::catalogs(&engine.ctx, query)?))
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let engine = self.server.engine();
        Ok(batch_stream(metadata::schemas(&engine.ctx, query)?))
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let engine = self.server.engine();
        Ok(batch_stream(metadata::tables(&engine.ctx, query).await?))
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = query.into_builder();
        for table_type in metadata::TABLE_TYPES {
            builder.append(table_type);
        }
        let batch = builder
            .build()
            .map_err(|e| Status::internal(format!("building table types: {e}")))?;
        Ok(batch_stream(batch))
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let batch = query
            .into_builder(&self.sql_info)
            .build()
            .map_err(|e| Status::internal(format!("building SqlInfo: {e}")))?;
        Ok(batch_stream(batch))
    }

    async fn do_get_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let engine = self.server.engine();
        Ok(batch_stream(
            metadata::primary_keys(&engine.ctx, query).await?,
        ))
    }

    async fn do_get_xdbc_type_info(
        &self,
        query: CommandGetXdbcTypeInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let batch = query
            .into_builder(&self.xdbc)
            .build()
            .map_err(|e| Status::internal(format!("building type info: {e}")))?;
        Ok(batch_stream(batch))
    }

    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let user = caller(&request)?;
        let session = session_key(&request, &user);
        self.server.update(&session, &command.query, None).await
    }

    async fn do_put_prepared_statement_query(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let user = caller(&request)?;
        let handle = handle_text(&command.prepared_statement_handle)?;
        let mut rows = parameter_rows(request).await?;
        if rows.len() > 1 {
            return Err(Status::invalid_argument(format!(
                "{} rows of parameters were bound to a query; bind one row per execution",
                rows.len()
            )));
        }
        self.server
            .bind(&handle, &user.name, rows.pop().unwrap_or_default())?;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(command.prepared_statement_handle),
        })
    }

    async fn do_put_prepared_statement_update(
        &self,
        command: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let user = caller(&request)?;
        let handle = handle_text(&command.prepared_statement_handle)?;
        let prepared = self.server.prepared(&handle, &user.name)?;
        let rows = parameter_rows(request).await?;
        if rows.is_empty() {
            return self
                .server
                .update(&prepared.session, &prepared.sql, prepared.values.as_deref())
                .await;
        }
        let mut total = 0;
        for row in rows {
            total += self
                .server
                .update(&prepared.session, &prepared.sql, Some(&row))
                .await?;
        }
        Ok(total)
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let user = caller(&request)?;
        let session = session_key(&request, &user);
        let handle = self
            .server
            .prepare(&user.name, &session, &query.query)
            .await?;
        let prepared = self.server.prepared(&handle, &user.name)?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.into_bytes().into(),
            dataset_schema: ipc_schema(&prepared.dataset_schema)?,
            parameter_schema: ipc_schema(&prepared.parameter_schema)?,
        })
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        let user = caller(&request)?;
        let handle = handle_text(&query.prepared_statement_handle)?;
        self.server.close_prepared(&handle, &user.name)
    }

    async fn do_action_cancel_query(
        &self,
        query: ActionCancelQueryRequest,
        request: Request<Action>,
    ) -> Result<ActionCancelQueryResult, Status> {
        let user = caller(&request)?;
        let info = FlightInfo::decode(query.info)
            .map_err(|e| Status::invalid_argument(format!("malformed FlightInfo: {e}")))?;
        let cancelled = handle_of_info(&info).is_some_and(|h| self.server.cancel(&h, &user.name));
        Ok(ActionCancelQueryResult {
            result: if cancelled { 1 } else { 3 },
        })
    }

    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        let user = caller(&request)?;
        let action = request.get_ref();
        match action.r#type.as_str() {
            "CancelFlightInfo" => {
                let cancel = CancelFlightInfoRequest::decode(action.body.clone()).map_err(|e| {
                    Status::invalid_argument(format!("malformed CancelFlightInfoRequest: {e}"))
                })?;
                let cancelled = cancel
                    .info
                    .as_ref()
                    .and_then(handle_of_info)
                    .is_some_and(|h| self.server.cancel(&h, &user.name));
                // CANCELLED (1), or NOT_CANCELLABLE (3) for a finished or unknown query.
                let status = if cancelled { 1 } else { 3 };
                Ok(Self::action_result(
                    CancelFlightInfoResult { status }.encode_to_vec(),
                ))
            }
            "SetSessionOptions" => {
                let options =
                    SetSessionOptionsRequest::decode(action.body.clone()).map_err(|e| {
                        Status::invalid_argument(format!("malformed SetSessionOptionsRequest: {e}"))
                    })?;
                let engine = self.server.engine();
                let valid = |name: &str, value: &str| metadata::exists(&engine.ctx, name, value);
                let connection_key = session::connection_key(&user.name, request.remote_addr());
                let cookie = session::cookie(request.metadata());
                let id = cookie.clone().unwrap_or_else(super::state::new_handle);
                let cookie_key = format!("cookie:{id}");
                let result = self
                    .server
                    .sessions
                    .set(&cookie_key, options.clone(), valid);
                if cookie.is_none() {
                    // A client that keeps no cookie finds the session by its connection.
                    self.server.sessions.set(&connection_key, options, valid);
                }
                let mut response = Self::action_result(result.encode_to_vec());
                if cookie.is_none()
                    && let Ok(value) = format!("{}={id}", session::COOKIE).parse()
                {
                    response.metadata_mut().insert("set-cookie", value);
                }
                Ok(response)
            }
            "GetSessionOptions" => {
                let engine = self.server.engine();
                let state = engine.ctx.state();
                let defaults = &state.config().options().catalog;
                let key = session_key(&request, &user);
                Ok(Self::action_result(self.server.sessions.describe(
                    &key,
                    &defaults.default_catalog,
                    &defaults.default_schema,
                )))
            }
            "CloseSession" => {
                let key = session_key(&request, &user);
                self.server.close_session(&key);
                // CLOSED (1).
                Ok(Self::action_result(
                    CloseSessionResult { status: 1 }.encode_to_vec(),
                ))
            }
            "health" => Ok(Self::action_result(self.health())),
            other => Err(Status::invalid_argument(format!(
                "unknown action '{other}'; ListActions lists the supported ones"
            ))),
        }
    }

    async fn list_custom_actions(&self) -> Option<Vec<Result<ActionType, Status>>> {
        let action = |name: &str, description: &str| {
            Ok(ActionType {
                r#type: name.to_string(),
                description: description.to_string(),
            })
        };
        Some(vec![
            action("CancelFlightInfo", "Cancel a planned or running query"),
            action("SetSessionOptions", "Set the session's catalog and schema"),
            action("GetSessionOptions", "The session's catalog and schema"),
            action(
                "CloseSession",
                "End the session and its prepared statements",
            ),
            action("health", "Server status as JSON (no credentials needed)"),
        ])
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
