//! `switchboard bench reporting`: report latency over a large callback model. A reporting
//! service (reader only, no consumer) answers over gRPC from a scratch schema whose facts are
//! generated in PostgreSQL and whose day counts are written by the service's own recount; each
//! report is asked repeatedly and its p50/p95 printed, against the same daily report computed
//! by a GROUP BY over the raw facts (what a model without pre-aggregation would cost).

use std::time::{Duration, Instant};

use switchboard_platform::{Shutdown, db, service::Service};
use switchboard_proto::{
    callback::v1::CallbackState,
    common::v1::LocalDate,
    reporting::v1::{
        AssigneeFilter, GetCallbackProcessingStatusRequest, ListUnfinishedCallbacksPerAgentRequest,
        ReportGranularity, ReportPeriod, assignee_filter::Assignee,
        reporting_service_client::ReportingServiceClient,
    },
};
use switchboard_reporting::{Application, ReportingSettings};

use super::{admin_interceptor, connect, in_process};
use crate::config::Config;

const ROUTES: i64 = 20;
const AGENTS: i64 = 200;
const GROUPS: i64 = 10;
const FILL_BATCH: i64 = 1_000_000;

/// Facts `$1..=$2` of `$3`, spread evenly over 2025 in zone `$4`: 10 % registered, 5 %
/// cancelled, 5 % unprocessed, 80 % completed (by a multiplicative hash of i; the states are
/// `$5`..`$8` in that order); agent i % 200 of group i % 10 and route (i / 200) % 20, so every
/// agent has callbacks of every route.
const FACTS: &str = "INSERT INTO callback_facts (callback_id, version, ivr_route_id,
    request_time, request_day, state, assignee_login, assignee_group_id, assignee_name,
    assign_time)
  SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 3,
    ('00000000-0000-7000-8000-' || lpad(((i / 200) % 20 + 1)::text, 12, '0'))::uuid,
    t, (t AT TIME ZONE $4)::date, s,
    CASE WHEN s IN ($7, $8) THEN 'agent' || (i % 200) END,
    CASE WHEN s IN ($7, $8) THEN '00000000-0000-7000-9000-' || lpad((i % 10)::text, 12, '0') END,
    CASE WHEN s IN ($7, $8) THEN '상담원 ' || (i % 200) END,
    CASE WHEN s IN ($7, $8) THEN t + interval '1 hour' END
  FROM (SELECT i,
      (timestamp '2025-01-01 00:00:00' AT TIME ZONE $4)
        + make_interval(secs => (i - 1)::float8 / $3 * 365 * 86400) AS t,
      CASE WHEN h < 10 THEN $5::int2 WHEN h < 15 THEN $6::int2 WHEN h < 20 THEN $7::int2
        ELSE $8::int2 END AS s
    FROM generate_series($1::int8, $2::int8) AS i,
      LATERAL (SELECT (i * 2654435761 % 4294967296) % 100 AS h) AS hashed) AS generated";

/// The baseline: the year's daily report straight from the facts.
const RAW_DAILY: &str = "SELECT request_day, count(*) FILTER (WHERE state = $1),
    count(*) FILTER (WHERE state = $2)
  FROM callback_facts WHERE request_day BETWEEN '2025-01-01' AND '2025-12-31'
  GROUP BY request_day ORDER BY request_day";

fn date(month: i32, day: i32) -> Option<LocalDate> {
    Some(LocalDate {
        year: 2025,
        month,
        day,
    })
}

fn year_report(granularity: ReportGranularity) -> GetCallbackProcessingStatusRequest {
    GetCallbackProcessingStatusRequest {
        period: Some(ReportPeriod {
            start_date: date(1, 1),
            end_date: date(12, 31),
        }),
        granularity: granularity as i32,
        ..Default::default()
    }
}

/// p50, p95 and the largest of `times`, in milliseconds.
pub(crate) fn quantiles(times: &mut [Duration]) -> (f64, f64, f64) {
    times.sort();
    let at = |q: f64| {
        let index = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[index].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.95), at(1.0))
}

