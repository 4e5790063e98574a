//! The IVR's common push, written in batches: the function `intake_push_many` (migration 0005),
//! called in autocommit, writes a batch in one statement. It locks every push's keys, writes the
//! certainly-new pushes in bulk and runs `intake_push` (migration 0004) for the others; for each
//! push it checks and writes the new callback with its history entry, its event and its intake
//! record, all computed here.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use switchboard_platform::{
    error::{Error, Result},
    events::outbox::OutboxRow,
};
use uuid::Uuid;

use super::CallbackRow;

/// A push as the statement makes it: the checks' inputs and every row it may write.
pub struct PushStatement {
    pub body_hash: Vec<u8>,
    /// The push's own request time; `None` when it left it out (a retry then matches any).
    pub given_request_time: Option<DateTime<Utc>>,
    /// The version of the route the callback is pushed on, as the caller knows it.
    pub route_version: i64,
    /// The route attaches repeat requests to the number's open callback.
    pub attach: bool,
    /// The new callback; its `ivr_call_id` is the push's and its route the pushed one.
    pub callback: CallbackRow,
    /// Its encoded history entry.
    pub entry: Vec<u8>,
    pub event: OutboxRow,
    pub disposition: i16,
}

/// What the statement did with one push.
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

/// Writes `pushes` in one statement: what it did with each, in their order. It fails as a
/// whole, having written nothing.
pub async fn push_many(pool: &PgPool, pushes: &[&PushStatement]) -> Result<Vec<PushOutcome>> {
    let rows = sqlx::query(
        "SELECT push_index, outcome, earlier_callback_id, earlier_disposition
         FROM intake_push_many($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
           $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
         ORDER BY push_index",
    )
    .bind(column(pushes, |p| p.body_hash.as_slice()))
    .bind(column(pushes, |p| p.given_request_time))
    .bind(column(pushes, |p| p.route_version))
    .bind(column(pushes, |p| p.attach))
    .bind(column(pushes, |p| p.callback.id))
    .bind(column(pushes, |p| p.callback.phone_number.as_str()))
    .bind(column(pushes, |p| p.callback.phone_national.as_str()))
    .bind(column(pushes, |p| p.callback.caller_number.as_str()))
    .bind(column(pushes, |p| p.callback.ivr_route_id))
    .bind(column(pushes, |p| p.callback.ivr_call_id.as_str()))
    .bind(column(pushes, |p| p.callback.request_time))
    .bind(column(pushes, |p| p.callback.last_request_time))
    .bind(column(pushes, |p| p.callback.request_count))
    .bind(column(pushes, |p| p.callback.preferred_start))
    .bind(column(pushes, |p| p.callback.preferred_end))
    .bind(column(pushes, |p| p.callback.memo.as_str()))
    .bind(column(pushes, |p| p.callback.state))
    .bind(column(pushes, |p| p.callback.create_time))
    .bind(column(pushes, |p| p.callback.update_time))
    .bind(column(pushes, |p| p.callback.version))
    .bind(column(pushes, |p| p.entry.as_slice()))
    .bind(column(pushes, |p| p.event.event_id))
    .bind(column(pushes, |p| p.event.routing_key.as_str()))
    .bind(column(pushes, |p| p.event.envelope.as_slice()))
    .bind(column(pushes, |p| p.event.traceparent.as_str()))
    .bind(column(pushes, |p| p.event.tracestate.as_str()))
    .bind(column(pushes, |p| p.disposition))
    .fetch_all(pool)
    .await?;
    if rows.len() != pushes.len() {
        return Err(Error::internal(format!(
            "intake_push_many answered {} rows for {} pushes",
            rows.len(),
            pushes.len()
        )));
    }
    rows.iter().map(outcome).collect()
}

/// One parameter of `intake_push_many`: `of` each push, in their order.
fn column<'a, T>(pushes: &[&'a PushStatement], of: impl Fn(&'a PushStatement) -> T) -> Vec<T> {
    pushes.iter().map(|push| of(push)).collect()
}

fn outcome(row: &sqlx::postgres::PgRow) -> Result<PushOutcome> {
    let outcome: String = row.try_get("outcome")?;
    let earlier_callback: Option<Uuid> = row.try_get("earlier_callback_id")?;
    let earlier_disposition: Option<i16> = row.try_get("earlier_disposition")?;
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
