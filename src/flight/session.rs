//! Client sessions: the current catalog and schema set with the SetSessionOptions action,
//! read with GetSessionOptions, dropped with CloseSession.
//!
//! A session is found by the `arrow_flight_session_id` cookie when the client sends one (the
//! server sets it on SetSessionOptions), otherwise by the caller's credential. The protocol
//! messages are those of Flight.proto, which arrow-flight 59 does not generate.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use prost::Message;
use tonic::metadata::MetadataMap;

/// The session cookie's name (the one Flight.proto suggests).
pub const COOKIE: &str = "arrow_flight_session_id";

/// `SessionOptionValue`.
#[derive(Clone, PartialEq, Message)]
pub struct SessionOptionValue {
    /// The value, absent to unset the option.
    #[prost(oneof = "OptionValue", tags = "1, 2, 3, 4, 5")]
    pub option_value: Option<OptionValue>,
}

/// `SessionOptionValue.option_value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum OptionValue {
    /// A string.
    #[prost(string, tag = "1")]
    StringValue(String),
    /// A boolean.
    #[prost(bool, tag = "2")]
    BoolValue(bool),
    /// An integer.
    #[prost(sfixed64, tag = "3")]
    Int64Value(i64),
    /// A float.
    #[prost(double, tag = "4")]
    DoubleValue(f64),
    /// A list of strings.
    #[prost(message, tag = "5")]
    StringListValue(StringListValue),
}

/// `SessionOptionValue.StringListValue`.
#[derive(Clone, PartialEq, Message)]
pub struct StringListValue {
    /// The strings.
    #[prost(string, repeated, tag = "1")]
    pub values: Vec<String>,
}

/// `SetSessionOptionsRequest`.
#[derive(Clone, PartialEq, Message)]
pub struct SetSessionOptionsRequest {
    /// Options by name.
    #[prost(map = "string, message", tag = "1")]
    pub session_options: HashMap<String, SessionOptionValue>,
}

/// `SetSessionOptionsResult`.
#[derive(Clone, PartialEq, Message)]
pub struct SetSessionOptionsResult {
    /// The options that were not set, by name.
    #[prost(map = "string, message", tag = "1")]
    pub errors: HashMap<String, SetSessionOptionsError>,
}

/// `SetSessionOptionsResult.Error`.
#[derive(Clone, PartialEq, Message)]
pub struct SetSessionOptionsError {
    /// 1 invalid name, 2 invalid value, 3 cannot be set.
    #[prost(int32, tag = "1")]
    pub value: i32,
}

/// `GetSessionOptionsResult`.
#[derive(Clone, PartialEq, Message)]
pub struct GetSessionOptionsResult {
    /// Options by name.
    #[prost(map = "string, message", tag = "1")]
    pub session_options: HashMap<String, SessionOptionValue>,
}

/// `CloseSessionResult`.
#[derive(Clone, PartialEq, Message)]
pub struct CloseSessionResult {
    /// 1 closed, 2 closing, 3 not closeable.
    #[prost(int32, tag = "1")]
    pub status: i32,
}

const INVALID_NAME: i32 = 1;
const INVALID_VALUE: i32 = 2;

/// What a session remembers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Default catalog for unqualified names.
    pub catalog: Option<String>,
    /// Default schema for unqualified names.
    pub schema: Option<String>,
}

/// All sessions.
#[derive(Default)]
pub struct Sessions {
    by_key: Mutex<HashMap<String, Options>>,
}

/// The key of the caller's session: its cookie, or else its connection (`peer`, the client's
/// address and port) and user, so that two connections with the same credential never share
/// prepared statements or options.
pub fn key(metadata: &MetadataMap, user: &str, peer: Option<SocketAddr>) -> String {
    cookie(metadata)
        .map(|id| format!("cookie:{id}"))
        .unwrap_or_else(|| connection_key(user, peer))
}

/// The key of the session of a client that sends no cookie: one per connection.
pub fn connection_key(user: &str, peer: Option<SocketAddr>) -> String {
    match peer {
        Some(peer) => format!("connection:{peer}:{user}"),
        None => format!("connection:unknown:{user}"),
    }
}

/// The session id sent in the `cookie` header, if any.
pub fn cookie(metadata: &MetadataMap) -> Option<String> {
    metadata.get_all("cookie").iter().find_map(|value| {
        value.to_str().ok()?.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_string())
        })
    })
}

impl Sessions {
    /// The options of a session (defaults when it has none).
    pub fn get(&self, key: &str) -> Options {
        let map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned().unwrap_or_default()
    }

    /// Apply a SetSessionOptions request; names and values that are refused come back.
    /// `valid` says whether a catalog or schema of that name exists.
    pub fn set(
        &self,
        key: &str,
        request: SetSessionOptionsRequest,
        valid: impl Fn(&str, &str) -> bool,
    ) -> SetSessionOptionsResult {
        let mut map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        let options = map.entry(key.to_string()).or_default();
        let mut errors = HashMap::new();
        for (name, value) in request.session_options {
            let slot = match name.as_str() {
                "catalog" => &mut options.catalog,
                "schema" | "db_schema" => &mut options.schema,
                _ => {
                    errors.insert(
                        name,
                        SetSessionOptionsError {
                            value: INVALID_NAME,
                        },
                    );
                    continue;
                }
            };
            match value.option_value {
                None => *slot = None,
                Some(OptionValue::StringValue(text)) if valid(&name, &text) => *slot = Some(text),
                Some(_) => {
                    errors.insert(
                        name,
                        SetSessionOptionsError {
                            value: INVALID_VALUE,
                        },
                    );
                }
            }
        }
        SetSessionOptionsResult { errors }
    }

    /// The options as a GetSessionOptions result.
    pub fn describe(&self, key: &str, default_catalog: &str, default_schema: &str) -> Vec<u8> {
        let options = self.get(key);
        let text = |v: String| SessionOptionValue {
            option_value: Some(OptionValue::StringValue(v)),
        };
        let mut session_options = HashMap::new();
        session_options.insert(
            "catalog".to_string(),
            text(
                options
                    .catalog
                    .unwrap_or_else(|| default_catalog.to_string()),
            ),
        );
        session_options.insert(
            "schema".to_string(),
            text(options.schema.unwrap_or_else(|| default_schema.to_string())),
        );
        GetSessionOptionsResult { session_options }.encode_to_vec()
    }

    /// Forget a session; true when there was one.
    pub fn close(&self, key: &str) -> bool {
        let mut map = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key).is_some()
    }
}
