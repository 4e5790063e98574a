//! Test helpers (feature `testing`): the trigger engine started as production starts it.

use std::net::SocketAddr;

use sqlx::PgPool;
use switchboard_platform::{
    config::AmqpConfig,
    service::{Peer, ServiceContext},
    testing::{self, Started},
};
use tokio::net::TcpListener;

use crate::{Application, TriggerEngineSettings};

/// The engine on `listener`, in a fresh schema, consuming from `amqp`, calling the gateway and
/// the ticket service; `tune` adjusts its settings.
pub async fn start(
    listener: TcpListener,
    gateway: SocketAddr,
    ticket: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut TriggerEngineSettings),
) -> Started {
    let (context, pool) = prepare(gateway, ticket, amqp, tune).await;
    Started::build::<Application>(listener, context, pool).await
}

/// The engine's schema migrated and its queue declared, but not started.
pub async fn prepare(
    gateway: SocketAddr,
    ticket: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut TriggerEngineSettings),
) -> (ServiceContext<TriggerEngineSettings>, PgPool) {
    testing::context::<Application>("te", amqp, peers(gateway, ticket), settings(tune)).await
}

/// Another replica over the schema of a running one (what replicas share: the round-robin
/// cursors, the inbox, the rules).
pub async fn replica(
    listener: TcpListener,
    schema: &str,
    pool: PgPool,
    gateway: SocketAddr,
    ticket: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut TriggerEngineSettings),
) -> Started {
    let peers = peers(gateway, ticket);
    let context = testing::replica_context::<Application>(schema, amqp, peers, settings(tune));
    Started::build::<Application>(listener, context, pool).await
}

fn settings(tune: impl FnOnce(&mut TriggerEngineSettings)) -> TriggerEngineSettings {
    let mut settings = TriggerEngineSettings::default();
    tune(&mut settings);
    settings
}

fn peers(gateway: SocketAddr, ticket: SocketAddr) -> Vec<Peer> {
    vec![
        testing::gateway_peer(gateway),
        testing::peer("ticket", &["switchboard.ticket.v1"], ticket),
    ]
}
