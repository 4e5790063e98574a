//! The reporting service (docs/product.md §6): read models built from the events on the bus — never from
//! other services' data — and the reports answered from them. The callback model gives the
//! processing status (docs/product.md §2.6) and the unfinished callbacks per agent; every consumed event is
//! retained so the models can be rebuilt.

mod api;
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

use crate::{api::ReportingApi, domain::events::BINDINGS, fold::Fold, store::status};
pub use crate::{config::ReportingSettings, lag::ModelLag, rebuild::Rebuilt};

/// The reporting service's tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The queue the callback model consumes (`<service>.<purpose>`).
pub const CALLBACK_QUEUE: &str = "reporting.callbacks";

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

/// The reporting service, bound and ready to run.
pub struct Application {
    server: RunningServer,
    consumer: Option<EventConsumer<Fold>>,
}

impl Service for Application {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "reporting",
        schema: "reporting",
        packages: &["switchboard.reporting.v1"],
        migrator: Some(&MIGRATOR),
        default_port: 50065,
        production_keys: &[],
        queues: &[ConsumedQueue {
            name: CALLBACK_QUEUE,
            bindings: &BINDINGS,
        }],
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
        let consumer = context.settings.consume_events.then(|| {
            let mut config = ConsumerConfig::new(CALLBACK_QUEUE, &BINDINGS);
            config.workers = context.settings.consumer_workers.max(1);
            EventConsumer::new(pool.clone(), platform.amqp.clone(), config, Fold::new(zone))
        });
        // Declared now, so events published from here on wait for the consumer; when RabbitMQ
        // is down the consumer declares it once it connects.
        if let Some(consumer) = &consumer
            && let Err(error) = consumer.declare().await
        {
            tracing::warn!(%error, queue = CALLBACK_QUEUE, "cannot declare the queue yet");
        }
        let server = add_grpc_services!(
            GrpcServer::new(Self::SPEC.name, platform.grpc.clone())
                .verify_principals(PrincipalKey::from_config(&platform.principal)?),
            ReportingServiceServer::new(ReportingApi::new(pool.clone(), zone)),
        )
        .serve_on(listener)
        .await?;
        context.metrics.register(Arc::new(ModelLag::new(pool)));
        Ok(Self { server, consumer })
    }

    fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    fn tasks(self) -> Tasks {
        let tasks = Tasks::new().add("grpc server", |shutdown| {
            self.server.run_until_stopped(shutdown)
        });
        match self.consumer {
            Some(consumer) => tasks.add(CALLBACK_QUEUE, |shutdown| consumer.run(shutdown)),
            None => tasks,
        }
    }
}

impl Application {
    /// What the consumer has done (deliveries, duplicates, failures); `None` for a reader.
    pub fn consumer_stats(&self) -> Option<Arc<ConsumerStats>> {
        self.consumer.as_ref().map(|c| c.stats())
    }
}
