//! `CreateCallback`: an IVR push (docs/product.md §2.1), idempotent by the IVR's call id, attached to the
//! number's open callback when the route's policy says so.
//!
//! The common push — a new call id that registers a callback, or a replay — is written with the
//! pushes that arrive with it, in one statement ([`batches`], `store::intake_push`), on the route
//! remembered in the route cache; attaching a repeat request takes a transaction of its own
//! ([`locked`]).

pub mod batches;
mod locked;
mod validate;

use chrono::{DateTime, SubsecRound, Utc};
use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::{
    db, error::quote, events::outbox::outbox_row, principal::PrincipalExt,
    request::require_admin_or_scope,
};
use switchboard_proto::{
    callback::v1::{
        CallbackState, CreateCallbackRequest, CreateCallbackResponse, IntakeDisposition,
        RepeatRequestPolicy,
    },
    common::v1::Principal,
};
use tonic::Status;
use uuid::Uuid;

use switchboard_platform::group_commit::Written;

use self::validate::{Push, validate};
use super::{
    CallbackApi,
    access::CREATE_SCOPE,
    announce::{Announcement, Happened, SOURCE, describe},
};
use crate::store::{
    CallbackRow, RouteRow, callbacks,
    intake_push::{PushOutcome, PushStatement},
    rows::LastAttemptColumns,
};

pub async fn create(
    api: &CallbackApi,
    principal: &Principal,
    request: CreateCallbackRequest,
) -> Result<CreateCallbackResponse, Status> {
    require_admin_or_scope(principal, CREATE_SCOPE)?;
    // PostgreSQL keeps microseconds: the answer then shows the times a retry reads back.
    let now = Utc::now().trunc_subsecs(6);
    let push = validate(request, api, now)?;
    let body_hash = push.body().digest();
    let actor = principal.actor();
    let code = &push.route_code;
    let mut route = enabled(api.routes.get(&api.pool, code).await?, code)?;
    let mut reloaded = false;
    loop {
        let callback = new_callback(&push, &route, now);
        let Announcement { entry, event } = describe(None, &callback, Happened::Registered, &actor);
        let statement = PushStatement {
            body_hash: body_hash.clone(),
            given_request_time: push.request_time,
            route_version: route.version,
            attach: route.policy() == RepeatRequestPolicy::Attach,
            callback,
            entry: entry.encode_to_vec(),
            event: outbox_row(SOURCE, event),
            disposition: IntakeDisposition::Created as i16,
        };
        let Written {
            item: statement,
            output: outcome,
        } = api.push_batches.write(statement).await?;
        match outcome {
            PushOutcome::Created => {
                return Ok(CreateCallbackResponse {
                    callback: Some(statement.callback.to_proto()),
                    disposition: IntakeDisposition::Created as i32,
                    replayed: false,
                });
            }
            PushOutcome::Replayed {
                callback_id,
                disposition,
            } => {
                let mut conn = db::acquire(&api.pool).await?;
                return replayed(&mut conn, callback_id, disposition).await;
            }
            PushOutcome::Conflict => return Err(conflict(&push.ivr_call_id)),
            PushOutcome::AttachNeeded => {
                return locked::push(api, &push, &route, body_hash, &actor, now).await;
            }
            // The route changed (or went) since it was remembered: read it once more.
            PushOutcome::StaleRoute if !reloaded => {
                route = enabled(api.routes.reload(&api.pool, code).await?, code)?;
                reloaded = true;
            }
            PushOutcome::StaleRoute => {
                return Err(Status::aborted(format!(
                    "the IVR route {} changed during the push; push again",
                    quote(code)
                )));
            }
        }
    }
}

/// The route of a push: NOT_FOUND when no route has the code, FAILED_PRECONDITION when it is
/// disabled.
fn enabled<R: AsRef<RouteRow>>(route: Option<R>, code: &str) -> Result<R, Status> {
    let route = route
        .ok_or_else(|| Status::not_found(format!("no IVR route has the code {}", quote(code))))?;
    if route.as_ref().disabled {
        return Err(Status::failed_precondition(format!(
            "the IVR route {:?} is disabled",
            route.as_ref().code
        )));
    }
    Ok(route)
}

fn conflict(ivr_call_id: &str) -> Status {
    Status::already_exists(format!(
        "ivr_call_id {} was pushed before with a different body",
        quote(ivr_call_id)
    ))
}

/// The answer to a retry: the callback the first push made or attached to, as it is now.
async fn replayed(
    conn: &mut PgConnection,
    callback_id: Uuid,
    disposition: i16,
) -> Result<CreateCallbackResponse, Status> {
    let callback = callbacks::get(conn, callback_id)
        .await?
        .ok_or_else(|| Status::internal("the pushed callback is missing"))?;
    Ok(CreateCallbackResponse {
        callback: Some(callback.to_proto()),
        disposition: i32::from(disposition),
        replayed: true,
    })
}

/// The push's request time: its own, or when the service received it.
fn request_time(push: &Push, now: DateTime<Utc>) -> DateTime<Utc> {
    push.request_time.unwrap_or(now)
}

/// The callback a push registers on `route`, made at `now`.
fn new_callback(push: &Push, route: &RouteRow, now: DateTime<Utc>) -> CallbackRow {
    let request_time = request_time(push, now);
    CallbackRow {
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
        state: CallbackState::Registered as i16,
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
    }
}
