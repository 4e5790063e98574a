//! `ticket_facts`: one row per ticket, its highest version seen; what the times report and the
//! current backlog read.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use switchboard_platform::{calendar::local_date, error::Result};
use uuid::Uuid;

use super::{
    ticket_dimensions::{self, KEYED, key_of},
    ticket_filter::{self, column},
};
use crate::domain::{
    buckets::Granularity,
    tickets::{
        fact::TicketFact,
        query::{Breakdown, Measure, TicketFilter},
    },
};

/// The advisory-lock class of the model's tickets, so two consumers never fold one ticket at
/// once.
const LOCK_CLASS: i32 = 0x5250_5401;

/// Serialises, until the transaction ends, every change to tickets `ids`.
pub async fn lock(tx: &mut PgConnection, ids: &[Uuid]) -> Result<()> {
    super::lock_ids(tx, LOCK_CLASS, ids).await
}

const COLUMNS: &str = "ticket_id, version, channel, group_id, assignee_login, inquiry_type_id,
    mail_account_id, status, excluded, create_time, first_reply_time, first_solve_time,
    solve_time, close_time";

#[derive(sqlx::FromRow)]
struct FactRow {
    ticket_id: Uuid,
    version: i64,
    channel: i16,
    group_id: String,
    assignee_login: String,
    inquiry_type_id: String,
    mail_account_id: String,
    status: i16,
    excluded: bool,
    create_time: DateTime<Utc>,
    first_reply_time: Option<DateTime<Utc>>,
    first_solve_time: Option<DateTime<Utc>>,
    solve_time: Option<DateTime<Utc>>,
    close_time: Option<DateTime<Utc>>,
}

impl From<FactRow> for TicketFact {
    fn from(row: FactRow) -> Self {
        Self {
            ticket_id: row.ticket_id,
            version: row.version,
            channel: row.channel,
            group_id: row.group_id,
            assignee_login: row.assignee_login,
            inquiry_type_id: row.inquiry_type_id,
            mail_account_id: row.mail_account_id,
            status: row.status,
            excluded: row.excluded,
            create_time: row.create_time,
            first_reply_time: row.first_reply_time,
            first_solve_time: row.first_solve_time,
            solve_time: row.solve_time,
            close_time: row.close_time,
        }
    }
}

/// The facts of tickets `ids`, by id (those the model has).
pub async fn get(tx: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, TicketFact>> {
    let rows: Vec<FactRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM ticket_facts WHERE ticket_id = ANY($1)"
    )))
    .bind(ids)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.ticket_id, TicketFact::from(row)))
        .collect())
}

/// The columns [`save`] writes from the facts, in its parameters' order (the dimensions' keys
/// are found from their text).
const SAVED: &str = "ticket_id, version, channel, group_id, assignee_login, inquiry_type_id,
    mail_account_id, status, excluded, create_time, first_reply_time, first_solve_time,
    solve_time, close_time, create_day, first_reply_day, first_solve_day, solve_day, close_day,
    first_reply_s, first_resolution_s, final_resolution_s";

