//! Every change of a callback is written twice in its transaction: as a history entry and as
//! an event in the outbox (docs/product.md §2.2). One function builds both so they cannot
//! disagree; [`announce`] writes them, and the intake's one-statement push writes the same
//! bytes itself.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_platform::{
    events::{NewEvent, publish},
    time::timestamp,
};
use switchboard_proto::{
    callback::v1::{AssignmentMethod, CallbackHistoryEntry, CallbackHistoryKind, CallbackState},
    common::v1::Actor,
    events::{
        Event,
        v1::{
            CallbackAssigned, CallbackAssignmentCancelled, CallbackAttemptRecorded,
            CallbackCompleted, CallbackConnectRequested, CallbackRegistered,
            CallbackRequestRepeated,
        },
    },
};
use tonic::Status;

use crate::store::{AttemptRow, CallbackRow, history};

/// The `source` of the events the callback service writes.
pub const SOURCE: &str = "callback";

/// What happened to a callback.
pub enum Happened<'a> {
    Registered,
    RequestRepeated {
        ivr_call_id: &'a str,
        request_time: DateTime<Utc>,
    },
    Assigned {
        method: AssignmentMethod,
    },
    AssignmentCancelled {
        reason: &'a str,
    },
    ConnectRequested {
        attempt: &'a AttemptRow,
    },
    AttemptRecorded {
        attempt: &'a AttemptRow,
    },
    Completed {
        note: &'a str,
    },
}

/// Moves `row` to its next version, changed at `now`.
pub fn next_version(row: &mut CallbackRow, now: DateTime<Utc>) {
    row.version += 1;
    row.update_time = now;
}

/// A change of a callback as it is recorded: its history entry and its event (with the actor).
pub struct Announcement {
    pub entry: CallbackHistoryEntry,
    pub event: NewEvent,
}

/// Records `happened` (which turned `before` into `after`) in the history and the outbox.
pub async fn announce(
    conn: &mut PgConnection,
    before: Option<&CallbackRow>,
    after: &CallbackRow,
    happened: Happened<'_>,
    actor: &Actor,
) -> Result<(), Status> {
    let Announcement { entry, event } = describe(before, after, happened, actor);
    history::append(conn, after.id, &entry).await?;
    publish(conn, SOURCE, event).await
}

/// The history entry and event of `happened`, which turned `before` into `after`.
pub fn describe(
    before: Option<&CallbackRow>,
    after: &CallbackRow,
    happened: Happened<'_>,
    actor: &Actor,
) -> Announcement {
    let state_before = before.map_or(CallbackState::Unspecified, CallbackRow::state);
    let mut entry = CallbackHistoryEntry {
        version: after.version,
        occur_time: Some(timestamp(after.update_time)),
        actor: Some(actor.clone()),
        state_before: state_before as i32,
        state_after: i32::from(after.state),
        assignee_before: before.and_then(CallbackRow::assignee),
        assignee_after: after.assignee(),
        ..Default::default()
    };
    let snapshot = Some(after.snapshot());
    let event = match happened {
        Happened::Registered => {
            entry.kind = CallbackHistoryKind::Registered as i32;
            entry.ivr_call_id = after.ivr_call_id.clone();
            new_event(
                after,
                &CallbackRegistered {
                    callback: snapshot,
                    phone_number: after.phone_number.clone(),
                    caller_number: after.caller_number.clone(),
                    ivr_call_id: after.ivr_call_id.clone(),
                },
            )
        }
        Happened::RequestRepeated {
            ivr_call_id,
            request_time,
        } => {
            entry.kind = CallbackHistoryKind::RequestRepeated as i32;
            entry.ivr_call_id = ivr_call_id.to_owned();
            new_event(
                after,
                &CallbackRequestRepeated {
                    callback: snapshot,
                    ivr_call_id: ivr_call_id.to_owned(),
                    repeat_request_time: Some(timestamp(request_time)),
                },
            )
        }
        Happened::Assigned { method } => {
            entry.kind = CallbackHistoryKind::Assigned as i32;
            entry.assignment_method = method as i32;
            new_event(
                after,
                &CallbackAssigned {
                    callback: snapshot,
                    state_before: state_before as i32,
                    method: method as i32,
                },
            )
        }
        Happened::AssignmentCancelled { reason } => {
            entry.kind = CallbackHistoryKind::AssignmentCancelled as i32;
            entry.note = reason.to_owned();
            new_event(
                after,
                &CallbackAssignmentCancelled {
                    callback: snapshot,
                    state_before: state_before as i32,
                    previous_assignee: before.and_then(CallbackRow::assignee),
                    reason: reason.to_owned(),
                },
            )
        }
        Happened::ConnectRequested { attempt } => {
            entry.kind = CallbackHistoryKind::ConnectRequested as i32;
            entry.attempt_id = attempt.id.to_string();
            new_event(
                after,
                &CallbackConnectRequested {
                    callback: snapshot,
                    attempt_id: attempt.id.to_string(),
                    attempt_number: attempt.attempt_number,
                    agent_login: attempt.agent_login.clone(),
                    phone_number: after.phone_number.clone(),
                },
            )
        }
        Happened::AttemptRecorded { attempt } => {
            entry.kind = CallbackHistoryKind::AttemptRecorded as i32;
            entry.attempt_id = attempt.id.to_string();
            entry.attempt_outcome = i32::from(attempt.outcome);
            new_event(
                after,
                &CallbackAttemptRecorded {
                    callback: snapshot,
                    attempt_id: attempt.id.to_string(),
                    attempt_number: attempt.attempt_number,
                    agent_login: attempt.agent_login.clone(),
                    outcome: i32::from(attempt.outcome),
                    talk_duration: attempt.talk_duration(),
                },
            )
        }
        Happened::Completed { note } => {
            entry.kind = CallbackHistoryKind::Completed as i32;
            entry.note = note.to_owned();
            new_event(
                after,
                &CallbackCompleted {
                    callback: snapshot,
                    state_before: state_before as i32,
                    note: note.to_owned(),
                },
            )
        }
    };
    Announcement {
        entry,
        event: event.with_actor(actor.clone()),
    }
}

fn new_event(row: &CallbackRow, payload: &impl Event) -> NewEvent {
    NewEvent::new(payload, &row.id.to_string(), row.version)
}
