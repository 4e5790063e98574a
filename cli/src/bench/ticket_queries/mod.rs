//! `switchboard bench ticket-queries`: the ticket list's reads over a generated center of
//! `--tickets` tickets (50 groups, 500 agents, three years, Korean subjects). A ticket service
//! in this process answers `CountTicketViews`, `ListTickets` (pages 1 and 200) and
//! `SearchTickets` from a scratch schema, each asked repeatedly for its p50/p95, beside the
//! naive SQL of the same answer (`COUNT(*)` per view, `OFFSET`, `ILIKE`) timed in the same run.

mod fill;

use std::{
    future::Future,
    time::{Duration, Instant},
};

use sqlx::PgPool;
use switchboard_platform::{
    Shutdown,
    grpc::MeshInterceptor,
    service::{Peer, Service},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    ticket::v1::{
        CountTicketViewsRequest, ListTicketsRequest, SearchTicketsRequest, TicketView,
        ticket_service_client::TicketServiceClient,
    },
};
use switchboard_ticket::{Application, TicketSettings};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

use self::fill::{COMMON_WORD, GROUP_WORD, RARE_WORD, REQUESTER, agent_login, group_id};
use super::{connect, in_process, reporting::quantiles, signed};
use crate::config::{Config, RoleSection};

type Client = TicketServiceClient<InterceptedService<Channel, MeshInterceptor>>;

/// Calls before the measured ones, not counted (naive queries: one).
const WARMUP: usize = 3;
const NAIVE_WARMUP: usize = 1;
const PAGE_SIZE: i32 = 50;
const PAGE: usize = 200;

/// The options of one run.
pub struct Options {
    pub tickets: i64,
    pub repeat: usize,
    pub naive_repeat: usize,
    pub schema: Option<String>,
    pub keep: bool,
}

/// The measured agent: agent 7, in groups 7 and 8.
const AGENT: i64 = 7;

fn agent() -> Principal {
    Principal {
        subject: agent_login(AGENT),
        kind: PrincipalKind::Agent as i32,
        group_ids: vec![group_id(AGENT % 50), group_id((AGENT + 1) % 50)],
        display_name: format!("상담원 {AGENT}"),
        ..Default::default()
    }
}

