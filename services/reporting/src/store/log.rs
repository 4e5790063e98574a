//! `event_log`: every event the reporting service consumed, kept whole so that a model can be
//! built again from the start.

use chrono::{DateTime, Utc};
use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::error::Result;
use switchboard_platform::time::instant;
use switchboard_proto::events::v1::EventEnvelope;
use uuid::Uuid;

/// Keeps `envelopes` (applied once, by the inbox, so they are new here) in one statement.
/// Their ids and times must be valid.
pub async fn retain(tx: &mut PgConnection, envelopes: &[EventEnvelope]) -> Result<(), String> {
    let mut event_ids = Vec::with_capacity(envelopes.len());
    let mut occur_times = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        event_ids.push(
            Uuid::parse_str(&envelope.event_id)
                .map_err(|_| format!("event id {:?} is not a UUID", envelope.event_id))?,
        );
        occur_times.push(occur_time(envelope)?);
    }
    let column = |part: fn(&EventEnvelope) -> &str| envelopes.iter().map(part).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO event_log (event_id, event_type, aggregate_type, aggregate_id,
             aggregate_version, occur_time, envelope)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int8[],
             $6::timestamptz[], $7::bytea[])
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_ids)
    .bind(column(|e| &e.event_type))
    .bind(column(|e| &e.aggregate_type))
    .bind(column(|e| &e.aggregate_id))
    .bind(
        envelopes
            .iter()
            .map(|e| e.aggregate_version)
            .collect::<Vec<_>>(),
    )
    .bind(occur_times)
    .bind(
        envelopes
            .iter()
            .map(|e| e.encode_to_vec())
            .collect::<Vec<_>>(),
    )
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
    decode(rows)
}

/// Every retained event of the aggregates of `aggregate_type` whose ids follow `after`, at most
/// `aggregates` of them, in aggregate-id then version order.
pub async fn events_of_aggregates(
    tx: &mut PgConnection,
    aggregate_type: &str,
    after: &str,
    aggregates: i64,
) -> anyhow::Result<Vec<(String, EventEnvelope)>> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "WITH ids AS (
             SELECT DISTINCT aggregate_id FROM event_log
             WHERE aggregate_type = $1 AND aggregate_id > $2 ORDER BY aggregate_id LIMIT $3)
         SELECT aggregate_id, envelope FROM event_log
         WHERE aggregate_type = $1 AND aggregate_id IN (SELECT aggregate_id FROM ids)
         ORDER BY aggregate_id, aggregate_version",
    )
    .bind(aggregate_type)
    .bind(after)
    .bind(aggregates)
    .fetch_all(tx)
    .await?;
    decode(rows)
}

/// Retained envelopes decoded, each with its aggregate's id.
fn decode(rows: Vec<(String, Vec<u8>)>) -> anyhow::Result<Vec<(String, EventEnvelope)>> {
    rows.into_iter()
        .map(|(id, bytes)| {
            let envelope = EventEnvelope::decode(bytes.as_slice())
                .map_err(|e| anyhow::anyhow!("retained event of {id} does not decode: {e}"))?;
            Ok((id, envelope))
        })
        .collect()
}

/// How many events of `aggregate_types` are retained, and the newest time of those of
/// `newest_of` (the events whose time says how fresh a model is).
pub async fn extent(
    tx: &mut PgConnection,
    aggregate_types: &[&str],
    newest_of: &str,
) -> Result<(i64, Option<DateTime<Utc>>)> {
    Ok(sqlx::query_as(
        "SELECT count(*), max(occur_time) FILTER (WHERE aggregate_type = $2)
         FROM event_log WHERE aggregate_type = ANY($1)",
    )
    .bind(aggregate_types)
    .bind(newest_of)
    .fetch_one(tx)
    .await?)
}
