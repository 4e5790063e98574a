//! The IVR's common push in one statement: the function `intake_push` (migration 0004), called
//! in autocommit, locks, checks and writes the new callback with its history entry, its event
//! and its intake record, all computed here.

use chrono::{DateTime, Utc};
use prost::Message;
use sqlx::{PgPool, Row};
use switchboard_platform::{
    error::{Error, Result},
    events::outbox::OutboxRow,
};
use switchboard_proto::callback::v1::CallbackHistoryEntry;
use uuid::Uuid;

use super::{CallbackRow, callbacks};

/// A push as the statement makes it: the checks' inputs and every row it may write.
pub struct OneStatementPush<'a> {
    pub body_hash: &'a [u8],
    /// The push's own request time; `None` when it left it out (a retry then matches any).
    pub given_request_time: Option<DateTime<Utc>>,
    /// The version of the route the callback is pushed on, as the caller knows it.
    pub route_version: i64,
    /// The route attaches repeat requests to the number's open callback.
    pub attach: bool,
    /// The new callback; its `ivr_call_id` is the push's and its route the pushed one.
    pub callback: &'a CallbackRow,
    pub entry: &'a CallbackHistoryEntry,
    pub event: &'a OutboxRow,
    pub disposition: i16,
}

/// What the statement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// The new callback and its rows were written.
    Created,
    /// The call id was pushed before with the same body: that push's callback and disposition.
    Replayed { callback_id: Uuid, disposition: i16 },
    /// The call id was pushed before with another body or request time.
    Conflict,
    /// The route attaches and the number has an open callback: nothing was written.
    AttachNeeded,
    /// The route is not at `route_version` any more (changed or deleted): nothing was written.
    StaleRoute,
}

pub async fn push(pool: &PgPool, push: &OneStatementPush<'_>) -> Result<PushOutcome> {
    let query = sqlx::query(
        "SELECT outcome, earlier_callback_id, earlier_disposition FROM intake_push($1, $2, $3,
           $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
           $22, $23, $24, $25, $26, $27)",
    )
    .bind(push.body_hash)
    .bind(push.given_request_time)
    .bind(push.route_version)
    .bind(push.attach);
    let answer = callbacks::bind_new(query, push.callback)
        .bind(push.entry.encode_to_vec())
        .bind(push.event.event_id)
        .bind(&push.event.routing_key)
        .bind(&push.event.envelope)
        .bind(&push.event.traceparent)
        .bind(&push.event.tracestate)
        .bind(push.disposition)
        .fetch_one(pool)
        .await?;
    let outcome: String = answer.try_get("outcome")?;
    let earlier_callback: Option<Uuid> = answer.try_get("earlier_callback_id")?;
    let earlier_disposition: Option<i16> = answer.try_get("earlier_disposition")?;
    Ok(
        match (outcome.as_str(), earlier_callback, earlier_disposition) {
            ("created", ..) => PushOutcome::Created,
            ("replayed", Some(callback_id), Some(disposition)) => PushOutcome::Replayed {
                callback_id,
                disposition,
            },
            ("conflict", ..) => PushOutcome::Conflict,
            ("attach", ..) => PushOutcome::AttachNeeded,
            ("stale_route", ..) => PushOutcome::StaleRoute,
            _ => {
                return Err(Error::internal(format!("intake_push answered {outcome:?}")));
            }
        },
    )
}
