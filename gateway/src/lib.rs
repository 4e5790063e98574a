//! The gateway: the only door into Switchboard (DESIGN §1). It authenticates every call (bearer
//! JWTs from the identity provider, its own tokens, API keys, the mesh's service principals),
//! checks the method against the authorization table, applies the limits, replaces whatever
//! identity the caller sent with a principal it signs, and forwards the call unchanged to the
//! service owning its package. It also serves the directory, API keys and CTI presence itself.

mod api_keys;
mod auth;
mod auth_service;
pub mod authz;
pub mod config;
mod directory;
mod message_limit;
mod presence;
mod proxy;
mod routing;
#[cfg(feature = "testing")]
pub mod testing;
mod upstream_health;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use sqlx::migrate::Migrator;
use switchboard_platform::{
    Shutdown,
    config::{AmqpConfig, DatabaseConfig, GrpcConfig, PrincipalConfig, RedisConfig},
    db,
    events::{OutboxRelay, RelayConfig},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
};
use switchboard_proto::gateway::v1::{
    api_key_service_server::ApiKeyServiceServer, auth_service_server::AuthServiceServer,
    directory_service_server::DirectoryServiceServer,
    presence_service_server::PresenceServiceServer,
};

pub use auth::tokens::TokenVerifier;
pub use config::GatewaySettings;
pub use directory::bootstrap::{Bootstrapped, create_admin};
pub use proxy::RoutingProxy;
pub use routing::{RouteTable, Upstream, strip_identity};

use crate::{
    api_keys::{ApiKeyApi, KeyRing},
    auth::{AgentCache, ConcurrencyLimit, GatewayAdmission, RateLimiter},
    auth_service::AuthApi,
    directory::DirectoryApi,
    presence::{PresenceApi, PresenceStore},
    upstream_health::Watched,
};

/// The gateway's tables: the directory, API keys and presence versions.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The PostgreSQL schema the gateway owns.
pub const SCHEMA: &str = "gateway";

/// What the gateway needs to start.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    pub grpc: GrpcConfig,
    /// Which service owns which package, and where it is reached.
    pub upstreams: Vec<Upstream>,
    pub settings: GatewaySettings,
    pub database: DatabaseConfig,
    pub amqp: AmqpConfig,
    pub redis: RedisConfig,
    /// The mesh key the gateway signs principals with.
    pub principal: PrincipalConfig,
    /// The schema of its tables (`gateway`; tests use a fresh one).
    pub schema: String,
}

/// Applies the gateway's migrations.
pub async fn migrate(database: &DatabaseConfig, schema: &str) -> anyhow::Result<()> {
    let pool = db::connect(database, schema).await?;
    db::migrate(&pool, schema, Some(&MIGRATOR)).await
}

/// A bound gateway, not yet serving.
pub struct Gateway {
    server: RunningServer,
    relay: OutboxRelay,
    presence: PresenceStore,
    sweep_interval: Duration,
    health_interval: Duration,
    watched: Vec<Watched>,
}

