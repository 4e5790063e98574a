//! The reporting service (SPEC §6): read models built from the events on the bus — never from
//! other services' data — and the reports answered from them. The callback model gives the
//! processing status (SPEC §2.6) and the unfinished callbacks per agent; every consumed event is
//! retained so the models can be rebuilt.

mod api;
pub mod domain;
mod fold;
pub mod lag;
mod rebuild;
mod store;

use std::{net::SocketAddr, sync::Arc};

use sqlx::{PgPool, migrate::Migrator};
use switchboard_platform::{
    Shutdown, calendar,
    config::{AmqpConfig, DatabaseConfig, GrpcConfig, PrincipalConfig},
    db,
    events::{ConsumerConfig, ConsumerStats, EventConsumer},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
};
use switchboard_proto::reporting::v1::reporting_service_server::ReportingServiceServer;
use tokio::net::TcpListener;

use crate::{api::ReportingApi, domain::events::BINDINGS, fold::Fold, store::status};
pub use crate::{lag::ModelLag, rebuild::Rebuilt};

/// The reporting service's tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The PostgreSQL schema the reporting service owns.
pub const SCHEMA: &str = "reporting";

/// The queue the callback model consumes (`<service>.<purpose>`).
pub const CALLBACK_QUEUE: &str = "reporting.callbacks";

/// What the reporting service needs to start.
#[derive(Debug, Clone)]
pub struct ReportingConfig {
    pub listen: SocketAddr,
    pub grpc: GrpcConfig,
    pub database: DatabaseConfig,
    pub amqp: AmqpConfig,
    /// The mesh key that verifies the gateway's principals.
    pub principal: PrincipalConfig,
    /// The schema of its tables (`reporting`; tests use a fresh one).
    pub schema: String,
    /// The contact center's time zone (IANA name): the local days and months of reports.
    pub time_zone: String,
    /// Whether this replica consumes events (true) or only answers reports from a model that
    /// other replicas fill (false: read replicas, and the benchmark's generated model).
    pub consume_events: bool,
}

/// Applies the reporting service's migrations.
pub async fn migrate(database: &DatabaseConfig, schema: &str) -> anyhow::Result<()> {
    let pool = db::connect(database, schema).await?;
    db::migrate(&pool, schema, Some(&MIGRATOR)).await
}

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

/// A bound reporting service, not yet serving.
pub struct Application {
    server: RunningServer,
    consumer: Option<EventConsumer<Fold>>,
    lag: ModelLag,
}

impl Application {
    /// Connects to PostgreSQL, declares its queue and binds `config.listen` (port 0 picks a
    /// free port).
    pub async fn build(config: ReportingConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("reporting: cannot listen on {}: {e}", config.listen))?;
        Self::build_on(listener, config).await
    }

    /// As [`Application::build`], on a listener bound beforehand.
    pub async fn build_on(listener: TcpListener, config: ReportingConfig) -> anyhow::Result<Self> {
        let zone = calendar::zone(&config.time_zone)?;
        let pool = db::connect(&config.database, &config.schema).await?;
        status::ensure(&pool, zone.name()).await?;
        let consumer = config.consume_events.then(|| {
            EventConsumer::new(
                pool.clone(),
                config.amqp.clone(),
                ConsumerConfig::new(CALLBACK_QUEUE, &BINDINGS),
                Fold::new(zone),
            )
        });
        // Declared now, so events published from here on wait for the consumer; when RabbitMQ
        // is down the consumer declares it once it connects.
        if let Some(consumer) = &consumer
            && let Err(error) = consumer.declare().await
        {
            tracing::warn!(%error, queue = CALLBACK_QUEUE, "cannot declare the queue yet");
        }
        let max = config.grpc.max_message_bytes;
        let server = GrpcServer::new("reporting", config.grpc.clone())
            .verify_principals(PrincipalKey::from_config(&config.principal)?)
            .add_service(
                ReportingServiceServer::new(ReportingApi::new(pool.clone(), zone))
                    .max_decoding_message_size(max),
            )
            .serve_on(listener)
            .await?;
        Ok(Self {
            server,
            consumer,
            lag: ModelLag::new(pool),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// What the consumer has done (deliveries, duplicates, failures); `None` for a reader.
    pub fn consumer_stats(&self) -> Option<Arc<ConsumerStats>> {
        self.consumer.as_ref().map(|c| c.stats())
    }

    /// The models' lag, for the metrics endpoint.
    pub fn lag(&self) -> ModelLag {
        self.lag.clone()
    }

    /// Serves until `shutdown`, with the consumer folding events beside it.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let consumer = self
            .consumer
            .map(|consumer| tokio::spawn(consumer.run(shutdown.clone())));
        let served = self.server.run_until_stopped(shutdown).await;
        if let Some(consumer) = consumer {
            let _ = consumer.await;
        }
        served
    }
}