/// Writes `facts` (distinct tickets), replacing the rows they supersede, in one statement
/// after their dimension values are keyed; local days in `zone`.
pub async fn save(tx: &mut PgConnection, facts: &[TicketFact], zone: Tz) -> Result<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let day = |t: Option<DateTime<Utc>>| t.map(|t| local_date(t, zone));
    let of = |f: fn(&TicketFact) -> Option<DateTime<Utc>>| -> Vec<Option<DateTime<Utc>>> {
        facts.iter().map(f).collect()
    };
    let days_of = |f: fn(&TicketFact) -> Option<DateTime<Utc>>| -> Vec<Option<NaiveDate>> {
        facts.iter().map(|fact| day(f(fact))).collect()
    };
    let text = |f: fn(&TicketFact) -> &str| -> Vec<&str> { facts.iter().map(f).collect() };
    // The final resolution's day is the latest solve's only while it is final.
    let final_day: Vec<Option<NaiveDate>> = facts
        .iter()
        .map(|f| day(f.solve_time.filter(|_| f.is_resolved())))
        .collect();
    let mut values: Vec<&str> = facts
        .iter()
        .flat_map(|f| {
            [
                f.group_id.as_str(),
                &f.assignee_login,
                &f.inquiry_type_id,
                &f.mail_account_id,
            ]
        })
        .collect();
    values.sort_unstable();
    values.dedup();
    ticket_dimensions::ensure(&mut *tx, &values).await?;
    let key_columns = KEYED.map(|(_, key)| key).join(", ");
    let keys = KEYED
        .map(|(text, _)| key_of(&format!("u.{text}")))
        .join(", ");
    let set_keys = KEYED
        .map(|(_, key)| format!("{key} = EXCLUDED.{key}"))
        .join(", ");
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO ticket_facts ({SAVED}, {key_columns})
         SELECT u.*, {keys}
         FROM UNNEST($1::uuid[], $2::int8[], $3::int2[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::int2[], $9::bool[], $10::timestamptz[],
             $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[],
             $15::date[], $16::date[], $17::date[], $18::date[], $19::date[], $20::float8[],
             $21::float8[], $22::float8[]) AS u ({SAVED})
         ON CONFLICT (ticket_id) DO UPDATE SET
             version = EXCLUDED.version, channel = EXCLUDED.channel,
             group_id = EXCLUDED.group_id, assignee_login = EXCLUDED.assignee_login,
             inquiry_type_id = EXCLUDED.inquiry_type_id,
             mail_account_id = EXCLUDED.mail_account_id, status = EXCLUDED.status,
             excluded = EXCLUDED.excluded, create_time = EXCLUDED.create_time,
             first_reply_time = EXCLUDED.first_reply_time,
             first_solve_time = EXCLUDED.first_solve_time, solve_time = EXCLUDED.solve_time,
             close_time = EXCLUDED.close_time, create_day = EXCLUDED.create_day,
             first_reply_day = EXCLUDED.first_reply_day,
             first_solve_day = EXCLUDED.first_solve_day, solve_day = EXCLUDED.solve_day,
             close_day = EXCLUDED.close_day, first_reply_s = EXCLUDED.first_reply_s,
             first_resolution_s = EXCLUDED.first_resolution_s,
             final_resolution_s = EXCLUDED.final_resolution_s, {set_keys}"
    )))
    .bind(facts.iter().map(|f| f.ticket_id).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.version).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.channel).collect::<Vec<_>>())
    .bind(text(|f| &f.group_id))
    .bind(text(|f| &f.assignee_login))
    .bind(text(|f| &f.inquiry_type_id))
    .bind(text(|f| &f.mail_account_id))
    .bind(facts.iter().map(|f| f.status).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.excluded).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.create_time).collect::<Vec<_>>())
    .bind(of(|f| f.first_reply_time))
    .bind(of(|f| f.first_solve_time))
    .bind(of(|f| f.solve_time))
    .bind(of(|f| f.close_time))
    .bind(
        facts
            .iter()
            .map(|f| local_date(f.create_time, zone))
            .collect::<Vec<_>>(),
    )
    .bind(days_of(|f| f.first_reply_time))
    .bind(days_of(|f| f.first_solve_time))
    .bind(final_day)
    .bind(days_of(|f| f.close_time))
    .bind(
        facts
            .iter()
            .map(|f| f.first_reply_seconds())
            .collect::<Vec<_>>(),
    )
    .bind(
        facts
            .iter()
            .map(|f| f.first_resolution_seconds())
            .collect::<Vec<_>>(),
    )
    .bind(
        facts
            .iter()
            .map(|f| f.final_resolution_seconds())
            .collect::<Vec<_>>(),
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The day column and the seconds column of a measure (each with its partial index).
fn measure_columns(measure: Measure) -> (&'static str, &'static str) {
    match measure {
        Measure::FirstReply => ("first_reply_day", "first_reply_s"),
        Measure::FirstResolution => ("first_solve_day", "first_resolution_s"),
        Measure::FinalResolution => ("solve_day", "final_resolution_s"),
    }
}

/// The bucket a day falls in, in SQL: the day, or the first of its month (a clipped first
/// month is found by the caller from its own plan).
fn bucket_expression(day: &str, granularity: Granularity) -> String {
    match granularity {
        Granularity::Day => day.to_owned(),
        Granularity::Month => format!("date_trunc('month', {day})::date"),
    }
}

/// What a times query asks.
#[derive(Debug, Clone)]
pub struct TimesQuery {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub granularity: Granularity,
    pub filter: TicketFilter,
    pub breakdown: Breakdown,
}

/// The durations of one bucket and breakdown value, in seconds, in no particular order.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Durations {
    pub bucket: NaiveDate,
    pub value: String,
    pub seconds: Vec<f64>,
}

