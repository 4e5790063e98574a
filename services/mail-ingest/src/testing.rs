//! Test helpers (feature `testing`): mail-ingest started as production starts it.

use std::net::SocketAddr;

use switchboard_platform::{
    config::AmqpConfig,
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
    let mut settings = MailIngestSettings::default();
    tune(&mut settings);
    let peers = vec![
        testing::gateway_peer(gateway),
        testing::peer("ticket", &["switchboard.ticket.v1"], ticket),
    ];
    let (context, pool) = testing::context::<Application>("mi", amqp, peers, settings).await;
    Started::build::<Application>(listener, context, pool).await
}
