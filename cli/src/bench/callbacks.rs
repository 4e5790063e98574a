//! `switchboard bench callbacks`: IVR pushes through the gateway of a running mesh, closed loop,
//! against this machine's raw PostgreSQL single-row insert rate at the same concurrency.

use std::{
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

/// The raw baseline: single-row inserts, autocommit, into a table of a scratch schema.
async fn raw_inserts(
    config: &Config,
    run: &str,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let schema = format!("bench_raw_{run}");
    let mut database = config.database.clone();
    database.max_connections = concurrency as u32 + 2;
    let pool = db::connect(&database, &schema).await?;
    let create = format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.raw (id uuid PRIMARY KEY, phone text NOT NULL, created timestamptz NOT NULL DEFAULT now())"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(create))
        .execute(&pool)
        .await?;
    let insert = Arc::new(format!(
        "INSERT INTO {schema}.raw (id, phone) VALUES ($1, $2)"
    ));
    let result = {
        let pool = pool.clone();
        run_closed_loop(
            concurrency,
            Duration::from_secs(1),
            duration,
            move |worker, seq| {
                let (pool, insert) = (pool.clone(), insert.clone());
                async move {
                    sqlx::query(sqlx::AssertSqlSafe(insert.as_str()))
                        .bind(uuid::Uuid::now_v7())
                        .bind(phone_number(worker, seq))
                        .execute(&pool)
                        .await
                        .is_ok()
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

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(
    config: &Config,
    gateway: &str,
    admin: &str,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<()> {
    let run = ivr::run_id();
    let settings = config
        .section::<RoleSection<GatewaySettings>>("gateway")?
        .settings;
    let ivr = Ivr::create(&settings, gateway, admin, &run).await?;

    println!(
        "callback intake: CreateCallback through {gateway}, closed loop, concurrency {concurrency}, {} s each (after 1 s warm-up)",
        duration.as_secs()
    );
    let raw = raw_inserts(config, &run, concurrency, duration).await?;
    print_line("raw insert", &raw);

    let limited = Arc::new(AtomicU64::new(0));
    let counted = limited.clone();
    let pushes = run_closed_loop(
        concurrency,
        Duration::from_secs(1),
        duration,
        move |worker, seq| {
            let (ivr, limited) = (ivr.clone(), counted.clone());
            async move {
                match ivr.push(worker, seq, None).await {
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
    print_line("callbacks ", &pushes);
    print_rate_limited(limited.load(Ordering::Relaxed));

    println!(
        "callbacks_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={} raw_insert_per_s={:.0} ratio={:.3}",
        pushes.per_second(),
        pushes.quantile_ms(0.5),
        pushes.quantile_ms(0.99),
        pushes.errors,
        raw.per_second(),
        pushes.per_second() / raw.per_second(),
    );
    Ok(())
}

/// Says when the gateway's rate limit, not the mesh, refused pushes.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub fn print_rate_limited(limited: u64) {
    if limited > 0 {
        println!(
            "note: {limited} pushes were refused by the gateway's rate limit; run the mesh with SWITCHBOARD_GATEWAY__LIMITS__RATE_PER_S and __BURST above the rate measured"
        );
    }
}
