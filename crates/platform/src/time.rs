//! Instants between the database (`chrono`) and the API (`google.protobuf.Timestamp`), and the
//! one check of request timestamps: protobuf's range (0001-01-01 to 9999-12-31, which standard
//! protobuf libraries refuse to convert outside), then the field's own sane range.

use std::ops::RangeInclusive;

use chrono::{DateTime, Utc};

use crate::error::FieldViolations;

/// 0001-01-01T00:00:00Z, the earliest valid `google.protobuf.Timestamp`.
pub const MIN_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z, the latest valid `google.protobuf.Timestamp` (with any nanos).
pub const MAX_SECONDS: i64 = 253_402_300_799;

pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

/// The instant of an API timestamp; `None` when it is outside protobuf's range or its nanos are
/// invalid.
pub fn instant(timestamp: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    if !(0..1_000_000_000).contains(&timestamp.nanos)
        || !(MIN_SECONDS..=MAX_SECONDS).contains(&timestamp.seconds)
    {
        return None;
    }
    DateTime::from_timestamp(timestamp.seconds, timestamp.nanos as u32)
}

impl FieldViolations {
    /// A request timestamp, or a violation naming `field` when it is not a valid protobuf
    /// timestamp.
    pub fn timestamp(
        &mut self,
        field: &str,
        timestamp: &prost_types::Timestamp,
    ) -> Option<DateTime<Utc>> {
        let parsed = instant(timestamp);
        if parsed.is_none() {
            self.add(
                field,
                "must be a valid timestamp (0001-01-01 to 9999-12-31, nanos 0 to 999,999,999)",
            );
        }
        parsed
    }

    /// A request timestamp within the field's own sane range, or a violation naming `field`;
    /// `range_text` says the range to the caller ("within 5 minutes of now or earlier, not
    /// before 2000").
    pub fn timestamp_within(
        &mut self,
        field: &str,
        timestamp: &prost_types::Timestamp,
        range: RangeInclusive<DateTime<Utc>>,
        range_text: &str,
    ) -> Option<DateTime<Utc>> {
        let parsed = self.timestamp(field, timestamp)?;
        if !range.contains(&parsed) {
            self.add(field, format!("must be {range_text}"));
            return None;
        }
        Some(parsed)
    }
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

    #[test]
    fn protobuf_range_is_enforced_and_named() {
        let at = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
        assert!(instant(&at(MIN_SECONDS)).is_some());
        assert!(instant(&at(MAX_SECONDS)).is_some());
        assert_eq!(instant(&at(MIN_SECONDS - 1)), None);
        assert_eq!(instant(&at(-62_135_596_900)), None);
        assert_eq!(instant(&at(MAX_SECONDS + 1)), None);
        let mut violations = FieldViolations::new();
        let now = Utc::now();
        let sane = now - chrono::Duration::days(1)..=now;
        assert!(
            violations
                .timestamp("request_time", &at(MIN_SECONDS - 1))
                .is_none()
        );
        assert!(
            violations
                .timestamp_within(
                    "preferred_window.start_time",
                    &at(MAX_SECONDS),
                    sane.clone(),
                    "recent"
                )
                .is_none()
        );
        assert!(
            violations
                .timestamp_within("x", &timestamp(now), sane, "recent")
                .is_some()
        );
        let status = violations.into_status();
        assert_eq!(
            crate::error::violated_fields(&status),
            ["request_time", "preferred_window.start_time"]
        );
    }
}
