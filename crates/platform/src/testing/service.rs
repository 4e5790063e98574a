//! Services started by tests exactly as production starts them: a fresh schema with the
//! service's migrations, a free port, the tests' principal key, and one `stop()` that shuts the
//! service down, waits for it and drops its schema.

use std::{net::SocketAddr, time::Duration};

use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinHandle};

use super::{database_config, fresh_schema, principal_config, redis_config};
use crate::{
    Shutdown, ShutdownTrigger,
    config::{AmqpConfig, PlatformConfig},
    service::{Peer, Service, ServiceContext},
};

/// The platform configuration of tests: the local servers (or `SWITCHBOARD_*__URL`), the
/// RabbitMQ virtual host `amqp`, and the tests' own principal key.
pub fn platform_config(amqp: &AmqpConfig) -> PlatformConfig {
    PlatformConfig {
        database: database_config(),
        amqp: amqp.clone(),
        redis: redis_config(),
        principal: principal_config(),
        ..PlatformConfig::default()
    }
}

/// A context for `S` in a fresh schema `t_<prefix>_<id>` holding its migrations; also the
/// pool of that schema, for the test's own reads.
pub async fn context<S: Service>(
    prefix: &str,
    amqp: &AmqpConfig,
    peers: Vec<Peer>,
    settings: S::Settings,
) -> (ServiceContext<S::Settings>, PgPool) {
    let (pool, schema) = fresh_schema(prefix).await;
    S::SPEC
        .migrate(&database_config(), &schema)
        .await
        .unwrap_or_else(|e| panic!("the {} migrations apply: {e:#}", S::SPEC.name));
    // As `switchboard migrate` does: events published before the service starts wait for it.
    S::SPEC
        .declare_queues(amqp)
        .await
        .unwrap_or_else(|e| panic!("the {} queues are declared: {e:#}", S::SPEC.name));
    let context = ServiceContext {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        platform: platform_config(amqp),
        schema,
        peers,
        metrics: Default::default(),
        settings,
    };
    (context, pool)
}

/// A context for another replica of `S` over `schema`, which a running one already migrated.
pub fn replica_context<S: Service>(
    schema: &str,
    amqp: &AmqpConfig,
    peers: Vec<Peer>,
    settings: S::Settings,
) -> ServiceContext<S::Settings> {
    ServiceContext {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        platform: platform_config(amqp),
        schema: schema.to_owned(),
        peers,
        metrics: Default::default(),
        settings,
    }
}

/// The gateway at `addr` as a service's peer (its directory and presence).
pub fn gateway_peer(addr: SocketAddr) -> Peer {
    peer("gateway", &["switchboard.gateway.v1"], addr)
}

/// `S` on `listener`, in a fresh schema `t_<prefix>_<id>`, publishing into `amqp` and reaching
/// the gateway at `gateway`: a service started behind the gateway as production starts it.
pub async fn start_behind_gateway<S: Service>(
    prefix: &str,
    listener: TcpListener,
    gateway: SocketAddr,
    amqp: &AmqpConfig,
    settings: S::Settings,
) -> Started {
    let (context, pool) = context::<S>(prefix, amqp, vec![gateway_peer(gateway)], settings).await;
    Started::build::<S>(listener, context, pool).await
}

/// A peer of the test's mesh serving `packages` at `addr`.
pub fn peer(name: &str, packages: &[&str], addr: SocketAddr) -> Peer {
    Peer {
        name: name.to_owned(),
        packages: packages.iter().map(|p| (*p).to_owned()).collect(),
        url: format!("http://{addr}"),
    }
}

/// A loopback listener on a free port, bound before the service that will use it (so the
/// services that need its address can be told it first).
pub async fn free_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port")
}

/// A running service of a test.
pub struct Started {
    pub addr: SocketAddr,
    /// The pool of its schema.
    pub pool: PgPool,
    pub schema: String,
    stop: ShutdownTrigger,
    stopped: JoinHandle<anyhow::Result<()>>,
}

impl Started {
    /// Builds `S` from `context` on `listener` and runs it.
    pub async fn build<S: Service>(
        listener: TcpListener,
        context: ServiceContext<S::Settings>,
        pool: PgPool,
    ) -> Self {
        let schema = context.schema.clone();
        let service = S::build(listener, context)
            .await
            .unwrap_or_else(|e| panic!("the {} service starts: {e:#}", S::SPEC.name));
        Self::run(service, pool, schema)
    }

    /// Runs a service the test built itself (to read something from it first).
    pub fn run<S: Service>(service: S, pool: PgPool, schema: String) -> Self {
        let addr = service.local_addr();
        let (stop, shutdown) = Shutdown::new();
        let stopped = tokio::spawn(service.run_until_stopped(shutdown));
        Self {
            addr,
            pool,
            schema,
            stop,
            stopped,
        }
    }

    /// Shuts the service down, waits for it (10 s at most) and drops its schema; then says how
    /// it ended. The caller cleans up the rest before it fails the test on an `Err`.
    #[must_use = "a failure of the service must fail the test"]
    pub async fn stop(self) -> Result<(), String> {
        let (pool, schema) = (self.pool.clone(), self.schema.clone());
        let stopped = self.stop_keeping_schema().await;
        super::drop_schema(&pool, &schema).await;
        stopped
    }

    /// As [`Started::stop`], for a replica whose schema another one owns.
    #[must_use = "a failure of the service must fail the test"]
    pub async fn stop_keeping_schema(self) -> Result<(), String> {
        self.stop.trigger();
        match tokio::time::timeout(Duration::from_secs(10), self.stopped).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(format!("the service failed: {error:#}")),
            Ok(Err(error)) => Err(format!("the service's task failed: {error}")),
            Err(_) => Err("the service did not stop within 10 s".into()),
        }
    }
}
