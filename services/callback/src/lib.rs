//! The callback service (콜백관리, docs/product.md §2.1–§2.5): intake from the IVR with E.164 numbers and
//! idempotent pushes, the state machine with its history and events, search with row-level
//! rules, call attempts, assignment (even and manual) and the streamed `.xlsx` export.

mod api;
pub mod config;
mod directory;
pub mod domain;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::net::SocketAddr;

use sqlx::migrate::Migrator;
use switchboard_platform::{
    add_grpc_services, db,
    events::{OutboxRelay, RelayConfig},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
    service::{Service, ServiceContext, ServiceSpec, Tasks},
    shutdown::{Shutdown, ShutdownTrigger},
};
use switchboard_proto::callback::v1::{
    callback_service_server::CallbackServiceServer, ivr_route_service_server::IvrRouteServiceServer,
};
use tokio::net::TcpListener;

pub use config::CallbackSettings;

use crate::{
    api::{CallbackApi, RouteApi, Settings},
    directory::Directory,
};

/// The callback service's tables.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The callback service, bound and ready to run.
pub struct Application {
    server: RunningServer,
    relay: OutboxRelay,
    /// Ends the `WatchConnectRequests` streams, which never end by themselves, at shutdown.
    watchers: ShutdownTrigger,
}

impl Service for Application {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "callback",
        schema: "callback",
        packages: &["switchboard.callback.v1"],
        migrator: Some(&MIGRATOR),
        default_port: 50061,
        production_keys: &[],
        queues: &[],
    };

    type Settings = CallbackSettings;

    async fn build(
        listener: TcpListener,
        context: ServiceContext<CallbackSettings>,
    ) -> anyhow::Result<Self> {
        let platform = &context.platform;
        let pool = db::connect(&platform.database, &context.schema).await?;
        let mesh_key = PrincipalKey::from_config(&platform.principal)?;
        let settings = Settings::new(
            &platform.time_zone,
            &context.settings.default_region,
            context.settings.export_max_rows,
        )?;
        // The directory and CTI presence are the gateway's.
        let directory = Directory::new(context.peer_url("gateway")?, mesh_key.clone())?;
        let (watchers, stop) = Shutdown::new();
        let server = add_grpc_services!(
            GrpcServer::new(Self::SPEC.name, platform.grpc.clone()).verify_principals(mesh_key),
            CallbackServiceServer::new(
                CallbackApi::new(
                    pool.clone(),
                    settings,
                    directory,
                    context.settings.intake_batch_writers
                )
                .ending_watchers_on(stop)
            ),
            IvrRouteServiceServer::new(RouteApi::new(pool.clone())),
        )
        .serve_on(listener)
        .await?;
        let relay = OutboxRelay::new(
            pool,
            platform.amqp.clone(),
            RelayConfig::new(&context.schema),
        );
        Ok(Self {
            server,
            relay,
            watchers,
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
            .add("dial request streams", |mut shutdown| async move {
                shutdown.wait().await;
                self.watchers.trigger();
            })
    }
}