/// Fills `schema` with `callbacks` facts and their counts, unless it already holds them.
#[allow(clippy::print_stdout)] // progress is part of the command's output
async fn fill(config: &Config, schema: &str, callbacks: i64) -> anyhow::Result<sqlx::PgPool> {
    let database = &config.database;
    let pool = db::connect(database, schema).await?;
    Application::SPEC.migrate(database, schema).await?;
    let (held,): (i64,) = sqlx::query_as("SELECT count(*) FROM callback_facts")
        .fetch_one(&pool)
        .await?;
    let (counted,): (i64,) = sqlx::query_as("SELECT count(*) FROM callback_day_counts")
        .fetch_one(&pool)
        .await?;
    if held == callbacks && counted > 0 {
        println!("model: reusing {held} callbacks in schema {schema}");
        return Ok(pool);
    }
    sqlx::query("TRUNCATE callback_facts, callback_day_counts")
        .execute(&pool)
        .await?;
    let began = Instant::now();
    let mut from = 1;
    while from <= callbacks {
        let to = (from + FILL_BATCH - 1).min(callbacks);
        sqlx::query(FACTS)
            .bind(from)
            .bind(to)
            .bind(callbacks)
            .bind(&config.time_zone)
            .bind(CallbackState::Registered as i16)
            .bind(CallbackState::Cancelled as i16)
            .bind(CallbackState::Unprocessed as i16)
            .bind(CallbackState::Completed as i16)
            .execute(&pool)
            .await?;
        println!(
            "model: {to} of {callbacks} facts ({:.0} s)",
            began.elapsed().as_secs_f64()
        );
        from = to + 1;
    }
    let filled = began.elapsed();
    let began = Instant::now();
    let rows = switchboard_reporting::recount(&pool).await?;
    let recounted = began.elapsed();
    crate::bench::vacuum::vacuum_analyze(&pool, &["callback_facts", "callback_day_counts"]).await?;
    println!(
        "model: callbacks={callbacks} routes={ROUTES} agents={AGENTS} groups={GROUPS} \
         fill_s={:.1} recount_s={:.1} count_rows={rows}",
        filled.as_secs_f64(),
        recounted.as_secs_f64()
    );
    Ok(pool)
}

