//! The scratch schema of `bench ticket-queries`: the ticket service's migrations, then
//! `--tickets` tickets generated in PostgreSQL (`INSERT … SELECT … FROM generate_series`), their
//! view counts recomputed, and statistics.

use std::time::Instant;

use switchboard_platform::{db, service::Service};
use switchboard_ticket::Application;

use crate::config::Config;

pub const GROUPS: i64 = 50;
pub const AGENTS: i64 = 500;
const BATCH: i64 = 250_000;

/// The subject words: two or three of them make a subject.
const WORDS: &[&str] = &[
    "환불",
    "배송",
    "결제",
    "요금제",
    "해지",
    "교환",
    "로그인",
    "오류",
    "주문",
    "취소",
    "변경",
    "문의",
    "지연",
    "쿠폰",
    "포인트",
    "회원",
    "가입",
    "비밀번호",
    "재발송",
    "영수증",
    "반품",
    "설치",
    "계정",
    "할인",
];

/// The word of one ticket in 10,000 (ticket numbers ≡ 7 mod 10,000): in no other word.
pub const RARE_WORD: &str = "해킹";
/// A word of about one subject in ten.
pub const COMMON_WORD: &str = "환불";
/// The word of the word + group + period search.
pub const GROUP_WORD: &str = "배송";

const SURNAMES: &[&str] = &["김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"];
const GIVEN_NAMES: &[&str] = &[
    "민준", "서연", "도윤", "서윤", "하준", "지우", "시우", "하은", "주원", "지호", "예준", "수아",
    "유준", "지아", "은우", "민서", "건우", "채원", "현우", "지윤",
];
/// A requester name of one ticket in 200.
pub const REQUESTER: &str = "김민준";

/// The id of group `g` (0..50) and the login of agent `a` (0..500): agent `a` works in group
/// `a % 50`.
pub fn group_id(g: i64) -> String {
    format!("00000000-0000-4000-a000-{g:012}")
}

pub fn agent_login(a: i64) -> String {
    format!("agent{a:03}")
}

