//! The callback service (콜백관리, SPEC §2.1–§2.5): intake from the IVR with E.164 numbers and
//! idempotent pushes, the state machine with its history and events, search with row-level
//! rules, call attempts, assignment (even and manual) and the streamed `.xlsx` export.

mod api;
pub mod config;
mod directory;
pub mod domain;
mod store;

use std::net::SocketAddr;

use sqlx::migrate::Migrator;
use switchboard_platform::{
    Shutdown,
    config::{AmqpConfig, DatabaseConfig, GrpcConfig, PrincipalConfig},
    db,
    events::{OutboxRelay, RelayConfig},
    grpc::{self, GrpcServer, RunningServer},
    principal::PrincipalKey,
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

/// The PostgreSQL schema the callback service owns.
pub const SCHEMA: &str = "callback";

/// What the callback service needs to start.
#[derive(Debug, Clone)]
pub struct CallbackConfig {
    pub listen: SocketAddr,
    pub grpc: GrpcConfig,
    pub database: DatabaseConfig,
    pub amqp: AmqpConfig,
    /// The mesh key: verifies the gateway's principals and signs the service's own.
    pub principal: PrincipalConfig,
    /// The schema of its tables (`callback`; tests use a fresh one).
    pub schema: String,
    /// Where the gateway is reached, for the directory and CTI presence.
    pub gateway_url: String,
    /// The contact center's time zone (IANA name).
    pub time_zone: String,
    pub settings: CallbackSettings,
}

/// Applies the callback service's migrations.
pub async fn migrate(database: &DatabaseConfig, schema: &str) -> anyhow::Result<()> {
    let pool = db::connect(database, schema).await?;
    db::migrate(&pool, schema, Some(&MIGRATOR)).await
}

/// A bound callback service, not yet serving.
pub struct Application {
    server: RunningServer,
    relay: OutboxRelay,
}

impl Application {
    /// Connects to PostgreSQL and binds `config.listen` (port 0 picks a free port).
    pub async fn build(config: CallbackConfig) -> anyhow::Result<Self> {
        let listener = grpc::listen("callback", config.listen).await?;
        Self::build_on(listener, config).await
    }

    /// As [`Application::build`], on a listener bound beforehand (tests bind it first, so the
    /// gateway can be told the address before the service that needs the gateway is built).
    pub async fn build_on(listener: TcpListener, config: CallbackConfig) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database, &config.schema).await?;
        let mesh_key = PrincipalKey::from_config(&config.principal)?;
        let settings = Settings::new(
            &config.time_zone,
            &config.settings.default_region,
            config.settings.export_max_rows,
        )?;
        let directory = Directory::new(&config.gateway_url, mesh_key.clone())?;
        let max = config.grpc.max_message_bytes;
        let server = GrpcServer::new("callback", config.grpc.clone())
            .verify_principals(mesh_key)
            .add_service(
                CallbackServiceServer::new(CallbackApi::new(pool.clone(), settings, directory))
                    .max_decoding_message_size(max),
            )
            .add_service(
                IvrRouteServiceServer::new(RouteApi::new(pool.clone()))
                    .max_decoding_message_size(max),
            )
            .serve_on(listener)
            .await?;
        Ok(Self {
            server,
            relay: OutboxRelay::new(pool, config.amqp.clone(), RelayConfig::new(&config.schema)),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown`, with the outbox relay publishing beside it.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let relay = tokio::spawn(self.relay.run(shutdown.clone()));
        let served = self.server.run_until_stopped(shutdown).await;
        let _ = relay.await;
        served
    }
}
