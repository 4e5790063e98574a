//! IVR pushes by call id: what each did, for idempotent retries.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_platform::error::Result;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntakeRow {
    pub body_hash: Vec<u8>,
    pub request_time: DateTime<Utc>,
    pub callback_id: Uuid,
    pub disposition: i16,
}

pub async fn get(conn: &mut PgConnection, ivr_call_id: &str) -> Result<Option<IntakeRow>> {
    Ok(sqlx::query_as(
        "SELECT body_hash, request_time, callback_id, disposition FROM intake_requests
         WHERE ivr_call_id = $1",
    )
    .bind(ivr_call_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn insert(conn: &mut PgConnection, ivr_call_id: &str, row: &IntakeRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO intake_requests (ivr_call_id, body_hash, request_time, callback_id,
           disposition) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(ivr_call_id)
    .bind(&row.body_hash)
    .bind(row.request_time)
    .bind(row.callback_id)
    .bind(row.disposition)
    .execute(conn)
    .await?;
    Ok(())
}
