//! The CTI's dial requests (`WatchConnectRequests`): written with the attempt, claimed by one
//! stream at a time with `FOR UPDATE SKIP LOCKED`, settled by the outcome or the key's cursor.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;
use switchboard_proto::callback::v1::CallbackState;
use uuid::Uuid;

use super::{AttemptRow, CallbackRow};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConnectRequestRow {
    /// Given at claim time, so a stream's requests go out in cursor order.
    pub cursor: i64,
    pub callback_id: Uuid,
    pub attempt_id: Uuid,
    pub attempt_number: i32,
    pub phone_number: String,
    pub agent_login: String,
    pub request_time: DateTime<Utc>,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Writes the dial request of `attempt`, in the attempt's transaction.
pub async fn insert(
    conn: &mut PgConnection,
    callback: &CallbackRow,
    attempt: &AttemptRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO connect_requests
           (attempt_id, callback_id, attempt_number, phone_number, agent_login, request_time)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(attempt.id)
    .bind(attempt.callback_id)
    .bind(attempt.attempt_number)
    .bind(&callback.phone_number)
    .bind(&attempt.agent_login)
    .bind(attempt.start_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Settles the dial request of `attempt` (its outcome is recorded), in that transaction.
pub async fn settle_attempt(conn: &mut PgConnection, attempt: Uuid) -> Result<()> {
    sqlx::query(
        "UPDATE connect_requests SET settle_time = now(), claimed_by = NULL
         WHERE attempt_id = $1 AND settle_time IS NULL",
    )
    .bind(attempt)
    .execute(conn)
    .await?;
    Ok(())
}

/// Settles what was sent to `key` up to `cursor` and is no longer held by a live stream: the
/// key has said it received them.
pub async fn settle_up_to(pool: &PgPool, key: &str, cursor: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE connect_requests SET settle_time = now(), claimed_by = NULL
         WHERE settle_time IS NULL AND cursor <= $2 AND delivered_to = $1
           AND (claimed_by IS NULL OR claimed_until < now())",
    )
    .bind(key)
    .bind(cursor)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Settles the unheld requests whose callback is no longer UNPROCESSED (completed, or its
/// assignment cancelled, while no CTI watched): nobody is to be called for them any more.
pub async fn settle_stale(pool: &PgPool) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE connect_requests c SET settle_time = now()
         FROM callbacks b
         WHERE b.id = c.callback_id AND b.state <> $1 AND c.settle_time IS NULL
           AND (c.claimed_by IS NULL OR c.claimed_until < now())",
    )
    .bind(CallbackState::Unprocessed as i16)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Claims the next `limit` unsettled requests for `stream` of `key`, oldest first: free ones,
/// ones whose lease ran out, and ones released by an ended stream of the same key after its
/// cursor `after` (those up to it the key has received: `settle_up_to` settles them).
pub async fn claim(
    pool: &PgPool,
    stream: Uuid,
    key: &str,
    after: i64,
    limit: i64,
    lease: Duration,
) -> Result<Vec<ConnectRequestRow>> {
    let mut rows: Vec<ConnectRequestRow> = sqlx::query_as(
        "WITH next AS (
           SELECT seq FROM connect_requests
           WHERE settle_time IS NULL
             AND (claimed_until IS NULL OR claimed_until < now()
                  OR (claimed_by IS NULL AND delivered_to = $2))
             AND NOT (delivered_to IS NOT DISTINCT FROM $2 AND cursor <= $5)
           ORDER BY seq
           LIMIT $3
           FOR UPDATE SKIP LOCKED
         )
         UPDATE connect_requests c
         SET claimed_by = $1, delivered_to = $2, cursor = nextval('connect_request_cursors'),
             claimed_until = now() + make_interval(secs => $4::double precision / 1000)
         FROM next WHERE c.seq = next.seq
         RETURNING c.cursor, c.callback_id, c.attempt_id, c.attempt_number, c.phone_number,
           c.agent_login, c.request_time",
    )
    .bind(stream)
    .bind(key)
    .bind(limit)
    .bind(millis(lease))
    .bind(after)
    .fetch_all(pool)
    .await?;
    // Sent in cursor order: a later claim always has higher cursors than this one.
    rows.sort_by_key(|row| row.cursor);
    Ok(rows)
}

/// Extends the lease of what `stream` holds.
pub async fn renew(pool: &PgPool, stream: Uuid, lease: Duration) -> Result<()> {
    sqlx::query(
        "UPDATE connect_requests
         SET claimed_until = now() + make_interval(secs => $2::double precision / 1000)
         WHERE claimed_by = $1 AND settle_time IS NULL",
    )
    .bind(stream)
    .bind(millis(lease))
    .execute(pool)
    .await?;
    Ok(())
}

/// Releases what the ended `stream` holds: for `hold` only its key may take them again.
pub async fn release(pool: &PgPool, stream: Uuid, hold: Duration) -> Result<()> {
    sqlx::query(
        "UPDATE connect_requests
         SET claimed_by = NULL,
             claimed_until = now() + make_interval(secs => $2::double precision / 1000)
         WHERE claimed_by = $1 AND settle_time IS NULL",
    )
    .bind(stream)
    .bind(millis(hold))
    .execute(pool)
    .await?;
    Ok(())
}
