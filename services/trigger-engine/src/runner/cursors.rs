//! Round-robin cursors: per group, the agent who last received a ticket. The live runs of a
//! batch of events step in one [`Session`]: a short transaction of its own that locks each
//! group's row when a run first needs it, moves the cursor in memory as the runs pick, and
//! records every step (the cursor it started from, under its event) and the cursors' new
//! positions at its commit, before the runs are handed to the ticket service (after, for a run
//! that read agents' loads under its groups' locks: see [`Session::holds_loads`]). Concurrent
//! sessions on any replica take turns on a group, every event takes one step per group however
//! often it is evaluated, and every agent gets the same share; a batch pays for the lock and
//! the commit once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};
use switchboard_platform::error::Error;

/// The cursors of one batch of live runs, locked and stepped in one transaction.
pub struct Session {
    pool: PgPool,
    /// Begun when a run first needs a cursor: a batch that steps none opens nothing.
    tx: Option<Transaction<'static, Postgres>>,
    /// The batch's events, whose earlier steps are looked up when a group is locked.
    events: Vec<String>,
    /// Locked groups → who last received a ticket ("" none), as the session's steps moved it.
    cursors: HashMap<String, String>,
    /// (event, group) → the cursor the event's step started from: recorded before (a conflict,
    /// a redelivery) or in this session.
    started: HashMap<(String, String), String>,
    /// The steps taken in this session: (event, group, started from, picked).
    steps: Vec<(String, String, String, String)>,
    /// Whether a run read agents' loads under the lock of their groups: the session must then
    /// end only once that run is applied, so the next run of those groups, on any replica,
    /// reads loads that count it.
    holds_loads: bool,
}

impl Session {
    /// A session for the runs of `events`.
    pub fn new(pool: &PgPool, events: Vec<String>) -> Self {
        Self {
            pool: pool.clone(),
            tx: None,
            events,
            cursors: HashMap::new(),
            started: HashMap::new(),
            steps: Vec::new(),
            holds_loads: false,
        }
    }

    /// Locks `groups` (created when missing) before a run reads their agents' loads; see
    /// [`Session::holds_loads`].
    pub async fn hold_for_loads(&mut self, groups: &[String]) -> Result<(), Error> {
        self.lock_new(groups).await?;
        self.holds_loads = true;
        Ok(())
    }

    /// Locks those of `groups` the session does not hold yet.
    async fn lock_new(&mut self, groups: &[String]) -> Result<(), Error> {
        let mut new: Vec<String> = groups
            .iter()
            .filter(|g| !self.cursors.contains_key(*g))
            .cloned()
            .collect();
        if !new.is_empty() {
            // One order for every session, so two never wait on each other's rows in a cycle.
            new.sort();
            self.lock(&new).await?;
        }
        Ok(())
    }

    /// Whether a run read loads under this session's locks: it is committed after the run is
    /// applied, not before.
    pub fn holds_loads(&self) -> bool {
        self.holds_loads
    }

    /// The cursors `event_id`'s run starts from in `groups`: the one its step started from
    /// when it took one before, otherwise the group's cursor, locked (created when missing)
    /// until the session ends. Only set cursors are returned.
    pub async fn starting(
        &mut self,
        event_id: &str,
        groups: &[String],
    ) -> Result<HashMap<String, String>, Error> {
        self.lock_new(groups).await?;
        Ok(groups
            .iter()
            .filter_map(|group| {
                let key = (event_id.to_owned(), group.clone());
                let login = self.started.get(&key).or_else(|| self.cursors.get(group))?;
                (!login.is_empty()).then(|| (group.clone(), login.clone()))
            })
            .collect())
    }

