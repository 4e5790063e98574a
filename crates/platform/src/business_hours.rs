//! A business-hours schedule (업무시간) as its users ask it: is this instant inside business
//! hours (trigger conditions), and how much of a span is (report times)? Pure; built from a
//! stored (validated) `BusinessHours`.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use switchboard_proto::trigger::v1::{BusinessHours, DayOfWeek};

/// The opening intervals of one week day, as seconds after local midnight: `[start, end)`.
type Day = Vec<(u32, u32)>;

/// When a schedule is open, in its time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    zone: Tz,
    /// Monday first, as `chrono::Weekday::num_days_from_monday`.
    week: [Day; 7],
    holidays: HashSet<NaiveDate>,
}

impl Schedule {
    /// The schedule of `value`, whose empty time zone means `default_zone` (the center's).
    /// Trusts validated data: a zone that does not parse also falls back to `default_zone`, and
    /// intervals without a day and holidays without a valid date are left out.
    pub fn from_proto(value: &BusinessHours, default_zone: Tz) -> Self {
        let zone = value.time_zone.parse::<Tz>().unwrap_or(default_zone);
        let mut week: [Day; 7] = Default::default();
        for interval in &value.weekly_intervals {
            let day = match DayOfWeek::try_from(interval.day_of_week) {
                Ok(DayOfWeek::Unspecified) | Err(_) => continue,
                Ok(day) => day as usize - 1,
            };
            let seconds = |minute: i32| u32::try_from(minute).unwrap_or(0) * 60;
            week[day].push((seconds(interval.start_minute), seconds(interval.end_minute)));
        }
        let holidays = value
            .holidays
            .iter()
            .filter_map(|holiday| holiday.date.as_ref())
            .filter_map(|date| {
                let month = u32::try_from(date.month).ok()?;
                let day = u32::try_from(date.day).ok()?;
                NaiveDate::from_ymd_opt(date.year, month, day)
            })
            .collect();
        Self {
            zone,
            week,
            holidays,
        }
    }

