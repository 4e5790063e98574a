//! mail-ingest (docs/product.md §5): customer messages from e-mail (an MTA's submission, or
//! fetched from the accounts' IMAP servers), the help center and external chat channels, each stored raw first,
//! then decoded, classified and handed to the ticket service, which threads it into a ticket.
//! The mail accounts are mirrored from the ticket service's events.

mod accounts;
pub mod config;
pub mod decode;
mod imap;
mod inbound;
mod newest_first;
mod outbound;
pub mod screen;
mod secrets;
#[cfg(feature = "testing")]
pub mod testing;
mod tickets;

use std::net::SocketAddr;

use sqlx::migrate::Migrator;
use switchboard_platform::{
    db,
    events::{ConsumerConfig, EventConsumer, OutboxRelay, RelayConfig},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
    service::{ConsumedQueue, Service, ServiceContext, ServiceSpec, Tasks},
};
use switchboard_proto::inbound::v1::inbound_service_server::InboundServiceServer;
use tokio::net::TcpListener;

pub use config::MailIngestSettings;

use crate::{
    accounts::AccountMirror,
    imap::Fetchers,
    inbound::InboundApi,
    outbound::{OutboundQueue, Sender},
    tickets::Tickets,
};

/// mail-ingest's tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The largest request: a 30 MiB mail (`SubmitRawEmail`), with room for the encoding.
const MAX_REQUEST_BYTES: usize = 31 * 1024 * 1024;

/// mail-ingest, bound and ready to run.
pub struct Application {
    server: RunningServer,
    relay: OutboxRelay,
    accounts: EventConsumer<AccountMirror>,
    outbound: EventConsumer<OutboundQueue>,
    sender: Sender,
    fetchers: Fetchers,
}

impl Service for Application {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "mail-ingest",
        schema: "mail_ingest",
        packages: &["switchboard.inbound.v1"],
        migrator: Some(&MIGRATOR),
        default_port: 50064,
        production_keys: &[],
        queues: &[
            ConsumedQueue {
                name: accounts::QUEUE,
                bindings: &accounts::BINDINGS,
            },
            ConsumedQueue {
                name: outbound::QUEUE,
                bindings: &outbound::BINDINGS,
            },
        ],
    };

    type Settings = MailIngestSettings;

    async fn build(
        listener: TcpListener,
        context: ServiceContext<MailIngestSettings>,
    ) -> anyhow::Result<Self> {
        let platform = &context.platform;
        let pool = db::connect(&platform.database, &context.schema).await?;
        let mesh_key = PrincipalKey::from_config(&platform.principal)?;
        let tickets = Tickets::new(context.peer_url("ticket")?, mesh_key.clone())?;
        let api = InboundApi::new(pool.clone(), tickets.clone(), context.settings.clone());
        let fetchers = Fetchers::new(api.clone())?;
        let server = GrpcServer::new(Self::SPEC.name, platform.grpc.clone())
            .verify_principals(mesh_key)
            .add_service(
                InboundServiceServer::new(api)
                    .max_decoding_message_size(
                        MAX_REQUEST_BYTES.max(platform.grpc.max_message_bytes),
                    )
                    .max_encoding_message_size(platform.grpc.max_message_bytes),
            )
            .serve_on(listener)
            .await?;
        let config = ConsumerConfig::new(accounts::QUEUE, &accounts::BINDINGS);
        let accounts =
            EventConsumer::new(pool.clone(), platform.amqp.clone(), config, AccountMirror);
        if let Err(error) = accounts.declare().await {
            tracing::warn!(%error, queue = accounts::QUEUE, "cannot declare the queue yet");
        }
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let queue = OutboundQueue {
            give_up_after: context.settings.give_up_after(),
            wake: wake.clone(),
        };
        let config = ConsumerConfig::new(outbound::QUEUE, &outbound::BINDINGS);
        let outbound = EventConsumer::new(pool.clone(), platform.amqp.clone(), config, queue);
        if let Err(error) = outbound.declare().await {
            tracing::warn!(%error, queue = outbound::QUEUE, "cannot declare the queue yet");
        }
        let sender = Sender {
            pool: pool.clone(),
            tickets,
            settings: context.settings.clone(),
            wake,
        };
        let relay = OutboxRelay::new(
            pool,
            platform.amqp.clone(),
            RelayConfig::new(&context.schema),
        );
        Ok(Self {
            server,
            relay,
            accounts,
            outbound,
            sender,
            fetchers,
        })
    }

    fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    fn tasks(self) -> Tasks {
        Tasks::new()
            .add("grpc server", |shutdown| {
                self.server.run_until_stopped(shutdown)
            })
            .add("outbox relay", |shutdown| self.relay.run(shutdown))
            .add(accounts::QUEUE, |shutdown| self.accounts.run(shutdown))
            .add(outbound::QUEUE, |shutdown| self.outbound.run(shutdown))
            .add("outbound sender", |shutdown| self.sender.run(shutdown))
            .add("imap fetchers", |shutdown| self.fetchers.run(shutdown))
    }
}
