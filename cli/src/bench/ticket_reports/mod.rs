//! `switchboard bench ticket-reports`: the ticket reports over a large generated model, and the
//! fold rate of ticket events. A reporting service (reader only) answers over gRPC from a
//! scratch schema whose facts and states are generated in PostgreSQL and whose counts are
//! written by the service's own `recount_tickets`; each report is asked `--repeat` times with
//! seeded random periods and filters, and its p50/p95 printed beside the same answer computed
//! over the raw facts and states in the same run (each such answer also checked equal to the
//! report's). Then `--fold-events` real ticket events are published to a private RabbitMQ
//! virtual host and folded by a consuming reporting service on a second scratch schema.

mod fill;
mod fold;
mod raw;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use switchboard_platform::{db, service::Service};
use switchboard_proto::{
    common::v1::LocalDate,
    reporting::v1::{
        GetTicketBacklogReportRequest, GetTicketTimesReportRequest, GetTicketVolumeReportRequest,
        ReportGranularity, ReportPeriod, TicketReportDimension, TicketReportFilter,
        TicketTimeStatistics, reporting_service_client::ReportingServiceClient,
    },
    ticket::v1::TicketChannel,
};
use switchboard_reporting::Application;

use super::reporting::{Reader, quantiles};
use crate::config::Config;

/// The definitions of the figures, printed by `--help` and in the README.
pub const DEFINITIONS: &str = "\
volume: GetTicketVolumeReport, daily, 31 days from a random day of 2025, filtered by nothing, \
one group, one agent or one channel (at random); raw: a GROUP BY over ticket_facts by \
create_day, solve_day and close_day. \
backlog: GetTicketBacklogReport, daily, 31 days, by group; raw: each state's span from \
ticket_states (a window over each ticket's versions) joined to the period's local midnights, \
and the open tickets now from ticket_facts. \
times: GetTicketTimesReport, daily, 31 days, by group, wall-clock; raw: percentile_cont over \
ticket_facts with the durations and local days computed from the timestamps (the three \
measures at once, as the service asks them). \
Every raw answer is checked equal to the report's. ratio: model p50 / raw p50. \
fold_events_per_s: ticket events applied per second by a consuming reporting service, from \
the first applied to the last, its queue filled before it starts.";

/// Calls before the measured ones.
const WARMUP: usize = 3;

/// What the command was asked.
pub struct Options {
    pub tickets: i64,
    pub repeat: usize,
    pub raw_repeat: usize,
    pub schema: String,
    pub drop: bool,
    pub fold_events: i64,
    pub seed: u64,
}

/// A seeded generator (splitmix64): the same choices on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn local(day: NaiveDate) -> Option<LocalDate> {
    use chrono::Datelike;
    Some(LocalDate {
        year: day.year(),
        month: day.month() as i32,
        day: day.day() as i32,
    })
}

fn naive(date: Option<&LocalDate>) -> anyhow::Result<NaiveDate> {
    let date = date.ok_or_else(|| anyhow::anyhow!("a row without its date"))?;
    NaiveDate::from_ymd_opt(date.year, date.month as u32, date.day as u32)
        .ok_or_else(|| anyhow::anyhow!("a row with a bad date {date:?}"))
}

fn period(first: NaiveDate, last: NaiveDate) -> Option<ReportPeriod> {
    Some(ReportPeriod {
        start_date: local(first),
        end_date: local(last),
    })
}

/// 31 days from a random day of 2025.
fn random_month(rng: &mut Rng) -> (NaiveDate, NaiveDate) {
    let year = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date");
    let first = year + chrono::Duration::days(rng.below(365 - 30) as i64);
    (first, first + chrono::Duration::days(30))
}

/// A random volume filter: none, one group, one agent or one channel.
fn random_filter(rng: &mut Rng) -> (&'static str, TicketReportFilter, raw::Filter) {
    match rng.below(4) {
        0 => (
            "none",
            TicketReportFilter::default(),
            raw::Filter::default(),
        ),
        1 => {
            let group = fill::group_id(rng.below(fill::GROUPS as u64) as i64 + 1);
            (
                "group",
                TicketReportFilter {
                    group_ids: vec![group.clone()],
                    ..Default::default()
                },
                raw::Filter {
                    group_ids: vec![group],
                    ..Default::default()
                },
            )
        }
        2 => {
            let agent = fill::agent_login(rng.below(fill::AGENTS as u64) as i64);
            (
                "agent",
                TicketReportFilter {
                    agent_logins: vec![agent.clone()],
                    ..Default::default()
                },
                raw::Filter {
                    agent_logins: vec![agent],
                    ..Default::default()
                },
            )
        }
        _ => {
            let channel = rng.below(5) as i32 + 1;
            let channel = TicketChannel::try_from(channel).unwrap_or(TicketChannel::Email);
            (
                "channel",
                TicketReportFilter {
                    channels: vec![channel as i32],
                    ..Default::default()
                },
                raw::Filter {
                    channels: vec![channel as i16],
                    ..Default::default()
                },
            )
        }
    }
}

