//! Test helpers (feature `testing`): mail-ingest started as production starts it.

use std::net::SocketAddr;

use sqlx::PgPool;

use switchboard_platform::{
    config::AmqpConfig,
    service::{Peer, ServiceContext},
    testing::{self, Started},
};
use tokio::net::TcpListener;

use crate::{Application, MailIngestSettings};

/// mail-ingest on `listener`, in a fresh schema, consuming from and publishing into `amqp`,
/// calling the ticket service at `ticket`; `tune` adjusts its settings.
pub async fn start(
    listener: TcpListener,
    gateway: SocketAddr,
    ticket: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut MailIngestSettings),
) -> Started {
    let (context, pool) = prepare(gateway, ticket, amqp, tune).await;
    Started::build::<Application>(listener, context, pool).await
}

/// mail-ingest's schema migrated and its queues declared, as `switchboard migrate` leaves them,
/// but not started: its context and pool, for [`Started::build`].
pub async fn prepare(
    gateway: SocketAddr,
    ticket: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut MailIngestSettings),
) -> (ServiceContext<MailIngestSettings>, PgPool) {
    let peers = peers(gateway, ticket);
    testing::context::<Application>("mi", amqp, peers, settings(tune)).await
}

/// Another replica of mail-ingest on `listener`, over the schema of a running one (for what
/// replicas share: the IMAP leases).
pub async fn replica(
    listener: TcpListener,
    schema: &str,
    pool: PgPool,
    gateway: SocketAddr,
    ticket: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut MailIngestSettings),
) -> Started {
    let peers = peers(gateway, ticket);
    let context = testing::replica_context::<Application>(schema, amqp, peers, settings(tune));
    Started::build::<Application>(listener, context, pool).await
}

fn settings(tune: impl FnOnce(&mut MailIngestSettings)) -> MailIngestSettings {
    let mut settings = MailIngestSettings::default();
    tune(&mut settings);
    settings
}

fn peers(gateway: SocketAddr, ticket: SocketAddr) -> Vec<Peer> {
    vec![
        testing::gateway_peer(gateway),
        testing::peer("ticket", &["switchboard.ticket.v1"], ticket),
    ]
}
