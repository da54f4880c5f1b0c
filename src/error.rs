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
    parts.push(current.to_string());
    parts.join(": ")
}
