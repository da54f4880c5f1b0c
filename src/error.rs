//! The domain errors of c360: each names what failed, where, and how to fix it.

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Result with a [`C360Error`].
pub type Result<T, E = C360Error> = std::result::Result<T, E>;

/// Errors c360 reports to its users.
#[derive(Debug, thiserror::Error)]
pub enum C360Error {
    /// The workspace configuration is missing or wrong.
    #[error("config {}: {message}", file.display())]
    Config {
        /// The configuration file.
        file: PathBuf,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A source could not be registered or read.
    #[error("source '{name}': {message}")]
    Source {
        /// The source's name in `c360.toml`.
        name: String,
        /// What is wrong, naming the location or file.
        message: String,
    },
    /// The SQL models of the pipeline are inconsistent (unknown table, cycle, parse error).
    #[error("pipeline: {0}")]
    Pipeline(String),
    /// Publishing or reading published outputs failed.
    #[error("output {location}: {message}")]
    Output {
        /// The output location.
        location: String,
        /// What failed.
        message: String,
    },
    /// A query failed; the message names the statement and any file at fault.
    #[error("{0}")]
    Query(String),
    /// A generator failure (writing files).
    #[error("generate: {0}")]
    Generate(String),
    /// A query failed inside DataFusion.
    #[error("{}", strip_context(.0))]
    DataFusion(#[from] DataFusionError),
    /// A file system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl C360Error {
    /// An I/O error with the action and path that failed.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// DataFusion's message without its nested "Context(...)" wrappers, keeping the innermost
/// cause readable while preserving any context text.
pub fn strip_context(e: &DataFusionError) -> String {
    let mut parts = Vec::new();
    let mut current = e;
    while let DataFusionError::Context(context, inner) = current {
        parts.push(context.clone());
        current = inner;
    }
    let innermost = current.to_string();
    parts.push(cluster_message(&innermost).unwrap_or(innermost));
    parts.join(": ")
}

/// Whether `e` is a failure of the cluster (a gRPC status from the scheduler, or no
/// connection to it) rather than of the query's files or SQL.
pub fn is_cluster_failure(e: &DataFusionError) -> bool {
    is_lost_connection(e) || e.to_string().contains("Status { code: ")
}

/// Whether `e` is a connection of the cluster that broke or could not be made (an executor
/// lost while a result was read from it): a failure that running the query again can mend,
/// unlike a status the scheduler answered with.
pub fn is_lost_connection(e: &DataFusionError) -> bool {
    let text = e.to_string();
    LOST_CONNECTIONS.iter().any(|sign| text.contains(sign))
}

/// What Ballista's messages of a broken or refused connection contain.
const LOST_CONNECTIONS: [&str; 4] = [
    "tonic::transport::Error",
    "h2 protocol error",
    "Error connecting to Ballista scheduler or executor",
    "Shuffle fetch partition error",
];

/// A cluster's failure as a person reads it. Ballista hands on the scheduler's gRPC status in
/// its debug form (`Status { code: Internal, message: "...", metadata: ... }`, the message
/// often a `DataFusionError(Execution("..."))` in debug form again); this keeps the innermost
/// message. `None` when `text` is not such a failure.
fn cluster_message(text: &str) -> Option<String> {
    if text.contains("h2 protocol error") || text.contains("Shuffle fetch partition error") {
        return Some(
            "the connection to an executor of the cluster broke while a result was read from \
             it (the executor may have stopped)"
                .to_string(),
        );
    }
    if text.contains("tonic::transport::Error") {
        let why = if text.contains("ConnectionRefused") {
            "connection refused"
        } else {
            "the connection failed"
        };
        return Some(format!(
            "the cluster's scheduler cannot be reached ({why}); is `c360 scheduler` still \
             running there?"
        ));
    }
    let (_, rest) = text.split_once("Status { code: ")?;
    let (_, quoted) = rest.split_once("message: \"")?;
    let mut message = debug_string(quoted);
    while let Some((_, inner)) = message.split_once("DataFusionError(") {
        let Some((_, quoted)) = inner.split_once("(\"") else {
            break;
        };
        message = debug_string(quoted);
    }
    Some(format!("the cluster failed the query: {message}"))
}

/// The Rust debug-escaped string that starts `text` (after its opening quote), unescaped, up
/// to its closing quote.
fn debug_string(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

/// A statement that did not parse, in the parser's own words (without the wrapping of
/// DataFusion's error type), with the statement's line and a caret under the column the
/// parser names.
pub fn syntax_error(e: &DataFusionError, sql: &str) -> C360Error {
    C360Error::Query(with_position(&parser_message(e), sql))
}

/// The parser's own words: `syntax error: Expected: ..., found: x at Line: 1, Column: 8`.
pub fn parser_message(e: &DataFusionError) -> String {
    use datafusion::sql::sqlparser::parser::ParserError;
    match e.find_root() {
        DataFusionError::SQL(error, _) => match error.as_ref() {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => {
                format!("syntax error: {m}")
            }
            ParserError::RecursionLimitExceeded => {
                "syntax error: the statement nests too deeply".to_string()
            }
        },
        _ => strip_context(e),
    }
}

/// A parser message with the statement's line and a caret under the column it names ("at
/// Line: 2, Column: 8").
fn with_position(message: &str, sql: &str) -> String {
    let position = message.rsplit_once("Line: ").and_then(|(_, rest)| {
        let (line, rest) = rest.split_once(", Column: ")?;
        let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((line.parse::<usize>().ok()?, column.parse::<usize>().ok()?))
    });
    match position {
        Some((line, column)) if line >= 1 => match sql.lines().nth(line - 1) {
            Some(text) => format!(
                "{message}\n  {text}\n  {}^",
                " ".repeat(column.saturating_sub(1))
            ),
            None => message.to_string(),
        },
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_context;
    use datafusion::error::DataFusionError;
    use datafusion::sql::parser::DFParser;

    #[test]
    fn a_cluster_status_reads_as_its_innermost_message() {
        let e = DataFusionError::Execution(
            r#"Status { code: Internal, message: "Failed to create SessionContext: DataFusionError(Execution(\"c360 scheduler 0.1.0 refuses a job\"))", metadata: MetadataMap { headers: {} }, source: None }"#
                .to_string(),
        );
        assert_eq!(
            strip_context(&e),
            "the cluster failed the query: c360 scheduler 0.1.0 refuses a job"
        );
        let refused = DataFusionError::Execution(
            "tonic::transport::Error(Transport, ConnectError(ConnectError(\"tcp connect \
             error\", 127.0.0.1:1, Os { code: 111, kind: ConnectionRefused }))"
                .to_string(),
        );
        assert!(strip_context(&refused).contains("connection refused"));
        assert!(super::is_cluster_failure(&refused));
        assert!(super::is_lost_connection(&refused));
        assert!(super::is_cluster_failure(&e) && !super::is_lost_connection(&e));
    }

    #[test]
    fn parser_errors_point_at_their_column() {
        assert_eq!(
            super::with_position(
                "Expected: end of statement, found: x at Line: 2, Column: 8",
                "SELECT 1\nFROM t x y"
            ),
            "Expected: end of statement, found: x at Line: 2, Column: 8\n  FROM t x y\n         ^"
        );
        assert_eq!(super::with_position("no position", "SELECT"), "no position");
    }

    #[test]
    fn a_syntax_error_is_said_once() {
        let sql = "SELECT rec_id, cluster, x FROM t";
        let e = DFParser::parse_sql(sql).expect_err("cluster is a keyword");
        let text = super::syntax_error(&e, sql).to_string();
        assert_eq!(
            text,
            "syntax error: Expected: end of statement, found: cluster at Line: 1, Column: 16\n  \
             SELECT rec_id, cluster, x FROM t\n                 ^"
        );
    }
}
