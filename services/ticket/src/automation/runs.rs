//! The trigger runs applied (table `trigger_runs`): each run id once.

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
