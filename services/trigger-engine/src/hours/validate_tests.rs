use switchboard_platform::{calendar::api_date, error::violated_fields};

use super::*;

fn interval(day: DayOfWeek, start: i32, end: i32) -> BusinessHoursInterval {
    BusinessHoursInterval {
        day_of_week: day as i32,
        start_minute: start,
        end_minute: end,
    }
}

fn holiday(m: u32, d: u32, name: &str) -> Holiday {
    Holiday {
        date: Some(api_date(NaiveDate::from_ymd_opt(2025, m, d).unwrap())),
        name: name.into(),
    }
}

fn good() -> BusinessHours {
    BusinessHours {
        name: " 본사 상담센터 ".into(),
        time_zone: "Asia/Seoul".into(),
        weekly_intervals: vec![
            interval(DayOfWeek::Monday, 540, 720),
            // Touching is not overlapping: the end is exclusive.
            interval(DayOfWeek::Monday, 780, 1080),
            interval(DayOfWeek::Monday, 720, 780),
            interval(DayOfWeek::Sunday, 1320, 1440),
            interval(DayOfWeek::Tuesday, 0, 360),
        ],
        holidays: vec![holiday(10, 6, "추석"), holiday(10, 7, "")],
        ..Default::default()
    }
}

fn fields_of(value: &BusinessHours, fields: &[&str]) -> Vec<String> {
    let mut violations = FieldViolations::new();
    check_fields(value, "business_hours", fields, &mut violations);
    violated_fields(&violations.into_status())
}

#[test]
fn a_good_schedule_passes_and_an_empty_zone_is_the_centers() {
    let mut violations = FieldViolations::new();
    check_business_hours(&good(), "business_hours", &mut violations);
    assert!(violations.is_empty(), "{:?}", violations.into_status());
    let centers = BusinessHours {
        time_zone: String::new(),
        weekly_intervals: vec![],
        holidays: vec![],
        ..good()
    };
    assert!(fields_of(&centers, &FIELDS).is_empty());
}

#[test]
fn names_are_required_bounded_and_one_line() {
    let named = |name: &str| BusinessHours {
        name: name.into(),
        ..good()
    };
    assert!(fields_of(&named(&"가".repeat(NAME_MAX_CHARS)), &["name"]).is_empty());
    for bad in [" ", &"가".repeat(NAME_MAX_CHARS + 1), "본사\n상담"] {
        assert_eq!(fields_of(&named(bad), &["name"]), ["business_hours.name"]);
    }
}

#[test]
fn time_zones_are_iana_names() {
    let zoned = |zone: &str| BusinessHours {
        time_zone: zone.into(),
        ..good()
    };
    assert!(fields_of(&zoned("America/New_York"), &["time_zone"]).is_empty());
    for bad in ["KST", "Asia/Busan", "+09:00", " Asia/Seoul"] {
        assert_eq!(
            fields_of(&zoned(bad), &["time_zone"]),
            ["business_hours.time_zone"],
            "{bad}"
        );
    }
}

#[test]
fn interval_fields_are_named_by_index() {
    let bad = BusinessHours {
        weekly_intervals: vec![
            interval(DayOfWeek::Unspecified, 540, 1080),
            BusinessHoursInterval {
                day_of_week: 8,
                ..interval(DayOfWeek::Monday, 540, 1080)
            },
            interval(DayOfWeek::Monday, 1440, 1441),
            interval(DayOfWeek::Monday, 600, 600),
            interval(DayOfWeek::Friday, -1, 0),
            interval(DayOfWeek::Friday, 0, 1440),
        ],
        ..good()
    };
    assert_eq!(
        fields_of(&bad, &["weekly_intervals"]),
        [
            "business_hours.weekly_intervals[0].day_of_week",
            "business_hours.weekly_intervals[1].day_of_week",
            "business_hours.weekly_intervals[2].start_minute",
            "business_hours.weekly_intervals[2].end_minute",
            "business_hours.weekly_intervals[3].end_minute",
            "business_hours.weekly_intervals[4].start_minute",
            "business_hours.weekly_intervals[4].end_minute",
        ]
    );
}

