//! The binary's configuration: the platform's sections, and each role's own section read by the
//! role from its declaration (`callback`, `trigger_engine`, …).

use std::net::SocketAddr;

use serde::Deserialize;
use switchboard_platform::config::{self, Loaded, PlatformConfig};

/// Everything configured: the platform's sections, with every other section on demand.
pub type Config = Loaded<PlatformConfig>;

/// Loads the configuration and refuses, outside development mode, to go on with a development
/// default of any of `keys`.
pub fn load(keys: &[&str]) -> anyhow::Result<Config> {
    let config = config::load::<PlatformConfig>()?;
    config.require(keys)?;
    Ok(config)
}

/// Says, once logging is up, which development defaults are in use.
pub fn warn_defaults(config: &Config) {
    for key in &config.defaulted {
        tracing::warn!(key, "using the development default (development mode)");
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

/// A role's whole section: its address and its own settings side by side.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleSection<S> {
    #[serde(flatten)]
    pub address: RoleAddress,
    #[serde(flatten)]
    pub settings: S,
}
