//! The generated ticket model: facts and states written by `INSERT … SELECT generate_series`
//! in PostgreSQL, the counts by the service's own `recount_tickets`.

use std::time::Instant;

use sqlx::PgPool;
use switchboard_platform::{db, service::Service};
use switchboard_reporting::Application;

use crate::config::Config;

pub const GROUPS: i64 = 10;
pub const AGENTS: i64 = 200;
pub const INQUIRY_TYPES: i64 = 8;
pub const MAIL_ACCOUNTS: i64 = 3;
/// Tickets generated per statement.
const FILL_BATCH: i64 = 200_000;

/// Group `n` (1..=10): a UUID, as the ticket service keeps them.
pub fn group_id(n: i64) -> String {
    format!("00000000-0000-4000-a000-{n:012}")
}

/// Agent `n` (0..200), of group `n % 10 + 1`.
pub fn agent_login(n: i64) -> String {
    format!("agent{n}")
}

/// Tickets `$1..=$2` of `$3`, created evenly over 2025 in zone `$4`. Per ticket i (by
/// multiplicative hashes of i): 2 % spam (excluded); of the last tenth of the year 3 %
/// unassigned, 4 % in progress, 2 % on hold (older ones are solved or closed by then); the rest
/// 29 % solved, 60 % closed (2 % + 9 % of the older ones closed too). Channel 40 % e-mail (with
/// one of 3 receiving accounts), 25 % help center, 20 % external, 10 % phone, 5 % agent; one of 8
/// inquiry types; agent i % 200 of group i % 10 + 1 (the group also of unassigned tickets).
/// Lifecycle: created unassigned; taken in progress 1 min–1 h later; the first reply 2 min–2 h
/// after that; 30 % of the resolved go on hold at that reply and resume 1 h–25 h later, then a
/// final reply solves 10 min–2 h later (the others are solved by their first reply); 10 % of
/// the resolved are re-opened 1 h–25 h after the first solve and solved again 30 min–10 h later;
/// closed 3 days (+ up to 1 h) after the latest solve. An in-progress ticket has been replied to
/// half the time (a version of its own); an on-hold one went on hold at its first reply; spam is
/// marked 10 minutes after creation.
const GENERATED: &str = "
  WITH base AS (
    SELECT i, t,
      (i * 2654435761 % 4294967296) % 100 AS h,
      i * 2246822519 % 4294967296 AS h2,
      i * 3266489917 % 4294967296 AS h3,
      i * 668265263 % 4294967296 AS h4
    FROM generate_series($1::int8, $2::int8) AS i,
      LATERAL (SELECT (timestamp '2025-01-01 00:00:00' AT TIME ZONE $4)
        + make_interval(secs => (i - 1)::float8 / $3 * 365 * 86400) AS t) AS created),
  gen AS (
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id, t, status,
      CASE (h3 / 7) % 100 / 5
        WHEN 0 THEN 5 WHEN 1 THEN 4 WHEN 2 THEN 4 WHEN 3 THEN 3 WHEN 4 THEN 3 WHEN 5 THEN 3
        WHEN 6 THEN 3 WHEN 7 THEN 1 WHEN 8 THEN 1 WHEN 9 THEN 1 WHEN 10 THEN 1 WHEN 11 THEN 1
        ELSE 2 END::int2 AS channel,
      '00000000-0000-4000-a000-' || lpad((i % 10 + 1)::text, 12, '0') AS grp,
      'agent' || (i % 200) AS agent,
      '00000000-0000-4000-b000-' || lpad(((h4 / 11) % 8 + 1)::text, 12, '0') AS inquiry,
      (h4 / 101) % 3 + 1 AS account,
      held, reopened, replied, take, reply, resume, first_solve, reopen, solve,
      solve + make_interval(days => 3, secs => h3 % 3600) AS close
    FROM base,
      LATERAL (SELECT CASE WHEN h < 2 THEN 6
          WHEN h < 11 AND i * 10 > $3 * 9 THEN CASE WHEN h < 5 THEN 1 WHEN h < 9 THEN 2 ELSE 3 END
          WHEN h < 40 THEN 4 ELSE 5 END::int2 AS status) AS s,
      LATERAL (SELECT status IN (4, 5) AND h4 % 10 < 3 AS held,
        status IN (4, 5) AND h4 % 10 = 9 AS reopened,
        status IN (3, 4, 5) OR (status = 2 AND h3 % 2 = 0) AS replied,
        t + make_interval(secs => 60 + h2 % 3600) AS take) AS a,
      LATERAL (SELECT take + make_interval(secs => 120 + h3 % 7200) AS reply) AS r,
      LATERAL (SELECT reply + make_interval(secs => 3600 + h4 % 86400) AS resume) AS m,
      LATERAL (SELECT CASE WHEN held THEN resume + make_interval(secs => 600 + h2 % 7200)
        ELSE reply END AS first_solve) AS f,
      LATERAL (SELECT first_solve + make_interval(secs => 3600 + h3 % 86400) AS reopen) AS o,
      LATERAL (SELECT CASE WHEN reopened THEN reopen + make_interval(secs => 1800 + h2 % 36000)
        ELSE first_solve END AS solve) AS v),
  facts AS (
    INSERT INTO ticket_facts (ticket_id, version, channel, group_id, assignee_login,
        inquiry_type_id, mail_account_id, status, excluded, create_time, first_reply_time,
        first_solve_time, solve_time, close_time, create_day, first_reply_day, first_solve_day,
        solve_day, close_day, first_reply_s, first_resolution_s, final_resolution_s,
        group_key, assignee_key, inquiry_type_key, mail_account_key)
    SELECT id,
      1 + (status <> 1)::int + (status = 3 OR held)::int
        + (held OR (status = 2 AND replied))::int + (status IN (4, 5))::int
        + 2 * reopened::int + (status = 5)::int,
      channel, grp, login, inquiry, mail_account, status, status = 6, t, fr, fs, ls, cl,
      (t AT TIME ZONE $4)::date, (fr AT TIME ZONE $4)::date, (fs AT TIME ZONE $4)::date,
      (ls AT TIME ZONE $4)::date, (cl AT TIME ZONE $4)::date,
      extract(epoch FROM fr - t)::float8, extract(epoch FROM fs - t)::float8,
      extract(epoch FROM ls - t)::float8,
      (SELECT key FROM ticket_dimension_keys WHERE value = grp),
      (SELECT key FROM ticket_dimension_keys WHERE value = login),
      (SELECT key FROM ticket_dimension_keys WHERE value = inquiry),
      (SELECT key FROM ticket_dimension_keys WHERE value = mail_account)
    FROM gen,
      LATERAL (SELECT CASE WHEN status IN (1, 6) THEN '' ELSE agent END AS login,
        CASE WHEN channel = 2 THEN '00000000-0000-4000-c000-' || lpad(account::text, 12, '0')
          ELSE '' END AS mail_account) AS dimensions,
      LATERAL (SELECT CASE WHEN replied THEN reply END AS fr,
        CASE WHEN status IN (4, 5) THEN first_solve END AS fs,
        CASE WHEN status IN (4, 5) THEN solve END AS ls,
        CASE WHEN status = 5 THEN close END AS cl) AS times)
  INSERT INTO ticket_states (ticket_id, version, at, status, group_id, assignee_login)
  SELECT id, version, at, st, grp, login
  FROM gen, LATERAL (
    SELECT row_number() OVER (ORDER BY o) AS version, at, st, login
    FROM (VALUES
      (1, t, 1::int2, ''),
      (2, CASE WHEN status = 6 THEN t + interval '10 minutes' WHEN status <> 1 THEN take END,
        CASE WHEN status = 6 THEN 6 ELSE 2 END::int2,
        CASE WHEN status = 6 THEN '' ELSE agent END),
      (3, CASE WHEN status = 3 OR held THEN reply END, 3::int2, agent),
      (4, CASE WHEN held THEN resume WHEN status = 2 AND replied THEN reply END, 2::int2, agent),
      (5, CASE WHEN status IN (4, 5) THEN first_solve END, 4::int2, agent),
      (6, CASE WHEN reopened THEN reopen END, 2::int2, agent),
      (7, CASE WHEN reopened THEN solve END, 4::int2, agent),
      (8, CASE WHEN status = 5 THEN close END, 5::int2, agent)
    ) AS candidate (o, at, st, login)
    WHERE at IS NOT NULL) AS states";