#[test]
fn intervals_of_a_day_must_not_overlap_or_exceed_seven() {
    let overlapping = BusinessHours {
        weekly_intervals: vec![
            interval(DayOfWeek::Monday, 540, 1080),
            // Monday 08:00–09:00 is fine; the same hours on Tuesday are another day.
            interval(DayOfWeek::Monday, 480, 540),
            interval(DayOfWeek::Tuesday, 540, 1080),
            interval(DayOfWeek::Monday, 1020, 1140),
            // Inside the first, though after the second began.
            interval(DayOfWeek::Monday, 600, 660),
        ],
        ..good()
    };
    let mut violations = FieldViolations::new();
    check_fields(
        &overlapping,
        "business_hours",
        &["weekly_intervals"],
        &mut violations,
    );
    let status = violations.into_status();
    assert_eq!(
        violated_fields(&status),
        [
            "business_hours.weekly_intervals[4]",
            "business_hours.weekly_intervals[3]",
        ]
    );
    assert!(
        status
            .message()
            .contains("overlaps weekly_intervals[0] (Monday 09:00–18:00)"),
        "{}",
        status.message()
    );
    let hourly = |count: i32| BusinessHours {
        weekly_intervals: (0..count)
            .map(|h| interval(DayOfWeek::Wednesday, h * 60, h * 60 + 30))
            .collect(),
        ..good()
    };
    assert!(fields_of(&hourly(7), &["weekly_intervals"]).is_empty());
    assert_eq!(
        fields_of(&hourly(8), &["weekly_intervals"]),
        ["business_hours.weekly_intervals"]
    );
    // Too many to be valid on any week: refused whole, not item by item.
    assert_eq!(
        fields_of(&hourly(1000), &["weekly_intervals"]),
        ["business_hours.weekly_intervals"]
    );
}

#[test]
fn holidays_need_a_valid_date_once_and_a_short_name() {
    let bad = BusinessHours {
        holidays: vec![
            holiday(10, 6, "추석"),
            Holiday {
                date: None,
                name: "날짜 없음".into(),
            },
            Holiday {
                date: Some(switchboard_proto::common::v1::LocalDate {
                    year: 2025,
                    month: 2,
                    day: 29,
                }),
                name: String::new(),
            },
            holiday(10, 6, "추석 연휴"),
            holiday(10, 7, &"가".repeat(HOLIDAY_NAME_MAX_CHARS + 1)),
            holiday(10, 6, ""),
        ],
        ..good()
    };
    let mut violations = FieldViolations::new();
    check_fields(&bad, "business_hours", &["holidays"], &mut violations);
    let status = violations.into_status();
    assert_eq!(
        violated_fields(&status),
        [
            "business_hours.holidays[1].date",
            "business_hours.holidays[2].date",
            "business_hours.holidays[3].date",
            "business_hours.holidays[4].name",
            "business_hours.holidays[5].date",
        ]
    );
    assert!(
        status
            .message()
            .contains("repeats holidays[0] (2025-10-06)")
    );
    assert!(!status.message().contains("holidays[3] (2025-10-06)"));
    let many = BusinessHours {
        holidays: (0..=HOLIDAYS_MAX as u64)
            .map(|d| Holiday {
                date: Some(api_date(
                    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(d),
                )),
                name: String::new(),
            })
            .collect(),
        ..good()
    };
    assert_eq!(fields_of(&many, &["holidays"]), ["business_hours.holidays"]);
}

#[test]
fn an_update_checks_only_its_masked_fields() {
    let bad = BusinessHours {
        name: String::new(),
        time_zone: "Nowhere/Special".into(),
        weekly_intervals: vec![interval(DayOfWeek::Monday, 600, 540)],
        holidays: vec![Holiday::default()],
        ..Default::default()
    };
    assert_eq!(
        fields_of(&bad, &["holidays"]),
        ["business_hours.holidays[0].date"]
    );
    assert_eq!(
        fields_of(&bad, &FIELDS),
        [
            "business_hours.name",
            "business_hours.time_zone",
            "business_hours.weekly_intervals[0].end_minute",
            "business_hours.holidays[0].date",
        ]
    );
}

#[test]
fn masks_keep_known_paths_once_and_name_the_rest() {
    let mut violations = FieldViolations::new();
    let paths = ["holidays".to_owned(), "name".into(), "holidays".into()];
    assert_eq!(update_fields(&paths, &mut violations), ["name", "holidays"]);
    assert!(violations.is_empty());
    update_fields(&["id".to_owned(), "name".into()], &mut violations);
    update_fields(&[], &mut violations);
    let status = violations.into_status();
    assert_eq!(violated_fields(&status), ["update_mask", "update_mask"]);
    assert!(status.message().contains("\"id\" is not a field"));
}
