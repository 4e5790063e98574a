//! `callback_facts`: one row per callback, the snapshot of the highest version seen.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use switchboard_platform::error::Result;
use switchboard_proto::callback::v1::CallbackState;
use uuid::Uuid;

use crate::domain::fact::{Assignee, CallbackFact};

/// The advisory-lock class of the model's callbacks (the second key is taken from the id), so
/// two consumers never fold the same callback at once.
const LOCK_CLASS: i32 = 0x5250_5400;

/// Serialises, until the transaction ends, every change to the facts of callbacks `ids`.
pub async fn lock(tx: &mut PgConnection, ids: &[Uuid]) -> Result<()> {
    super::lock_ids(tx, LOCK_CLASS, ids).await
}

#[derive(sqlx::FromRow)]
struct FactRow {
    callback_id: Uuid,
    version: i64,
    ivr_route_id: Uuid,
    request_time: DateTime<Utc>,
    request_day: NaiveDate,
    state: i16,
    assignee_login: Option<String>,
    assignee_group_id: Option<String>,
    assignee_name: Option<String>,
    assign_time: Option<DateTime<Utc>>,
}

impl From<FactRow> for CallbackFact {
    fn from(row: FactRow) -> Self {
        Self {
            callback_id: row.callback_id,
            version: row.version,
            ivr_route_id: row.ivr_route_id,
            request_time: row.request_time,
            request_day: row.request_day,
            state: CallbackState::try_from(i32::from(row.state))
                .unwrap_or(CallbackState::Unspecified),
            assignee: row.assignee_login.map(|login| Assignee {
                login,
                group_id: row.assignee_group_id.unwrap_or_default(),
                display_name: row.assignee_name.unwrap_or_default(),
            }),
            assign_time: row.assign_time,
        }
    }
}

/// The model's facts of callbacks `ids`, by id (those it has).
pub async fn get(tx: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, CallbackFact>> {
    let rows: Vec<FactRow> = sqlx::query_as(
        "SELECT callback_id, version, ivr_route_id, request_time, request_day, state,
                assignee_login, assignee_group_id, assignee_name, assign_time
         FROM callback_facts WHERE callback_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.callback_id, CallbackFact::from(row)))
        .collect())
}

/// Writes `facts` (distinct callbacks), replacing the rows they supersede, in one statement.
pub async fn save(tx: &mut PgConnection, facts: &[CallbackFact]) -> Result<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let assignee = |f: &CallbackFact, part: fn(&Assignee) -> &str| {
        f.assignee.as_ref().map(|a| part(a).to_owned())
    };
    sqlx::query(
        "INSERT INTO callback_facts (callback_id, version, ivr_route_id, request_time,
             request_day, state, assignee_login, assignee_group_id, assignee_name, assign_time)
         SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::uuid[], $4::timestamptz[],
             $5::date[], $6::int2[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
         ON CONFLICT (callback_id) DO UPDATE SET
             version = EXCLUDED.version, ivr_route_id = EXCLUDED.ivr_route_id,
             request_time = EXCLUDED.request_time, request_day = EXCLUDED.request_day,
             state = EXCLUDED.state, assignee_login = EXCLUDED.assignee_login,
             assignee_group_id = EXCLUDED.assignee_group_id,
             assignee_name = EXCLUDED.assignee_name, assign_time = EXCLUDED.assign_time",
    )
    .bind(facts.iter().map(|f| f.callback_id).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.version).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.ivr_route_id).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.request_time).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.request_day).collect::<Vec<_>>())
    .bind(facts.iter().map(|f| f.state as i16).collect::<Vec<_>>())
    .bind(
        facts
            .iter()
            .map(|f| assignee(f, |a| &a.login))
            .collect::<Vec<_>>(),
    )
    .bind(
        facts
            .iter()
            .map(|f| assignee(f, |a| &a.group_id).filter(|g| !g.is_empty()))
            .collect::<Vec<_>>(),
    )
    .bind(
        facts
            .iter()
            .map(|f| assignee(f, |a| &a.display_name))
            .collect::<Vec<_>>(),
    )
    .bind(facts.iter().map(|f| f.assign_time).collect::<Vec<_>>())
    .execute(tx)
    .await?;
    Ok(())
}

/// Every fact, in id order, `batch` at a time after `after` (for a recount).
pub async fn page(
    tx: &mut PgConnection,
    after: Option<Uuid>,
    batch: i64,
) -> Result<Vec<CallbackFact>> {
    let rows: Vec<FactRow> = sqlx::query_as(
        "SELECT callback_id, version, ivr_route_id, request_time, request_day, state,
                assignee_login, assignee_group_id, assignee_name, assign_time
         FROM callback_facts WHERE $1::uuid IS NULL OR callback_id > $1
         ORDER BY callback_id LIMIT $2",
    )
    .bind(after)
    .bind(batch)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(CallbackFact::from).collect())
}
