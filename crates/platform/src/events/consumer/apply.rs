//! The transactions that apply events: the inbox rows and the handler's effect together, so an
//! event is applied once however often it is delivered.

use std::collections::HashSet;

use sqlx::PgPool;
use switchboard_proto::events::v1::EventEnvelope;
use uuid::Uuid;

use super::{EventHandler, HandlerError, batch::Pending};

/// What became of one event applied alone.
pub(super) enum Outcome {
    Applied,
    /// The inbox already had it.
    Duplicate,
}

/// Records `pending` in `consumer`'s inbox and applies the events it did not have yet with one
/// `handle_batch`, in one transaction; returns how many were new. On an error nothing is kept.
pub(super) async fn batch<H: EventHandler, D>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    pending: &[Pending<D>],
) -> Result<usize, HandlerError> {
    let ids: Vec<Uuid> = pending.iter().map(|p| p.event_id).collect();
    let types: Vec<&str> = pending
        .iter()
        .map(|p| p.envelope.event_type.as_str())
        .collect();
    let mut tx = pool.begin().await?;
    let new: HashSet<Uuid> = sqlx::query_scalar(
        "INSERT INTO inbox (consumer, event_id, event_type)
         SELECT $1, event_id, event_type FROM UNNEST($2::uuid[], $3::text[]) AS e (event_id, event_type)
         ON CONFLICT DO NOTHING RETURNING event_id",
    )
    .bind(consumer)
    .bind(&ids)
    .bind(&types)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    if new.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let events: Vec<EventEnvelope> = pending
        .iter()
        .filter(|p| new.contains(&p.event_id))
        .map(|p| p.envelope.clone())
        .collect();
    handler.handle_batch(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(new.len())
}

/// Records one event in the inbox and applies it, in one transaction.
pub(super) async fn one<H: EventHandler>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    event_id: Uuid,
    envelope: &EventEnvelope,
) -> Result<Outcome, HandlerError> {
    let mut tx = pool.begin().await?;
    let first = sqlx::query(
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .bind(&envelope.event_type)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !first {
        tx.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    handler.handle(&mut tx, envelope).await?;
    tx.commit().await?;
    Ok(Outcome::Applied)
}
