//! The trigger runs applied (table `trigger_runs`): each run id once, for as long as its event
//! may still be delivered.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_platform::error::Result;
use uuid::Uuid;

/// Records `run_id` as applied to `ticket` at `now`; false when it already was. Called under
/// the ticket's row lock, so a twin of the run waits for the first and then finds its row.
pub async fn claim(
    conn: &mut PgConnection,
    run_id: &str,
    ticket: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let claimed = sqlx::query(
        "INSERT INTO trigger_runs (run_id, ticket_id, apply_time) VALUES ($1, $2, $3)
         ON CONFLICT (run_id) DO NOTHING",
    )
    .bind(run_id)
    .bind(ticket)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

/// How long a run id is kept. An event arrives again within seconds or minutes (a redelivery,
/// a version conflict evaluated again); one replayed from the dead letters more than this long
/// after its run was applied is evaluated as a new run.
pub const RETENTION: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// Run ids forgotten per statement, so that a long-unswept table never makes one huge delete.
const FORGET_BATCH: i64 = 10_000;

/// Forgets the runs applied before `now - RETENTION`; returns how many.
pub async fn forget_expired(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64> {
    let mut forgotten = 0;
    loop {
        let deleted = sqlx::query(
            "DELETE FROM trigger_runs WHERE run_id IN (
                 SELECT run_id FROM trigger_runs WHERE apply_time < $1
                 ORDER BY apply_time LIMIT $2)",
        )
        .bind(now - RETENTION)
        .bind(FORGET_BATCH)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        forgotten += deleted;
        if deleted < FORGET_BATCH as u64 {
            return Ok(forgotten);
        }
    }
}
