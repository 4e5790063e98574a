//! Reading and writing callbacks. Changes are made on a [`CallbackRow`] in memory (by the
//! handlers, with the pure state machine) and written back whole with [`save`].

use sqlx::{PgConnection, PgPool, Postgres, postgres::PgArguments, query::Query};
use switchboard_platform::error::Result;
use switchboard_proto::callback::v1::CallbackState;
use uuid::Uuid;

use super::CallbackRow;

/// Every column of [`CallbackRow`]; `c` is `callbacks`, `r` its route, `a` its latest attempt.
pub const SELECT: &str = "SELECT c.id, c.phone_number, c.phone_national, c.caller_number,
    c.ivr_route_id, r.display_name AS route_name, c.ivr_call_id, c.request_time,
    c.last_request_time, c.request_count, c.preferred_start, c.preferred_end, c.memo, c.state,
    c.assignee_login, c.assignee_group_id, c.assignee_name, c.distributor_login,
    c.distributor_group_id, c.distributor_name, c.assign_time, c.attempt_count,
    c.last_attempt_id, c.complete_time, c.completed_by_subject, c.completed_by_kind,
    c.completed_by_name, c.completion_note, c.create_time, c.update_time, c.version,
    a.id AS la_id, a.attempt_number AS la_number, a.agent_login AS la_agent,
    a.start_time AS la_start, a.outcome AS la_outcome, a.outcome_time AS la_outcome_time,
    a.talk_duration_ms AS la_talk_ms, a.recorded_by_subject AS la_by_subject,
    a.recorded_by_kind AS la_by_kind, a.recorded_by_name AS la_by_name
  FROM callbacks c
  JOIN ivr_routes r ON r.id = c.ivr_route_id
  LEFT JOIN callback_attempts a ON a.id = c.last_attempt_id";

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<CallbackRow>> {
    Ok(
        sqlx::query_as::<_, CallbackRow>(sqlx::AssertSqlSafe(format!("{SELECT} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// Locks the callbacks with these ids (in id order, so concurrent batches cannot deadlock)
/// and returns the ones that exist.
pub async fn lock(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<CallbackRow>> {
    Ok(
        sqlx::query_as::<_, CallbackRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE c.id = ANY($1) ORDER BY c.id FOR UPDATE OF c"
        )))
        .bind(ids)
        .fetch_all(conn)
        .await?,
    )
}

/// The oldest open (not completed) callback of `phone` on `route`, locked.
pub async fn lock_open_for_phone(
    conn: &mut PgConnection,
    route: Uuid,
    phone: &str,
) -> Result<Option<CallbackRow>> {
    // The state is written into the text, not bound: only then can the planner use the partial
    // index `callbacks_open_by_phone`, whose predicate leaves COMPLETED callbacks out.
    let completed = CallbackState::Completed as i16;
    Ok(
        sqlx::query_as::<_, CallbackRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE c.ivr_route_id = $1 AND c.phone_number = $2 AND c.state <> {completed}
         ORDER BY c.request_time, c.id LIMIT 1 FOR UPDATE OF c"
        )))
        .bind(route)
        .bind(phone)
        .fetch_optional(conn)
        .await?,
    )
}

pub async fn insert(conn: &mut PgConnection, row: &CallbackRow) -> Result<()> {
    let query = sqlx::query(
        "INSERT INTO callbacks (id, phone_number, phone_national, caller_number, ivr_route_id,
           ivr_call_id, request_time, last_request_time, request_count, preferred_start,
           preferred_end, memo, state, create_time, update_time, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    );
    bind_new(query, row).execute(conn).await?;
    Ok(())
}

/// Binds the 16 columns a new callback is inserted with, in the order of [`insert`]'s list
/// (also the order of `intake_push`'s parameters for the callback).
pub fn bind_new<'q>(
    query: Query<'q, Postgres, PgArguments>,
    row: &CallbackRow,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(row.id)
        .bind(&row.phone_number)
        .bind(&row.phone_national)
        .bind(&row.caller_number)
        .bind(row.ivr_route_id)
        .bind(&row.ivr_call_id)
        .bind(row.request_time)
        .bind(row.last_request_time)
        .bind(row.request_count)
        .bind(row.preferred_start)
        .bind(row.preferred_end)
        .bind(&row.memo)
        .bind(row.state)
        .bind(row.create_time)
        .bind(row.update_time)
        .bind(row.version)
}

