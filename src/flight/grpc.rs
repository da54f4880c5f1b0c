//! The gRPC endpoint in front of the Flight SQL service: it authenticates every call (the
//! handshake and the health action excepted), then hands it to arrow-flight's Flight SQL
//! dispatch, and answers GetSchema itself (arrow-flight leaves it unimplemented).

use std::sync::Arc;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::{Any, Command};
use arrow_flight::{
    Action, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, PollInfo,
    SchemaAsIpc, SchemaResult, Ticket,
};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use prost::Message;
use tonic::{Request, Response, Status, Streaming};

use super::replies::handle_text;
use super::service::{Service, caller};

/// The endpoint served by tonic.
pub struct Endpoint {
    service: Arc<Service>,
}

impl Endpoint {
    /// An endpoint over the service.
    pub fn new(service: Service) -> Self {
        Self {
            service: Arc::new(service),
        }
    }

    fn authenticate<T>(&self, request: &mut Request<T>) -> Result<(), Status> {
        let peer = request.remote_addr().map(|a| a.ip());
        let user = self.service.server.auth.check(request.metadata(), peer)?;
        request.extensions_mut().insert(user);
        Ok(())
    }

    async fn schema_of(&self, request: Request<FlightDescriptor>) -> Result<Schema, Status> {
        let message = Any::decode(&*request.get_ref().cmd)
            .map_err(|e| Status::invalid_argument(format!("malformed command: {e}")))?;
        let command = Command::try_from(message)
            .map_err(|e| Status::invalid_argument(format!("unknown command: {e}")))?;
        let user = caller(&request)?;
        let server = &self.service.server;
        let session = super::session::key(request.metadata(), &user.name, request.remote_addr());
        match command {
            Command::CommandStatementQuery(query) => {
                let schema = server.schema(&session, &query.query, None).await?;
                Ok(schema.as_ref().clone())
            }
            Command::CommandPreparedStatementQuery(command) => {
                let handle = handle_text(&command.prepared_statement_handle)?;
                let prepared = server.prepared(&handle, &user.name)?;
                if prepared.values.is_none() {
                    // Not bound (yet): the schema the statement was prepared with.
                    return Ok(prepared.dataset_schema.as_ref().clone());
                }
                let values = prepared.values.as_deref();
                let schema = server
                    .schema(&prepared.session, &prepared.sql, values)
                    .await?;
                Ok(schema.as_ref().clone())
            }
            other => {
                // Everything else announces its schema in its FlightInfo.
                let descriptor = FlightDescriptor::new_cmd(other.into_any().encode_to_vec());
                let mut probe = Request::new(descriptor);
                probe.extensions_mut().insert(user);
                let info = FlightService::get_flight_info(self.service.as_ref(), probe).await?;
                info.into_inner()
                    .try_decode_schema()
                    .map_err(|e| Status::internal(format!("decoding a schema: {e}")))
            }
        }
    }
}

type Delegate = Service;

#[tonic::async_trait]
impl FlightService for Endpoint {
    type HandshakeStream = <Delegate as FlightService>::HandshakeStream;
    type ListFlightsStream = <Delegate as FlightService>::ListFlightsStream;
    type DoGetStream = <Delegate as FlightService>::DoGetStream;
    type DoPutStream = <Delegate as FlightService>::DoPutStream;
    type DoActionStream = <Delegate as FlightService>::DoActionStream;
    type ListActionsStream = <Delegate as FlightService>::ListActionsStream;
    type DoExchangeStream = <Delegate as FlightService>::DoExchangeStream;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        FlightService::handshake(self.service.as_ref(), request).await
    }

    async fn list_flights(
        &self,
        mut request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        self.authenticate(&mut request)?;
        Err(Status::unimplemented(
            "ListFlights: c360 has no standing flights; send a Flight SQL command",
        ))
    }

    async fn get_flight_info(
        &self,
        mut request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.authenticate(&mut request)?;
        FlightService::get_flight_info(self.service.as_ref(), request).await
    }

    async fn poll_flight_info(
        &self,
        mut request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        self.authenticate(&mut request)?;
        Err(Status::unimplemented(
            "PollFlightInfo: use GetFlightInfo (queries are planned synchronously)",
        ))
    }

    async fn get_schema(
        &self,
        mut request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        self.authenticate(&mut request)?;
        let schema = self.schema_of(request).await?;
        let result: SchemaResult = SchemaAsIpc::new(&schema, &IpcWriteOptions::default())
            .try_into()
            .map_err(|e: ArrowError| Status::internal(format!("encoding a schema: {e}")))?;
        Ok(Response::new(result))
    }

    async fn do_get(
        &self,
        mut request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        self.authenticate(&mut request)?;
        FlightService::do_get(self.service.as_ref(), request).await
    }

    async fn do_put(
        &self,
        mut request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        self.authenticate(&mut request)?;
        FlightService::do_put(self.service.as_ref(), request).await
    }

    async fn do_exchange(
        &self,
        mut request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        self.authenticate(&mut request)?;
        Err(Status::unimplemented("DoExchange is not supported"))
    }

    async fn do_action(
        &self,
        mut request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        if request.get_ref().r#type == "health" {
            request.extensions_mut().insert(super::auth::User {
                name: "health".to_string(),
                credential: String::new(),
            });
        } else {
            self.authenticate(&mut request)?;
        }
        FlightService::do_action(self.service.as_ref(), request).await
    }

    async fn list_actions(
        &self,
        mut request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        self.authenticate(&mut request)?;
        FlightService::list_actions(self.service.as_ref(), request).await
    }
}
