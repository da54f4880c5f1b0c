//! Who is calling: bearer tokens from the config or the environment, basic-auth users whose
//! handshake is answered with a bearer token of their own, or nobody (anonymous, loopback only).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use rand::RngCore;
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::lockout::Lockout;

/// Base64 with or without padding: Go's Flight client leaves the padding off.
const BASIC: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How long a token given by the handshake stays valid.
const ISSUED_TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The authenticated caller, put into each request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's name from the config (`anonymous` without credentials).
    pub name: String,
    /// The credential used (a configured token is handed back at the handshake).
    pub credential: String,
}

/// The credentials the server accepts.
pub struct Authenticator {
    tokens: BTreeMap<String, String>,
    users: BTreeMap<String, String>,
    anonymous: bool,
    issued: Mutex<HashMap<String, (String, Instant)>>,
    lockout: Lockout,
}

impl Authenticator {
    /// From the resolved settings.
    pub fn new(
        tokens: BTreeMap<String, String>,
        users: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Self {
        Self {
            tokens,
            users,
            anonymous,
            issued: Mutex::new(HashMap::new()),
            lockout: Lockout::default(),
        }
    }

    /// Check the `authorization` header of a call from `peer`.
    pub fn check(&self, metadata: &MetadataMap, peer: Option<IpAddr>) -> Result<User, Status> {
        let header = match metadata.get("authorization") {
            Some(value) => value.to_str().map_err(|_| {
                Status::unauthenticated("the authorization header is not valid text")
            })?,
            None if self.anonymous => {
                return Ok(User {
                    name: "anonymous".to_string(),
                    credential: String::new(),
                });
            }
            None => {
                return Err(Status::unauthenticated(
                    "no credentials: send 'authorization: Bearer TOKEN' or log in with basic auth",
                ));
            }
        };
        if let Some(token) = strip_scheme(header, "bearer") {
            return self.check_token(token.trim(), peer);
        }
        if let Some(encoded) = strip_scheme(header, "basic") {
            let (name, password) = decode_basic(encoded.trim())?;
            return self.check_password(&name, &password, peer);
        }
        if self.anonymous {
            return Ok(User {
                name: "anonymous".to_string(),
                credential: String::new(),
            });
        }
        Err(Status::unauthenticated(
            "the authorization header must be 'Bearer TOKEN' or 'Basic BASE64(user:password)'",
        ))
    }

    /// Answer a handshake: check the caller and give it a bearer token to use from now on.
    /// A configured token is returned as it is; a basic-auth login gets a new token.
    pub fn handshake(
        &self,
        metadata: &MetadataMap,
        payload: &[u8],
        peer: Option<IpAddr>,
    ) -> Result<String, Status> {
        let basic = metadata
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|h| strip_scheme(h, "basic"))
            .map(|encoded| decode_basic(encoded.trim()))
            .transpose()?
            .or_else(|| basic_from_payload(payload));
        let user = match basic {
            Some((name, password)) => self.check_password(&name, &password, peer)?,
            None => self.check(metadata, peer)?,
        };
        if self.tokens.contains_key(&user.credential) {
            return Ok(user.credential);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        issued.retain(|_, (_, expires)| *expires > now);
        issued.insert(
            token.clone(),
            (user.name.clone(), now + ISSUED_TOKEN_LIFETIME),
        );
        Ok(token)
    }

    fn check_token(&self, token: &str, peer: Option<IpAddr>) -> Result<User, Status> {
        self.lockout.check(None, peer)?;
        let configured = self.tokens.iter().fold(None, |found, (known, user)| {
            if constant_time_eq(known.as_bytes(), token.as_bytes()) {
                Some(user.clone())
            } else {
                found
            }
        });
        let name = match configured {
            Some(name) => Some(name),
            None => {
                let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
                issued
                    .get(token)
                    .filter(|(_, expires)| *expires > Instant::now())
                    .map(|(name, _)| name.clone())
            }
        };
        match name {
            Some(name) => {
                // A valid token clears the failures counted against its peer address.
                self.lockout.succeeded(None, peer);
                Ok(User {
                    name,
                    credential: token.to_string(),
                })
            }
            None => Err(self.failed(None, peer, Status::unauthenticated(
                "the bearer token is not valid (unknown or expired); check the token or log in again",
            ))),
        }
    }

    fn check_password(
        &self,
        name: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> Result<User, Status> {
        self.lockout.check(Some(name), peer)?;
        let ok = self
            .users
            .get(name)
            .is_some_and(|known| constant_time_eq(known.as_bytes(), password.as_bytes()));
        if ok {
            self.lockout.succeeded(Some(name), peer);
            Ok(User {
                name: name.to_string(),
                credential: format!("basic:{name}"),
            })
        } else {
            Err(self.failed(
                Some(name),
                peer,
                Status::unauthenticated(format!(
                    "basic auth for '{name}' failed: unknown user or wrong password"
                )),
            ))
        }
    }

    /// Count a failed login and return its status.
    fn failed(&self, user: Option<&str>, peer: Option<IpAddr>, status: Status) -> Status {
        self.lockout.failed(user, peer);
        status
    }
}

fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

fn decode_basic(encoded: &str) -> Result<(String, String), Status> {
    let bytes = BASIC
        .decode(encoded)
        .map_err(|_| Status::unauthenticated("basic auth: the credentials are not base64"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Status::unauthenticated("basic auth: the credentials are not UTF-8"))?;
    let (name, password) = text
        .split_once(':')
        .ok_or_else(|| Status::unauthenticated("basic auth: expected user:password"))?;
    Ok((name.to_string(), password.to_string()))
}

/// Older clients send a `BasicAuth` message (username = 2, password = 3) as the payload.
fn basic_from_payload(payload: &[u8]) -> Option<(String, String)> {
    use prost::Message;
    #[derive(Clone, PartialEq, prost::Message)]
    struct BasicAuth {
        #[prost(string, tag = "2")]
        username: String,
        #[prost(string, tag = "3")]
        password: String,
    }
    if payload.is_empty() {
        return None;
    }
    let auth = BasicAuth::decode(payload).ok()?;
    (!auth.username.is_empty()).then_some((auth.username, auth.password))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        let tokens = BTreeMap::from([("t0k3n-abcdefghijkl".to_string(), "bi".to_string())]);
        let users = BTreeMap::from([("ann".to_string(), "pw!".to_string())]);
        Authenticator::new(tokens, users, false)
    }

    fn with(header: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", header.parse().expect("header"));
        m
    }

    #[test]
    fn tokens_basic_logins_and_their_issued_tokens() {
        let a = auth();
        assert_eq!(
            a.check(&with("Bearer t0k3n-abcdefghijkl"), None)
                .expect("ok")
                .name,
            "bi"
        );
        assert!(a.check(&with("Bearer nope"), None).is_err());
        assert!(a.check(&MetadataMap::new(), None).is_err());
        let basic = format!("Basic {}", BASIC.encode("ann:pw!"));
        let token = a.handshake(&with(&basic), &[], None).expect("login");
        let user = a
            .check(&with(&format!("Bearer {token}")), None)
            .expect("issued");
        assert_eq!(user.name, "ann");
        let wrong = format!("Basic {}", BASIC.encode("ann:nope"));
        let unpadded = format!("Basic {}", BASIC.encode("ann:pw!").trim_end_matches('='));
        assert!(unpadded.len() < basic.len());
        assert!(a.handshake(&with(&unpadded), &[], None).is_ok());
        assert!(a.handshake(&with(&wrong), &[], None).is_err());
    }
}
