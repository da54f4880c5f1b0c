//! Building the replies of the Flight SQL service: FlightInfos whose tickets name a query or a
//! metadata command, one-batch metadata streams, the parameter rows a client bound, and the
//! query handles inside tickets.

use std::pin::Pin;

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::sql::server::PeekableFlightDataStream;
use arrow_flight::sql::{Any, ProstMessageExt, TicketStatementQuery};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use futures::{Stream, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status};

/// The data stream of a DoGet.
pub type DataStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

/// `schema` as an IPC message, as GetSchema answers it.
pub fn ipc_schema(schema: &Schema) -> Result<prost::bytes::Bytes, Status> {
    let message: IpcMessage = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: ArrowError| Status::internal(format!("encoding a schema: {e}")))?;
    Ok(message.0)
}

/// A FlightInfo whose one endpoint's ticket is `ticket`.
pub fn flight_info(
    schema: &Schema,
    ticket: Vec<u8>,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(format!("encoding the result schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor)
        .with_ordered(true);
    Ok(Response::new(info))
}

/// The FlightInfo of a metadata command: its ticket is the command itself, answered by DoGet.
pub fn command_info<M: ProstMessageExt>(
    schema: &Schema,
    command: &M,
    request: Request<FlightDescriptor>,
) -> Result<Response<FlightInfo>, Status> {
    flight_info(
        schema,
        command.as_any().encode_to_vec(),
        request.into_inner(),
    )
}

/// The FlightInfo of a planned query: its ticket names the query.
pub fn query_info(
    handle: String,
    schema: &SchemaRef,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let ticket = TicketStatementQuery {
        statement_handle: handle.into_bytes().into(),
    };
    flight_info(schema, ticket.as_any().encode_to_vec(), descriptor)
}

/// One metadata batch as a Flight data stream.
pub fn batch_stream(batch: RecordBatch) -> Response<DataStream> {
    let schema = batch.schema();
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async move { Ok(batch) }))
        .map_err(Status::from);
    Response::new(Box::pin(stream))
}

/// Decode the parameter batches a client put.
pub async fn parameter_rows(
    request: Request<PeekableFlightDataStream>,
) -> Result<Vec<Vec<ScalarValue>>, Status> {
    let stream = FlightRecordBatchStream::new_from_flight_data(
        request.into_inner().map_err(FlightError::from),
    );
    let batches: Vec<RecordBatch> = stream
        .try_collect()
        .await
        .map_err(|e| Status::invalid_argument(format!("reading the bound parameters: {e}")))?;
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let values = batch
                .columns()
                .iter()
                .map(|column| ScalarValue::try_from_array(column, row))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Status::invalid_argument(format!("a bound parameter: {e}")))?;
            rows.push(values);
        }
    }
    Ok(rows)
}

/// A handle's bytes as text.
pub fn handle_text(bytes: &[u8]) -> Result<String, Status> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Status::invalid_argument("malformed handle"))
}

/// The query handle inside a FlightInfo's first ticket.
pub fn handle_of_info(info: &FlightInfo) -> Option<String> {
    let ticket = info.endpoint.first()?.ticket.as_ref()?;
    let any = Any::decode(ticket.ticket.clone()).ok()?;
    let ticket: TicketStatementQuery = any.unpack().ok()??;
    String::from_utf8(ticket.statement_handle.to_vec()).ok()
}
