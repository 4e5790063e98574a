//! A CTI session as kept in Redis (a hash per agent), and its protobuf view. Pure.

use std::collections::HashMap;

use switchboard_proto::gateway::v1::{Presence, PresenceState};

/// The fields of a live session. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub state: PresenceState,
    pub extension: String,
    pub login_ms: i64,
    pub state_change_ms: i64,
    pub heartbeat_ms: i64,
    pub expire_ms: i64,
}

impl Session {
    /// The session in a Redis hash, if the hash holds one that is still fresh at `now_ms`.
    pub fn from_hash(hash: &HashMap<String, String>, now_ms: i64) -> Option<Self> {
        let number = |field: &str| hash.get(field).and_then(|v| v.parse::<i64>().ok());
        let session = Self {
            state: PresenceState::from_str_name(hash.get("state")?)?,
            extension: hash.get("extension").cloned().unwrap_or_default(),
            login_ms: number("login_ms")?,
            state_change_ms: number("state_change_ms")?,
            heartbeat_ms: number("heartbeat_ms")?,
            expire_ms: number("expire_ms")?,
        };
        (session.expire_ms > now_ms).then_some(session)
    }

    pub fn to_hash(&self) -> Vec<(&'static str, String)> {
        vec![
            ("state", self.state.as_str_name().to_owned()),
            ("extension", self.extension.clone()),
            ("login_ms", self.login_ms.to_string()),
            ("state_change_ms", self.state_change_ms.to_string()),
            ("heartbeat_ms", self.heartbeat_ms.to_string()),
            ("expire_ms", self.expire_ms.to_string()),
        ]
    }

    /// The session after a login at `now_ms` (a new one, or the same one refreshed).
    pub fn logged_in(
        previous: Option<&Session>,
        state: PresenceState,
        extension: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Self {
        let state_change_ms = match previous {
            Some(p) if p.state == state => p.state_change_ms,
            _ => now_ms,
        };
        Self {
            state,
            extension: extension.to_owned(),
            login_ms: previous.map_or(now_ms, |p| p.login_ms),
            state_change_ms,
            heartbeat_ms: now_ms,
            expire_ms: now_ms + ttl_ms,
        }
    }

    pub fn to_proto(&self, login: &str) -> Presence {
        Presence {
            agent_login: login.to_owned(),
            state: self.state as i32,
            extension: self.extension.clone(),
            login_time: Some(ms_timestamp(self.login_ms)),
            state_change_time: Some(ms_timestamp(self.state_change_ms)),
            last_heartbeat_time: Some(ms_timestamp(self.heartbeat_ms)),
            expire_time: Some(ms_timestamp(self.expire_ms)),
        }
    }
}

/// The presence of an agent who is not CTI-logged-in.
pub fn offline(login: &str, since_ms: Option<i64>) -> Presence {
    Presence {
        agent_login: login.to_owned(),
        state: PresenceState::Offline as i32,
        state_change_time: since_ms.map(ms_timestamp),
        ..Default::default()
    }
}

pub fn ms_timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1_000),
        nanos: (ms.rem_euclid(1_000) * 1_000_000) as i32,
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_round_trips_and_expires() {
        let session = Session::logged_in(None, PresenceState::Available, "2001", 1_000, 60_000);
        let hash: HashMap<_, _> = session
            .to_hash()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(Session::from_hash(&hash, 60_999), Some(session.clone()));
        assert_eq!(
            Session::from_hash(&hash, 61_000),
            None,
            "expired at the TTL"
        );
        assert_eq!(Session::from_hash(&HashMap::new(), 0), None);
    }

    #[test]
    fn logging_in_again_keeps_the_session_start_and_unchanged_state_time() {
        let first = Session::logged_in(None, PresenceState::Available, "1", 1_000, 60_000);
        let again = Session::logged_in(Some(&first), PresenceState::Available, "2", 5_000, 60_000);
        assert_eq!((again.login_ms, again.state_change_ms), (1_000, 1_000));
        assert_eq!((again.extension.as_str(), again.expire_ms), ("2", 65_000));
        let away = Session::logged_in(Some(&again), PresenceState::Away, "2", 7_000, 60_000);
        assert_eq!(away.state_change_ms, 7_000);
    }
}
