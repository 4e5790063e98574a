//! A push's fields checked and normalised, every bad one named at once.

use chrono::{DateTime, Duration, Utc};
use switchboard_platform::{
    error::{FieldViolations, quote},
    phone,
};
use switchboard_proto::callback::v1::CreateCallbackRequest;
use tonic::Status;

use crate::{api::CallbackApi, domain::intake::IntakeBody};

const MAX_MEMO: usize = 1_000;
/// How far ahead a preferred window may reach (callback_service.proto).
const MAX_WINDOW_DAYS_AHEAD: i64 = 366;

/// The earliest `request_time` or window end a push may carry: no IVR call predates 2000.
fn earliest_time() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).expect("2000-01-01 is a valid instant")
}

/// A push with its fields checked and normalised.
pub struct Push {
    pub ivr_call_id: String,
    pub phone: phone::Phone,
    pub caller: String,
    pub route_code: String,
    pub request_time: Option<DateTime<Utc>>,
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub memo: String,
}

impl Push {
    pub fn body(&self) -> IntakeBody<'_> {
        IntakeBody {
            phone_e164: &self.phone.e164,
            caller_e164: &self.caller,
            route_code: &self.route_code,
            preferred_window: self
                .window
                .map(|(start, end)| (start.timestamp_micros(), end.timestamp_micros())),
            memo: &self.memo,
        }
    }
}

pub fn validate(
    request: CreateCallbackRequest,
    api: &CallbackApi,
    now: DateTime<Utc>,
) -> Result<Push, Status> {
    let mut violations = FieldViolations::new();
    let ivr_call_id = request.ivr_call_id.trim().to_owned();
    violations.check(
        ivr_call_id.is_empty()
            || ivr_call_id.len() > 128
            || !ivr_call_id.bytes().all(|b| b.is_ascii_graphic()),
        "ivr_call_id",
        || "must be 1 to 128 printable ASCII characters".into(),
    );
    let phone = phone::normalize(&request.phone_number, api.settings.region);
    violations.check(phone.is_none(), "phone_number", || {
        format!("{} is not a phone number", quote(&request.phone_number))
    });
    // A withheld or unreadable caller ID is dropped, never an error.
    let caller = phone::normalize(&request.caller_number, api.settings.region)
        .map(|p| p.e164)
        .unwrap_or_default();
    let route_code = request.ivr_route_code.trim().to_owned();
    violations.check(route_code.is_empty(), "ivr_route_code", || {
        "must name an IVR route".into()
    });
    let earliest = earliest_time();
    let request_time = request.request_time.as_ref().and_then(|time| {
        violations.timestamp_within(
            "request_time",
            time,
            earliest..=now + Duration::minutes(5),
            "from 2000-01-01 to no more than 5 minutes in the future",
        )
    });
    let window = match &request.preferred_window {
        None => None,
        Some(window) => {
            let sane = earliest..=now + Duration::days(MAX_WINDOW_DAYS_AHEAD);
            let text = "from 2000-01-01 to no more than 366 days ahead";
            let mut end = |field: &str, time: &Option<prost_types::Timestamp>| match time {
                Some(time) => violations.timestamp_within(field, time, sane.clone(), text),
                None => {
                    violations.add(field, "is required with a window");
                    None
                }
            };
            let start = end("preferred_window.start_time", &window.start_time);
            let end = end("preferred_window.end_time", &window.end_time);
            match (start, end) {
                (Some(start), Some(end)) if end > start => Some((start, end)),
                (Some(_), Some(_)) => {
                    violations.add("preferred_window.end_time", "must be after start_time");
                    None
                }
                _ => None,
            }
        }
    };
    violations.check(request.memo.chars().count() > MAX_MEMO, "memo", || {
        format!("at most {MAX_MEMO} characters")
    });
    violations.into_result()?;
    Ok(Push {
        ivr_call_id,
        phone: phone.expect("checked above"),
        caller,
        route_code,
        request_time,
        window,
        memo: request.memo,
    })
}
