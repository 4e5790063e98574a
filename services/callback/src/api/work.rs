//! Working a callback: `ConnectCallback` (a call attempt), `RecordAttemptOutcome` and
//! `CompleteCallback`.

use chrono::Utc;
use sqlx::PgConnection;
use switchboard_platform::{
    db,
    error::FieldViolations,
    principal::PrincipalExt,
    request::uuid_field,
    request_id::{RequestId, commit_with},
};
use switchboard_proto::{
    callback::v1::{
        AttemptOutcome, CompleteCallbackRequest, CompleteCallbackResponse, ConnectCallbackRequest,
        ConnectCallbackResponse, RecordAttemptOutcomeRequest, RecordAttemptOutcomeResponse,
    },
    common::v1::Principal,
};
use tonic::Status;
use uuid::Uuid;

use super::{
    CallbackApi,
    access::{ATTEMPTS_SCOPE, Sight, not_yours, sees, worker},
    announce::{Happened, announce, next_version},
};
use crate::{
    domain::state::{Action, transition},
    store::{AttemptRow, CallbackRow, attempts, callbacks, connect_requests},
};

const MAX_NOTE: usize = 2_000;
const MAX_TALK_MS: i64 = 24 * 3_600 * 1_000;

/// Locks the callback `id`. A missing one is NOT_FOUND, except to an agent, who learns nothing
/// about callbacks that are not theirs, not even whether they exist (PERMISSION_DENIED).
async fn lock_callback(
    conn: &mut PgConnection,
    id: Uuid,
    sight: &Sight,
) -> Result<CallbackRow, Status> {
    let row = callbacks::lock(conn, &[id]).await?.pop();
    match row {
        Some(row) => Ok(row),
        None if matches!(sight, Sight::AssignedTo(_)) => Err(not_yours(&id)),
        None => Err(Status::not_found(format!("no callback {id}"))),
    }
}

/// Locks the callback `id` for a change by someone who sees `sight`.
async fn lock_visible(
    conn: &mut PgConnection,
    id: Uuid,
    sight: &Sight,
) -> Result<CallbackRow, Status> {
    let row = lock_callback(conn, id, sight).await?;
    if sees(sight, &row) {
        Ok(row)
    } else {
        Err(not_yours(&id))
    }
}

fn refuse(
    action: Action,
    row: &CallbackRow,
) -> Result<switchboard_proto::callback::v1::CallbackState, Status> {
    transition(action, row.state()).map_err(Status::failed_precondition)
}

pub async fn connect(
    api: &CallbackApi,
    principal: &Principal,
    request: ConnectCallbackRequest,
) -> Result<ConnectCallbackResponse, Status> {
    let sight = worker(principal)?;
    let id = uuid_field("id", &request.id)?;
    let request_id = RequestId::parse("ConnectCallback", &request.request_id, &request, principal)?;
    let mut tx = db::begin(&api.pool).await?;
    if let Some(request_id) = &request_id
        && let Some(replayed) = request_id
            .replay::<ConnectCallbackResponse>(&mut tx)
            .await?
    {
        return Ok(replayed);
    }
    let mut row = lock_visible(&mut tx, id, &sight).await?;
    refuse(Action::Connect, &row)?;
    let now = Utc::now();
    let before = row.clone();
    let attempt = AttemptRow {
        id: Uuid::now_v7(),
        callback_id: id,
        attempt_number: row.attempt_count + 1,
        agent_login: principal.subject.clone(),
        start_time: now,
        outcome: AttemptOutcome::Unspecified as i16,
        outcome_time: None,
        talk_duration_ms: None,
        recorded_by_subject: None,
        recorded_by_kind: None,
        recorded_by_name: None,
    };
    attempts::insert(&mut tx, &attempt).await?;
    connect_requests::insert(&mut tx, &row, &attempt).await?;
    row.attempt_count += 1;
    row.set_last_attempt(&attempt);
    next_version(&mut row, now);
    callbacks::save(&mut tx, &row).await?;
    let happened = Happened::ConnectRequested { attempt: &attempt };
    announce(&mut tx, Some(&before), &row, happened, &principal.actor()).await?;
    let response = ConnectCallbackResponse {
        callback: Some(row.to_proto()),
        attempt: Some(attempt.to_proto()),
    };
    commit_with(request_id.as_ref(), tx, response).await
}

fn outcome_name(outcome: AttemptOutcome) -> &'static str {
    outcome.as_str_name().trim_start_matches("ATTEMPT_OUTCOME_")
}

