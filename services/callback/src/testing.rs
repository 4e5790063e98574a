//! Test helpers (feature `testing`): the callback service started as production starts it, for
//! its own tests and for the tests of services that consume its events.

use std::net::SocketAddr;

use switchboard_platform::{
    config::AmqpConfig,
    testing::{self, Started},
};
use tokio::net::TcpListener;

use crate::{Application, CallbackSettings};

/// The callback service on `listener`, in a fresh schema, publishing into `amqp`, reaching the
/// directory and presence through the gateway at `gateway`; `tune` adjusts its settings.
pub async fn start(
    listener: TcpListener,
    gateway: SocketAddr,
    amqp: &AmqpConfig,
    tune: impl FnOnce(&mut CallbackSettings),
) -> Started {
    let mut settings = CallbackSettings::default();
    tune(&mut settings);
    testing::start_behind_gateway::<Application>("cb", listener, gateway, amqp, settings).await
}
