//! The binary's configuration: the platform's sections, and each role's own section read by the
//! role from its declaration (`callback`, `trigger_engine`, …).

use switchboard_platform::config::{self, PlatformConfig};
pub use switchboard_platform::service::role::{Config, RoleSection};

/// Loads the configuration and refuses, outside development mode, to go on with a development
/// default of any of `keys`.
pub fn load(keys: &[&str]) -> anyhow::Result<Config> {
    let mut config = config::load::<PlatformConfig>()?;
    config.require(keys)?;
    // Only the defaults this command uses are worth a warning.
    config.defaulted.retain(|key| keys.contains(key));
    Ok(config)
}

/// Says, once logging is up, which development defaults are in use.
pub fn warn_defaults(config: &Config) {
    for key in &config.defaulted {
        tracing::warn!(key, "using the development default (development mode)");
    }
}