    /// Locks `groups` (sorted), then reads their cursors and the steps the batch's events took
    /// in them before: read under the lock, no other session is stepping them.
    async fn lock(&mut self, groups: &[String]) -> Result<(), Error> {
        let tx = match &mut self.tx {
            Some(tx) => tx,
            None => self.tx.insert(self.pool.begin().await?),
        };
        sqlx::query(
            "INSERT INTO round_robin_cursors (group_id, last_login, update_time)
             SELECT g, '', now() FROM unnest($1::text[]) AS g
             ON CONFLICT (group_id) DO NOTHING",
        )
        .bind(groups)
        .execute(&mut **tx)
        .await?;
        let rows = sqlx::query(
            "SELECT group_id, last_login FROM round_robin_cursors
             WHERE group_id = ANY($1) ORDER BY group_id FOR UPDATE",
        )
        .bind(groups)
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            self.cursors.insert(row.get(0), row.get(1));
        }
        let earlier = sqlx::query(
            "SELECT event_id, group_id, before_login FROM round_robin_picks
             WHERE event_id = ANY($1) AND group_id = ANY($2)",
        )
        .bind(&self.events)
        .bind(groups)
        .fetch_all(&mut **tx)
        .await?;
        for row in earlier {
            self.started.insert((row.get(0), row.get(1)), row.get(2));
        }
        Ok(())
    }

    /// Takes `event_id`'s steps: in each group of `picked` where the event took none before,
    /// from the cursor to the agent picked.
    pub fn step(&mut self, event_id: &str, picked: &BTreeMap<String, String>) {
        for (group, login) in picked {
            let key = (event_id.to_owned(), group.clone());
            if self.started.contains_key(&key) {
                continue;
            }
            let Some(cursor) = self.cursors.get_mut(group) else {
                continue;
            };
            let before = std::mem::replace(cursor, login.clone());
            self.steps
                .push((key.0.clone(), group.clone(), before.clone(), login.clone()));
            self.started.insert(key, before);
        }
    }

    /// Records the session's steps and the cursors they moved, and ends the session.
    pub async fn commit(self) -> Result<(), Error> {
        let Some(mut tx) = self.tx else {
            return Ok(());
        };
        if !self.steps.is_empty() {
            let moved: BTreeSet<&String> = self.steps.iter().map(|(_, g, _, _)| g).collect();
            let (groups, logins): (Vec<&String>, Vec<&String>) =
                moved.into_iter().map(|g| (g, &self.cursors[g])).unzip();
            let column = |pick: fn(&(String, String, String, String)) -> &String| {
                self.steps.iter().map(pick).collect::<Vec<&String>>()
            };
            sqlx::query(
                "WITH steps AS (
                     INSERT INTO round_robin_picks (event_id, group_id, before_login, login)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                     ON CONFLICT (event_id, group_id) DO NOTHING)
                 UPDATE round_robin_cursors c SET last_login = m.login, update_time = now()
                 FROM unnest($5::text[], $6::text[]) AS m(group_id, login)
                 WHERE c.group_id = m.group_id",
            )
            .bind(column(|s| &s.0))
            .bind(column(|s| &s.1))
            .bind(column(|s| &s.2))
            .bind(column(|s| &s.3))
            .bind(groups)
            .bind(logins)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
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

    /// Each event takes one step per group, however often it is evaluated again, in one session
    /// or in the next.
    #[tokio::test]
    async fn an_event_evaluated_again_starts_from_its_reserved_step_and_moves_nothing() {
        let (pool, schema) = testing::fresh_schema("te_rr").await;
        crate::Application::SPEC
            .migrate(&testing::database_config(), &schema)
            .await
            .expect("the migrations apply");
        let group = vec!["g".to_owned()];
        // Each (event, pick) of a batch in one session; what each started from.
        let batch = |runs: &'static [(&'static str, &'static str)]| {
            let pool = pool.clone();
            let group = group.clone();
            async move {
                let events = runs.iter().map(|(e, _)| (*e).to_owned()).collect();
                let mut session = Session::new(&pool, events);
                let mut started = Vec::new();
                for (event, pick) in runs {
                    let before = session.starting(event, &group).await.unwrap();
                    started.push(before.get("g").cloned().unwrap_or_default());
                    let picked = BTreeMap::from([("g".to_owned(), (*pick).to_owned())]);
                    session.step(event, &picked);
                }
                session.commit().await.unwrap();
                started
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
        assert_eq!(batch(&[("e1", "kim")]).await, [""]);
        assert_eq!(cursor().await, "kim");
        // The same event again (a conflict, a redelivery): it starts where it started.
        assert_eq!(batch(&[("e1", "kim")]).await, [""]);
        assert_eq!(cursor().await, "kim");
        // A batch: each run starts where the one before it left the cursor, and the event
        // stepped before keeps its step without moving the cursor.
        assert_eq!(
            batch(&[("e2", "lee"), ("e1", "kim"), ("e3", "park")]).await,
            ["kim", "", "lee"]
        );
        assert_eq!(cursor().await, "park");
        // Evaluated twice in one session: one step.
        assert_eq!(
            batch(&[("e4", "kim"), ("e4", "kim")]).await,
            ["park", "park"]
        );
        assert_eq!(cursor().await, "kim");
        let steps: i64 = sqlx::query_scalar("SELECT count(*) FROM round_robin_picks")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(steps, 4, "one step per event and group");
        let mut conn = pool.acquire().await.unwrap();
        assert_eq!(prune(&mut conn).await.unwrap(), 0, "today's steps are kept");
        drop(conn);
        testing::drop_schema(&pool, &schema).await;
    }
}
