//! Call attempts (연결) of callbacks.

use sqlx::PgConnection;
use switchboard_platform::error::Result;
use uuid::Uuid;

use super::AttemptRow;

const SELECT: &str = "SELECT id, callback_id, attempt_number, agent_login, start_time, outcome,
    outcome_time, talk_duration_ms, recorded_by_subject, recorded_by_kind, recorded_by_name
  FROM callback_attempts";

pub async fn insert(conn: &mut PgConnection, attempt: &AttemptRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO callback_attempts (id, callback_id, attempt_number, agent_login, start_time)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(attempt.id)
    .bind(attempt.callback_id)
    .bind(attempt.attempt_number)
    .bind(&attempt.agent_login)
    .bind(attempt.start_time)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn save_outcome(conn: &mut PgConnection, attempt: &AttemptRow) -> Result<()> {
    sqlx::query(
        "UPDATE callback_attempts SET outcome = $2, outcome_time = $3, talk_duration_ms = $4,
           recorded_by_subject = $5, recorded_by_kind = $6, recorded_by_name = $7
         WHERE id = $1",
    )
    .bind(attempt.id)
    .bind(attempt.outcome)
    .bind(attempt.outcome_time)
    .bind(attempt.talk_duration_ms)
    .bind(&attempt.recorded_by_subject)
    .bind(&attempt.recorded_by_kind)
    .bind(&attempt.recorded_by_name)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(
    conn: &mut PgConnection,
    callback: Uuid,
    attempt: Uuid,
) -> Result<Option<AttemptRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE callback_id = $1 AND id = $2"
    )))
    .bind(callback)
    .bind(attempt)
    .fetch_optional(conn)
    .await?)
}

/// Oldest first.
pub async fn of(conn: &mut PgConnection, callback: Uuid) -> Result<Vec<AttemptRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE callback_id = $1 ORDER BY attempt_number"
    )))
    .bind(callback)
    .fetch_all(conn)
    .await?)
}
