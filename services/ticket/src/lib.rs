//! The ticket service (티켓 관리, docs/product.md §3): tickets and their life cycle, customer
//! messages threaded into them, replies announced for sending, attachments, templates, inquiry
//! and processing types, receiving mail accounts, trigger runs applied for the trigger engine,
//! and the auto-close scheduler. Split by proto service, each folder holding its handlers and
//! storage, with the pure rules in `domain`.

mod attachments;
mod auto_close;
mod automation;
mod catalog;
pub mod config;
mod counts;
mod delivery;
mod directory;
pub mod domain;
mod ingest;
mod mail_accounts;
mod templates;
#[cfg(feature = "testing")]
pub mod testing;
mod tickets;

use std::net::SocketAddr;

use sqlx::migrate::Migrator;
use switchboard_platform::{
    add_grpc_services, db,
    events::{ConsumerConfig, EventConsumer, OutboxRelay, RelayConfig},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
    service::{ConsumedQueue, Service, ServiceContext, ServiceSpec, Tasks},
};
use switchboard_proto::ticket::v1::{
    ticket_automation_service_server::TicketAutomationServiceServer,
    ticket_ingest_service_server::TicketIngestServiceServer,
    ticket_service_server::TicketServiceServer,
};
use tokio::net::TcpListener;

pub use config::TicketSettings;

use crate::{
    auto_close::AutoClose, automation::AutomationApi, counts::CountFolder,
    delivery::DeliveryReports, directory::Directory, ingest::IngestApi, tickets::TicketApi,
};

/// The ticket service's tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The queue of delivery reports from mail-ingest.
pub const DELIVERY_QUEUE: &str = "ticket.delivery-reports";

/// The largest `IngestTicketMessage` request: 40 MiB of message and attachments, and room for
/// the encoding.
const MAX_INGEST_BYTES: usize = 41 * 1024 * 1024;

/// The ticket service, bound and ready to run.
pub struct Application {
    server: RunningServer,
    relay: OutboxRelay,
    auto_close: AutoClose,
    counts: CountFolder,
    delivery: Option<EventConsumer<DeliveryReports>>,
}

impl Service for Application {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "ticket",
        schema: "ticket",
        packages: &["switchboard.ticket.v1"],
        migrator: Some(&MIGRATOR),
        default_port: 50062,
        production_keys: &[],
        queues: &[ConsumedQueue {
            name: DELIVERY_QUEUE,
            bindings: &delivery::BINDINGS,
        }],
    };

    type Settings = TicketSettings;

    async fn build(
        listener: TcpListener,
        context: ServiceContext<TicketSettings>,
    ) -> anyhow::Result<Self> {
        let platform = &context.platform;
        let settings = context.settings.clone();
        let pool = db::connect(&platform.database, &context.schema).await?;
        let mesh_key = PrincipalKey::from_config(&platform.principal)?;
        // Group and agent names and memberships are the gateway's directory.
        let directory = Directory::new(context.peer_url("gateway")?, mesh_key.clone())?;
        let tickets = TicketApi::new(pool.clone(), directory, &settings);
        let ingest_max = MAX_INGEST_BYTES.max(platform.grpc.max_message_bytes);
        let server = add_grpc_services!(
            GrpcServer::new(Self::SPEC.name, platform.grpc.clone()).verify_principals(mesh_key),
            TicketServiceServer::new(tickets.clone()),
            templates::server(pool.clone(), tickets.clone()),
            catalog::inquiry_types(pool.clone()),
            catalog::processing_types(pool.clone()),
            mail_accounts::server(pool.clone()),
            TicketAutomationServiceServer::new(AutomationApi::new(tickets.clone())),
        )
        .add_service(
            TicketIngestServiceServer::new(IngestApi::new(tickets))
                .max_decoding_message_size(ingest_max)
                .max_encoding_message_size(platform.grpc.max_message_bytes),
        )
        .serve_on(listener)
        .await?;
        let delivery = settings.consume_delivery_reports.then(|| {
            let config = ConsumerConfig::new(DELIVERY_QUEUE, &delivery::BINDINGS);
            EventConsumer::new(pool.clone(), platform.amqp.clone(), config, DeliveryReports)
        });
        if let Some(consumer) = &delivery
            && let Err(error) = consumer.declare().await
        {
            tracing::warn!(%error, queue = DELIVERY_QUEUE, "cannot declare the queue yet");
        }
        let auto_close = AutoClose::new(pool.clone(), &settings);
        let counts = CountFolder::new(pool.clone());
        let relay = OutboxRelay::new(
            pool,
            platform.amqp.clone(),
            RelayConfig::new(&context.schema),
        );
        Ok(Self {
            server,
            relay,
            auto_close,
            counts,
            delivery,
        })
    }

    fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    fn tasks(self) -> Tasks {
        let tasks = Tasks::new()
            .add("grpc server", |shutdown| {
                self.server.run_until_stopped(shutdown)
            })
            .add("outbox relay", |shutdown| self.relay.run(shutdown))
            .add("auto-close scheduler", |shutdown| {
                self.auto_close.run(shutdown)
            })
            .add("ticket count folder", |shutdown| self.counts.run(shutdown));
        match self.delivery {
            Some(consumer) => tasks.add(DELIVERY_QUEUE, |shutdown| consumer.run(shutdown)),
            None => tasks,
        }
    }
}
