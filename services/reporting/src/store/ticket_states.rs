//! `ticket_states`: every version seen of every ticket (its status, group and assignee from
//! when), from which a ticket's backlog changes are recomputed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_platform::error::Result;
use uuid::Uuid;

use crate::domain::tickets::backlog::State;

/// The states held of tickets `ids`, by id, in version order.
pub async fn get(tx: &mut PgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<State>>> {
    let rows: Vec<(Uuid, i64, DateTime<Utc>, i16, String, String)> = sqlx::query_as(
        "SELECT ticket_id, version, at, status, group_id, assignee_login
         FROM ticket_states WHERE ticket_id = ANY($1) ORDER BY ticket_id, version",
    )
    .bind(ids)
    .fetch_all(tx)
    .await?;
    let mut states: HashMap<Uuid, Vec<State>> = HashMap::new();
    for (id, version, at, status, group_id, assignee_login) in rows {
        states.entry(id).or_default().push(State {
            version,
            at,
            status,
            group_id,
            assignee_login,
        });
    }
    Ok(states)
}

/// Adds `states` (new versions only), in one statement.
pub async fn add(tx: &mut PgConnection, states: &[(Uuid, State)]) -> Result<()> {
    if states.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO ticket_states (ticket_id, version, at, status, group_id, assignee_login)
         SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::timestamptz[], $4::int2[],
             $5::text[], $6::text[])",
    )
    .bind(states.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(states.iter().map(|(_, s)| s.version).collect::<Vec<_>>())
    .bind(states.iter().map(|(_, s)| s.at).collect::<Vec<_>>())
    .bind(states.iter().map(|(_, s)| s.status).collect::<Vec<_>>())
    .bind(
        states
            .iter()
            .map(|(_, s)| s.group_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        states
            .iter()
            .map(|(_, s)| s.assignee_login.as_str())
            .collect::<Vec<_>>(),
    )
    .execute(tx)
    .await?;
    Ok(())
}
