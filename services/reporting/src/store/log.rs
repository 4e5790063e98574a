//! `event_log`: every event the reporting service consumed, kept whole so that a model can be
//! built again from the start.

use chrono::{DateTime, Utc};
use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::error::Result;
use switchboard_platform::time::instant;
use switchboard_proto::events::v1::EventEnvelope;
use uuid::Uuid;

/// Keeps `envelope` (applied once, by the inbox, so it is new here). Its id and time must be
/// valid.
pub async fn retain(tx: &mut PgConnection, envelope: &EventEnvelope) -> Result<(), String> {
    let event_id = Uuid::parse_str(&envelope.event_id)
        .map_err(|_| format!("event id {:?} is not a UUID", envelope.event_id))?;
    let occur_time = occur_time(envelope)?;
    sqlx::query(
        "INSERT INTO event_log (event_id, event_type, aggregate_type, aggregate_id,
             aggregate_version, occur_time, envelope)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(&envelope.event_type)
    .bind(&envelope.aggregate_type)
    .bind(&envelope.aggregate_id)
    .bind(envelope.aggregate_version)
    .bind(occur_time)
    .bind(envelope.encode_to_vec())
    .execute(tx)
    .await
    .map_err(|e| format!("postgres: {e}"))?;
    Ok(())
}

/// When the event happened; an event without a valid time is refused.
pub fn occur_time(envelope: &EventEnvelope) -> Result<DateTime<Utc>, String> {
    envelope
        .occur_time
        .as_ref()
        .and_then(instant)
        .ok_or_else(|| format!("event {} has no valid occur_time", envelope.event_id))
}

/// The newest retained event of one of `event_types` of each aggregate of `aggregate_type`
/// whose id follows `after`, in aggregate-id order, at most `batch` of them.
pub async fn newest_per_aggregate(
    tx: &mut PgConnection,
    aggregate_type: &str,
    event_types: &[&str],
    after: &str,
    batch: i64,
) -> anyhow::Result<Vec<(String, EventEnvelope)>> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT DISTINCT ON (aggregate_id) aggregate_id, envelope FROM event_log
         WHERE aggregate_type = $1 AND aggregate_id > $2 AND event_type = ANY($4)
         ORDER BY aggregate_id, aggregate_version DESC LIMIT $3",
    )
    .bind(aggregate_type)
    .bind(after)
    .bind(batch)
    .bind(event_types)
    .fetch_all(tx)
    .await?;
    rows.into_iter()
        .map(|(id, bytes)| {
            let envelope = EventEnvelope::decode(bytes.as_slice())
                .map_err(|e| anyhow::anyhow!("retained event of {id} does not decode: {e}"))?;
            Ok((id, envelope))
        })
        .collect()
}

/// How many events are retained, and the newest callback event's time.
pub async fn extent(tx: &mut PgConnection) -> Result<(i64, Option<DateTime<Utc>>)> {
    Ok(sqlx::query_as(
        "SELECT count(*), max(occur_time) FILTER (WHERE aggregate_type = 'callback')
         FROM event_log",
    )
    .fetch_one(tx)
    .await?)
}
