//! The gateway: the only door into Switchboard (DESIGN §1). It serves health and reflection for
//! the whole API and forwards every call of `switchboard.<package>.v1` unchanged to the service
//! that owns the package, after removing any identity metadata the caller sent.
//!
//! Authentication, method-level authorization, the directory and presence come with issue #3;
//! until then the gateway attaches no principal, so the services refuse every forwarded call
//! (`UNAUTHENTICATED`): nothing passes the door unauthenticated.

mod proxy;
mod routing;

use std::net::SocketAddr;

use switchboard_platform::{
    config::GrpcConfig,
    grpc::{GrpcServer, RunningServer},
};

pub use proxy::RoutingProxy;
pub use routing::{RouteTable, Upstream, strip_identity};

/// What the gateway needs to start.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    pub grpc: GrpcConfig,
    /// Which service owns which package, and where it is reached.
    pub upstreams: Vec<Upstream>,
}

/// Binds the gateway (port 0 picks a free port); `run_until_stopped` serves it.
pub async fn build(config: GatewayConfig) -> anyhow::Result<RunningServer> {
    let table = RouteTable::new(config.upstreams)?;
    GrpcServer::new("gateway", config.grpc)
        .fallback(RoutingProxy::new(table).boxed())
        .bind(config.listen)
        .await
}
