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
use switchboard_proto::{
    callback::v1::{
        CreateCallbackRequest, CreateIvrRouteRequest, IvrRoute, RepeatRequestPolicy,
        callback_service_client::CallbackServiceClient,
        ivr_route_service_client::IvrRouteServiceClient,
    },
    gateway::v1::{ApiKey, CreateApiKeyRequest, api_key_service_client::ApiKeyServiceClient},
};
use tonic::{Request, metadata::MetadataValue, transport::Channel};

use super::{LoadResult, connect_url, print_line, run_closed_loop};
use crate::config::{Config, RoleSection};

/// Connections the load is spread over (one HTTP/2 connection each).
const CHANNELS: usize = 4;

fn authorized<T>(message: T, bearer: &MetadataValue<tonic::metadata::Ascii>) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}

/// A distinct valid Korean mobile number for every push of the run.
fn phone_number(worker: usize, sequence: u64) -> String {
    let n = 20_000_000 + (worker as u64 * 1_000_000 + sequence) % 80_000_000;
    format!("010-{:04}-{:04}", n / 10_000, n % 10_000)
}

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
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let (token, _) = switchboard_gateway::issue_local_token(
        &config
            .section::<RoleSection<GatewaySettings>>("gateway")?
            .settings,
        admin,
        Some(Duration::from_secs(3_600)),
    )?;
    let admin_bearer: MetadataValue<_> = format!("Bearer {token}").parse()?;
    let channel = connect_url(gateway).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the gateway at {gateway} ({e}); start the mesh with scripts/dev"
        )
    })?;
    let secret = ApiKeyServiceClient::new(channel.clone())
        .create_api_key(authorized(
            CreateApiKeyRequest {
                api_key: Some(ApiKey {
                    display_name: format!("bench-ivr-{run}"),
                    scopes: vec!["callbacks:create".into()],
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin_bearer,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's API key as {admin:?}: {s}"))?
        .into_inner()
        .secret;
    let route_code = format!("bench-{run}");
    IvrRouteServiceClient::new(channel.clone())
        .create_ivr_route(authorized(
            CreateIvrRouteRequest {
                ivr_route: Some(IvrRoute {
                    code: route_code.clone(),
                    display_name: format!("벤치마크 {run}"),
                    repeat_request_policy: RepeatRequestPolicy::Attach as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin_bearer,
        ))
        .await
        .map_err(|s| anyhow::anyhow!("creating the benchmark's IVR route: {s}"))?;

    println!(
        "callback intake: CreateCallback through {gateway}, closed loop, concurrency {concurrency}, {} s each (after 1 s warm-up)",
        duration.as_secs()
    );
    let raw = raw_inserts(config, &run, concurrency, duration).await?;
    print_line("raw insert", &raw);

    let mut channels: Vec<Channel> = vec![channel];
    for _ in 1..CHANNELS {
        channels.push(connect_url(gateway).await?);
    }
    let clients: Arc<Vec<CallbackServiceClient<Channel>>> = Arc::new(
        channels
            .into_iter()
            .map(CallbackServiceClient::new)
            .collect(),
    );
    let bearer: Arc<MetadataValue<_>> = Arc::new(format!("Bearer {secret}").parse()?);
    let (route_code, run_id) = (Arc::new(route_code), Arc::new(run.clone()));
    let limited = Arc::new(AtomicU64::new(0));
    let counted = limited.clone();
    let pushes = run_closed_loop(
        concurrency,
        Duration::from_secs(1),
        duration,
        move |worker, seq| {
            let mut client = clients[worker % clients.len()].clone();
            let limited = counted.clone();
            let request = authorized(
                CreateCallbackRequest {
                    ivr_call_id: format!("{run_id}-{worker}-{seq}"),
                    phone_number: phone_number(worker, seq),
                    ivr_route_code: route_code.to_string(),
                    memo: "벤치마크".into(),
                    ..Default::default()
                },
                &bearer,
            );
            async move {
                match client.create_callback(request).await {
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
    let limited = limited.load(Ordering::Relaxed);
    if limited > 0 {
        println!(
            "note: {limited} pushes were refused by the gateway's rate limit; run the mesh with SWITCHBOARD_GATEWAY__LIMITS__RATE_PER_S and __BURST above the rate measured"
        );
    }

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
