//! `switchboard bench callbacks`: IVR pushes through the gateway of a running mesh, closed loop,
//! against this machine's raw PostgreSQL single-row insert rate at the same concurrency.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use switchboard_gateway::GatewaySettings;
use switchboard_platform::db;

use super::{
    LoadResult,
    ivr::{self, Ivr, phone_number},
    print_line, run_closed_loop,
};
use crate::config::{Config, RoleSection};

/// A row of the raw baseline: its text columns (besides the `id` every row has) and their values
/// for call `sequence` of `worker`.
pub(crate) struct RawRow {
    pub columns: &'static [&'static str],
    pub values: fn(usize, u64) -> Vec<String>,
}

/// How long and how wide a benchmark loads.
#[derive(Clone, Copy)]
pub(crate) struct Load {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// The raw baseline: single-row inserts of `row`, autocommit, into a table of a scratch schema
/// that is dropped afterwards.
async fn raw_inserts(
    config: &Config,
    run: &str,
    row: &RawRow,
    load: Load,
) -> anyhow::Result<LoadResult> {
    let schema = format!("bench_raw_{run}");
    let mut database = config.database.clone();
    database.max_connections = load.concurrency as u32 + 2;
    let pool = db::connect(&database, &schema).await?;
    let columns: String = row
        .columns
        .iter()
        .map(|c| format!(", {c} text NOT NULL"))
        .collect();
    let create = format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.raw (id uuid PRIMARY KEY{columns}, created timestamptz NOT NULL DEFAULT now())"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&pool)
        .await?;
    let placeholders: String = (2..=row.columns.len() + 1)
        .map(|n| format!(", ${n}"))
        .collect();
    let insert = Arc::new(format!(
        "INSERT INTO {schema}.raw (id, {}) VALUES ($1{placeholders})",
        row.columns.join(", ")
    ));
    let values = row.values;
    let result = {
        let pool = pool.clone();
        run_closed_loop(
            load.concurrency,
            load.warmup,
            load.duration,
            move |worker, seq| {
                let (pool, insert) = (pool.clone(), insert.clone());
                async move {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(insert.as_str()))
                        .bind(uuid::Uuid::now_v7());
                    for value in values(worker, seq) {
                        query = query.bind(value);
                    }
                    query.execute(&pool).await.is_ok()
                }
            },
        )
        .await
    };
    let drop = format!("DROP SCHEMA {schema} CASCADE");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(&pool)
        .await?;
    Ok(result)
}

/// Measures `row`'s raw insert rate, then `call` through the gateway, both closed loop with
/// `load`, and prints their figures; the last line is the summary, its first figure `{name}_per_s`.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub(crate) async fn measure<F, Fut, T>(
    config: &Config,
    run: &str,
    name: &str,
    row: &RawRow,
    load: Load,
    call: F,
) -> anyhow::Result<()>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, tonic::Status>> + Send,
{
    let raw = raw_inserts(config, run, row, load).await?;
    print_line("raw insert", &raw);

    let limited = Arc::new(AtomicU64::new(0));
    let counted = limited.clone();
    let calls = run_closed_loop(
        load.concurrency,
        load.warmup,
        load.duration,
        move |worker, seq| {
            let (call, limited) = (call.clone(), counted.clone());
            async move {
                match call(worker, seq).await {
                    Ok(_) => true,
                    Err(status) => {
                        if status.code() == tonic::Code::ResourceExhausted {
                            limited.fetch_add(1, Ordering::Relaxed);
                        }
                        false
                    }
                }
            }
        },
    )
    .await;
    print_line(&format!("{name:<10}"), &calls);
    print_rate_limited(limited.load(Ordering::Relaxed));

    println!(
        "{name}_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={} raw_insert_per_s={:.0} ratio={:.3}",
        calls.per_second(),
        calls.quantile_ms(0.5),
        calls.quantile_ms(0.99),
        calls.errors,
        raw.per_second(),
        calls.per_second() / raw.per_second(),
    );
    Ok(())
}

/// The raw row of a push: its phone number.
const PUSH_ROW: RawRow = RawRow {
    columns: &["phone"],
    values: |worker, seq| vec![phone_number(worker, seq)],
};

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(
    config: &Config,
    gateway: &str,
    admin: &str,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<()> {
    ivr::vacuum_when_autovacuum_is_off(config).await?;
    let run = ivr::run_id();
    let settings = config
        .section::<RoleSection<GatewaySettings>>("gateway")?
        .settings;
    let ivr = Ivr::create(&settings, gateway, admin, &run).await?;

    println!(
        "callback intake: CreateCallback through {gateway}, closed loop, concurrency {concurrency}, {} s each (after 1 s warm-up)",
        duration.as_secs()
    );
    let load = Load {
        concurrency,
        warmup: Duration::from_secs(1),
        duration,
    };
    measure(
        config,
        &run,
        "callbacks",
        &PUSH_ROW,
        load,
        move |worker, seq| {
            let ivr = ivr.clone();
            async move { ivr.push(worker, seq, None).await }
        },
    )
    .await
}

/// Says when the gateway's rate limit, not the mesh, refused calls.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub fn print_rate_limited(limited: u64) {
    if limited > 0 {
        println!(
            "note: {limited} calls were refused by the gateway's rate limit; run the mesh with SWITCHBOARD_GATEWAY__LIMITS__RATE_PER_S and __BURST above the rate measured"
        );
    }
}
