//! `ticket_backlog_changes`: the backlog as changes per local day, status, group and assignee;
//! a day's backlog is the running sum up to it.

use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use switchboard_platform::error::Result;

use super::ticket_filter::{self, column};
use crate::domain::tickets::{
    backlog::BacklogKey,
    query::{Breakdown, TicketFilter},
};

/// Adds `changes` (distinct keys, in key order), in one statement.
pub async fn add(tx: &mut PgConnection, changes: &[(BacklogKey, i64)]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ticket_backlog_changes (day, status, group_id, assignee_login, delta)
         SELECT * FROM UNNEST($1::date[], $2::int2[], $3::text[], $4::text[], $5::int8[])
         ON CONFLICT (day, status, group_id, assignee_login)
         DO UPDATE SET delta = ticket_backlog_changes.delta + EXCLUDED.delta",
    )
    .bind(changes.iter().map(|(k, _)| k.day).collect::<Vec<_>>())
    .bind(changes.iter().map(|(k, _)| k.status).collect::<Vec<_>>())
    .bind(
        changes
            .iter()
            .map(|(k, _)| k.group_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        changes
            .iter()
            .map(|(k, _)| k.assignee_login.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(changes.iter().map(|(_, d)| *d).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

/// Summed changes per status and breakdown value: of the days before `first` (with `day`
/// `None`), and of each day of `first..=last`.
pub async fn changes(
    pool: &PgPool,
    first: NaiveDate,
    last: NaiveDate,
    filter: &TicketFilter,
    breakdown: Breakdown,
) -> Result<Vec<(Option<NaiveDate>, i16, String, i64)>> {
    let value = column(breakdown);
    let sql = format!(
        "SELECT CASE WHEN day < $1 THEN NULL ELSE day END AS bucket, status, {value} AS value,
                sum(delta)::int8
         FROM ticket_backlog_changes WHERE day <= $2 AND {}
         GROUP BY 1, 2, 3 HAVING sum(delta) <> 0 ORDER BY 1 NULLS FIRST, 2, 3",
        ticket_filter::assignee_conditions(filter, 3)
    );
    Ok(ticket_filter::bind_assignees(
        sqlx::query_as(AssertSqlSafe(sql)).bind(first).bind(last),
        filter,
    )
    .fetch_all(pool)
    .await?)
}