/// The generated tickets `$1..=$2` of `$3`, created evenly over the three years before `$4`
/// (epoch seconds), every NOT NULL column of `tickets` written. Status mix by a hash of the
/// number: 70 % closed, 10 % solved, 8 % in progress, 5 % on hold, 5 % unassigned, 2 % spam; 5 %
/// without a group; an assignee (an agent of the ticket's group) wherever the status has one.
const GENERATED: &str = "WITH base AS (
    SELECT i,
      hashint8extended(i, 1) & 1073741823 AS h1,
      hashint8extended(i, 2) & 1073741823 AS h2,
      hashint8extended(i, 3) & 1073741823 AS h3,
      hashint8extended(i, 4) & 1073741823 AS h4,
      to_timestamp($4) - interval '3 years'
        + make_interval(secs => (i - 1)::float8 / $3 * 3 * 365.25 * 86400) AS t
    FROM generate_series($1::int8, $2::int8) AS i
  ), shaped AS (
    SELECT *,
      CASE WHEN h1 % 100 < 70 THEN 5 WHEN h1 % 100 < 80 THEN 4 WHEN h1 % 100 < 88 THEN 2
        WHEN h1 % 100 < 93 THEN 3 WHEN h1 % 100 < 98 THEN 1 ELSE 6 END::int2 AS s,
      CASE WHEN h2 % 100 >= 5 THEN (h2 / 100) % 50 END AS gi,
      h4 % cardinality($5::text[]) AS w1
    FROM base
  ), placed AS (
    SELECT *,
      CASE WHEN s IN (1, 6) THEN NULL WHEN gi IS NULL THEN h3 % 500
        ELSE gi + 50 * ((h2 / 5000) % 10) END AS ai,
      (w1 + 1 + (h4 / 100) % (cardinality($5) - 1)) % cardinality($5) AS w2
    FROM shaped
  ), ticket_rows AS (
    SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid AS id,
      i AS number,
      CASE WHEN i % 10000 = 7 THEN $6 || ' ' || ($5::text[])[(1 + w1)::int4]
        ELSE ($5::text[])[(1 + w1)::int4] || ' ' || ($5::text[])[(1 + w2)::int4]
          || CASE WHEN h3 % 3 = 0
            THEN ' ' || ($5::text[])[(1 + (h4 / 10000) % cardinality($5))::int4] ELSE '' END
      END AS subject,
      s AS status,
      CASE WHEN gi IS NOT NULL
        THEN ('00000000-0000-4000-a000-' || lpad(gi::text, 12, '0'))::uuid END AS group_id,
      CASE WHEN gi IS NOT NULL THEN '상담그룹 ' || gi ELSE '' END AS group_name,
      CASE WHEN ai IS NOT NULL THEN 'agent' || lpad(ai::text, 3, '0') END AS assignee_login,
      CASE WHEN ai IS NOT NULL THEN '상담원 ' || ai ELSE '' END AS assignee_name,
      (1 + (h3 / 500) % 3)::int2 AS channel,
      ($7::text[])[(1 + (h3 / 1500) % cardinality($7::text[]))::int4]
        || ($8::text[])[(1 + (h3 / 15000) % cardinality($8::text[]))::int4] AS requester_name,
      'customer' || i || '@example.com' AS requester_email,
      (CASE WHEN (h1 / 100) % 20 = 0 THEN 4 WHEN (h1 / 100) % 20 < 3 THEN 3
        WHEN (h1 / 100) % 20 < 5 THEN 1 ELSE 2 END)::int2 AS priority,
      t AS create_time,
      least(t + make_interval(secs => 60 + h2 % 172800), to_timestamp($4)) AS update_time,
      CASE WHEN s IN (4, 5) THEN least(t + interval '1 day', to_timestamp($4)) END AS solve_time,
      CASE WHEN s = 5 THEN least(t + interval '15 days', to_timestamp($4)) END AS close_time,
      CASE WHEN s NOT IN (1, 6) THEN least(t + interval '1 hour', to_timestamp($4))
        END AS first_reply_time,
      CASE WHEN s = 4 THEN to_timestamp($4) + interval '14 days' END AS auto_close_time,
      (CASE WHEN s = 6 THEN 1 ELSE 0 END)::int2 AS status_before_spam,
      (1 + h3 % 5)::int4 AS message_count,
      1::int8 AS version
    FROM placed
  )";

/// The columns written, each a column of `ticket_rows`.
const COLUMNS: &[&str] = &[
    "id",
    "number",
    "subject",
    "status",
    "group_id",
    "group_name",
    "assignee_login",
    "assignee_name",
    "channel",
    "requester_name",
    "requester_email",
    "priority",
    "create_time",
    "update_time",
    "solve_time",
    "close_time",
    "first_reply_time",
    "auto_close_time",
    "status_before_spam",
    "message_count",
    "version",
];

/// The search columns (migration 0005), written as the service writes them, when the schema has
/// them: SQL `lower()` is the service's normalisation for this text (precomposed Hangul and
/// ASCII), the bigrams distinct and without white space.
const SEARCH_COLUMNS: &[(&str, &str)] = &[
    ("subject_norm", "lower(subject)"),
    ("requester_name_norm", "lower(requester_name)"),
    (
        "subject_bigrams",
        "ARRAY(SELECT DISTINCT substr(lower(subject), k, 2)
           FROM generate_series(1, char_length(subject) - 1) AS k
           WHERE substr(lower(subject), k, 2) !~ '\\s' ORDER BY 1)",
    ),
];

/// What the fill found of the schema.
pub struct Filled {
    pub pool: sqlx::PgPool,
    /// Whether the search columns exist and were written.
    pub search_columns: bool,
}

