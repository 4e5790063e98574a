//! Test helpers (feature `testing`): the ticket service started as production starts it, for
//! its own tests and for the tests of services that consume its events.

use std::net::SocketAddr;

use sqlx::PgPool;
use switchboard_platform::{
    config::AmqpConfig,
    testing::{self, Started},
};
use tokio::net::TcpListener;

use crate::{Application, TicketSettings};

fn settings(tune: impl FnOnce(&mut TicketSettings)) -> TicketSettings {
    let mut settings = TicketSettings::default();
    tune(&mut settings);
    settings
}

/// The ticket service on `listener`, in a fresh schema, publishing into `amqp`, reaching the
/// directory through the gateway at `gateway`; `tune` adjusts its settings.
pub async fn start(
    listener: TcpListener,
    gateway: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut TicketSettings),
) -> Started {
    testing::start_behind_gateway::<Application>("tk", listener, gateway, amqp, settings(tune))
        .await
}

/// Another replica of the ticket service on `listener`, over the schema of a running one (for
/// the schedulers replicas share).
pub async fn replica(
    listener: TcpListener,
    schema: &str,
    pool: PgPool,
    gateway: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut TicketSettings),
) -> Started {
    let peers = vec![testing::gateway_peer(gateway)];
    let context = testing::replica_context::<Application>(schema, amqp, peers, settings(tune));
    Started::build::<Application>(listener, context, pool).await
}

/// The sweep's forgetting of trigger runs past their retention, for the tests that age a run.
pub use crate::automation::runs::{
    RETENTION as TRIGGER_RUN_RETENTION, forget_expired as forget_expired_trigger_runs,
};
