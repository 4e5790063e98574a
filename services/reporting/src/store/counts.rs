//! `callback_day_counts`: the processing status pre-aggregated per local request day, IVR route
//! and assignee dimension, so a report reads at most one row per day and route.

use chrono::NaiveDate;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;
use uuid::Uuid;

use crate::domain::fact::{CountKey, Counts, Dimension};

/// Adds `changes` (distinct keys, in key order) to the counts, in one statement.
pub async fn add(tx: &mut PgConnection, changes: &[(CountKey, Counts)]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO callback_day_counts
             (dimension, assignee, day, ivr_route_id, completed, unprocessed)
         SELECT * FROM UNNEST($1::int2[], $2::text[], $3::date[], $4::uuid[], $5::int8[],
             $6::int8[])
         ON CONFLICT (dimension, assignee, day, ivr_route_id) DO UPDATE SET
             completed = callback_day_counts.completed + EXCLUDED.completed,
             unprocessed = callback_day_counts.unprocessed + EXCLUDED.unprocessed",
    )
    .bind(
        changes
            .iter()
            .map(|(k, _)| k.dimension as i16)
            .collect::<Vec<_>>(),
    )
    .bind(
        changes
            .iter()
            .map(|(k, _)| k.assignee.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(changes.iter().map(|(k, _)| k.day).collect::<Vec<_>>())
    .bind(
        changes
            .iter()
            .map(|(k, _)| k.ivr_route_id)
            .collect::<Vec<_>>(),
    )
    .bind(changes.iter().map(|(_, c)| c.completed).collect::<Vec<_>>())
    .bind(
        changes
            .iter()
            .map(|(_, c)| c.unprocessed)
            .collect::<Vec<_>>(),
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// What a processing-status report counts.
#[derive(Debug, Clone)]
pub struct DayQuery {
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Empty means every route.
    pub ivr_route_ids: Vec<Uuid>,
    pub dimension: Dimension,
    /// The agent's login or the group's id; empty for [`Dimension::All`].
    pub assignee: String,
}

/// The counts of each day of the query's period that has any, in day order.
pub async fn per_day(pool: &PgPool, query: &DayQuery) -> Result<Vec<(NaiveDate, Counts)>> {
    let rows: Vec<(NaiveDate, i64, i64)> = sqlx::query_as(
        "SELECT day, sum(completed)::int8, sum(unprocessed)::int8
         FROM callback_day_counts
         WHERE dimension = $1 AND assignee = $2 AND day BETWEEN $3 AND $4
           AND (cardinality($5::uuid[]) = 0 OR ivr_route_id = ANY($5))
         GROUP BY day ORDER BY day",
    )
    .bind(query.dimension as i16)
    .bind(&query.assignee)
    .bind(query.first)
    .bind(query.last)
    .bind(&query.ivr_route_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(day, completed, unprocessed)| {
            (
                day,
                Counts {
                    completed,
                    unprocessed,
                },
            )
        })
        .collect())
}