/// Migrates `schema` and fills it with `tickets` tickets, unless it already holds them.
#[allow(clippy::print_stdout)] // progress is part of the command's output
pub async fn fill(config: &Config, schema: &str, tickets: i64) -> anyhow::Result<Filled> {
    let database = &config.database;
    Application::SPEC.migrate(database, schema).await?;
    let pool = db::connect(database, schema).await?;
    let columns: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT column_name::text, is_nullable = 'NO', column_default IS NOT NULL
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'tickets'",
    )
    .bind(schema)
    .fetch_all(&pool)
    .await?;
    let search_columns = SEARCH_COLUMNS
        .iter()
        .all(|(name, _)| columns.iter().any(|(c, _, _)| c == name));
    let unwritten: Vec<&str> = columns
        .iter()
        .filter(|(name, not_null, defaulted)| {
            let written = COLUMNS.contains(&name.as_str())
                || (search_columns && SEARCH_COLUMNS.iter().any(|(c, _)| c == name));
            *not_null && !*defaulted && !written
        })
        .map(|(name, _, _)| name.as_str())
        .collect();
    anyhow::ensure!(
        unwritten.is_empty(),
        "tickets has NOT NULL columns the benchmark does not write: {unwritten:?}"
    );

    let (held,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets")
        .fetch_one(&pool)
        .await?;
    if held == tickets {
        println!("fill: reusing {held} tickets in schema {schema}");
        return Ok(Filled {
            pool,
            search_columns,
        });
    }
    anyhow::ensure!(
        held == 0,
        "schema {schema} holds {held} tickets, not {tickets}; drop it or choose another"
    );

    let mut names: Vec<&str> = COLUMNS.to_vec();
    let mut values: Vec<&str> = COLUMNS.to_vec();
    if search_columns {
        names.extend(SEARCH_COLUMNS.iter().map(|(c, _)| *c));
        values.extend(SEARCH_COLUMNS.iter().map(|(_, v)| *v));
    }
    let insert = format!(
        "{GENERATED} INSERT INTO tickets ({}) SELECT {} FROM ticket_rows",
        names.join(", "),
        values.join(", ")
    );
    let (now,): (f64,) = sqlx::query_as("SELECT extract(epoch FROM now())::float8")
        .fetch_one(&pool)
        .await?;
    // The view counts are recomputed once after the fill instead of a trigger row per ticket.
    sqlx::query("ALTER TABLE tickets DISABLE TRIGGER USER")
        .execute(&pool)
        .await?;
    let began = Instant::now();
    let mut from = 1;
    while from <= tickets {
        let to = (from + BATCH - 1).min(tickets);
        sqlx::query(sqlx::AssertSqlSafe(insert.as_str()))
            .bind(from)
            .bind(to)
            .bind(tickets as f64)
            .bind(now)
            .bind(WORDS)
            .bind(RARE_WORD)
            .bind(SURNAMES)
            .bind(GIVEN_NAMES)
            .execute(&pool)
            .await?;
        println!(
            "fill: {to} of {tickets} tickets ({:.0} s)",
            began.elapsed().as_secs_f64()
        );
        from = to + 1;
    }
    sqlx::query("ALTER TABLE tickets ENABLE TRIGGER USER")
        .execute(&pool)
        .await?;
    let filled = began.elapsed();
    let began = Instant::now();
    sqlx::raw_sql(
        "TRUNCATE ticket_counts, ticket_count_changes;
         INSERT INTO ticket_counts (group_key, assignee_key, status, n)
           SELECT coalesce(group_id, '00000000-0000-0000-0000-000000000000'),
             coalesce(assignee_login, ''), status, count(*)
           FROM tickets GROUP BY 1, 2, 3;",
    )
    .execute(&pool)
    .await?;
    sqlx::query("SELECT setval('ticket_numbers', $1)")
        .bind(tickets)
        .execute(&pool)
        .await?;
    crate::bench::vacuum::vacuum_analyze(&pool, &["tickets", "ticket_counts"]).await?;
    println!(
        "fill: tickets={tickets} groups={GROUPS} agents={AGENTS} search_columns={} \
         fill_s={:.1} counts_and_vacuum_s={:.1}",
        if search_columns { "written" } else { "absent" },
        filled.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    Ok(Filled {
        pool,
        search_columns,
    })
}
