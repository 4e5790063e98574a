//! Instants between the database (`chrono`) and the API (`google.protobuf.Timestamp`).

use chrono::{DateTime, Utc};

pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

/// The instant of an API timestamp; `None` when it is out of range or its nanos are invalid.
pub fn instant(timestamp: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    if !(0..1_000_000_000).contains(&timestamp.nanos) {
        return None;
    }
    DateTime::from_timestamp(timestamp.seconds, timestamp.nanos as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_invalid_nanos() {
        let now = Utc::now();
        assert_eq!(instant(&timestamp(now)), Some(now));
        let bad = prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(instant(&bad), None);
    }
}
