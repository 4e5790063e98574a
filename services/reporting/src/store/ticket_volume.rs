//! `ticket_volume_counts`: the volumes pre-aggregated per local day and every filter dimension;
//! `ticket_volume_group_counts`: the same without the agent.

use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use switchboard_platform::error::Result;

use super::ticket_filter::{self, column};
use crate::domain::tickets::{
    fact::{VolumeCounts, VolumeKey},
    query::{Breakdown, TicketFilter},
};

/// Adds `changes` (distinct keys, in key order) to the counts, and their sums without the agent
/// to the group counts, in one statement.
pub async fn add(tx: &mut PgConnection, changes: &[(VolumeKey, VolumeCounts)]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let text =
        |f: fn(&VolumeKey) -> &str| -> Vec<&str> { changes.iter().map(|(k, _)| f(k)).collect() };
    // The group counts' rows are summed (one upsert may not touch a row twice) and written in
    // key order, as the counts' rows are, so two folds wait for each other rather than deadlock.
    sqlx::query(
        "WITH changes AS (
             SELECT * FROM UNNEST($1::date[], $2::int2[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::int8[], $8::int8[], $9::int8[])
                 AS c (day, channel, group_id, assignee_login, inquiry_type_id, mail_account_id,
                     created, solved, closed)),
         counted AS (
             INSERT INTO ticket_volume_counts (day, channel, group_id, assignee_login,
                 inquiry_type_id, mail_account_id, created, solved, closed)
             SELECT * FROM changes
             ON CONFLICT (day, channel, group_id, assignee_login, inquiry_type_id,
                 mail_account_id)
             DO UPDATE SET created = ticket_volume_counts.created + EXCLUDED.created,
                 solved = ticket_volume_counts.solved + EXCLUDED.solved,
                 closed = ticket_volume_counts.closed + EXCLUDED.closed)
         INSERT INTO ticket_volume_group_counts (day, channel, group_id, inquiry_type_id,
             mail_account_id, created, solved, closed)
         SELECT day, channel, group_id, inquiry_type_id, mail_account_id, sum(created),
             sum(solved), sum(closed)
         FROM changes GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
         ON CONFLICT (day, channel, group_id, inquiry_type_id, mail_account_id)
         DO UPDATE SET created = ticket_volume_group_counts.created + EXCLUDED.created,
             solved = ticket_volume_group_counts.solved + EXCLUDED.solved,
             closed = ticket_volume_group_counts.closed + EXCLUDED.closed",
    )
    .bind(changes.iter().map(|(k, _)| k.day).collect::<Vec<_>>())
    .bind(changes.iter().map(|(k, _)| k.channel).collect::<Vec<_>>())
    .bind(text(|k| &k.group_id))
    .bind(text(|k| &k.assignee_login))
    .bind(text(|k| &k.inquiry_type_id))
    .bind(text(|k| &k.mail_account_id))
    .bind(changes.iter().map(|(_, c)| c.created).collect::<Vec<_>>())
    .bind(changes.iter().map(|(_, c)| c.solved).collect::<Vec<_>>())
    .bind(changes.iter().map(|(_, c)| c.closed).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

/// The counts per day of `first..=last` and breakdown value that has any, in day then value
/// order; from the group counts unless the agent is asked.
pub async fn per_day(
    pool: &PgPool,
    first: NaiveDate,
    last: NaiveDate,
    filter: &TicketFilter,
    breakdown: Breakdown,
) -> Result<Vec<(NaiveDate, String, VolumeCounts)>> {
    let value = column(breakdown);
    let table = if filter.agent_logins.is_empty() && breakdown != Breakdown::Agent {
        "ticket_volume_group_counts"
    } else {
        "ticket_volume_counts"
    };
    let sql = format!(
        "SELECT day, {value} AS value, sum(created)::int8, sum(solved)::int8, sum(closed)::int8
         FROM {table} WHERE day BETWEEN $1 AND $2 AND {}
         GROUP BY 1, 2 ORDER BY 1, 2",
        ticket_filter::conditions(filter, 3)
    );
    let rows: Vec<(NaiveDate, String, i64, i64, i64)> = ticket_filter::bind(
        sqlx::query_as(AssertSqlSafe(sql)).bind(first).bind(last),
        filter,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(day, value, created, solved, closed)| {
            (day, value, VolumeCounts::new(created, solved, closed))
        })
        .collect())
}