/// Measured times of one report and of its raw computation.
#[derive(Default)]
struct Timings {
    model: Vec<Duration>,
    raw: Vec<Duration>,
}

impl Timings {
    /// Prints the line of `name`; returns the model's p50 and p95.
    #[allow(clippy::print_stdout)] // the figures are the command's output
    fn print(&mut self, name: &str, detail: &str) -> (f64, f64) {
        let (p50, p95, max) = quantiles(&mut self.model);
        let (raw_p50, raw_p95, _) = quantiles(&mut self.raw);
        println!(
            "{name}  {detail} calls={} p50_ms={p50:.2} p95_ms={p95:.2} max_ms={max:.2} \
             raw_calls={} raw_p50_ms={raw_p50:.1} raw_p95_ms={raw_p95:.1} ratio={:.4}",
            self.model.len(),
            self.raw.len(),
            p50 / raw_p50
        );
        (p50, p95)
    }
}

type Client = ReportingServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        switchboard_platform::grpc::MeshInterceptor,
    >,
>;

/// The volume report must agree with the facts before its speed means anything.
async fn check_year(client: &mut Client, pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let first = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date");
    let last = NaiveDate::from_ymd_opt(2025, 12, 31).expect("a date");
    let year = client
        .get_ticket_volume_report(GetTicketVolumeReportRequest {
            period: period(first, last),
            granularity: ReportGranularity::Month as i32,
            ..Default::default()
        })
        .await?
        .into_inner();
    let (created, solved, closed): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE create_day BETWEEN $1 AND $2),
           count(*) FILTER (WHERE status IN (4, 5) AND solve_day BETWEEN $1 AND $2),
           count(*) FILTER (WHERE status = 5 AND close_day BETWEEN $1 AND $2)
         FROM ticket_facts WHERE NOT excluded",
    )
    .bind(first)
    .bind(last)
    .fetch_one(pool)
    .await?;
    let total = year.total.unwrap_or_default();
    anyhow::ensure!(
        (total.created_count, total.solved_count, total.closed_count) == (created, solved, closed)
            && year.rows.len() == 12,
        "the volume report disagrees with the facts: {} rows, created/solved/closed {}/{}/{} \
         against {created}/{solved}/{closed}",
        year.rows.len(),
        total.created_count,
        total.solved_count,
        total.closed_count
    );
    Ok(())
}

async fn volumes(
    client: &mut Client,
    pool: &sqlx::PgPool,
    options: &Options,
    rng: &mut Rng,
) -> anyhow::Result<(Timings, BTreeMap<&'static str, Vec<Duration>>)> {
    let mut timings = Timings::default();
    let mut filters: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for round in 0..WARMUP + options.repeat {
        let (first, last) = random_month(rng);
        let (kind, filter, raw_filter) = random_filter(rng);
        let request = GetTicketVolumeReportRequest {
            period: period(first, last),
            granularity: ReportGranularity::Day as i32,
            filter: Some(filter),
            dimension: TicketReportDimension::Unspecified as i32,
        };
        let began = Instant::now();
        let report = client.get_ticket_volume_report(request).await?.into_inner();
        let took = began.elapsed();
        if round < WARMUP {
            continue;
        }
        timings.model.push(took);
        filters.entry(kind).or_default().push(took);
        if round < WARMUP + options.raw_repeat {
            let began = Instant::now();
            let expected = raw::volume(pool, first, last, &raw_filter).await?;
            timings.raw.push(began.elapsed());
            let mut got = raw::Volume::new();
            for row in &report.rows {
                let counts = [row.created_count, row.solved_count, row.closed_count];
                if counts != [0; 3] {
                    let key = row.key.as_ref().and_then(|k| k.start_date.as_ref());
                    got.insert(naive(key)?, counts);
                }
            }
            anyhow::ensure!(
                report.rows.len() == 31 && got == expected,
                "the volume report of {first}..{last} filtered by {kind} disagrees with the \
                 facts: {got:?} against {expected:?}"
            );
        }
    }
    Ok((timings, filters))
}

