//! `CreateCallback`: an IVR push (docs/product.md §2.1), idempotent by the IVR's call id, attached to the
//! number's open callback when the route's policy says so.

use chrono::{DateTime, Duration, Utc};
use switchboard_platform::error::quote;
use switchboard_platform::{
    db, error::FieldViolations, principal::PrincipalExt, request::require_admin_or_scope,
};
use switchboard_proto::{
    callback::v1::{
        CreateCallbackRequest, CreateCallbackResponse, IntakeDisposition, RepeatRequestPolicy,
    },
    common::v1::Principal,
};
use tonic::Status;
use uuid::Uuid;

use super::{
    CallbackApi,
    access::CREATE_SCOPE,
    announce::{Happened, announce, next_version},
};
use crate::{
    domain::{intake::IntakeBody, phone},
    store::{
        CallbackRow, callbacks,
        intake::{self, IntakeRow},
        routes,
        rows::LastAttemptColumns,
    },
};

const MAX_MEMO: usize = 1_000;
/// How far ahead a preferred window may reach (callback_service.proto).
const MAX_WINDOW_DAYS_AHEAD: i64 = 366;

/// The earliest `request_time` or window end a push may carry: no IVR call predates 2000.
fn earliest_time() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).expect("2000-01-01 is a valid instant")
}

/// A push with its fields checked and normalised.
struct Push {
    ivr_call_id: String,
    phone: phone::Phone,
    caller: String,
    route_code: String,
    request_time: Option<DateTime<Utc>>,
    window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    memo: String,
}

impl Push {
    fn body(&self) -> IntakeBody<'_> {
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

fn validate(
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

pub async fn create(
    api: &CallbackApi,
    principal: &Principal,
    request: CreateCallbackRequest,
) -> Result<CreateCallbackResponse, Status> {
    require_admin_or_scope(principal, CREATE_SCOPE)?;
    let now = Utc::now();
    let push = validate(request, api, now)?;
    let route = routes::by_code(&api.pool, &push.route_code)
        .await?
        .ok_or_else(|| {
            Status::not_found(format!(
                "no IVR route has the code {}",
                quote(&push.route_code)
            ))
        })?;
    if route.disabled {
        return Err(Status::failed_precondition(format!(
            "the IVR route {:?} is disabled",
            route.code
        )));
    }
    let body_hash = push.body().digest();

    let mut tx = db::begin(&api.pool).await?;
    callbacks::lock_intake(&mut tx, &push.ivr_call_id, route.id, &push.phone.e164).await?;
    if let Some(earlier) = intake::get(&mut tx, &push.ivr_call_id).await? {
        let same_time = push.request_time.is_none_or(|t| t == earlier.request_time);
        if earlier.body_hash != body_hash || !same_time {
            return Err(Status::already_exists(format!(
                "ivr_call_id {} was pushed before with a different body",
                quote(&push.ivr_call_id)
            )));
        }
        let callback = callbacks::get(&mut tx, earlier.callback_id)
            .await?
            .ok_or_else(|| Status::internal("the pushed callback is missing"))?;
        return Ok(CreateCallbackResponse {
            callback: Some(callback.to_proto()),
            disposition: i32::from(earlier.disposition),
            replayed: true,
        });
    }

    let request_time = push.request_time.unwrap_or(now);
    let actor = principal.actor();
    let open = if route.policy() == RepeatRequestPolicy::Attach {
        callbacks::lock_open_for_phone(&mut tx, route.id, &push.phone.e164).await?
    } else {
        None
    };
    let (callback, disposition) = match open {
        Some(mut callback) => {
            let before = callback.clone();
            callback.request_count += 1;
            callback.last_request_time = callback.last_request_time.max(request_time);
            next_version(&mut callback, now);
            callbacks::save(&mut tx, &callback).await?;
            let happened = Happened::RequestRepeated {
                ivr_call_id: &push.ivr_call_id,
                request_time,
            };
            announce(&mut tx, Some(&before), &callback, happened, &actor).await?;
            (callback, IntakeDisposition::Attached)
        }
        None => {
            let callback = CallbackRow {
                id: Uuid::now_v7(),
                phone_number: push.phone.e164.clone(),
                phone_national: push.phone.national_digits.clone(),
                caller_number: push.caller.clone(),
                ivr_route_id: route.id,
                route_name: route.display_name.clone(),
                ivr_call_id: push.ivr_call_id.clone(),
                request_time,
                last_request_time: request_time,
                request_count: 1,
                preferred_start: push.window.map(|(start, _)| start),
                preferred_end: push.window.map(|(_, end)| end),
                memo: push.memo.clone(),
                state: switchboard_proto::callback::v1::CallbackState::Registered as i16,
                assignee_login: None,
                assignee_group_id: None,
                assignee_name: None,
                distributor_login: None,
                distributor_group_id: None,
                distributor_name: None,
                assign_time: None,
                attempt_count: 0,
                last_attempt_id: None,
                complete_time: None,
                completed_by_subject: None,
                completed_by_kind: None,
                completed_by_name: None,
                completion_note: String::new(),
                create_time: now,
                update_time: now,
                version: 1,
                last_attempt: LastAttemptColumns::default(),
            };
            callbacks::insert(&mut tx, &callback).await?;
            announce(&mut tx, None, &callback, Happened::Registered, &actor).await?;
            (callback, IntakeDisposition::Created)
        }
    };
    let record = IntakeRow {
        body_hash,
        request_time,
        callback_id: callback.id,
        disposition: disposition as i16,
    };
    intake::insert(&mut tx, &push.ivr_call_id, &record).await?;
    db::commit(tx).await?;
    Ok(CreateCallbackResponse {
        callback: Some(callback.to_proto()),
        disposition: disposition as i32,
        replayed: false,
    })
}
