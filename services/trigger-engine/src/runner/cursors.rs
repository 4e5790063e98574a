//! Round-robin cursors: per group, the agent who last received a ticket. A run that distributes
//! by round robin holds its groups' rows locked until its transaction ends, so concurrent runs
//! on any replica take turns and every agent gets the same share.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};
use switchboard_platform::error::Error;

/// Locks the cursors of `groups` (creating missing ones) and returns those that are set.
pub async fn lock(
    conn: &mut PgConnection,
    groups: &[String],
) -> Result<HashMap<String, String>, Error> {
    let mut groups = groups.to_vec();
    // One order for every run, so two runs never wait on each other's rows in a cycle.
    groups.sort();
    sqlx::query(
        "INSERT INTO round_robin_cursors (group_id, last_login, update_time)
         SELECT g, '', now() FROM unnest($1::text[]) AS g
         ON CONFLICT (group_id) DO NOTHING",
    )
    .bind(&groups)
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT group_id, last_login FROM round_robin_cursors
         WHERE group_id = ANY($1) ORDER BY group_id FOR UPDATE",
    )
    .bind(&groups)
    .fetch_all(conn)
    .await?;
    Ok(set_cursors(rows))
}

/// The cursors of `groups` as they are, without locking (a dry run).
pub async fn read(
    conn: &mut PgConnection,
    groups: &[String],
) -> Result<HashMap<String, String>, Error> {
    let rows = sqlx::query(
        "SELECT group_id, last_login FROM round_robin_cursors WHERE group_id = ANY($1)",
    )
    .bind(groups)
    .fetch_all(conn)
    .await?;
    Ok(set_cursors(rows))
}

fn set_cursors(rows: Vec<sqlx::postgres::PgRow>) -> HashMap<String, String> {
    rows.into_iter()
        .map(|row| (row.get::<String, _>(0), row.get::<String, _>(1)))
        .filter(|(_, login)| !login.is_empty())
        .collect()
}

/// Moves the cursors (locked before by [`lock`]) to the agents a run picked.
pub async fn advance(
    conn: &mut PgConnection,
    picked: &std::collections::BTreeMap<String, String>,
) -> Result<(), Error> {
    let (groups, logins): (Vec<&String>, Vec<&String>) = picked.iter().unzip();
    sqlx::query(
        "UPDATE round_robin_cursors c SET last_login = p.login, update_time = now()
         FROM unnest($1::text[], $2::text[]) AS p(group_id, login)
         WHERE c.group_id = p.group_id",
    )
    .bind(groups)
    .bind(logins)
    .execute(conn)
    .await?;
    Ok(())
}
