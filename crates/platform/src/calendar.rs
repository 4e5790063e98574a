//! The contact center's local calendar (time zone from config, default Asia/Seoul): local days,
//! the UTC instants that bound them, and API dates read with the field they came from.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use switchboard_proto::common::v1::LocalDate;

use crate::error::FieldViolations;

/// The local date of `instant` in `zone`: the day a report counts it in.
pub fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

/// An API date as a calendar date; an invalid one is recorded in `violations` under `field`.
/// `None` when absent or invalid.
pub fn read_date(
    value: Option<&LocalDate>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<NaiveDate> {
    let value = value?;
    let parsed = u32::try_from(value.month)
        .ok()
        .zip(u32::try_from(value.day).ok())
        .filter(|_| (1..=9999).contains(&value.year))
        .and_then(|(month, day)| NaiveDate::from_ymd_opt(value.year, month, day));
    if parsed.is_none() {
        violations.add(field, "must be a valid date (year 1-9999)");
    }
    parsed
}

/// A calendar date as an API date.
pub fn api_date(date: NaiveDate) -> LocalDate {
    use chrono::Datelike;
    LocalDate {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// "20250131", for file names.
pub fn compact_date(date: &LocalDate) -> String {
    format!("{:04}{:02}{:02}", date.year, date.month, date.day)
}

/// The first instant of `date` in `zone` (midnight, or the first valid minute after a gap).
pub fn day_start(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    let mut local = midnight;
    // A zone may skip midnight (a DST change); walk forward to the first instant that exists.
    for _ in 0..24 * 4 {
        if let Some(instant) = zone.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
        local += Duration::minutes(15);
    }
    Utc.from_utc_datetime(&midnight)
}

/// The instants `[start of first day, start of the day after the last)` of a period of local
/// days; either end may be open.
pub fn local_period(
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    zone: Tz,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let from = first.map(|date| day_start(date, zone));
    let until = last
        .and_then(|date| date.succ_opt())
        .map(|next| day_start(next, zone));
    (from, until)
}

/// "2025-01-31 09:05:00" in `zone`, for people (the export).
pub fn local_text(instant: DateTime<Utc>, zone: Tz) -> String {
    instant
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The time zone of the configuration (an IANA name such as "Asia/Seoul").
pub fn zone(name: &str) -> anyhow::Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| anyhow::anyhow!("time_zone {name:?} is not an IANA time zone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_seoul_day_starts_at_15_utc_the_day_before() {
        let seoul = zone("Asia/Seoul").unwrap();
        let (from, until) = local_period(Some(date(2025, 1, 1)), Some(date(2025, 1, 31)), seoul);
        assert_eq!(from.unwrap().to_rfc3339(), "2024-12-31T15:00:00+00:00");
        assert_eq!(until.unwrap().to_rfc3339(), "2025-01-31T15:00:00+00:00");
        assert_eq!(local_period(None, None, seoul), (None, None));
    }

    #[test]
    fn local_text_is_in_the_zone() {
        let seoul = zone("Asia/Seoul").unwrap();
        let instant = Utc.with_ymd_and_hms(2025, 1, 31, 15, 30, 0).unwrap();
        assert_eq!(local_text(instant, seoul), "2025-02-01 00:30:00");
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_first_valid_minute() {
        // Santiago skipped 2022-09-11 00:00 → 01:00.
        let santiago = zone("America/Santiago").unwrap();
        let start = day_start(date(2022, 9, 11), santiago);
        assert_eq!(start.to_rfc3339(), "2022-09-11T04:00:00+00:00");
    }

    #[test]
    fn seoul_midnight_splits_days_and_utc_midnight_does_not() {
        let seoul = zone("Asia/Seoul").unwrap();
        let at = |h, m, s| Utc.with_ymd_and_hms(2025, 1, 31, h, m, s).unwrap();
        // 14:59:59 UTC is 23:59:59 in Seoul; 15:00:00 UTC is the next local day.
        assert_eq!(local_date(at(14, 59, 59), seoul), date(2025, 1, 31));
        assert_eq!(local_date(at(15, 0, 0), seoul), date(2025, 2, 1));
        // Either side of UTC midnight is the same Seoul day (08:59:59 and 09:00:00).
        let before = Utc.with_ymd_and_hms(2025, 1, 30, 23, 59, 59).unwrap();
        assert_eq!(local_date(before, seoul), local_date(at(0, 0, 0), seoul));
    }

    #[test]
    fn dates_are_read_with_their_field() {
        let mut violations = FieldViolations::new();
        let good = LocalDate {
            year: 2024,
            month: 2,
            day: 29,
        };
        assert_eq!(
            read_date(Some(&good), "d", &mut violations),
            Some(date(2024, 2, 29))
        );
        assert_eq!(api_date(date(2024, 2, 29)), good);
        let bad = LocalDate {
            year: 2025,
            month: 2,
            day: 29,
        };
        assert_eq!(
            read_date(Some(&bad), "period.end_date", &mut violations),
            None
        );
        assert_eq!(read_date(None, "x", &mut violations), None);
        assert_eq!(compact_date(&good), "20240229");
        let status = violations.into_status();
        assert_eq!(crate::error::violated_fields(&status), ["period.end_date"]);
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(zone("Mars/Olympus").is_err());
    }
}