async fn backlogs(
    client: &mut Client,
    pool: &sqlx::PgPool,
    options: &Options,
    rng: &mut Rng,
    zone: &str,
) -> anyhow::Result<(Timings, i64)> {
    let mut timings = Timings::default();
    let mut open_now = 0;
    for round in 0..WARMUP + options.repeat {
        let (first, last) = random_month(rng);
        let request = GetTicketBacklogReportRequest {
            period: period(first, last),
            granularity: ReportGranularity::Day as i32,
            filter: None,
            dimension: TicketReportDimension::Group as i32,
        };
        let began = Instant::now();
        let report = client
            .get_ticket_backlog_report(request)
            .await?
            .into_inner();
        let took = began.elapsed();
        if round < WARMUP {
            continue;
        }
        timings.model.push(took);
        if round < WARMUP + options.raw_repeat {
            let began = Instant::now();
            let (expected, expected_now) = raw::backlog(pool, first, last, zone).await?;
            timings.raw.push(began.elapsed());
            let counts = |row: &switchboard_proto::reporting::v1::TicketBacklogRow| {
                [
                    row.unassigned_count,
                    row.in_progress_count,
                    row.on_hold_count,
                ]
            };
            let mut got = raw::Backlog::new();
            for row in &report.rows {
                let key = row.key.clone().unwrap_or_default();
                got.insert((naive(key.start_date.as_ref())?, key.value), counts(row));
            }
            let now: BTreeMap<String, [i64; 3]> = report
                .current
                .iter()
                .map(|row| (row.key.clone().unwrap_or_default().value, counts(row)))
                .collect();
            open_now = now.values().flatten().sum();
            anyhow::ensure!(
                got == expected,
                "the backlog report of {first}..{last} disagrees with the states: {} rows \
                 against {}",
                got.len(),
                expected.len()
            );
            anyhow::ensure!(
                now == expected_now,
                "the backlog now disagrees with the facts: {now:?} against {expected_now:?}"
            );
        }
    }
    Ok((timings, open_now))
}

fn seconds(duration: Option<&prost_types::Duration>) -> Option<f64> {
    duration.map(|d| d.seconds as f64 + d.nanos as f64 / 1e9)
}

/// Whether a report's statistics equal the raw ones (to the millisecond).
fn same(got: Option<&TicketTimeStatistics>, want: Option<&raw::Statistics>) -> bool {
    let got = got.cloned().unwrap_or_default();
    let (count, median, p90, mean) = want.cloned().unwrap_or((0, None, None, None));
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-3,
        (None, None) => true,
        _ => false,
    };
    got.count == count
        && (count == 0
            || (close(seconds(got.median.as_ref()), median)
                && close(seconds(got.p90.as_ref()), p90)
                && close(seconds(got.mean.as_ref()), mean)))
}

async fn times(
    client: &mut Client,
    pool: &sqlx::PgPool,
    options: &Options,
    rng: &mut Rng,
    zone: &str,
) -> anyhow::Result<(Timings, usize)> {
    let mut timings = Timings::default();
    let mut rows = 0;
    for round in 0..WARMUP + options.repeat {
        let (first, last) = random_month(rng);
        let request = GetTicketTimesReportRequest {
            period: period(first, last),
            granularity: ReportGranularity::Day as i32,
            filter: None,
            dimension: TicketReportDimension::Group as i32,
            business_hours_id: String::new(),
        };
        let began = Instant::now();
        let report = client.get_ticket_times_report(request).await?.into_inner();
        let took = began.elapsed();
        if round < WARMUP {
            continue;
        }
        timings.model.push(took);
        rows = report.rows.len();
        if round < WARMUP + options.raw_repeat {
            let began = Instant::now();
            let expected = raw::times(pool, first, last, zone).await?;
            timings.raw.push(began.elapsed());
            let mut cells: Vec<Option<(NaiveDate, String)>> = vec![None];
            for row in &report.rows {
                let key = row.key.clone().unwrap_or_default();
                cells.push(Some((naive(key.start_date.as_ref())?, key.value)));
            }
            for measure in &expected {
                for key in measure.keys() {
                    anyhow::ensure!(
                        cells.contains(key),
                        "the times report of {first}..{last} has no row {key:?}"
                    );
                }
            }
            let total = report.total.clone().unwrap_or_default();
            let rows_and_total = report
                .rows
                .iter()
                .zip(cells.iter().skip(1))
                .chain(std::iter::once((&total, &cells[0])));
            for (row, key) in rows_and_total {
                let got = [
                    &row.first_reply,
                    &row.first_resolution,
                    &row.final_resolution,
                ];
                for (measure, want) in expected.iter().enumerate() {
                    anyhow::ensure!(
                        same(got[measure].as_ref(), want.get(key)),
                        "the times report of {first}..{last} disagrees with the facts at \
                         {key:?}, measure {measure}: {:?} against {:?}",
                        got[measure],
                        want.get(key)
                    );
                }
            }
        }
    }
    Ok((timings, rows))
}

