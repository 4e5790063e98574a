//! Roles in a binary's table: a built role runs its [`Service`] from the loaded configuration
//! (its own section, where the other roles are), a planned one is listed but not run. The
//! binary's table is then one entry per role.

use std::{future::Future, marker::PhantomData, net::SocketAddr, pin::Pin, sync::Arc};

use serde::Deserialize;

use super::{Peer, Service, ServiceContext, ServiceSpec};
use crate::{
    Shutdown,
    config::{Loaded, PlatformConfig},
    metrics::Metrics,
};

/// The configuration a binary loaded: the platform's sections, with each role's on demand.
pub type Config = Loaded<PlatformConfig>;

pub type RoleFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// A service role of the mesh, as a binary's role table holds it.
pub trait Role: Sync {
    fn spec(&self) -> ServiceSpec;

    /// Whether the binary has the role's implementation yet. Roles arrive one by one.
    fn is_built(&self) -> bool;

    /// Builds the role from `config` (reaching the other roles at `peers`) and runs it until
    /// `shutdown`.
    fn run(
        &self,
        config: Arc<Config>,
        peers: Vec<Peer>,
        metrics: Metrics,
        shutdown: Shutdown,
    ) -> RoleFuture;
}

/// A role whose service crate is in the binary.
pub struct Built<S>(PhantomData<fn() -> S>);

impl<S> Built<S> {
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<S> Default for Built<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Service> Role for Built<S> {
    fn spec(&self) -> ServiceSpec {
        S::SPEC
    }

    fn is_built(&self) -> bool {
        true
    }

    fn run(
        &self,
        config: Arc<Config>,
        peers: Vec<Peer>,
        metrics: Metrics,
        shutdown: Shutdown,
    ) -> RoleFuture {
        Box::pin(async move {
            let service = S::bind(context::<S>(&config, peers, metrics)?).await?;
            service.run_until_stopped(shutdown).await
        })
    }
}

/// A role of the design that is not implemented yet: listed, with its address, but not run.
pub struct Planned(ServiceSpec);

impl Planned {
    pub const fn new(
        name: &'static str,
        schema: &'static str,
        packages: &'static [&'static str],
        default_port: u16,
    ) -> Self {
        Self(ServiceSpec {
            name,
            schema,
            packages,
            migrator: None,
            default_port,
            production_keys: &[],
            queues: &[],
        })
    }
}

impl Role for Planned {
    fn spec(&self) -> ServiceSpec {
        self.0
    }

    fn is_built(&self) -> bool {
        false
    }

    fn run(&self, _: Arc<Config>, _: Vec<Peer>, _: Metrics, _: Shutdown) -> RoleFuture {
        let name = self.0.name;
        Box::pin(
            async move { anyhow::bail!("the {name} service is not built into this binary yet") },
        )
    }
}

/// Where one role listens, and where the others reach it. Unset fields take the role's
/// defaults (`127.0.0.1:<its port>`), so one field can be set alone.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleAddress {
    pub listen: Option<SocketAddr>,
    /// How other processes reach the role (e.g. `http://callback:50061` on Kubernetes);
    /// `http://<listen>` when not set.
    pub url: Option<String>,
}

impl RoleAddress {
    /// The address of `spec`'s role in its section of `config`.
    pub fn of(config: &Config, spec: &ServiceSpec) -> anyhow::Result<Self> {
        config.section(&spec.config_key())
    }

    pub fn listen_or_default(&self, spec: &ServiceSpec) -> SocketAddr {
        self.listen.unwrap_or_else(|| spec.default_listen())
    }

    pub fn url_or_default(&self, spec: &ServiceSpec) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen_or_default(spec)))
    }
}

/// A role's whole section: its address and its own settings side by side.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleSection<S> {
    #[serde(flatten)]
    pub address: RoleAddress,
    #[serde(flatten)]
    pub settings: S,
}

/// What `S` is built from: the platform's configuration, its section, and its peers.
fn context<S: Service>(
    config: &Config,
    peers: Vec<Peer>,
    metrics: Metrics,
) -> anyhow::Result<ServiceContext<S::Settings>> {
    let section: RoleSection<S::Settings> = config.section(&S::SPEC.config_key())?;
    Ok(ServiceContext {
        listen: section.address.listen_or_default(&S::SPEC),
        platform: config.config.clone(),
        schema: S::SPEC.schema.to_owned(),
        peers,
        metrics,
        settings: section.settings,
    })
}

/// Every built role of `roles`, as the others reach it.
pub fn peers(config: &Config, roles: &[&dyn Role]) -> anyhow::Result<Vec<Peer>> {
    roles
        .iter()
        .filter(|role| role.is_built())
        .map(|role| {
            let spec = role.spec();
            Ok(Peer {
                name: spec.name.to_owned(),
                packages: spec.packages.iter().map(|p| (*p).to_owned()).collect(),
                url: RoleAddress::of(config, &spec)?.url_or_default(&spec),
            })
        })
        .collect()
}
