//! Helpers for integration tests against the real servers: a fresh schema per test, isolated
//! RabbitMQ exchanges, cutting connections from the broker side, and the probe service.
//! A test that cannot reach a server fails with a message saying how to start it.

use std::{net::SocketAddr, process::Command, time::Duration};

use secrecy::SecretString;
use sqlx::PgPool;

use tonic::transport::Channel;

use crate::{
    Shutdown, ShutdownTrigger,
    config::{
        AmqpConfig, DEV_AMQP_URL, DEV_DATABASE_URL, DatabaseConfig, GrpcConfig, PrincipalConfig,
    },
    grpc::GrpcServer,
    principal::PrincipalKey,
};

#[path = "testing/probe.rs"]
mod probe;
#[path = "testing/publish.rs"]
mod publish;
#[path = "testing/service.rs"]
mod service;

pub use probe::{Probe, probe_server};
pub use publish::publish;
pub use service::{
    Started, context, free_listener, gateway_peer, peer, platform_config, replica_context,
    start_behind_gateway,
};

const START_POSTGRES: &str =
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";
const START_RABBITMQ: &str = "start it with: rabbitmq-server -detached";

/// A short random id for names that must not clash between tests running at once.
pub fn unique_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// The database the tests use: `SWITCHBOARD_DATABASE__URL`, or the local development server.
/// Each service of a test keeps at most [`TEST_POOL_CONNECTIONS`] connections.
pub fn database_config() -> DatabaseConfig {
    DatabaseConfig {
        url: SecretString::from(
            std::env::var("SWITCHBOARD_DATABASE__URL").unwrap_or_else(|_| DEV_DATABASE_URL.into()),
        ),
        max_connections: TEST_POOL_CONNECTIONS,
        ..DatabaseConfig::default()
    }
}

/// The connections one service of a test may hold. Tests run two at a time, each a mesh of up
/// to five services with replicas, against a server that takes 100 connections (PostgreSQL's
/// default): a mesh at the production default of 16 per service could take them all.
pub const TEST_POOL_CONNECTIONS: u32 = 8;

/// With `TEST_LOG` set, the logs of the test process are written through the test harness
/// (shown for failing tests); `RUST_LOG` filters them (default `info`). Called by every harness.
pub fn init_test_log() {
    static INIT: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("TEST_LOG").is_none() {
        return;
    }
    INIT.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// A fresh schema named `t_<prefix>_<id>` with the platform's tables, and a pool that uses it.
pub async fn fresh_schema(prefix: &str) -> (PgPool, String) {
    init_test_log();
    let schema = format!("t_{prefix}_{}", unique_id());
    let pool = crate::db::connect(&database_config(), &schema)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is needed for this test: {e}; {START_POSTGRES}"));
    crate::db::migrate(&pool, &schema, None)
        .await
        .expect("platform migrations apply to a fresh schema");
    (pool, schema)
}

/// Drops a schema made by [`fresh_schema`] once its test is done with it.
pub async fn drop_schema(pool: &PgPool, schema: &str) {
    crate::db::check_schema_name(schema).expect("a schema made by fresh_schema");
    let sql = format!("DROP SCHEMA {schema} CASCADE");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .expect("the test schema can be dropped");
    pool.close().await;
}

/// The Redis the tests use: `SWITCHBOARD_REDIS__URL`, or the local development server.
pub fn redis_config() -> crate::config::RedisConfig {
    crate::config::RedisConfig {
        url: SecretString::from(
            std::env::var("SWITCHBOARD_REDIS__URL")
                .unwrap_or_else(|_| crate::config::DEV_REDIS_URL.into()),
        ),
    }
}

/// RabbitMQ settings in a virtual host of this test's own (`test-<test>`), created now: the
/// test's exchanges and queues cannot meet another test's, and its connections can be cut alone.
pub fn amqp_config(test: &str) -> AmqpConfig {
    let vhost = format!("test-{test}");
    rabbitmqctl(&["add_vhost", &vhost]);
    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", ".*", ".*"]);
    let base = std::env::var("SWITCHBOARD_AMQP__URL").unwrap_or_else(|_| DEV_AMQP_URL.into());
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    AmqpConfig {
        url: SecretString::from(format!("{server}/{vhost}")),
        ..AmqpConfig::default()
    }
}

/// Fails the test with instructions when RabbitMQ is not reachable.
pub async fn require_rabbitmq(config: &AmqpConfig) {
    if let Err(e) = crate::events::amqp::connect(config, "test.probe").await {
        panic!("RabbitMQ is needed for this test: {e}; {START_RABBITMQ}");
    }
}

/// Deletes the test's virtual host with everything in it.
pub fn delete_amqp(test: &str) {
    rabbitmqctl(&["delete_vhost", &format!("test-{test}")]);
}

/// Closes, from the broker's side, every client connection of the test's virtual host (as an
/// operator or a failing node would).
pub fn close_broker_connections(test: &str) {
    rabbitmqctl(&[
        "close_all_connections",
        "-p",
        &format!("test-{test}"),
        "closed by a test",
    ]);
}

fn rabbitmqctl(args: &[&str]) {
    let output = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("rabbitmqctl is needed for this test ({e}); {START_RABBITMQ}"));
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}; {START_RABBITMQ}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Sends SIGTERM to process `pid` (a test's own process, or a binary it started), as
/// Kubernetes does when it stops a pod.
pub fn send_sigterm(pid: u32) {
    let sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIGTERM reaches process {pid}");
}

/// The mesh key the tests sign and verify principals with.
pub fn principal_key() -> PrincipalKey {
    PrincipalKey::from_config(&principal_config()).expect("the test key is long enough")
}

/// Serves `probe` on a free loopback port, verifying principals with [`principal_key`], until
/// the returned trigger fires (or the test ends).
pub async fn serve_probe(probe: Probe, config: GrpcConfig) -> (SocketAddr, ShutdownTrigger) {
    let max = config.max_message_bytes;
    let server = GrpcServer::new("probe", config)
        .verify_principals(principal_key())
        .add_service(probe_server(probe, max))
        .bind("127.0.0.1:0".parse().expect("a socket address"))
        .await
        .expect("a free loopback port");
    let addr = server.local_addr();
    let (stop, shutdown) = Shutdown::new();
    tokio::spawn(server.run_until_stopped(shutdown));
    (addr, stop)
}

/// A channel to a server of this test.
pub async fn connect(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a valid URL")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"))
}

/// A principal configuration with a key of the tests' own.
pub fn principal_config() -> PrincipalConfig {
    PrincipalConfig {
        key: SecretString::from("switchboard-test-principal-key-0123456789"),
        max_lifetime_s: 300,
    }
}

/// Polls `check` every 50 ms until it holds or `timeout` passes; returns whether it held.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
