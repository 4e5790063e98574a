//! `switchboard bench export`: the callback export of a large search, in this process (a callback
//! service on a scratch schema filled with `--rows` callbacks), against the time PostgreSQL
//! alone takes to stream the same rows; with the process's peak memory.

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use switchboard_callback::{Application, CallbackSettings};
use switchboard_platform::{
    Shutdown, db,
    service::{Peer, Service},
};
use switchboard_proto::callback::v1::{
    ExportCallbacksRequest, callback_service_client::CallbackServiceClient,
};

use super::{admin_interceptor, connect, in_process};
use crate::config::{Config, RoleSection};

/// The scratch schema's one route.
const ROUTE: &str = "INSERT INTO ivr_routes (id, code, display_name, repeat_request_policy)
  VALUES ('00000000-0000-7000-8000-000000000001', 'bench', '벤치마크 경로', 1)";

/// `$1` callbacks on that route, half of them assigned.
const CALLBACKS: &str =
    "INSERT INTO callbacks (id, phone_number, phone_national, caller_number, ivr_route_id,
    ivr_call_id, request_time, last_request_time, memo, state, assignee_login,
    assignee_group_id, assignee_name, distributor_login, distributor_group_id, distributor_name,
    assign_time)
  SELECT gen_random_uuid(), '+8210' || (20000000 + i), '010' || (20000000 + i), '',
    '00000000-0000-7000-8000-000000000001', 'bench-' || i,
    now() - make_interval(secs => i), now() - make_interval(secs => i),
    '주문 문의 ' || i || ' — 배송 일정 확인 요청',
    CASE WHEN i % 2 = 0 THEN 2 ELSE 1 END,
    CASE WHEN i % 2 = 0 THEN 'agent' || (i % 50) END,
    CASE WHEN i % 2 = 0 THEN 'group-' || (i % 5) END,
    CASE WHEN i % 2 = 0 THEN '상담원 ' || (i % 50) END,
    CASE WHEN i % 2 = 0 THEN 'admin' END,
    CASE WHEN i % 2 = 0 THEN 'group-0' END,
    CASE WHEN i % 2 = 0 THEN '관리자' END,
    CASE WHEN i % 2 = 0 THEN now() END
  FROM generate_series(1, $1) AS i";

/// The process's peak resident memory, from the kernel (`VmHWM`), in MiB.
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(config: &Config, rows: i64) -> anyhow::Result<()> {
    let platform = &config.config;
    let schema = format!(
        "bench_export_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let pool = db::connect(&platform.database, &schema).await?;
    Application::SPEC
        .migrate(&platform.database, &schema)
        .await?;
    let filled = Instant::now();
    sqlx::query(ROUTE).execute(&pool).await?;
    sqlx::query(CALLBACKS).bind(rows).execute(&pool).await?;
    let (count,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {schema}.callbacks"
    )))
    .fetch_one(&pool)
    .await?;
    anyhow::ensure!(
        count == rows,
        "the scratch schema holds {count} callbacks, not {rows}"
    );
    println!(
        "export: {rows} callbacks filled in {:.1} s; memory before the export {:.1} MiB",
        filled.elapsed().as_secs_f64(),
        peak_memory_mib().unwrap_or(f64::NAN)
    );

    let section: RoleSection<CallbackSettings> = config.section("callback")?;
    let settings = CallbackSettings {
        export_max_rows: rows.max(1),
        ..section.settings
    };
    // No directory here: the sheet shows group ids instead of names.
    let gateway = Peer {
        name: "gateway".into(),
        packages: Vec::new(),
        url: "http://127.0.0.1:9".into(),
    };
    let service = Application::bind(in_process(config, &schema, vec![gateway], settings)).await?;
    let addr = service.local_addr();
    let (stop, shutdown) = Shutdown::new();
    let task = tokio::spawn(service.run_until_stopped(shutdown));
    let mut client = CallbackServiceClient::with_interceptor(
        connect(addr).await?,
        admin_interceptor(&platform.principal)?,
    )
    .max_decoding_message_size(4 << 20);

    // The baseline: the same rows streamed from PostgreSQL and dropped.
    let began = Instant::now();
    let mut streamed = 0u64;
    let mut raw = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM {schema}.callbacks ORDER BY request_time DESC, id DESC"
    )))
    .fetch(&pool);
    while raw.try_next().await?.is_some() {
        streamed += 1;
    }
    drop(raw);
    let raw_time = began.elapsed();

    let began = Instant::now();
    let mut stream = client
        .export_callbacks(ExportCallbacksRequest::default())
        .await?
        .into_inner();
    let (mut bytes, mut messages, mut tail) = (0usize, 0usize, Vec::new());
    while let Some(chunk) = stream.message().await? {
        bytes += chunk.data.len();
        messages += 1;
        tail = chunk.data;
    }
    let export_time = began.elapsed();
    // The file ends with the zip's end-of-central-directory record.
    anyhow::ensure!(
        tail.len() >= 22 && tail[tail.len() - 22..tail.len() - 18] == [0x50, 0x4b, 0x05, 0x06],
        "the export did not end with a complete workbook"
    );

    stop.trigger();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&pool)
        .await?;

    let peak = peak_memory_mib().unwrap_or(f64::NAN);
    println!(
        "raw select  rows={streamed} seconds={:.2}",
        raw_time.as_secs_f64()
    );
    println!(
        "export      rows={rows} seconds={:.2} bytes={bytes} messages={messages}",
        export_time.as_secs_f64()
    );
    println!(
        "export_rows={rows} export_s={:.2} raw_select_s={:.2} ratio={:.2} file_mib={:.1} peak_rss_mib={peak:.1}",
        export_time.as_secs_f64(),
        raw_time.as_secs_f64(),
        export_time.as_secs_f64() / raw_time.as_secs_f64(),
        bytes as f64 / (1024.0 * 1024.0),
    );
    Ok(())
}
