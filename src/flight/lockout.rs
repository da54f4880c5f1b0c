//! Failed logins slow the guesser down: every failure is logged with the user and the peer's
//! address, and after the first few each user and each peer address must wait twice as long
//! as before (up to a minute) before its next try counts; after [`LOCKOUT_AFTER`] failures in a
//! row it is locked out for [`LOCKOUT`]. A success clears the user's and the peer's record.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tonic::Status;

/// Failures allowed without delay.
const FREE_TRIES: u32 = 3;
/// The first delay after the free tries; each failure doubles it.
const FIRST_DELAY: Duration = Duration::from_millis(500);
/// The longest delay between two tries before the lockout.
const LONGEST_DELAY: Duration = Duration::from_secs(60);
/// Failures in a row that lock a user or a peer out.
pub const LOCKOUT_AFTER: u32 = 10;
/// How long a lockout lasts.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Copy)]
struct Record {
    failures: u32,
    /// No try counts before this.
    until: Instant,
}

/// The failure records of users and peers.
#[derive(Default)]
pub struct Lockout {
    records: Mutex<HashMap<String, Record>>,
}

fn keys(user: Option<&str>, peer: Option<IpAddr>) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(user) = user {
        keys.push(format!("user:{user}"));
    }
    if let Some(peer) = peer {
        keys.push(format!("peer:{peer}"));
    }
    keys
}

impl Lockout {
    /// Refuse a try from `peer` (for `user`, when named) that comes before its wait is over.
    pub fn check(&self, user: Option<&str>, peer: Option<IpAddr>) -> Result<(), Status> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for key in keys(user, peer) {
            if let Some(record) = records.get(&key).filter(|r| r.until > now) {
                let wait = (record.until - now).as_secs().max(1);
                let (who, what) = key.split_once(':').unwrap_or(("", &key));
                return Err(Status::resource_exhausted(format!(
                    "{} failed logins in a row for {who} {what}; try again in {wait} s",
                    record.failures
                )));
            }
        }
        Ok(())
    }

    /// Count a failed try, log it and set the wait before the next.
    pub fn failed(&self, user: Option<&str>, peer: Option<IpAddr>) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let peer_text = peer.map_or_else(|| "unknown".to_string(), |p| p.to_string());
        for key in keys(user, peer) {
            let record = records.entry(key).or_insert(Record {
                failures: 0,
                until: now,
            });
            record.failures += 1;
            record.until = now + delay(record.failures);
        }
        tracing::warn!(
            user = user.unwrap_or("(token)"),
            peer = %peer_text,
            "c360 serve: failed login"
        );
        // Keep the table small: records whose wait is long over are forgotten.
        if records.len() > 10_000 {
            records.retain(|_, r| r.until + LOCKOUT > now);
        }
    }

    /// Clear the records of a successful login.
    pub fn succeeded(&self, user: Option<&str>, peer: Option<IpAddr>) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys(user, peer) {
            records.remove(&key);
        }
    }
}

/// The wait after the `failures`-th failure in a row.
fn delay(failures: u32) -> Duration {
    if failures >= LOCKOUT_AFTER {
        LOCKOUT
    } else if failures <= FREE_TRIES {
        Duration::ZERO
    } else {
        (FIRST_DELAY * 2u32.pow(failures - FREE_TRIES - 1)).min(LONGEST_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_tries_and_lock_out_after_ten() {
        assert_eq!(delay(3), Duration::ZERO);
        assert_eq!(delay(4), Duration::from_millis(500));
        assert_eq!(delay(5), Duration::from_secs(1));
        assert_eq!(delay(9), Duration::from_secs(16));
        assert_eq!(delay(10), LOCKOUT);
        let lockout = Lockout::default();
        let peer = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..FREE_TRIES {
            assert!(lockout.check(Some("ann"), peer).is_ok());
            lockout.failed(Some("ann"), peer);
        }
        lockout.failed(Some("ann"), peer);
        let refused = lockout.check(Some("ann"), None).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        // The same peer guessing another user's password waits too.
        assert!(lockout.check(Some("bob"), peer).is_err());
        lockout.succeeded(Some("ann"), peer);
        assert!(lockout.check(Some("ann"), peer).is_ok());
    }
}
