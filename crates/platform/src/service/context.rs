//! What every service is started with: the platform's configuration, its schema, where the
//! other roles of the mesh are, the metrics registry and its own settings.

use std::net::SocketAddr;

use crate::{config::PlatformConfig, metrics::Metrics};

/// Another role of the mesh, as this one reaches it.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Its role name (`gateway`, `callback`, …).
    pub name: String,
    /// The gRPC packages it serves.
    pub packages: Vec<String>,
    /// How it is reached (`http://callback:50061`).
    pub url: String,
}

/// Everything a service is built from.
#[derive(Clone)]
pub struct ServiceContext<S> {
    /// Where it listens (port 0 picks a free port).
    pub listen: SocketAddr,
    pub platform: PlatformConfig,
    /// The schema of its tables (its declared schema; tests use a fresh one).
    pub schema: String,
    /// The other roles it may call or route to.
    pub peers: Vec<Peer>,
    /// Where it registers what it measures for `/metrics`.
    pub metrics: Metrics,
    pub settings: S,
}

impl<S> ServiceContext<S> {
    /// The address other roles know `name` by.
    pub fn peer_url(&self, name: &str) -> anyhow::Result<&str> {
        self.peers
            .iter()
            .find(|peer| peer.name == name)
            .map(|peer| peer.url.as_str())
            .ok_or_else(|| anyhow::anyhow!("no address is configured for the {name} role"))
    }

    /// The same context with other settings (a caller that tunes one part).
    pub fn with_settings<T>(self, settings: T) -> ServiceContext<T> {
        ServiceContext {
            listen: self.listen,
            platform: self.platform,
            schema: self.schema,
            peers: self.peers,
            metrics: self.metrics,
            settings,
        }
    }
}