/// Writes back every column a change can touch.
pub async fn save(conn: &mut PgConnection, row: &CallbackRow) -> Result<()> {
    sqlx::query(
        "UPDATE callbacks SET last_request_time = $2, request_count = $3, state = $4,
           assignee_login = $5, assignee_group_id = $6, assignee_name = $7,
           distributor_login = $8, distributor_group_id = $9, distributor_name = $10,
           assign_time = $11, attempt_count = $12, last_attempt_id = $13, complete_time = $14,
           completed_by_subject = $15, completed_by_kind = $16, completed_by_name = $17,
           completion_note = $18, update_time = $19, version = $20
         WHERE id = $1",
    )
    .bind(row.id)
    .bind(row.last_request_time)
    .bind(row.request_count)
    .bind(row.state)
    .bind(&row.assignee_login)
    .bind(&row.assignee_group_id)
    .bind(&row.assignee_name)
    .bind(&row.distributor_login)
    .bind(&row.distributor_group_id)
    .bind(&row.distributor_name)
    .bind(row.assign_time)
    .bind(row.attempt_count)
    .bind(row.last_attempt_id)
    .bind(row.complete_time)
    .bind(&row.completed_by_subject)
    .bind(&row.completed_by_kind)
    .bind(&row.completed_by_name)
    .bind(&row.completion_note)
    .bind(row.update_time)
    .bind(row.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many UNPROCESSED callbacks each of `logins` has (absent logins have none).
pub async fn unfinished_counts(
    conn: &mut PgConnection,
    logins: &[String],
) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT assignee_login, count(*) FROM callbacks
         WHERE state = $2 AND assignee_login = ANY($1) GROUP BY assignee_login",
    )
    .bind(logins)
    .bind(CallbackState::Unprocessed as i16)
    .fetch_all(conn)
    .await?)
}

/// Every agent with unfinished callbacks (optionally only those assigned under `group`), with
/// their count and the name recorded on their latest assignment.
pub async fn agents_with_unfinished(
    pool: &PgPool,
    group: Option<&str>,
) -> Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT assignee_login, max(assignee_name), count(*) FROM callbacks
         WHERE state = $2 AND ($1::text IS NULL OR assignee_group_id = $1)
         GROUP BY assignee_login",
    )
    .bind(group)
    .bind(CallbackState::Unprocessed as i16)
    .fetch_all(pool)
    .await?)
}

/// Serialises assignment decisions per agent: balancing reads the agents' counts, so two
/// batches for the same agents must not interleave. Locks in login order.
pub async fn lock_agents(conn: &mut PgConnection, logins: &[String]) -> Result<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended('callback-assignee:' || login, 0))
         FROM (SELECT DISTINCT login FROM unnest($1::text[]) AS login ORDER BY login) ordered",
    )
    .bind(logins)
    .execute(conn)
    .await?;
    Ok(())
}

/// Serialises pushes with the same IVR call id and pushes of the same number on the same route,
/// until the transaction ends. The function `intake_lock` takes both in key order (migration
/// 0005), the order in which a batch of pushes takes all of its own, so none can deadlock.
pub async fn lock_intake(
    conn: &mut PgConnection,
    ivr_call_id: &str,
    route: Uuid,
    phone: &str,
) -> Result<()> {
    sqlx::query("SELECT intake_lock($1, $2, $3)")
        .bind(ivr_call_id)
        .bind(route)
        .bind(phone)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lock_open_for_phone` writes the state into its text to match this partial index, and
    /// the one-statement push (`intake_push`, migration 0004) looks with the same predicate.
    #[test]
    fn the_open_by_phone_index_excludes_completed_callbacks() {
        let completed = CallbackState::Completed as i16;
        let index = include_str!("../../migrations/0001_callbacks.sql");
        assert!(index.contains(&format!(
            "callbacks_open_by_phone ON callbacks (ivr_route_id, phone_number) WHERE state <> {completed};"
        )));
        let function = include_str!("../../migrations/0004_intake_function.sql");
        assert!(function.contains(&format!(
            "AND phone_number = p_phone_number AND state <> {completed}\n"
        )));
    }
}