/// The wall-clock durations `measure` measures per bucket and breakdown value, read from the
/// covering index (with the dimensions as integer keys) and gathered by hashing (a sort by
/// bucket, value and duration cost twice the scan; one plain aggregate of parallel arrays,
/// grouped here, cost more again); the keys are turned into their text once gathered. The
/// caller finds each list's exact percentiles.
pub async fn durations(
    pool: &PgPool,
    query: &TimesQuery,
    measure: Measure,
) -> Result<Vec<Durations>> {
    let (day, seconds) = measure_columns(measure);
    let bucket = bucket_expression(day, query.granularity);
    let (key, value, join) = match (query.breakdown, ticket_filter::key_column(query.breakdown)) {
        (_, Some(key)) => (
            key,
            "d.value",
            "JOIN ticket_dimension_keys d ON d.key = gathered.key",
        ),
        (Breakdown::Channel, None) => ("channel", "gathered.key::text", ""),
        (_, None) => ("0", "''::text", ""),
    };
    let sql = format!(
        "SELECT gathered.bucket, {value} AS value, gathered.seconds
         FROM (SELECT {bucket} AS bucket, {key} AS key, array_agg({seconds}) AS seconds
               FROM ticket_facts
               WHERE NOT excluded AND {day} IS NOT NULL AND {day} BETWEEN $1 AND $2
                 AND {seconds} IS NOT NULL AND {}
               GROUP BY 1, 2) AS gathered {join}",
        ticket_filter::keyed_conditions(&query.filter, 3)
    );
    // A month of a busy center's durations is gathered in memory; the default work_mem would
    // spill them to disk.
    let mut tx = pool.begin().await?;
    sqlx::query(AssertSqlSafe(format!(
        "SET LOCAL work_mem = '{GATHER_MEMORY}'"
    )))
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query_as(AssertSqlSafe(sql))
        .bind(query.first)
        .bind(query.last);
    let rows = ticket_filter::bind(rows, &query.filter)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows)
}

/// The working memory of a times query: a month of a million-ticket year's durations with
/// their buckets and breakdown values are gathered in memory.
const GATHER_MEMORY: &str = "64MB";

/// One measured ticket, for times in business hours.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Measured {
    pub day: NaiveDate,
    pub value: String,
    pub create_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
}

/// Every ticket `measure` measures in the query's period, with its start and end.
pub async fn measured(
    pool: &PgPool,
    query: &TimesQuery,
    measure: Measure,
) -> Result<Vec<Measured>> {
    let (day, seconds) = measure_columns(measure);
    let end = match measure {
        Measure::FirstReply => "first_reply_time",
        Measure::FirstResolution => "first_solve_time",
        Measure::FinalResolution => "solve_time",
    };
    let value = column(query.breakdown);
    let sql = format!(
        "SELECT {day} AS day, {value} AS value, create_time, {end} AS end_time
         FROM ticket_facts
         WHERE NOT excluded AND {day} IS NOT NULL AND {day} BETWEEN $1 AND $2
           AND {seconds} IS NOT NULL AND {}",
        ticket_filter::conditions(&query.filter, 3)
    );
    let rows = sqlx::query_as(AssertSqlSafe(sql))
        .bind(query.first)
        .bind(query.last);
    Ok(ticket_filter::bind(rows, &query.filter)
        .fetch_all(pool)
        .await?)
}

/// The open tickets now per status and breakdown value (group or agent).
pub async fn open_now(
    pool: &PgPool,
    filter: &TicketFilter,
    breakdown: Breakdown,
) -> Result<Vec<(i16, String, i64)>> {
    let value = column(breakdown);
    let sql = format!(
        "SELECT status, {value} AS value, count(*)::int8
         FROM ticket_facts WHERE status IN (1, 2, 3) AND {}
         GROUP BY 1, 2",
        ticket_filter::assignee_conditions(filter, 1)
    );
    let rows = sqlx::query_as(AssertSqlSafe(sql));
    Ok(ticket_filter::bind_assignees(rows, filter)
        .fetch_all(pool)
        .await?)
}

#[cfg(test)]
mod tests {
    /// `open_now` writes the open statuses into its text to match this partial index.
    #[test]
    fn the_open_index_holds_the_open_statuses() {
        let migration = include_str!("../../migrations/0002_ticket_model.sql");
        assert!(migration.contains("WHERE status IN (1, 2, 3);"));
        let open: Vec<i16> = crate::domain::tickets::backlog::OPEN
            .iter()
            .map(|s| *s as i16)
            .collect();
        assert_eq!(open, [1, 2, 3]);
    }
}