/// The key of every dimension value [`GENERATED`] writes (its facts keep their groups, agents,
/// inquiry types and mail accounts as keys too).
const DIMENSION_KEYS: &str = "
  INSERT INTO ticket_dimension_keys (value)
  SELECT '' UNION ALL
  SELECT '00000000-0000-4000-a000-' || lpad(n::text, 12, '0') FROM generate_series(1, $1) AS n
  UNION ALL SELECT 'agent' || n FROM generate_series(0, $2 - 1) AS n
  UNION ALL
  SELECT '00000000-0000-4000-b000-' || lpad(n::text, 12, '0') FROM generate_series(1, $3) AS n
  UNION ALL
  SELECT '00000000-0000-4000-c000-' || lpad(n::text, 12, '0') FROM generate_series(1, $4) AS n
  ON CONFLICT (value) DO NOTHING";

/// What the fill did.
pub struct Filled {
    pub pool: PgPool,
    pub fill_s: f64,
    pub recount_s: f64,
    pub states: i64,
    pub volume_rows: i64,
    pub backlog_rows: i64,
}

async fn count(pool: &PgPool, table: &str) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(pool)
            .await?,
    )
}

/// Fills `schema` with `tickets` tickets and their counts, unless it already holds them.
#[allow(clippy::print_stdout)] // progress is part of the command's output
pub async fn fill(config: &Config, schema: &str, tickets: i64) -> anyhow::Result<Filled> {
    let database = &config.database;
    Application::SPEC.migrate(database, schema).await?;
    let pool = db::connect(database, schema).await?;
    let held = count(&pool, "ticket_facts").await?;
    let counted = count(&pool, "ticket_volume_counts").await?;
    let (mut fill_s, mut recount_s) = (0.0, 0.0);
    if held == tickets && counted > 0 {
        println!("model: reusing {held} tickets in schema {schema}");
    } else {
        sqlx::query(
            "TRUNCATE ticket_facts, ticket_states, ticket_volume_counts,
                 ticket_volume_group_counts, ticket_backlog_changes",
        )
        .execute(&pool)
        .await?;
        sqlx::query(DIMENSION_KEYS)
            .bind(GROUPS)
            .bind(AGENTS)
            .bind(INQUIRY_TYPES)
            .bind(MAIL_ACCOUNTS)
            .execute(&pool)
            .await?;
        let began = Instant::now();
        let mut from = 1;
        while from <= tickets {
            let to = (from + FILL_BATCH - 1).min(tickets);
            sqlx::query(GENERATED)
                .bind(from)
                .bind(to)
                .bind(tickets)
                .bind(&config.time_zone)
                .execute(&pool)
                .await?;
            println!(
                "model: {to} of {tickets} tickets ({:.0} s)",
                began.elapsed().as_secs_f64()
            );
            from = to + 1;
        }
        fill_s = began.elapsed().as_secs_f64();
        let began = Instant::now();
        switchboard_reporting::recount_tickets(&pool, &config.time_zone).await?;
        recount_s = began.elapsed().as_secs_f64();
    }
    // Also a reused model: a migration since its fill may have rewritten or added tables.
    crate::bench::vacuum::vacuum_analyze(
        &pool,
        &[
            "ticket_facts",
            "ticket_states",
            "ticket_volume_counts",
            "ticket_volume_group_counts",
            "ticket_backlog_changes",
            "ticket_dimension_keys",
        ],
    )
    .await?;
    Ok(Filled {
        states: count(&pool, "ticket_states").await?,
        volume_rows: count(&pool, "ticket_volume_counts").await?,
        backlog_rows: count(&pool, "ticket_backlog_changes").await?,
        pool,
        fill_s,
        recount_s,
    })
}
