//! The checks of a business-hours schedule's fields (business_hours.proto) and of an update's
//! mask. Pure; every violation names its field path under the caller's prefix.

use std::collections::{HashMap, hash_map::Entry};

use chrono::NaiveDate;
use chrono_tz::Tz;
use switchboard_platform::{
    calendar::read_date,
    error::{FieldViolations, quote},
};
use switchboard_proto::trigger::v1::{BusinessHours, BusinessHoursInterval, DayOfWeek, Holiday};

/// The fields `update_mask` may name, in the order they are checked.
pub const FIELDS: [&str; 4] = ["name", "time_zone", "weekly_intervals", "holidays"];

pub const NAME_MAX_CHARS: usize = 100;
pub const INTERVALS_PER_DAY_MAX: usize = 7;
/// A longer list must break the per-day bound; refusing it whole keeps the violations few.
pub const INTERVALS_MAX: usize = 7 * INTERVALS_PER_DAY_MAX;
pub const HOLIDAYS_MAX: usize = 500;
pub const HOLIDAY_NAME_MAX_CHARS: usize = 100;
/// Minutes in a day: the latest closing time (exclusive end of the day).
const DAY_MINUTES: i32 = 1440;

/// Checks every writable field of `value` (a create); `prefix` is the message's field path
/// ("business_hours").
pub fn check_business_hours(value: &BusinessHours, prefix: &str, violations: &mut FieldViolations) {
    check_fields(value, prefix, &FIELDS, violations);
}

/// Checks the fields of `value` named in `fields` (an update's mask, from [`update_fields`]).
/// The name is checked trimmed, as it is stored.
pub fn check_fields(
    value: &BusinessHours,
    prefix: &str,
    fields: &[&str],
    violations: &mut FieldViolations,
) {
    let has = |field: &str| fields.contains(&field);
    if has("name") {
        check_name(&value.name, &format!("{prefix}.name"), violations);
    }
    if has("time_zone") {
        check_time_zone(&value.time_zone, &format!("{prefix}.time_zone"), violations);
    }
    if has("weekly_intervals") {
        check_intervals(
            &value.weekly_intervals,
            &format!("{prefix}.weekly_intervals"),
            violations,
        );
    }
    if has("holidays") {
        check_holidays(&value.holidays, &format!("{prefix}.holidays"), violations);
    }
}

/// The fields an update mask names (INVALID_ARGUMENT naming `update_mask` for others).
pub fn update_fields(paths: &[String], violations: &mut FieldViolations) -> Vec<&'static str> {
    switchboard_platform::request::mask(violations, paths, &FIELDS)
}

fn check_name(name: &str, field: &str, violations: &mut FieldViolations) {
    let name = name.trim();
    if name.is_empty() {
        violations.add(field, "is required");
    } else if violations.max_chars(field, name, NAME_MAX_CHARS) {
        // One line in a picker; also keeps the list's page key (name, newline, id) unambiguous.
        violations.check(name.chars().any(char::is_control), field, || {
            "must not contain control characters".into()
        });
    }
}

fn check_time_zone(time_zone: &str, field: &str, violations: &mut FieldViolations) {
    violations.check(
        !time_zone.is_empty() && time_zone.parse::<Tz>().is_err(),
        field,
        || {
            format!(
                "{} is not an IANA time zone (such as \"Asia/Seoul\"; empty for the center's)",
                quote(time_zone)
            )
        },
    );
}

/// "09:00" for 540.
fn clock(minute: i32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The interval's day when every field of it is valid (violations recorded otherwise).
fn check_interval(
    interval: &BusinessHoursInterval,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<DayOfWeek> {
    let day = DayOfWeek::try_from(interval.day_of_week)
        .ok()
        .filter(|day| *day != DayOfWeek::Unspecified);
    if day.is_none() {
        violations.add(format!("{field}.day_of_week"), "must be a day of the week");
    }
    let start = interval.start_minute;
    let start_valid = (0..DAY_MINUTES).contains(&start);
    if !start_valid {
        violations.add(
            format!("{field}.start_minute"),
            "must be 0 to 1439 (minutes after local midnight)",
        );
    }
    let earliest_end = if start_valid { start + 1 } else { 1 };
    let end_valid = (earliest_end..=DAY_MINUTES).contains(&interval.end_minute);
    if !end_valid {
        violations.add(
            format!("{field}.end_minute"),
            format!("must be after start_minute and at most {DAY_MINUTES} (24:00)"),
        );
    }
    day.filter(|_| start_valid && end_valid)
}

fn check_intervals(
    intervals: &[BusinessHoursInterval],
    field: &str,
    violations: &mut FieldViolations,
) {
    if intervals.len() > INTERVALS_MAX {
        violations.add(
            field,
            format!(
                "at most {INTERVALS_MAX} intervals ({INTERVALS_PER_DAY_MAX} a day; got {})",
                intervals.len()
            ),
        );
        return;
    }
    // The valid intervals of each day, as (start, end, index in the request).
    let mut days: HashMap<DayOfWeek, Vec<(i32, i32, usize)>> = HashMap::new();
    for (i, interval) in intervals.iter().enumerate() {
        if let Some(day) = check_interval(interval, &format!("{field}[{i}]"), violations) {
            days.entry(day)
                .or_default()
                .push((interval.start_minute, interval.end_minute, i));
        }
    }
    let mut days: Vec<_> = days.into_iter().collect();
    days.sort_unstable_by_key(|(day, _)| *day);
    for (day, mut day_intervals) in days {
        if day_intervals.len() > INTERVALS_PER_DAY_MAX {
            violations.add(
                field,
                format!(
                    "at most {INTERVALS_PER_DAY_MAX} intervals a day ({day:?} has {})",
                    day_intervals.len()
                ),
            );
        }
        // By opening time, each interval must open at or after the latest close before it.
        day_intervals.sort_unstable();
        let mut latest: Option<(i32, i32, usize)> = None;
        for (start, end, i) in day_intervals {
            if let Some((latest_start, latest_end, j)) = latest {
                if start < latest_end {
                    violations.add(
                        format!("{field}[{i}]"),
                        format!(
                            "overlaps weekly_intervals[{j}] ({day:?} {}–{})",
                            clock(latest_start),
                            clock(latest_end)
                        ),
                    );
                }
                if end <= latest_end {
                    continue;
                }
            }
            latest = Some((start, end, i));
        }
    }
}

fn check_holidays(holidays: &[Holiday], field: &str, violations: &mut FieldViolations) {
    if holidays.len() > HOLIDAYS_MAX {
        violations.add(
            field,
            format!("at most {HOLIDAYS_MAX} holidays (got {})", holidays.len()),
        );
        return;
    }
    let mut seen: HashMap<NaiveDate, usize> = HashMap::new();
    for (i, holiday) in holidays.iter().enumerate() {
        let date_field = format!("{field}[{i}].date");
        if holiday.date.is_none() {
            violations.add(&date_field, "is required");
        }
        if let Some(date) = read_date(holiday.date.as_ref(), &date_field, violations) {
            match seen.entry(date) {
                Entry::Vacant(entry) => {
                    entry.insert(i);
                }
                Entry::Occupied(first) => {
                    let first = first.get();
                    violations.add(&date_field, format!("repeats holidays[{first}] ({date})"));
                }
            }
        }
        violations.max_chars(
            &format!("{field}[{i}].name"),
            &holiday.name,
            HOLIDAY_NAME_MAX_CHARS,
        );
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
