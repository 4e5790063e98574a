//! The binary's configuration: the platform's sections and one section per service role.

use std::net::SocketAddr;

use serde::Deserialize;
use switchboard_platform::config::{self, DEV_DEFAULT_KEYS, PlatformConfig};

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    #[serde(flatten)]
    pub platform: PlatformConfig,
    /// The contact center's time zone, for local days and months (IANA name).
    pub time_zone: String,
    pub gateway: RoleConfig,
    pub callback: RoleConfig,
    pub ticket: RoleConfig,
    pub trigger_engine: RoleConfig,
    pub mail_ingest: RoleConfig,
    pub reporting: RoleConfig,
}

/// Where one role listens.
#[derive(Debug, Clone, Deserialize)]
pub struct RoleConfig {
    pub listen: SocketAddr,
}

fn listen(port: u16) -> RoleConfig {
    RoleConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            platform: PlatformConfig::default(),
            time_zone: "Asia/Seoul".into(),
            gateway: listen(50051),
            callback: listen(50061),
            ticket: listen(50062),
            trigger_engine: listen(50063),
            mail_ingest: listen(50064),
            reporting: listen(50065),
        }
    }
}

/// Loads the configuration; also returns the keys still at their development defaults.
pub fn load() -> anyhow::Result<(Config, Vec<&'static str>)> {
    let loaded = config::load::<Config>(DEV_DEFAULT_KEYS)?;
    Ok((loaded.config, loaded.defaulted))
}

/// Says, once logging is up, which development defaults are in use.
pub fn warn_defaults(defaulted: &[&'static str]) {
    for key in defaulted {
        tracing::warn!(key, "using the development default; set it for production");
    }
}