/// Runs the benchmark and prints its figures; the last line is the summary.
/// A reporting service in this process that only answers (the benchmarks generate their
/// models, so nothing is consumed), and an admin's client of it.
pub(crate) struct Reader {
    pub client: ReportingServiceClient<
        tonic::service::interceptor::InterceptedService<
            tonic::transport::Channel,
            switchboard_platform::grpc::MeshInterceptor,
        >,
    >,
    stop: switchboard_platform::ShutdownTrigger,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Reader {
    /// Binds the reader over `schema` and connects to it as an admin.
    pub async fn start(config: &Config, schema: &str) -> anyhow::Result<Self> {
        let settings = ReportingSettings {
            consume_events: false,
            ..Default::default()
        };
        let service = Application::bind(in_process(config, schema, Vec::new(), settings)).await?;
        let addr = service.local_addr();
        let (stop, shutdown) = Shutdown::new();
        let task = tokio::spawn(service.run_until_stopped(shutdown));
        let client = ReportingServiceClient::with_interceptor(
            connect(addr).await?,
            admin_interceptor(&config.config.principal)?,
        );
        Ok(Self { client, stop, task })
    }

    /// Stops the service, waiting 10 s at most.
    pub async fn stop(self) {
        self.stop.trigger();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(
    config: &Config,
    callbacks: i64,
    repeat: usize,
    schema: &str,
    drop: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        callbacks > 0 && repeat > 0,
        "--callbacks and --repeat must be positive"
    );
    db::check_schema_name(schema)?;
    anyhow::ensure!(
        schema != Application::SPEC.schema,
        "--schema {schema} is the reporting service's own; the benchmark needs a scratch schema"
    );
    let pool = fill(config, schema, callbacks).await?;

    let reader = Reader::start(config, schema).await?;
    let mut client = reader.client.clone();

    // The report must agree with the facts before its speed means anything.
    let year = client
        .get_callback_processing_status(year_report(ReportGranularity::Day))
        .await?
        .into_inner();
    let (completed, unprocessed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = $1), count(*) FILTER (WHERE state = $2)
         FROM callback_facts WHERE request_day BETWEEN '2025-01-01' AND '2025-12-31'",
    )
    .bind(CallbackState::Completed as i16)
    .bind(CallbackState::Unprocessed as i16)
    .fetch_one(&pool)
    .await?;
    let total = year.total.unwrap_or_default();
    anyhow::ensure!(
        year.buckets.len() == 365
            && total.completed_count == completed
            && total.unprocessed_count == unprocessed,
        "the report disagrees with the facts: {} buckets, {}/{} against {completed}/{unprocessed}",
        year.buckets.len(),
        total.completed_count,
        total.unprocessed_count
    );

    let route = |n: i64| format!("00000000-0000-7000-8000-{n:012}");
    let with = |assignee: Assignee| {
        let mut request = year_report(ReportGranularity::Day);
        request.assignee = Some(AssigneeFilter {
            assignee: Some(assignee),
        });
        request
    };
    let mut routes = year_report(ReportGranularity::Day);
    routes.ivr_route_ids = (1..=3).map(route).collect();
    let reports = [
        ("daily_year", year_report(ReportGranularity::Day)),
        ("monthly_12", year_report(ReportGranularity::Month)),
        (
            "daily_year_agent",
            with(Assignee::AgentLogin("agent7".into())),
        ),
        (
            "daily_year_group",
            // Group ids are UUIDs, as the directory spells them (the report checks).
            with(Assignee::GroupId(
                "00000000-0000-7000-9000-000000000003".into(),
            )),
        ),
        ("daily_year_3_routes", routes),
    ];
    let mut summary = Vec::new();
    for (name, request) in reports {
        let mut times = Vec::with_capacity(repeat);
        for round in 0..repeat + 3 {
            let began = Instant::now();
            client
                .get_callback_processing_status(request.clone())
                .await?;
            if round >= 3 {
                times.push(began.elapsed());
            }
        }
        let (p50, p95, max) = quantiles(&mut times);
        println!("{name}  calls={repeat} p50_ms={p50:.2} p95_ms={p95:.2} max_ms={max:.2}");
        summary.push((name, p50, p95));
    }
    let mut times = Vec::with_capacity(repeat);
    for round in 0..repeat + 3 {
        let began = Instant::now();
        client
            .list_unfinished_callbacks_per_agent(ListUnfinishedCallbacksPerAgentRequest::default())
            .await?;
        if round >= 3 {
            times.push(began.elapsed());
        }
    }
    let (p50, p95, max) = quantiles(&mut times);
    println!(
        "unfinished_per_agent  calls={repeat} unfinished={unprocessed} p50_ms={p50:.2} \
         p95_ms={p95:.2} max_ms={max:.2}"
    );

    let mut raw = Vec::new();
    for _ in 0..3 {
        let began = Instant::now();
        sqlx::query(RAW_DAILY)
            .bind(CallbackState::Completed as i16)
            .bind(CallbackState::Unprocessed as i16)
            .fetch_all(&pool)
            .await?;
        raw.push(began.elapsed());
    }
    let (raw_p50, _, _) = quantiles(&mut raw);
    println!("raw_group_by_daily_year  calls=3 p50_ms={raw_p50:.1}");

    reader.stop().await;
    if drop {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&pool)
            .await?;
    }
    let worst_p95 = summary.iter().map(|(_, _, p95)| *p95).fold(0.0, f64::max);
    let daily_p50 = summary[0].1;
    println!(
        "reporting callbacks={callbacks} daily_year_p95_ms={:.2} monthly_12_p95_ms={:.2} \
         worst_p95_ms={worst_p95:.2} raw_daily_ms={raw_p50:.1} ratio={:.4} goal_p95_ms=50",
        summary[0].2,
        summary[1].2,
        daily_p50 / raw_p50
    );
    Ok(())
}
