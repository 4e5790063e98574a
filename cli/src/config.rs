//! The binary's configuration: the platform's sections and one section per service role.

use std::net::SocketAddr;

use serde::Deserialize;
use switchboard_callback::CallbackSettings;
use switchboard_gateway::GatewaySettings;
use switchboard_platform::config::{self, DEV_DEFAULT_KEYS, PlatformConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: PlatformConfig,
    /// The contact center's time zone, for local days and months (IANA name).
    pub time_zone: String,
    pub gateway: GatewayRole,
    pub callback: CallbackRole,
    pub ticket: RoleConfig,
    pub trigger_engine: RoleConfig,
    pub mail_ingest: RoleConfig,
    pub reporting: RoleConfig,
}

/// The gateway's section: where it listens, and its authentication, limits and presence.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GatewayRole {
    #[serde(flatten)]
    pub role: RoleConfig,
    #[serde(flatten)]
    pub settings: GatewaySettings,
}

/// The callback service's section: where it listens, its default phone region and export limit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CallbackRole {
    #[serde(flatten)]
    pub role: RoleConfig,
    #[serde(flatten)]
    pub settings: CallbackSettings,
}

/// Where one role listens, and where the others reach it. Unset fields take the role's
/// defaults (`127.0.0.1:<its port>`), so one field can be set alone.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleConfig {
    pub listen: Option<SocketAddr>,
    /// How other processes reach the role (e.g. `http://callback:50061` on Kubernetes);
    /// `http://<listen>` when not set.
    pub url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            platform: PlatformConfig::default(),
            time_zone: "Asia/Seoul".into(),
            gateway: GatewayRole::default(),
            callback: CallbackRole::default(),
            ticket: RoleConfig::default(),
            trigger_engine: RoleConfig::default(),
            mail_ingest: RoleConfig::default(),
            reporting: RoleConfig::default(),
        }
    }
}

/// Loads the configuration; also returns the keys still at their development defaults.
pub fn load() -> anyhow::Result<(Config, Vec<&'static str>)> {
    let watched: Vec<&'static str> = DEV_DEFAULT_KEYS
        .iter()
        .chain(switchboard_gateway::config::DEV_DEFAULT_KEYS)
        .copied()
        .collect();
    let loaded = config::load::<Config>(&watched)?;
    Ok((loaded.config, loaded.defaulted))
}

/// Says, once logging is up, which development defaults are in use.
pub fn warn_defaults(defaulted: &[&'static str]) {
    for key in defaulted {
        tracing::warn!(key, "using the development default; set it for production");
    }
}
