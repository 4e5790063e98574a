//! The gateway: the only door into Switchboard (docs/architecture.md §1). It authenticates every call (bearer
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
    add_grpc_services,
    config::RedisConfig,
    db,
    events::{OutboxRelay, RelayConfig},
    grpc::{GrpcServer, RunningServer},
    principal::PrincipalKey,
    service::{Service, ServiceContext, ServiceSpec, Tasks},
};
use switchboard_proto::gateway::v1::{
    api_key_service_server::ApiKeyServiceServer, auth_service_server::AuthServiceServer,
    directory_service_server::DirectoryServiceServer,
    presence_service_server::PresenceServiceServer,
};
use tokio::net::TcpListener;

pub use auth::tokens::TokenVerifier;
pub use config::GatewaySettings;
pub use directory::bootstrap::{Bootstrapped, create_admin};
pub use proxy::RoutingProxy;
pub use routing::{MAX_UPSTREAM_HEADER_LIST_BYTES, RouteTable, Upstream, strip_identity};

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

/// The gateway, bound and ready to run.
pub struct Gateway {
    server: RunningServer,
    relay: OutboxRelay,
    presence: PresenceStore,
    sweep_interval: Duration,
    health_interval: Duration,
    watched: Vec<Watched>,
}

impl Service for Gateway {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "gateway",
        schema: "gateway",
        packages: &["switchboard.gateway.v1"],
        migrator: Some(&MIGRATOR),
        default_port: 50051,
        production_keys: &["redis.url", "gateway.auth.local_token.secret"],
        queues: &[],
    };

    type Settings = GatewaySettings;

    /// Connects to PostgreSQL and Redis, and routes every other package to its peer.
    async fn build(
        listener: TcpListener,
        context: ServiceContext<GatewaySettings>,
    ) -> anyhow::Result<Self> {
        let platform = &context.platform;
        let pool = db::connect(&platform.database, &context.schema).await?;
        let redis = connect_redis(&platform.redis).await?;
        let settings = &context.settings;
        let mesh_key = PrincipalKey::from_config(&platform.principal)?;
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
        let upstreams = upstreams(&context);
        let table = RouteTable::new(upstreams.clone())?;
        let watched = upstreams
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
        let server = GrpcServer::new(Self::SPEC.name, platform.grpc.clone())
            .admission(Arc::new(admission))
            .verify_principals(mesh_key);
        let max = server.max_message_bytes();
        let server = add_grpc_services!(
            server,
            AuthServiceServer::new(AuthApi::new(tokens, agents.clone())),
            DirectoryServiceServer::new(DirectoryApi::new(pool.clone(), agents, presence.clone())),
            ApiKeyServiceServer::new(ApiKeyApi::new(pool.clone(), keys)),
            PresenceServiceServer::new(PresenceApi::new(presence.clone(), pool.clone())),
        )
        .fallback(RoutingProxy::new(table, max).boxed())
        .serve_on(listener)
        .await?;
        Ok(Self {
            server,
            relay: OutboxRelay::new(
                pool,
                platform.amqp.clone(),
                RelayConfig::new(&context.schema),
            ),
            presence,
            sweep_interval: Duration::from_millis(settings.presence.sweep_interval_ms.max(10)),
            health_interval: Duration::from_millis(settings.upstream_health_interval_ms.max(10)),
            watched,
        })
    }

    fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The server, with the outbox relay, the presence sweeper and the routed services' health
    /// checks beside it.
    fn tasks(self) -> Tasks {
        let health = self.server.health();
        let (presence, sweep_interval) = (self.presence, self.sweep_interval);
        let (watched, health_interval) = (self.watched, self.health_interval);
        Tasks::new()
            .add("grpc server", |shutdown| {
                self.server.run_until_stopped(shutdown)
            })
            .add("outbox relay", |shutdown| self.relay.run(shutdown))
            .add("presence sweeper", move |shutdown| {
                presence.run_sweeper(sweep_interval, shutdown)
            })
            .add("upstream health", move |shutdown| {
                upstream_health::watch(health, watched, health_interval, shutdown)
            })
    }
}

/// One route per package of every peer but the gateway itself.
fn upstreams(context: &ServiceContext<GatewaySettings>) -> Vec<Upstream> {
    context
        .peers
        .iter()
        .filter(|peer| peer.name != Gateway::SPEC.name)
        .flat_map(|peer| {
            peer.packages.iter().map(|package| Upstream {
                package: package.clone(),
                service: peer.name.clone(),
                url: peer.url.clone(),
            })
        })
        .collect()
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