/// The times of the successful calls of one measurement and the failures.
struct Timed {
    times: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Timed {
    /// p50 and p95 in milliseconds (NaN without a successful call).
    fn p50_p95(&self) -> (f64, f64) {
        if self.times.is_empty() {
            return (f64::NAN, f64::NAN);
        }
        let mut times = self.times.clone();
        let (p50, p95, _) = quantiles(&mut times);
        (p50, p95)
    }
}

/// `call` made `warmup` + `repeat` times, one after another; the last `repeat` are timed.
async fn time<F, Fut, T, E>(warmup: usize, repeat: usize, mut call: F) -> Timed
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let mut timed = Timed {
        times: Vec::with_capacity(repeat),
        errors: 0,
        first_error: None,
    };
    for round in 0..warmup + repeat {
        let began = Instant::now();
        let result = call().await;
        if round < warmup {
            continue;
        }
        match result {
            Ok(_) => timed.times.push(began.elapsed()),
            Err(error) => {
                timed.errors += 1;
                timed.first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    timed
}

/// Prints one measurement beside its naive query; its p95.
#[allow(clippy::print_stdout)] // the figures are the command's output
fn report(name: &str, ours: &Timed, naive: &Timed, goal_ms: f64) -> f64 {
    let (p50, p95) = ours.p50_p95();
    let (naive_p50, naive_p95) = naive.p50_p95();
    println!(
        "{name:<24} calls={} errors={} p50_ms={p50:.2} p95_ms={p95:.2} goal_p95_ms={goal_ms} \
         naive_calls={} naive_p50_ms={naive_p50:.2} naive_p95_ms={naive_p95:.2} ratio={:.3}",
        ours.times.len() as u64 + ours.errors,
        ours.errors,
        naive.times.len(),
        p50 / naive_p50,
    );
    for (side, timed) in [("", ours), ("naive ", naive)] {
        if let Some(error) = &timed.first_error {
            println!(
                "note: {name}: {side}calls failed ({} of them): {error}",
                timed.errors
            );
        }
    }
    p95
}

/// The condition of `view` over `tickets`, the caller bound as `$1` (admin), `$2` (group ids),
/// `$3` (login): the views as ticket_query.proto defines them.
fn view_condition(view: TicketView) -> String {
    let visible = "($1 OR group_id = ANY($2) OR group_id IS NULL OR assignee_login = $3)";
    let mine = |status: i32| format!("assignee_login = $3 AND status = {status}");
    match view {
        TicketView::All | TicketView::Unspecified => format!("{visible} AND status <> 6"),
        TicketView::Unassigned => format!("{visible} AND status = 1"),
        TicketView::MyGroups => "group_id = ANY($2) AND status <> 6".into(),
        TicketView::MyInProgress => mine(2),
        TicketView::MyOnHold => mine(3),
        TicketView::MySolved => mine(4),
        TicketView::MyClosed => mine(5),
        TicketView::Spam => format!("{visible} AND status = 6"),
    }
}

/// The views, in enum order (every one but unspecified), as `CountTicketViews` answers them.
fn views() -> impl Iterator<Item = TicketView> {
    (TicketView::All as i32..=TicketView::Spam as i32).filter_map(|v| TicketView::try_from(v).ok())
}

fn caller(principal: &Principal) -> (bool, Vec<uuid::Uuid>, String) {
    (
        principal.kind == PrincipalKind::Admin as i32,
        principal
            .group_ids
            .iter()
            .filter_map(|g| g.parse().ok())
            .collect(),
        principal.subject.clone(),
    )
}

/// The naive counts: `SELECT count(*)` per view, one statement each.
async fn naive_counts(pool: &PgPool, principal: &Principal) -> Result<Vec<i64>, sqlx::Error> {
    let (admin, groups, login) = caller(principal);
    let mut counts = Vec::new();
    for view in views() {
        let sql = format!(
            "SELECT count(*) FROM tickets WHERE {}",
            view_condition(view)
        );
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(admin)
            .bind(&groups)
            .bind(&login)
            .fetch_one(pool)
            .await?;
        counts.push(n);
    }
    Ok(counts)
}

/// The naive page: `OFFSET`, with the view's `count(*)` the list also answers; the numbers of
/// the page.
async fn naive_page(
    pool: &PgPool,
    principal: &Principal,
    page: usize,
) -> Result<Vec<i64>, sqlx::Error> {
    let (admin, groups, login) = caller(principal);
    let condition = view_condition(TicketView::All);
    let sql = format!(
        "SELECT * FROM tickets WHERE {condition} ORDER BY create_time DESC, number DESC
         LIMIT {PAGE_SIZE} OFFSET {}",
        (page - 1) * PAGE_SIZE as usize
    );
    let rows: Vec<sqlx::postgres::PgRow> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(admin)
        .bind(&groups)
        .bind(&login)
        .fetch_all(pool)
        .await?;
    let count = format!("SELECT count(*) FROM tickets WHERE {condition}");
    sqlx::query(sqlx::AssertSqlSafe(count))
        .bind(admin)
        .bind(&groups)
        .bind(&login)
        .fetch_one(pool)
        .await?;
    use sqlx::Row;
    rows.iter().map(|row| row.try_get("number")).collect()
}

/// One of the four searches: the request and its naive condition over `$1` (the `ILIKE`
/// pattern), `$2` (a group id) and `$3`/`$4` (the period, epoch seconds).
struct Search {
    name: &'static str,
    request: SearchTicketsRequest,
    naive: &'static str,
    pattern: String,
}

fn searches(now: i64) -> Vec<Search> {
    let period_start = now - 90 * 86_400;
    let timestamp = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
    let words = |word: &str| SearchTicketsRequest {
        subject_query: word.into(),
        page_size: PAGE_SIZE,
        ..Default::default()
    };
    vec![
        Search {
            name: "search_rare_word",
            request: words(RARE_WORD),
            naive: "subject ILIKE $1 AND status <> 6",
            pattern: format!("%{RARE_WORD}%"),
        },
        Search {
            name: "search_common_word",
            request: words(COMMON_WORD),
            naive: "subject ILIKE $1 AND status <> 6",
            pattern: format!("%{COMMON_WORD}%"),
        },
        Search {
            name: "search_requester_name",
            request: SearchTicketsRequest {
                requester_name: REQUESTER.into(),
                page_size: PAGE_SIZE,
                ..Default::default()
            },
            naive: "requester_name ILIKE $1 AND status <> 6",
            pattern: format!("%{REQUESTER}%"),
        },
        Search {
            name: "search_word_group_period",
            request: SearchTicketsRequest {
                group_ids: vec![group_id(3)],
                create_start_time: timestamp(period_start),
                create_end_time: timestamp(now),
                ..words(GROUP_WORD)
            },
            naive: "subject ILIKE $1 AND status <> 6 AND group_id = $2::uuid \
                    AND create_time >= to_timestamp($3) AND create_time < to_timestamp($4)",
            pattern: format!("%{GROUP_WORD}%"),
        },
    ]
}

/// The naive search: the page by `ILIKE`, newest first, and its `count(*)`; the count.
async fn naive_search(pool: &PgPool, search: &Search, now: i64) -> Result<i64, sqlx::Error> {
    let bind = |sql: String| {
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(search.pattern.clone());
        if search.naive.contains("$2") {
            query
                .bind(uuid::Uuid::parse_str(&group_id(3)).unwrap_or_default())
                .bind((now - 90 * 86_400) as f64)
                .bind(now as f64)
        } else {
            query
        }
    };
    bind(format!(
        "SELECT * FROM tickets WHERE {} ORDER BY create_time DESC, number DESC LIMIT {PAGE_SIZE}",
        search.naive
    ))
    .fetch_all(pool)
    .await?;
    let row = bind(format!(
        "SELECT count(*) FROM tickets WHERE {}",
        search.naive
    ))
    .fetch_one(pool)
    .await?;
    use sqlx::Row;
    row.try_get(0)
}

/// What the whole run measured, for its last line.
#[derive(Default)]
struct Summary {
    counts_p95: f64,
    page1_p95: f64,
    page200_p95: f64,
    search_p95: f64,
    errors: u64,
}

fn worst(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(config: &Config, options: Options) -> anyhow::Result<()> {
    anyhow::ensure!(
        options.tickets >= 200_000 && options.repeat > 0 && options.naive_repeat > 0,
        "--tickets must be at least 200,000 (page 200 of the agent's view), --repeat and \
         --naive-repeat positive"
    );
    let schema = options
        .schema
        .clone()
        .unwrap_or_else(|| format!("bench_tq_{}", super::ivr::run_id()));
    switchboard_platform::db::check_schema_name(&schema)?;
    // Never a service's or a shared schema.
    anyhow::ensure!(
        schema.starts_with("bench_tq_"),
        "--schema must start with bench_tq_ (a scratch schema of this benchmark)"
    );
    let measured = measure(config, &schema, &options).await;
    if options.keep {
        println!("note: schema {schema} kept; run again with --schema {schema} --keep");
    } else {
        let pool = switchboard_platform::db::connect(&config.database, &schema).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(&pool)
        .await?;
        pool.close().await;
    }
    let summary = measured?;
    let figure = |ms: f64| {
        if ms.is_nan() {
            "n/a".to_owned()
        } else {
            format!("{ms:.2}")
        }
    };
    println!(
        "counts_p95_ms={} page1_p95_ms={} page200_p95_ms={} search_worst_p95_ms={} errors={}",
        figure(summary.counts_p95),
        figure(summary.page1_p95),
        figure(summary.page200_p95),
        figure(summary.search_p95),
        summary.errors
    );
    Ok(())
}

#[allow(clippy::print_stdout)] // the figures are the command's output
async fn measure(config: &Config, schema: &str, options: &Options) -> anyhow::Result<Summary> {
    let filled = fill::fill(config, schema, options.tickets).await?;
    let pool = filled.pool;
    if !filled.search_columns {
        println!(
            "note: the tickets table has no search columns (migration 0005 not on this build); \
             SearchTickets is measured as the build answers it"
        );
    }

    let section: RoleSection<TicketSettings> = config.section("ticket")?;
    let settings = TicketSettings {
        consume_delivery_reports: false,
        // The generated solved tickets are due in 14 days; no round during the run.
        auto_close_interval_ms: 24 * 3600 * 1000,
        ..section.settings
    };
    // The measured calls never ask the directory.
    let gateway = Peer {
        name: "gateway".into(),
        packages: Vec::new(),
        url: "http://127.0.0.1:9".into(),
    };
    let service = Application::bind(in_process(config, schema, vec![gateway], settings)).await?;
    let addr = service.local_addr();
    let (stop, shutdown) = Shutdown::new();
    let task = tokio::spawn(service.run_until_stopped(shutdown));
    let channel = connect(addr).await?;
    let principal_config = &config.config.principal;
    let admin_principal = Principal {
        subject: "bench-admin".into(),
        kind: PrincipalKind::Admin as i32,
        ..Default::default()
    };
    let agent_principal = agent();
    let clients = [
        (
            "admin",
            admin_principal.clone(),
            TicketServiceClient::with_interceptor(
                channel.clone(),
                signed(principal_config, admin_principal)?,
            ),
        ),
        (
            "agent",
            agent_principal.clone(),
            TicketServiceClient::with_interceptor(
                channel,
                signed(principal_config, agent_principal)?,
            ),
        ),
    ];
    let result = measure_calls(&pool, &clients, options).await;
    stop.trigger();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    pool.close().await;
    result
}

#[allow(clippy::print_stdout)] // the figures are the command's output
async fn measure_calls(
    pool: &PgPool,
    clients: &[(&str, Principal, Client); 2],
    options: &Options,
) -> anyhow::Result<Summary> {
    let (repeat, naive_repeat) = (options.repeat, options.naive_repeat);
    let mut summary = Summary::default();
    println!(
        "ticket queries: {} tickets, {repeat} calls each (after {WARMUP}), naive SQL \
         {naive_repeat} times each (after {NAIVE_WARMUP}); ratio = p50 / naive p50",
        options.tickets
    );

    for (who, principal, client) in clients {
        // The counts must be the views' before their speed means anything (a failed call is
        // reported by the measured calls below).
        let answered = client
            .clone()
            .count_ticket_views(CountTicketViewsRequest {})
            .await;
        let expected = naive_counts(pool, principal).await?;
        if let Ok(response) = answered {
            let counts: Vec<i64> = response
                .into_inner()
                .counts
                .iter()
                .map(|c| c.count)
                .collect();
            if counts != expected {
                summary.errors += 1;
                println!(
                    "note: counts_{who} disagree with COUNT(*): {counts:?} against {expected:?}"
                );
            } else {
                println!("counts_{who}: {counts:?} (views in enum order)");
            }
        }
        let ours = time(WARMUP, repeat, || {
            let mut client = client.clone();
            async move { client.count_ticket_views(CountTicketViewsRequest {}).await }
        })
        .await;
        let naive = time(NAIVE_WARMUP, naive_repeat, || naive_counts(pool, principal)).await;
        let p95 = report(&format!("counts_{who}"), &ours, &naive, 100.0);
        summary.counts_p95 = worst(summary.counts_p95, p95);
        summary.errors += ours.errors;
    }

    for (who, principal, client) in clients {
        let first = ListTicketsRequest {
            view: TicketView::All as i32,
            page_size: PAGE_SIZE,
            ..Default::default()
        };
        // The token of page 200: 199 pages followed once.
        let mut token = String::new();
        let mut walk = client.clone();
        for _ in 1..PAGE {
            let page = walk
                .list_tickets(ListTicketsRequest {
                    page_token: token.clone(),
                    ..first.clone()
                })
                .await?
                .into_inner();
            anyhow::ensure!(
                !page.next_page_token.is_empty(),
                "the {who}'s view has fewer than {PAGE} pages"
            );
            token = page.next_page_token;
        }
        let page200 = ListTicketsRequest {
            page_token: token,
            ..first.clone()
        };
        let numbers: Vec<i64> = walk
            .list_tickets(page200.clone())
            .await?
            .into_inner()
            .tickets
            .iter()
            .map(|t| t.number)
            .collect();
        let expected = naive_page(pool, principal, PAGE).await?;
        if numbers != expected {
            summary.errors += 1;
            println!("note: page {PAGE} of the {who}'s view differs from OFFSET's");
        }
        let mut p95s = Vec::new();
        for (page, request, goal) in [(1, &first, 30.0), (PAGE, &page200, 30.0)] {
            let ours = time(WARMUP, repeat, || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.list_tickets(request).await }
            })
            .await;
            let naive = time(NAIVE_WARMUP, naive_repeat, || {
                naive_page(pool, principal, page)
            })
            .await;
            let p95 = report(&format!("list_{who}_page{page}"), &ours, &naive, goal);
            p95s.push(p95);
            summary.errors += ours.errors;
            if page == 1 {
                summary.page1_p95 = worst(summary.page1_p95, p95);
            } else {
                summary.page200_p95 = worst(summary.page200_p95, p95);
            }
        }
        println!(
            "list_{who}_page{PAGE}_over_page1 p95_ratio={:.2} goal_at_most=2",
            p95s[1] / p95s[0]
        );
    }

    let (now,): (f64,) = sqlx::query_as("SELECT extract(epoch FROM now())::float8")
        .fetch_one(pool)
        .await?;
    let now = now as i64;
    let (_, _, admin) = &clients[0];
    for search in searches(now) {
        let expected = naive_search(pool, &search, now).await?;
        // A failed call is reported by the measured calls below.
        if let Ok(response) = admin.clone().search_tickets(search.request.clone()).await {
            let total = i64::from(response.into_inner().total_size);
            // The service excludes spam by default and counts up to 10,000 (10,001: more).
            if total != expected.min(10_001) {
                summary.errors += 1;
                println!(
                    "note: {} found {total} tickets, ILIKE {expected}",
                    search.name
                );
            }
        }
        let ours = time(WARMUP, repeat, || {
            let (mut client, request) = (admin.clone(), search.request.clone());
            async move { client.search_tickets(request).await }
        })
        .await;
        let naive = time(NAIVE_WARMUP, naive_repeat, || {
            naive_search(pool, &search, now)
        })
        .await;
        let p95 = report(
            &format!("{} matches={expected}", search.name),
            &ours,
            &naive,
            50.0,
        );
        summary.search_p95 = worst(summary.search_p95, p95);
        summary.errors += ours.errors;
    }
    Ok(summary)
}
