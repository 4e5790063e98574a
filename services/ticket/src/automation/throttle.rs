//! How many trigger notifications a requester's address received in the last hour (table
//! `requester_notifications`), counted under a lock per address so that runs on two tickets of
//! one requester cannot both send the last one allowed.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use switchboard_platform::error::Result;
use uuid::Uuid;

use crate::tickets::writes::Writes;

/// The notifications sent to `address` in the hour before `now`. Holds the address's lock until
/// the transaction ends.
pub async fn sent_in_last_hour(
    conn: &mut PgConnection,
    address: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("requester_notifications:{address}"))
        .execute(&mut *conn)
        .await?;
    let (sent,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM requester_notifications WHERE address = $1 AND send_time > $2",
    )
    .bind(address)
    .bind(now - Duration::hours(1))
    .fetch_one(conn)
    .await?;
    Ok(sent)
}

/// Adds the notification `message` sent to `address` at `now` to `writes` (after the message).
pub fn record(writes: &mut Writes, address: &str, message: Uuid, now: DateTime<Utc>) -> Result<()> {
    writes.add(
        "INSERT INTO requester_notifications (message_id, address, send_time) VALUES ($1, $2, $3)",
        |b| {
            b.bind(message).bind(address.to_owned()).bind(now);
        },
    )
}
