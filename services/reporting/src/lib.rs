//! The reporting service (docs/product.md §6): read models built from the events on the bus — never from
//! other services' data — and the reports answered from them. The callback model gives the
//! processing status (docs/product.md §2.6) and the unfinished callbacks per agent; every consumed event is
//! retained so the models can be rebuilt.

mod api;
mod calendars;
pub mod config;
pub mod domain;
mod fold;
pub mod lag;
mod rebuild;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::{net::SocketAddr, sync::Arc};

use sqlx::{PgPool, migrate::Migrator};
use switchboard_platform::{
    add_grpc_services, calendar,
    config::DatabaseConfig,
    db,
    events::{ConsumerConfig, ConsumerStats, EventConsumer},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
    service::{ConsumedQueue, Service, ServiceContext, ServiceSpec, Tasks},
};
use switchboard_proto::reporting::v1::reporting_service_server::ReportingServiceServer;
use tokio::net::TcpListener;

use crate::{
    api::ReportingApi,
    calendars::Calendars,
    domain::events::{BINDINGS, TICKET_BINDINGS},
    fold::Fold,
    store::status,
};
pub use crate::{config::ReportingSettings, lag::ModelLag, rebuild::Rebuilt};

/// The reporting service's tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The queue the callback model consumes (`<service>.<purpose>`).
pub const CALLBACK_QUEUE: &str = "reporting.callbacks";
/// The queue the ticket model consumes.
pub const TICKET_QUEUE: &str = "reporting.tickets";

/// Builds the models of `schema` again from its retained event log, with local days in
/// `time_zone` (`switchboard reporting rebuild`).
pub async fn rebuild(
    database: &DatabaseConfig,
    schema: &str,
    time_zone: &str,
) -> anyhow::Result<Rebuilt> {
    let pool = db::connect(database, schema).await?;
    rebuild::rebuild(&pool, time_zone).await
}

/// Rewrites the day and unfinished counts of `schema` from its callback facts, for a model loaded directly
/// into the facts table (the benchmark); returns the count rows written.
pub async fn recount(pool: &PgPool) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    sqlx::query("TRUNCATE callback_day_counts, agent_unfinished")
        .execute(&mut *tx)
        .await?;
    let rows = rebuild::recount(&mut tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Rewrites the ticket volume counts and backlog changes of `schema` from its ticket facts and
/// states, for a model loaded directly into those tables (the benchmark); returns the rows
/// written.
pub async fn recount_tickets(pool: &PgPool, time_zone: &str) -> anyhow::Result<usize> {
    let zone = calendar::zone(time_zone)?;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "TRUNCATE ticket_volume_counts, ticket_volume_group_counts, ticket_backlog_changes",
    )
    .execute(&mut *tx)
    .await?;
    let rows = rebuild::recount_tickets(&mut tx, zone).await?;
    tx.commit().await?;
    Ok(rows)
}

/// The reporting service, bound and ready to run.
pub struct Application {
    server: RunningServer,
    /// The callback then the ticket consumer; none for a reader.
    consumers: Vec<EventConsumer<Fold>>,
}

impl Service for Application {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "reporting",
        schema: "reporting",
        packages: &["switchboard.reporting.v1"],
        migrator: Some(&MIGRATOR),
        default_port: 50065,
        production_keys: &[],
        queues: &[
            ConsumedQueue {
                name: CALLBACK_QUEUE,
                bindings: &BINDINGS,
            },
            ConsumedQueue {
                name: TICKET_QUEUE,
                bindings: &TICKET_BINDINGS,
            },
        ],
    };

    type Settings = ReportingSettings;

    /// Connects to PostgreSQL, declares its queue and takes `listener`.
    async fn build(
        listener: TcpListener,
        context: ServiceContext<ReportingSettings>,
    ) -> anyhow::Result<Self> {
        let platform = &context.platform;
        let zone = calendar::zone(&platform.time_zone)?;
        let pool = db::connect(&platform.database, &context.schema).await?;
        status::ensure(&pool, zone.name()).await?;
        let consumer = |queue: &'static str, bindings: &'static [&'static str]| {
            let mut config = ConsumerConfig::new(queue, bindings);
            config.workers = context.settings.consumer_workers.max(1);
            EventConsumer::new(pool.clone(), platform.amqp.clone(), config, Fold::new(zone))
        };
        let consumers = if context.settings.consume_events {
            vec![
                consumer(CALLBACK_QUEUE, &BINDINGS),
                consumer(TICKET_QUEUE, &TICKET_BINDINGS),
            ]
        } else {
            Vec::new()
        };
        // Declared now, so events published from here on wait for the consumers; when RabbitMQ
        // is down each consumer declares its queue once it connects.
        for consumer in &consumers {
            if let Err(error) = consumer.declare().await {
                tracing::warn!(%error, "cannot declare the reporting queues yet");
                break;
            }
        }
        let key = PrincipalKey::from_config(&platform.principal)?;
        // Times in business hours need the trigger engine's calendars; without its address
        // they answer UNAVAILABLE and every other report works.
        let calendars = match context.peer_url("trigger-engine") {
            Ok(url) => Some(Calendars::new(url, key.clone(), zone)?),
            Err(error) => {
                tracing::warn!(%error, "times in business hours are unavailable");
                None
            }
        };
        let server = add_grpc_services!(
            GrpcServer::new(Self::SPEC.name, platform.grpc.clone()).verify_principals(key),
            ReportingServiceServer::new(ReportingApi::new(pool.clone(), zone, calendars)),
        )
        .serve_on(listener)
        .await?;
        context.metrics.register(Arc::new(ModelLag::new(pool)));
        Ok(Self { server, consumers })
    }

    fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    fn tasks(self) -> Tasks {
        let mut tasks = Tasks::new().add("grpc server", |shutdown| {
            self.server.run_until_stopped(shutdown)
        });
        for (queue, consumer) in [CALLBACK_QUEUE, TICKET_QUEUE]
            .into_iter()
            .zip(self.consumers)
        {
            tasks = tasks.add(queue, |shutdown| consumer.run(shutdown));
        }
        tasks
    }
}

impl Application {
    /// What the callback consumer has done (deliveries, duplicates, failures); `None` for a
    /// reader.
    pub fn consumer_stats(&self) -> Option<Arc<ConsumerStats>> {
        self.consumers.first().map(|c| c.stats())
    }

    /// What the ticket consumer has done; `None` for a reader.
    pub fn ticket_consumer_stats(&self) -> Option<Arc<ConsumerStats>> {
        self.consumers.get(1).map(|c| c.stats())
    }
}