impl Gateway {
    /// Connects to PostgreSQL and Redis and binds `listen` (port 0 picks a free port).
    pub async fn build(config: GatewayConfig) -> anyhow::Result<Self> {
        let pool = db::connect(&config.database, &config.schema).await?;
        let redis = connect_redis(&config.redis).await?;
        let settings = &config.settings;
        let mesh_key = PrincipalKey::from_config(&config.principal)?;
        let tokens = Arc::new(TokenVerifier::new(
            settings.auth.local_token.clone(),
            settings.auth.idp.clone(),
        )?);
        let agents = AgentCache::new(pool.clone(), settings.auth.cache_ttl());
        let keys = KeyRing::new(pool.clone(), settings.auth.cache_ttl());
        let presence = PresenceStore::new(
            redis,
            pool.clone(),
            Duration::from_secs(settings.presence.ttl_s.max(1)),
            &settings.presence.key_prefix,
        );
        let admission = GatewayAdmission {
            tokens: tokens.clone(),
            keys: keys.clone(),
            agents: agents.clone(),
            mesh_key: mesh_key.clone(),
            principal_lifetime: Duration::from_secs(settings.auth.principal_lifetime_s),
            rate: RateLimiter::new(settings.limits.rate_per_s, settings.limits.burst),
            concurrency: ConcurrencyLimit::new(settings.limits.max_concurrent_calls),
        };
        let table = RouteTable::new(config.upstreams.clone())?;
        let watched = config
            .upstreams
            .iter()
            .filter_map(|upstream| {
                let (_, channel) = table.route(&format!("/{}.X/Y", upstream.package))?;
                Some(Watched {
                    service: upstream.service.clone(),
                    grpc_services: upstream_health::services_of(&upstream.package),
                    channel: channel.clone(),
                })
            })
            .collect();
        let max = config.grpc.max_message_bytes;
        let server = GrpcServer::new("gateway", config.grpc.clone())
            .admission(Arc::new(admission))
            .verify_principals(mesh_key)
            .add_service(
                AuthServiceServer::new(AuthApi::new(tokens, agents.clone()))
                    .max_decoding_message_size(max),
            )
            .add_service(
                DirectoryServiceServer::new(DirectoryApi::new(
                    pool.clone(),
                    agents,
                    presence.clone(),
                ))
                .max_decoding_message_size(max),
            )
            .add_service(
                ApiKeyServiceServer::new(ApiKeyApi::new(pool.clone(), keys))
                    .max_decoding_message_size(max),
            )
            .add_service(
                PresenceServiceServer::new(PresenceApi::new(presence.clone(), pool.clone()))
                    .max_decoding_message_size(max),
            )
            .fallback(RoutingProxy::new(table, max).boxed())
            .bind(config.listen)
            .await?;
        Ok(Self {
            server,
            relay: OutboxRelay::new(pool, config.amqp.clone(), RelayConfig::new(&config.schema)),
            presence,
            sweep_interval: Duration::from_millis(settings.presence.sweep_interval_ms.max(10)),
            health_interval: Duration::from_millis(settings.upstream_health_interval_ms.max(10)),
            watched,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown`, with the outbox relay, the presence sweeper and the routed
    /// services' health checks running beside it.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let relay = tokio::spawn(self.relay.run(shutdown.clone()));
        let sweeper = tokio::spawn(
            self.presence
                .run_sweeper(self.sweep_interval, shutdown.clone()),
        );
        let health = tokio::spawn(upstream_health::watch(
            self.server.health(),
            self.watched,
            self.health_interval,
            shutdown.clone(),
        ));
        let served = self.server.run_until_stopped(shutdown).await;
        let _ = tokio::join!(relay, sweeper, health);
        served
    }
}

async fn connect_redis(config: &RedisConfig) -> anyhow::Result<redis::aio::ConnectionManager> {
    use secrecy::ExposeSecret;
    let client = redis::Client::open(config.url.expose_secret())?;
    let connect = redis::aio::ConnectionManager::new(client);
    match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(manager)) => Ok(manager),
        Ok(Err(error)) => Err(anyhow::anyhow!(
            "cannot reach Redis ({error}); start it with scripts/ensure-services"
        )),
        Err(_) => Err(anyhow::anyhow!(
            "Redis did not answer within 5 s; start it with scripts/ensure-services"
        )),
    }
}

/// Signs tokens of the gateway's own for the CLI (`switchboard token --agent <login>`).
pub fn issue_local_token(
    settings: &GatewaySettings,
    login: &str,
    ttl: Option<Duration>,
) -> anyhow::Result<(String, std::time::SystemTime)> {
    let verifier = TokenVerifier::new(settings.auth.local_token.clone(), None)?;
    Ok(verifier.issue(login, ttl))
}
