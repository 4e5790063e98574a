//! Test helpers (feature `testing`): the reporting service started as production starts it,
//! and its fold with a fresh model for tests that hand it events directly.

use std::sync::Arc;

use switchboard_platform::{
    config::AmqpConfig,
    events::ConsumerStats,
    service::{Service, ServiceContext},
    testing::{self, Started},
};
use tokio::net::TcpListener;

pub use crate::fold::Fold;
use crate::{Application, ReportingSettings, store::status};

/// A context for a reporting replica in a fresh schema, consuming from `amqp`.
pub async fn context(amqp: &AmqpConfig) -> (ServiceContext<ReportingSettings>, sqlx::PgPool) {
    context_with_peers(amqp, Vec::new()).await
}

/// The same, reaching `peers` (the trigger engine, for times in business hours).
pub async fn context_with_peers(
    amqp: &AmqpConfig,
    peers: Vec<switchboard_platform::service::Peer>,
) -> (ServiceContext<ReportingSettings>, sqlx::PgPool) {
    testing::context::<Application>("rp", amqp, peers, ReportingSettings::default()).await
}

/// A reporting replica on `listener` built from `context` (replicas may share one schema), and
/// its callback and ticket consumers' figures.
pub async fn start(
    listener: TcpListener,
    context: ServiceContext<ReportingSettings>,
    pool: sqlx::PgPool,
) -> (
    Started,
    Option<Arc<ConsumerStats>>,
    Option<Arc<ConsumerStats>>,
) {
    let schema = context.schema.clone();
    let service = Application::build(listener, context)
        .await
        .unwrap_or_else(|e| panic!("the reporting service starts: {e:#}"));
    let stats = service.consumer_stats();
    let ticket_stats = service.ticket_consumer_stats();
    (Started::run(service, pool, schema), stats, ticket_stats)
}

/// A fresh schema holding the reporting tables, its models registered in `time_zone`, for
/// tests that hand events to [`Fold`] directly; drop it with `testing::drop_schema`.
pub async fn model_schema(time_zone: &str) -> (sqlx::PgPool, String) {
    let (pool, schema) = testing::fresh_schema("rp").await;
    Application::SPEC
        .migrate(&testing::database_config(), &schema)
        .await
        .unwrap_or_else(|e| panic!("the reporting migrations apply: {e:#}"));
    status::ensure(&pool, time_zone)
        .await
        .expect("the models are registered");
    (pool, schema)
}
