//! Round-robin cursors: per group, the agent who last received a ticket. A live run locks its
//! groups' rows in a short transaction of its own, evaluates, and commits the step it took
//! (the cursor moved, and the step reserved under its event) before it calls the ticket
//! service: concurrent runs on any replica take turns, every event takes one step per group
//! however often it is evaluated, and every agent gets the same share.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};
use switchboard_platform::error::Error;

/// The cursors `event_id`'s run starts from in `groups`: the one a step reserved before by the
/// same event, otherwise the cursor itself, locked (created when missing) until the
/// transaction ends. Only set cursors are returned.
pub async fn lock(
    conn: &mut PgConnection,
    event_id: &str,
    groups: &[String],
) -> Result<HashMap<String, String>, Error> {
    let reserved = sqlx::query(
        "SELECT group_id, before_login FROM round_robin_picks
         WHERE event_id = $1 AND group_id = ANY($2)",
    )
    .bind(event_id)
    .bind(groups)
    .fetch_all(&mut *conn)
    .await?;
    let reserved: HashMap<String, String> = reserved
        .into_iter()
        .map(|row| (row.get::<String, _>(0), row.get::<String, _>(1)))
        .collect();
    let mut free: Vec<String> = groups
        .iter()
        .filter(|g| !reserved.contains_key(*g))
        .cloned()
        .collect();
    // One order for every run, so two runs never wait on each other's rows in a cycle.
    free.sort();
    sqlx::query(
        "INSERT INTO round_robin_cursors (group_id, last_login, update_time)
         SELECT g, '', now() FROM unnest($1::text[]) AS g
         ON CONFLICT (group_id) DO NOTHING",
    )
    .bind(&free)
    .execute(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT group_id, last_login FROM round_robin_cursors
         WHERE group_id = ANY($1) ORDER BY group_id FOR UPDATE",
    )
    .bind(&free)
    .fetch_all(&mut *conn)
    .await?;
    let mut cursors = set_cursors(rows);
    cursors.extend(reserved.into_iter().filter(|(_, login)| !login.is_empty()));
    Ok(cursors)
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

/// Records the steps of `event_id`'s run — in each group of `picked`, from the cursor it
/// started from (`before`, missing: none) to the agent picked — and moves the cursors of the
/// groups it had not stepped in before (locked by [`lock`]). Steps reserved before are kept.
pub async fn reserve(
    conn: &mut PgConnection,
    event_id: &str,
    picked: &std::collections::BTreeMap<String, String>,
    before: &HashMap<String, String>,
) -> Result<(), Error> {
    let (groups, logins): (Vec<&String>, Vec<&String>) = picked.iter().unzip();
    let befores: Vec<&str> = groups
        .iter()
        .map(|g| before.get(*g).map_or("", String::as_str))
        .collect();
    sqlx::query(
        "WITH new AS (
             INSERT INTO round_robin_picks (event_id, group_id, before_login, login)
             SELECT $1, g, b, l FROM unnest($2::text[], $3::text[], $4::text[]) AS p(g, b, l)
             ON CONFLICT (event_id, group_id) DO NOTHING
             RETURNING group_id, login)
         UPDATE round_robin_cursors c SET last_login = new.login, update_time = now()
         FROM new WHERE c.group_id = new.group_id",
    )
    .bind(event_id)
    .bind(groups)
    .bind(befores)
    .bind(logins)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the steps reserved more than a day ago: their events were applied, or dead-lettered
/// long since.
pub async fn prune(conn: &mut PgConnection) -> Result<u64, Error> {
    Ok(
        sqlx::query("DELETE FROM round_robin_picks WHERE create_time < now() - interval '1 day'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use switchboard_platform::{service::Service, testing};

    use super::*;

    /// Each event takes one step per group, however often it is evaluated again.
    #[tokio::test]
    async fn an_event_evaluated_again_starts_from_its_reserved_step_and_moves_nothing() {
        let (pool, schema) = testing::fresh_schema("te_rr").await;
        crate::Application::SPEC
            .migrate(&testing::database_config(), &schema)
            .await
            .expect("the migrations apply");
        let group = vec!["g".to_owned()];
        let step = |event: &'static str, pick: &'static str| {
            let pool = pool.clone();
            let group = group.clone();
            async move {
                let mut tx = pool.begin().await.unwrap();
                let before = lock(&mut tx, event, &group).await.unwrap();
                let picked = BTreeMap::from([("g".to_owned(), pick.to_owned())]);
                reserve(&mut tx, event, &picked, &before).await.unwrap();
                tx.commit().await.unwrap();
                before.get("g").cloned().unwrap_or_default()
            }
        };
        let cursor = || async {
            let mut conn = pool.acquire().await.unwrap();
            read(&mut conn, &["g".to_owned()])
                .await
                .unwrap()
                .remove("g")
                .unwrap_or_default()
        };
        assert_eq!(step("e1", "kim").await, "");
        assert_eq!(cursor().await, "kim");
        // The same event again (a conflict, a redelivery): it starts where it started.
        assert_eq!(step("e1", "kim").await, "");
        assert_eq!(cursor().await, "kim");
        assert_eq!(step("e2", "lee").await, "kim");
        assert_eq!(cursor().await, "lee");
        let mut conn = pool.acquire().await.unwrap();
        assert_eq!(prune(&mut conn).await.unwrap(), 0, "today's steps are kept");
        drop(conn);
        testing::drop_schema(&pool, &schema).await;
    }
}
