//! The baselines: each report's answer computed over the raw facts and states, without the
//! pre-aggregated counts or the covering indexes (what a model without pre-aggregation costs).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::PgPool;

/// One filter value at most, as the benchmark asks.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub channels: Vec<i16>,
    pub group_ids: Vec<String>,
    pub agent_logins: Vec<String>,
}

/// Created, solved and closed per local day (days without any left out).
pub type Volume = BTreeMap<NaiveDate, [i64; 3]>;

/// The daily volumes of `first..=last` from `ticket_facts`: a GROUP BY over its local days.
const VOLUME: &str = "
  SELECT day, sum(created)::int8, sum(solved)::int8, sum(closed)::int8 FROM (
    SELECT create_day AS day, 1 AS created, 0 AS solved, 0 AS closed FROM ticket_facts
      WHERE NOT excluded AND create_day BETWEEN $1 AND $2 AND {filter}
    UNION ALL
    SELECT solve_day, 0, 1, 0 FROM ticket_facts
      WHERE NOT excluded AND status IN (4, 5) AND solve_day BETWEEN $1 AND $2 AND {filter}
    UNION ALL
    SELECT close_day, 0, 0, 1 FROM ticket_facts
      WHERE NOT excluded AND status = 5 AND close_day BETWEEN $1 AND $2 AND {filter}
  ) AS counted GROUP BY day ORDER BY day";

const FILTER: &str = "(cardinality($3::int2[]) = 0 OR channel = ANY($3))
  AND (cardinality($4::text[]) = 0 OR group_id = ANY($4))
  AND (cardinality($5::text[]) = 0 OR assignee_login = ANY($5))";

pub async fn volume(
    pool: &PgPool,
    first: NaiveDate,
    last: NaiveDate,
    filter: &Filter,
) -> anyhow::Result<Volume> {
    let sql = VOLUME.replace("{filter}", FILTER);
    let rows: Vec<(NaiveDate, i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(first)
        .bind(last)
        .bind(&filter.channels)
        .bind(&filter.group_ids)
        .bind(&filter.agent_logins)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(day, created, solved, closed)| (day, [created, solved, closed]))
        .collect())
}

/// Open tickets (unassigned, in progress, on hold) per local day and group, non-zero only.
pub type Backlog = BTreeMap<(NaiveDate, String), [i64; 3]>;

/// The backlog at the end of each day of `$1..=$2` per group from `ticket_states`: every
/// state's span (until the next version's time, by a window over each ticket's versions); the
/// open spans that overlap the period, joined to the local midnights they cover ($3 the zone).
const BACKLOG: &str = "
  WITH spans AS (
    SELECT status, group_id, at,
      lead(at) OVER (PARTITION BY ticket_id ORDER BY version) AS until
    FROM ticket_states),
  midnights AS (
    SELECT day::date AS day, ((day::date + 1)::timestamp AT TIME ZONE $3) AS midnight
    FROM generate_series($1::date, $2::date, interval '1 day') AS day),
  open_spans AS (
    SELECT * FROM spans
    WHERE status IN (1, 2, 3)
      AND at < (($2::date + 1)::timestamp AT TIME ZONE $3)
      AND (until IS NULL OR until >= (($1::date + 1)::timestamp AT TIME ZONE $3)))
  SELECT m.day, s.status, s.group_id, count(*)::int8
  FROM midnights AS m
  JOIN open_spans AS s ON s.at < m.midnight AND (s.until IS NULL OR s.until >= m.midnight)
  GROUP BY 1, 2, 3";

/// The backlog of `first..=last` per group; and the open tickets now per group.
pub async fn backlog(
    pool: &PgPool,
    first: NaiveDate,
    last: NaiveDate,
    zone: &str,
) -> anyhow::Result<(Backlog, BTreeMap<String, [i64; 3]>)> {
    let rows: Vec<(NaiveDate, i16, String, i64)> = sqlx::query_as(BACKLOG)
        .bind(first)
        .bind(last)
        .bind(zone)
        .fetch_all(pool)
        .await?;
    let mut backlog = Backlog::new();
    for (day, status, group, count) in rows {
        backlog.entry((day, group)).or_default()[(status - 1) as usize] += count;
    }
    let now: Vec<(i16, String, i64)> = sqlx::query_as(
        "SELECT status, group_id, count(*)::int8 FROM ticket_facts
         WHERE status IN (1, 2, 3) GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await?;
    let mut current: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for (status, group, count) in now {
        current.entry(group).or_default()[(status - 1) as usize] += count;
    }
    Ok((backlog, current))
}

/// Count, median, p90 and mean in seconds of one measure in one cell.
pub type Statistics = (i64, Option<f64>, Option<f64>, Option<f64>);

/// Per (local day, group) of the measure's end, and the whole period under `None`.
pub type Times = BTreeMap<Option<(NaiveDate, String)>, Statistics>;

/// The statistics of one measure (its end time column `{end}`, and `{only}` the tickets it
/// measures) computed from the timestamps of `ticket_facts`: the durations and the local days
/// computed per row, no covering index.
const TIMES: &str = "
  SELECT (({end}) AT TIME ZONE $3)::date AS day, group_id, count(*)::int8,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM {end} - create_time)),
    percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM {end} - create_time)),
    avg(extract(epoch FROM {end} - create_time))::float8
  FROM ticket_facts
  WHERE NOT excluded AND {only}
    AND {end} >= ($1::date::timestamp AT TIME ZONE $3)
    AND {end} < (($2::date + 1)::timestamp AT TIME ZONE $3)
  GROUP BY GROUPING SETS (((({end}) AT TIME ZONE $3)::date, group_id), ())";

/// The three measures of the times report: first reply, first resolution, final resolution.
const MEASURES: [(&str, &str); 3] = [
    ("first_reply_time", "first_reply_time IS NOT NULL"),
    ("first_solve_time", "first_solve_time IS NOT NULL"),
    ("solve_time", "solve_time IS NOT NULL AND status IN (4, 5)"),
];

async fn measure(
    pool: &PgPool,
    first: NaiveDate,
    last: NaiveDate,
    zone: &str,
    (end, only): (&str, &str),
) -> anyhow::Result<Times> {
    let sql = TIMES.replace("{end}", end).replace("{only}", only);
    type Row = (
        Option<NaiveDate>,
        Option<String>,
        i64,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(first)
        .bind(last)
        .bind(zone)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(day, group, count, median, p90, mean)| {
            let key = day.zip(group);
            (key, (count, median, p90, mean))
        })
        .collect())
}

/// The times report by group over `first..=last`: the three measures at once, as the service
/// asks them.
pub async fn times(
    pool: &PgPool,
    first: NaiveDate,
    last: NaiveDate,
    zone: &str,
) -> anyhow::Result<[Times; 3]> {
    let (a, b, c) = tokio::try_join!(
        measure(pool, first, last, zone, MEASURES[0]),
        measure(pool, first, last, zone, MEASURES[1]),
        measure(pool, first, last, zone, MEASURES[2]),
    )?;
    Ok([a, b, c])
}
