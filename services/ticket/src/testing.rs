//! Test helpers (feature `testing`): the ticket service started as production starts it, for
//! its own tests and for the tests of services that consume its events.

use std::net::SocketAddr;

use switchboard_platform::{
    config::AmqpConfig,
    testing::{self, Started},
};
use tokio::net::TcpListener;

use crate::{Application, TicketSettings};

/// The ticket service on `listener`, in a fresh schema, publishing into `amqp`, reaching the
/// directory and presence through the gateway at `gateway`; `tune` adjusts its settings.
pub async fn start(
    listener: TcpListener,
    gateway: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut TicketSettings),
) -> Started {
    let mut settings = TicketSettings::default();
    tune(&mut settings);
    let peers = vec![testing::peer(
        "gateway",
        &["switchboard.gateway.v1"],
        gateway,
    )];
    let (context, pool) = testing::context::<Application>("tk", amqp, peers, settings).await;
    Started::build::<Application>(listener, context, pool).await
}

/// Another replica of the ticket service on `listener`, over the schema `schema` of a running
/// one (for schedulers that replicas share).
pub async fn replica(
    listener: TcpListener,
    schema: &str,
    pool: sqlx::PgPool,
    gateway: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut TicketSettings),
) -> Started {
    let mut settings = TicketSettings::default();
    tune(&mut settings);
    let peers = vec![testing::peer(
        "gateway",
        &["switchboard.gateway.v1"],
        gateway,
    )];
    let context = switchboard_platform::service::ServiceContext {
        listen: listener.local_addr().expect("a bound listener"),
        platform: testing::platform_config(amqp),
        schema: schema.to_owned(),
        peers,
        metrics: Default::default(),
        settings,
    };
    Started::build::<Application>(listener, context, pool).await
}