/// Drops the scratch schema `pool` uses.
async fn drop_schema(config: &Config, pool: sqlx::PgPool, schema: &str) -> anyhow::Result<()> {
    pool.close().await;
    let admin = db::connect(&config.database, "public").await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await?;
    Ok(())
}

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(config: &Config, options: Options) -> anyhow::Result<()> {
    anyhow::ensure!(
        options.tickets > 0 && options.repeat > 0 && options.fold_events > 0,
        "--tickets, --repeat and --fold-events must be positive"
    );
    let schema = options.schema.as_str();
    db::check_schema_name(schema)?;
    anyhow::ensure!(
        schema != Application::SPEC.schema,
        "--schema {schema} is the reporting service's own; the benchmark needs a scratch schema"
    );
    let fold_schema = format!("{schema}_fold");
    db::check_schema_name(&fold_schema)?;
    let zone = config.time_zone.clone();
    let mut rng = Rng::new(options.seed);
    let filled = fill::fill(config, schema, options.tickets).await?;
    let pool = filled.pool.clone();
    println!(
        "model: tickets={} states={} groups={} agents={} inquiry_types={} mail_accounts={} \
         volume_rows={} backlog_rows={} fill_s={:.1} recount_s={:.1} zone={zone}",
        options.tickets,
        filled.states,
        fill::GROUPS,
        fill::AGENTS,
        fill::INQUIRY_TYPES,
        fill::MAIL_ACCOUNTS,
        filled.volume_rows,
        filled.backlog_rows,
        filled.fill_s,
        filled.recount_s,
    );

    let reader = Reader::start(config, schema).await?;
    let mut client = reader.client.clone();
    let measured = async {
        check_year(&mut client, &pool).await?;
        let volume = volumes(&mut client, &pool, &options, &mut rng).await?;
        let backlog = backlogs(&mut client, &pool, &options, &mut rng, &zone).await?;
        let times = times(&mut client, &pool, &options, &mut rng, &zone).await?;
        anyhow::Ok((volume, backlog, times))
    }
    .await;
    reader.stop().await;
    let measured = match measured {
        Ok(measured) => measured,
        Err(error) => {
            if options.drop {
                drop_schema(config, pool, schema).await?;
            }
            return Err(error);
        }
    };
    let ((mut volume, mut filters), (mut backlog, open_now), (mut times, times_rows)) = measured;
    let filters: Vec<String> = filters
        .iter_mut()
        .map(|(kind, times)| {
            let calls = times.len();
            let (p50, p95, _) = quantiles(times);
            format!("{kind}:{calls}:{p50:.1}/{p95:.1}")
        })
        .collect();
    let (_, volume_p95) = volume.print(
        "volume_daily_31d",
        &format!("filter:calls:p50/p95_ms={}", filters.join(",")),
    );
    let (_, backlog_p95) = backlog.print(
        "backlog_daily_31d_by_group",
        &format!("open_now={open_now}"),
    );
    let (_, times_p95) = times.print("times_daily_31d_by_group", &format!("rows={times_rows}"));

    let folded = fold::run(config, &fold_schema, options.fold_events, &mut rng).await;
    if options.drop {
        drop_schema(config, pool, schema).await?;
    }
    let folded = folded?;
    println!(
        "fold: events={} tickets={} publish_s={:.1} from_start_s={:.2} first_to_last_s={:.2} \
         events_per_s={:.1} goal_events_per_s=5000",
        folded.events,
        folded.tickets,
        folded.publish_s,
        folded.total_s,
        folded.fold_s,
        folded.events_per_s
    );
    println!(
        "volume_p95_ms={volume_p95:.2} backlog_p95_ms={backlog_p95:.2} \
         times_p95_ms={times_p95:.2} fold_events_per_s={:.1}",
        folded.events_per_s
    );
    Ok(())
}