pub async fn record_outcome(
    api: &CallbackApi,
    principal: &Principal,
    request: RecordAttemptOutcomeRequest,
) -> Result<RecordAttemptOutcomeResponse, Status> {
    // Admins and the CTI record any attempt; an agent only the attempts they started.
    let sight = if principal.is_admin() || principal.has_scope(ATTEMPTS_SCOPE) {
        Sight::Everything
    } else {
        worker(principal)?
    };
    let mut violations = FieldViolations::new();
    let callback_id = violations.uuid("callback_id", &request.callback_id);
    let attempt_id = violations.uuid("attempt_id", &request.attempt_id);
    let outcome = AttemptOutcome::try_from(request.outcome).unwrap_or(AttemptOutcome::Unspecified);
    violations.check(outcome == AttemptOutcome::Unspecified, "outcome", || {
        "must be ANSWERED, NO_ANSWER, BUSY or FAILED".into()
    });
    let talk_ms = request.talk_duration.as_ref().map(|d| {
        d.seconds
            .saturating_mul(1_000)
            .saturating_add(i64::from(d.nanos) / 1_000_000)
    });
    if let Some(ms) = talk_ms {
        violations.check(outcome != AttemptOutcome::Answered, "talk_duration", || {
            "only with ANSWERED".into()
        });
        violations.check(!(0..=MAX_TALK_MS).contains(&ms), "talk_duration", || {
            "must be 0 to 24 hours".into()
        });
    }
    violations.into_result()?;
    let callback_id = callback_id.expect("checked above");
    let attempt_id = attempt_id.expect("checked above");

    let mut tx = db::begin(&api.pool).await?;
    // The agent's own attempts may be on callbacks since reassigned, so the callback's
    // visibility is not the rule here: the attempt's author is.
    let mut row = lock_callback(&mut tx, callback_id, &sight).await?;
    let mut attempt = match attempts::get(&mut tx, callback_id, attempt_id).await? {
        Some(attempt) => attempt,
        None if matches!(sight, Sight::AssignedTo(_)) => return Err(not_yours(&callback_id)),
        None => return Err(Status::not_found(format!("no attempt {attempt_id}"))),
    };
    if let Sight::AssignedTo(login) = &sight
        && attempt.agent_login != *login
    {
        return Err(Status::permission_denied(format!(
            "attempt {attempt_id} was started by another agent"
        )));
    }
    match attempt.outcome() {
        AttemptOutcome::Unspecified => {}
        recorded if recorded == outcome => {
            return Ok(RecordAttemptOutcomeResponse {
                callback: Some(row.to_proto()),
                attempt: Some(attempt.to_proto()),
            });
        }
        recorded => {
            return Err(Status::failed_precondition(format!(
                "attempt {attempt_id} is already recorded as {}, not {}",
                outcome_name(recorded),
                outcome_name(outcome)
            )));
        }
    }
    let now = Utc::now();
    let actor = principal.actor();
    attempt.outcome = outcome as i16;
    attempt.outcome_time = Some(now);
    attempt.talk_duration_ms = talk_ms;
    attempt.recorded_by_subject = Some(actor.subject.clone());
    attempt.recorded_by_kind = Some(actor.kind.clone());
    attempt.recorded_by_name = Some(actor.display_name.clone());
    attempts::save_outcome(&mut tx, &attempt).await?;
    connect_requests::settle_attempt(&mut tx, attempt.id).await?;
    let before = row.clone();
    if row.last_attempt_id == Some(attempt.id) {
        row.set_last_attempt(&attempt);
    }
    next_version(&mut row, now);
    callbacks::save(&mut tx, &row).await?;
    let happened = Happened::AttemptRecorded { attempt: &attempt };
    announce(&mut tx, Some(&before), &row, happened, &actor).await?;
    db::commit(tx).await?;
    Ok(RecordAttemptOutcomeResponse {
        callback: Some(row.to_proto()),
        attempt: Some(attempt.to_proto()),
    })
}

pub async fn complete(
    api: &CallbackApi,
    principal: &Principal,
    request: CompleteCallbackRequest,
) -> Result<CompleteCallbackResponse, Status> {
    let sight = worker(principal)?;
    let mut violations = FieldViolations::new();
    let id = violations.uuid("id", &request.id);
    violations.check(request.note.chars().count() > MAX_NOTE, "note", || {
        format!("at most {MAX_NOTE} characters")
    });
    violations.into_result()?;
    let id = id.expect("checked above");
    let request_id =
        RequestId::parse("CompleteCallback", &request.request_id, &request, principal)?;
    let mut tx = db::begin(&api.pool).await?;
    if let Some(request_id) = &request_id
        && let Some(replayed) = request_id
            .replay::<CompleteCallbackResponse>(&mut tx)
            .await?
    {
        return Ok(replayed);
    }
    let mut row = lock_visible(&mut tx, id, &sight).await?;
    let state = refuse(Action::Complete, &row)?;
    let now = Utc::now();
    let before = row.clone();
    let actor = principal.actor();
    row.set_state(state);
    row.complete_time = Some(now);
    row.completed_by_subject = Some(actor.subject.clone());
    row.completed_by_kind = Some(actor.kind.clone());
    row.completed_by_name = Some(actor.display_name.clone());
    row.completion_note = request.note.clone();
    next_version(&mut row, now);
    callbacks::save(&mut tx, &row).await?;
    let happened = Happened::Completed {
        note: &request.note,
    };
    announce(&mut tx, Some(&before), &row, happened, &actor).await?;
    let response = CompleteCallbackResponse {
        callback: Some(row.to_proto()),
    };
    commit_with(request_id.as_ref(), tx, response).await
}
