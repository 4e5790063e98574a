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

/// Every configuration key the binary reads (the platform's sections, then each role's), one
/// line each: its environment variable, the kind of value, and the commands that stop at start
/// without it outside development mode (`-` for none: it has a default). `SWITCHBOARD_DEV` and
/// `SWITCHBOARD_CONFIG` come first: they choose the mode and the file, and are no key.
#[allow(clippy::print_stdout)] // this command's output is its purpose
pub fn print_keys(required: &[(&str, Vec<&str>)]) -> anyhow::Result<()> {
    let mut keys = crate::keys::of::<PlatformConfig>("")?;
    for section in crate::roles::SECTIONS {
        keys.extend((section.keys)()?);
    }
    println!("{}\tboolean\t-", config::DEV_MODE_VAR);
    println!("{}\tstring\t-", config::CONFIG_FILE_VAR);
    for key in keys {
        let commands: Vec<_> = required
            .iter()
            .filter(|(_, keys)| keys.contains(&key.path.as_str()))
            .map(|(command, _)| *command)
            .collect();
        let commands = if commands.is_empty() {
            "-".to_owned()
        } else {
            commands.join(",")
        };
        println!("{}\t{}\t{commands}", config::env_var(&key.path), key.kind);
    }
    Ok(())
}

/// Loads the configuration as `serve <roles>` does (refusing a development default outside
/// development mode) and reads each role's section, without connecting to anything: what a
/// deployment's variables would make the roles refuse, found before they run.
#[allow(clippy::print_stdout)] // this command's output is its purpose
pub fn check(roles: &[&dyn switchboard_platform::service::role::Role]) -> anyhow::Result<()> {
    let config = load(&crate::roles::required_keys(roles))?;
    for role in roles {
        let name = role.spec().name;
        let section = crate::roles::SECTIONS
            .iter()
            .find(|section| section.role == name)
            .ok_or_else(|| anyhow::anyhow!("no configuration section for {name}"))?;
        (section.check)(&config)?;
        println!("{name}: configuration accepted");
    }
    Ok(())
}