    /// Whether `at` is inside business hours: its local date is not a holiday and its local
    /// time (to the second) falls in an interval of its week day.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.zone);
        if self.holidays.contains(&local.date_naive()) {
            return false;
        }
        let second = local.num_seconds_from_midnight();
        self.week[local.weekday().num_days_from_monday() as usize]
            .iter()
            .any(|&(start, end)| start <= second && second < end)
    }

    /// How many seconds of `[from, to)` are inside business hours (0 when `to` is not after
    /// `from`): each local day's intervals, holidays left out, clipped to the span.
    pub fn open_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let last = to.with_timezone(&self.zone).date_naive();
        let mut day = from.with_timezone(&self.zone).date_naive();
        let mut open = 0;
        while day <= last {
            if !self.holidays.contains(&day) {
                for &(start, end) in &self.week[day.weekday().num_days_from_monday() as usize] {
                    let (Some(a), Some(b)) = (self.instant(day, start), self.instant(day, end))
                    else {
                        continue;
                    };
                    let (a, b) = (a.max(from), b.min(to));
                    if b > a {
                        open += (b - a).num_seconds();
                    }
                }
            }
            let Some(next) = day.checked_add_days(Days::new(1)) else {
                break;
            };
            day = next;
        }
        open
    }

    /// The instant `second` seconds after local midnight of `day` (86,400 is the next
    /// midnight); a local time skipped by a clock change is taken an hour later.
    fn instant(&self, day: NaiveDate, second: u32) -> Option<DateTime<Utc>> {
        let local: NaiveDateTime =
            day.and_hms_opt(0, 0, 0)? + chrono::Duration::seconds(i64::from(second));
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                self.zone
                    .from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|at| at.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use crate::calendar::api_date;
    use chrono::TimeZone;
    use switchboard_proto::trigger::v1::{BusinessHoursInterval, Holiday};

    use super::*;

    const SEOUL: Tz = chrono_tz::Asia::Seoul;

    fn interval(day: DayOfWeek, start: i32, end: i32) -> BusinessHoursInterval {
        BusinessHoursInterval {
            day_of_week: day as i32,
            start_minute: start,
            end_minute: end,
        }
    }

    fn holiday(y: i32, m: u32, d: u32, name: &str) -> Holiday {
        Holiday {
            date: Some(api_date(NaiveDate::from_ymd_opt(y, m, d).unwrap())),
            name: name.into(),
        }
    }

    /// Monday to Friday 09:00–18:00.
    fn office(time_zone: &str) -> BusinessHours {
        BusinessHours {
            time_zone: time_zone.into(),
            weekly_intervals: [
                DayOfWeek::Monday,
                DayOfWeek::Tuesday,
                DayOfWeek::Wednesday,
                DayOfWeek::Thursday,
                DayOfWeek::Friday,
            ]
            .into_iter()
            .map(|day| interval(day, 540, 1080))
            .collect(),
            ..Default::default()
        }
    }

    /// The instant of a local time in `zone`.
    fn local(zone: Tz, y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        zone.with_ymd_and_hms(y, m, d, h, min, s)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn minute_boundaries_are_counted_to_the_second() {
        let schedule = Schedule::from_proto(&office("Asia/Seoul"), SEOUL);
        // 2025-01-06 is a Monday.
        let at = |h, m, s| schedule.contains(local(SEOUL, 2025, 1, 6, h, m, s));
        assert!(!at(8, 59, 59));
        assert!(at(9, 0, 0));
        assert!(at(17, 59, 0));
        assert!(at(17, 59, 59));
        assert!(!at(18, 0, 0));
        // Saturday has no interval.
        assert!(!schedule.contains(local(SEOUL, 2025, 1, 11, 10, 0, 0)));
    }

    #[test]
    fn a_night_shift_crosses_midnight_as_two_intervals() {
        let night = BusinessHours {
            weekly_intervals: vec![
                interval(DayOfWeek::Monday, 1320, 1440),
                interval(DayOfWeek::Tuesday, 0, 360),
            ],
            ..Default::default()
        };
        // An empty zone is the center's.
        let schedule = Schedule::from_proto(&night, SEOUL);
        let monday = |h, m, s| schedule.contains(local(SEOUL, 2025, 1, 6, h, m, s));
        let tuesday = |h, m, s| schedule.contains(local(SEOUL, 2025, 1, 7, h, m, s));
        assert!(!monday(21, 59, 59));
        assert!(monday(22, 0, 0));
        assert!(monday(23, 59, 59));
        assert!(tuesday(0, 0, 0));
        assert!(tuesday(5, 59, 59));
        assert!(!tuesday(6, 0, 0));
        // Monday's early morning is not Tuesday's.
        assert!(!monday(0, 30, 0));
    }

    #[test]
    fn a_holiday_closes_its_whole_local_day() {
        // 추석 2025: Sunday 5 to Tuesday 7 October, with the substitute holiday on the 8th.
        let mut chuseok = office("Asia/Seoul");
        chuseok.holidays = (5..=8).map(|d| holiday(2025, 10, d, "추석")).collect();
        let schedule = Schedule::from_proto(&chuseok, SEOUL);
        assert!(!schedule.contains(local(SEOUL, 2025, 10, 6, 10, 0, 0)));
        assert!(!schedule.contains(local(SEOUL, 2025, 10, 8, 17, 0, 0)));
        assert!(schedule.contains(local(SEOUL, 2025, 10, 9, 10, 0, 0)));
        assert!(schedule.contains(local(SEOUL, 2025, 10, 13, 10, 0, 0)));
    }

    #[test]
    fn the_week_day_is_the_local_one() {
        let schedule = Schedule::from_proto(&office("Asia/Seoul"), SEOUL);
        // Sunday 2025-01-05 23:30 UTC is Monday 08:30 in Seoul: before opening, but Monday.
        let sunday_utc = |h, m| Utc.with_ymd_and_hms(2025, 1, 5, h, m, 0).unwrap();
        assert!(!schedule.contains(sunday_utc(23, 30)));
        // Monday 2025-01-06 00:30 UTC is 09:30 in Seoul.
        assert!(schedule.contains(Utc.with_ymd_and_hms(2025, 1, 6, 0, 30, 0).unwrap()));
        // A Monday 08:00–09:00 interval takes Sunday 23:30 UTC in.
        let mut early = office("Asia/Seoul");
        early.weekly_intervals = vec![interval(DayOfWeek::Monday, 480, 540)];
        assert!(Schedule::from_proto(&early, SEOUL).contains(sunday_utc(23, 30)));
        // Friday 2025-01-10 09:30 UTC is 18:30 in Seoul: closed, though 09:30 in UTC.
        let friday = Utc.with_ymd_and_hms(2025, 1, 10, 9, 30, 0).unwrap();
        assert!(!schedule.contains(friday));
    }

    #[test]
    fn a_weekend_is_not_counted_friday_evening_to_monday_morning_is_thirty_minutes() {
        let schedule = Schedule::from_proto(&office("Asia/Seoul"), SEOUL);
        // Friday 2025-01-10 18:00 to Monday 2025-01-13 09:30.
        let from = local(SEOUL, 2025, 1, 10, 18, 0, 0);
        let to = local(SEOUL, 2025, 1, 13, 9, 30, 0);
        assert_eq!(schedule.open_seconds(from, to), 30 * 60);
        // Friday 17:59:30 counts its last 30 seconds.
        let from = local(SEOUL, 2025, 1, 10, 17, 59, 30);
        assert_eq!(schedule.open_seconds(from, to), 30 * 60 + 30);
        // Inside one interval it is the wall-clock span; reversed or empty spans are 0.
        let a = local(SEOUL, 2025, 1, 13, 10, 0, 0);
        let b = local(SEOUL, 2025, 1, 13, 11, 15, 7);
        assert_eq!(schedule.open_seconds(a, b), 75 * 60 + 7);
        assert_eq!(schedule.open_seconds(b, a), 0);
        assert_eq!(schedule.open_seconds(a, a), 0);
    }

    #[test]
    fn a_holiday_and_a_night_shift_across_midnight_are_counted_in_seoul() {
        // 추석 Monday 2025-10-06 is a holiday: Friday 3rd 17:00 to Tuesday 7th (also a holiday)
        // and Wednesday 8th 10:00 (substitute holiday too) to Thursday 9th 10:00.
        let mut chuseok = office("Asia/Seoul");
        chuseok.holidays = (6..=8).map(|d| holiday(2025, 10, d, "추석")).collect();
        let schedule = Schedule::from_proto(&chuseok, SEOUL);
        let from = local(SEOUL, 2025, 10, 3, 17, 0, 0);
        let to = local(SEOUL, 2025, 10, 9, 10, 0, 0);
        assert_eq!(schedule.open_seconds(from, to), 2 * 3600);
        // Monday 22:00–24:00 and Tuesday 00:00–06:00: 23:30 to 00:45 is 75 minutes.
        let night = BusinessHours {
            weekly_intervals: vec![
                interval(DayOfWeek::Monday, 1320, 1440),
                interval(DayOfWeek::Tuesday, 0, 360),
            ],
            ..Default::default()
        };
        let schedule = Schedule::from_proto(&night, SEOUL);
        let from = local(SEOUL, 2025, 1, 6, 23, 30, 0);
        let to = local(SEOUL, 2025, 1, 7, 0, 45, 0);
        assert_eq!(schedule.open_seconds(from, to), 75 * 60);
        // A whole week of it is 8 hours.
        let week_later = local(SEOUL, 2025, 1, 13, 23, 30, 0);
        assert_eq!(schedule.open_seconds(from, week_later), 8 * 3600);
    }

    #[test]
    fn a_daylight_saving_zone_opens_at_local_nine_in_winter_and_summer() {
        let new_york = chrono_tz::America::New_York;
        // The schedule's own zone wins over the center's.
        let schedule = Schedule::from_proto(&office("America/New_York"), SEOUL);
        // Monday 2025-01-06 (EST, UTC−5) and Monday 2025-03-10 (EDT, UTC−4, the day after the
        // change): 09:00 local is 14:00 and 13:00 UTC.
        let utc = |d, h| Utc.with_ymd_and_hms(2025, 1, d, h, 0, 0).unwrap();
        assert!(!schedule.contains(utc(6, 13)));
        assert!(schedule.contains(utc(6, 14)));
        let march = |h| Utc.with_ymd_and_hms(2025, 3, 10, h, 0, 0).unwrap();
        assert!(!schedule.contains(march(12)));
        assert!(schedule.contains(march(13)));
        assert!(schedule.contains(local(new_york, 2025, 3, 10, 17, 59, 59)));
        assert!(!schedule.contains(local(new_york, 2025, 3, 10, 18, 0, 0)));
    }

    #[test]
    fn no_intervals_is_never_open() {
        let schedule = Schedule::from_proto(&BusinessHours::default(), SEOUL);
        assert!(!schedule.contains(local(SEOUL, 2025, 1, 6, 12, 0, 0)));
    }
}
