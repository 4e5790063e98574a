//! The service kit: what the platform knows of a service role ([`ServiceSpec`]), what every
//! service is started with ([`ServiceContext`]), and the one trait a service implements
//! ([`Service`]) so that `migrate`, its configuration section, its address and its place in the
//! binary's role table all follow from one declaration.

mod context;
pub mod role;
mod supervise;

use std::{future::Future, net::SocketAddr};

use serde::de::DeserializeOwned;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

pub use context::{Peer, ServiceContext};
pub use supervise::{Tasks, supervise};

use crate::{
    Shutdown,
    config::{AmqpConfig, DatabaseConfig},
    db,
    events::{ConsumerConfig, amqp},
};

/// A service role of the mesh, as declared once by the crate that implements it.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec {
    /// `switchboard serve <name>`; also its configuration section (with `_` for `-`).
    pub name: &'static str,
    /// The PostgreSQL schema it owns.
    pub schema: &'static str,
    /// The gRPC packages it serves; the gateway routes calls of these packages to it.
    pub packages: &'static [&'static str],
    /// Its own tables (the platform's outbox and inbox come first in every schema).
    pub migrator: Option<&'static Migrator>,
    /// It listens on `127.0.0.1:<default_port>` unless configured otherwise.
    pub default_port: u16,
    /// Configuration keys it cannot run on a development default of (beyond the platform's
    /// database, AMQP and principal keys), e.g. the gateway's token secret.
    pub production_keys: &'static [&'static str],
    /// The queues it consumes. `migrate` declares them (as the role does when it starts), so
    /// that events published before the role first runs wait for it instead of being dropped.
    pub queues: &'static [ConsumedQueue],
}

/// A queue a role consumes and the routing keys bound to it.
#[derive(Debug, Clone, Copy)]
pub struct ConsumedQueue {
    pub name: &'static str,
    pub bindings: &'static [&'static str],
}

impl ServiceSpec {
    /// The role's configuration section: `trigger-engine` → `trigger_engine`
    /// (`SWITCHBOARD_TRIGGER_ENGINE__LISTEN`).
    pub fn config_key(&self) -> String {
        self.name.replace('-', "_")
    }

    /// Where it listens when its section sets no `listen`.
    pub fn default_listen(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.default_port))
    }

    /// Declares the queues it consumes on `amqp`'s broker, with the arguments its consumer
    /// declares them with (a queue declared twice with other arguments is refused).
    pub async fn declare_queues(&self, amqp: &AmqpConfig) -> anyhow::Result<()> {
        if self.queues.is_empty() {
            return Ok(());
        }
        let connection = amqp::connect(amqp, &format!("{}-migrate", self.name)).await?;
        let channel = connection.create_channel().await?;
        for queue in self.queues {
            let config = ConsumerConfig::new(queue.name, queue.bindings);
            amqp::declare_consumer_queue(
                &channel,
                amqp,
                &config.queue,
                &config.bindings,
                config.max_attempts,
            )
            .await?;
        }
        connection.close(200, "declared".into()).await?;
        Ok(())
    }

    /// Creates `schema` if needed and applies the platform's and the service's migrations.
    pub async fn migrate(&self, database: &DatabaseConfig, schema: &str) -> anyhow::Result<()> {
        let pool = db::connect(database, schema).await?;
        let migrated = db::migrate(&pool, schema, self.migrator).await;
        pool.close().await;
        migrated
    }
}

/// A service the binary can run: built from a [`ServiceContext`] on a bound listener, then run
/// as a supervised set of tasks (its gRPC server, relays, consumers, sweepers).
pub trait Service: Sized + Send + 'static {
    const SPEC: ServiceSpec;

    /// The service's own settings: its configuration section beside `listen` and `url`.
    type Settings: DeserializeOwned + Default + Clone + std::fmt::Debug + Send + Sync + 'static;

    /// Connects to what it needs and serves on `listener` once run (tests bind the listener
    /// first, so other parts can be told the address before the service exists).
    fn build(
        listener: TcpListener,
        context: ServiceContext<Self::Settings>,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send;

    fn local_addr(&self) -> SocketAddr;

    /// The server and every background task, to run under one supervision.
    fn tasks(self) -> Tasks;

    /// Binds the context's `listen` address (port 0 picks a free port) and builds.
    fn bind(
        context: ServiceContext<Self::Settings>,
    ) -> impl Future<Output = anyhow::Result<Self>> + Send {
        async move {
            let listener = crate::grpc::listen(Self::SPEC.name, context.listen).await?;
            Self::build(listener, context).await
        }
    }

    /// Runs until `shutdown`; a background task that fails or panics stops the whole service
    /// and is returned as the error.
    fn run_until_stopped(
        self,
        shutdown: Shutdown,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        supervise(self.tasks(), shutdown)
    }
}
