//! Errors to gRPC status codes, by an exhaustive match: a bad query is INVALID_ARGUMENT with
//! DataFusion's own message, a limit is RESOURCE_EXHAUSTED, a file that cannot be read is
//! FAILED_PRECONDITION or UNAVAILABLE, and only a bug is INTERNAL.

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use tonic::{Code, Status};

use crate::error::{C360Error, strip_context};

/// The most bytes of an error message sent to a client. A message travels in an HTTP/2 header
/// (`grpc-message`), and one that echoes a huge input (a cast error quoting a million-character
/// string) would break the connection instead of reaching the client.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// `message` cut to [`MAX_MESSAGE_BYTES`] (at a character boundary), saying how much was cut.
pub fn bounded(message: String) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    let mut end = MAX_MESSAGE_BYTES - 100;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}... ({} more bytes of this message not shown)",
        &message[..end],
        message.len() - end
    )
}

/// The status of a failed query: the code from the error's kind, the message without
/// DataFusion's context chain.
pub fn from_datafusion(error: &DataFusionError) -> Status {
    Status::new(code_of(error), bounded(strip_context(error)))
}

/// The status of a c360 error.
pub fn from_c360(error: &C360Error) -> Status {
    let code = match error {
        C360Error::Config { .. } | C360Error::Pipeline(_) => Code::FailedPrecondition,
        C360Error::Source { .. } | C360Error::Output { .. } => Code::FailedPrecondition,
        C360Error::Query(_) => Code::InvalidArgument,
        C360Error::Generate(_) => Code::Internal,
        C360Error::DataFusion(e) => code_of(e),
        C360Error::Io { .. } => Code::Unavailable,
    };
    Status::new(code, bounded(error.to_string()))
}

fn code_of(error: &DataFusionError) -> Code {
    match error {
        DataFusionError::ArrowError(e, _) => arrow_code(e),
        DataFusionError::ParquetError(_) => Code::FailedPrecondition,
        DataFusionError::ObjectStore(_) | DataFusionError::IoError(_) => Code::Unavailable,
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::Configuration(_)
        | DataFusionError::Execution(_)
        | DataFusionError::Substrait(_) => Code::InvalidArgument,
        DataFusionError::NotImplemented(_) => Code::Unimplemented,
        DataFusionError::ResourcesExhausted(_) => Code::ResourceExhausted,
        DataFusionError::Internal(_)
        | DataFusionError::ExecutionJoin(_)
        | DataFusionError::Ffi(_) => Code::Internal,
        DataFusionError::External(e) => external_code(e.as_ref()),
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            code_of(inner)
        }
        DataFusionError::Shared(inner) => code_of(inner),
        DataFusionError::Collection(errors) => errors.first().map_or(Code::Unknown, code_of),
    }
}

fn arrow_code(error: &ArrowError) -> Code {
    match error {
        ArrowError::MemoryError(_) => Code::ResourceExhausted,
        ArrowError::IoError(..) => Code::Unavailable,
        ArrowError::ExternalError(e) => external_code(e.as_ref()),
        ArrowError::NotYetImplemented(_) => Code::Unimplemented,
        ArrowError::CastError(_)
        | ArrowError::ParseError(_)
        | ArrowError::ComputeError(_)
        | ArrowError::DivideByZero
        | ArrowError::ArithmeticOverflow(_)
        | ArrowError::InvalidArgumentError(_)
        | ArrowError::SchemaError(_)
        | ArrowError::CsvError(_)
        | ArrowError::JsonError(_)
        | ArrowError::AvroError(_)
        | ArrowError::DictionaryKeyOverflowError
        | ArrowError::RunEndIndexOverflowError
        | ArrowError::OffsetOverflowError(_) => Code::InvalidArgument,
        ArrowError::IpcError(_) | ArrowError::ParquetError(_) => Code::FailedPrecondition,
        ArrowError::CDataInterface(_) => Code::Internal,
    }
}

/// An error a UDF or table function wrapped: our own kinds keep their code, a regular
/// expression that does not compile is INVALID_ARGUMENT; anything else (an object store or
/// network failure) is UNAVAILABLE.
fn external_code(error: &(dyn std::error::Error + Send + Sync + 'static)) -> Code {
    if let Some(e) = error.downcast_ref::<DataFusionError>() {
        return code_of(e);
    }
    if let Some(e) = error.downcast_ref::<C360Error>() {
        return from_c360(e).code();
    }
    if let Some(e) = error.downcast_ref::<ArrowError>() {
        return arrow_code(e);
    }
    if error.downcast_ref::<regex::Error>().is_some() {
        // A pattern that is invalid or compiles too big is the query's fault.
        return Code::InvalidArgument;
    }
    Code::Unavailable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let long = "é".repeat(5000);
        let cut = bounded(long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES, "{}", cut.len());
        assert!(
            cut.ends_with("more bytes of this message not shown)"),
            "{cut}"
        );
        assert_eq!(bounded("short".to_string()), "short");
    }

    #[test]
    fn user_errors_are_invalid_argument_and_limits_resource_exhausted() {
        let plan = DataFusionError::Plan("table 'x' not found".into());
        assert_eq!(from_datafusion(&plan).code(), Code::InvalidArgument);
        let wrapped = DataFusionError::Context("while planning".into(), Box::new(plan));
        let status = from_datafusion(&wrapped);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("table 'x' not found"));
        let memory = DataFusionError::ResourcesExhausted("pool".into());
        assert_eq!(from_datafusion(&memory).code(), Code::ResourceExhausted);
        let bug = DataFusionError::Internal("bug".into());
        assert_eq!(from_datafusion(&bug).code(), Code::Internal);
    }
}
