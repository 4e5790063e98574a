//! The service roles this binary can run, and running them side by side in one process. Each
//! role is one entry of [`ROLES`]: a built one's declaration (name, schema, packages,
//! migrations, port) and settings come from its crate's `Service` implementation.

use std::sync::Arc;

use anyhow::bail;
use switchboard_callback::Application as CallbackService;
use switchboard_gateway::Gateway;
use switchboard_mail_ingest::Application as MailIngestService;
use switchboard_platform::{
    Shutdown,
    config::SERVICE_KEYS,
    metrics,
    service::{
        Service, Tasks,
        role::{self, Built, Role, RoleAddress, RoleSection},
        supervise,
    },
    telemetry,
};
use switchboard_reporting::Application as ReportingService;
use switchboard_ticket::Application as TicketService;
use switchboard_trigger_engine::Application as TriggerEngineService;

use crate::{
    config::{self, Config},
    keys::{self, Key},
};

/// Every role, in the order `switchboard services` lists them, and its configuration section.
/// Adding a role is one entry.
macro_rules! roles {
    ($($service:ty),* $(,)?) => {
        pub static ROLES: &[&dyn Role] = &[$(&Built::<$service>::new()),*];
        /// Each role's configuration section, as in [`ROLES`].
        pub static SECTIONS: &[Section] = &[$(Section {
            role: <$service as Service>::SPEC.name,
            keys: section_keys::<$service>,
            check: check_section::<$service>,
        }),*];
    };
}

roles![
    Gateway,
    CallbackService,
    TicketService,
    TriggerEngineService,
    MailIngestService,
    ReportingService,
];

/// A role's configuration section, known through its real types.
pub struct Section {
    pub role: &'static str,
    /// Every key of the section: where the role listens and is reached, and its settings.
    pub keys: fn() -> Result<Vec<Key>, serde::de::value::Error>,
    /// Reads the section from a loaded configuration as `serve` does, to report what it refuses.
    pub check: fn(&Config) -> anyhow::Result<()>,
}

fn section_keys<S: Service>() -> Result<Vec<Key>, serde::de::value::Error> {
    let prefix = S::SPEC.config_key();
    let mut keys = keys::of::<RoleAddress>(&prefix)?;
    keys.extend(keys::of::<S::Settings>(&prefix)?);
    Ok(keys)
}

fn check_section<S: Service>(config: &Config) -> anyhow::Result<()> {
    config
        .section::<RoleSection<S::Settings>>(&S::SPEC.config_key())
        .map(drop)
}

/// Where the role listens.
fn listen(config: &Config, role: &dyn Role) -> anyhow::Result<std::net::SocketAddr> {
    let spec = role.spec();
    Ok(RoleAddress::of(config, &spec)?.listen_or_default(&spec))
}

/// The configuration keys `roles` cannot run on a development default of.
pub fn required_keys(roles: &[&dyn Role]) -> Vec<&'static str> {
    let mut keys = SERVICE_KEYS.to_vec();
    for role in roles {
        keys.extend(role.spec().production_keys);
    }
    keys
}

/// The roles named on the command line; `all` (or nothing, for `migrate`) means every built one.
pub fn resolve(names: &[String]) -> anyhow::Result<Vec<&'static dyn Role>> {
    let known = || {
        ROLES
            .iter()
            .map(|r| r.spec().name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if names.is_empty() || names.iter().any(|n| n == "all") {
        let built: Vec<_> = ROLES.iter().copied().filter(|r| r.is_built()).collect();
        if built.is_empty() {
            bail!(
                "no service is built into this binary yet (known roles: {})",
                known()
            );
        }
        return Ok(built);
    }
    let mut roles: Vec<&'static dyn Role> = Vec::new();
    for name in names {
        let Some(role) = ROLES.iter().copied().find(|r| r.spec().name == name) else {
            bail!(
                "unknown service {name:?}; known services: {}, or all",
                known()
            );
        };
        if !role.is_built() {
            bail!("the {name} service is not built into this binary yet");
        }
        if !roles.iter().any(|r| r.spec().name == role.spec().name) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// Prints every role, where it would listen, and whether this binary has it.
#[allow(clippy::print_stdout)] // this command's output is its purpose
pub fn print_roles(config: &Config) -> anyhow::Result<()> {
    for role in ROLES {
        let spec = role.spec();
        let state = if role.is_built() {
            "built"
        } else {
            "not built yet"
        };
        let listen = listen(config, *role)?.to_string();
        println!("{:<16}{listen:<22}{state}", spec.name);
    }
    Ok(())
}

/// Runs `roles` in this process until SIGTERM or SIGINT, then stops them all gracefully. A role
/// (or a task of one) that fails stops the others, and the failure is returned.
pub async fn serve(roles: &[&'static dyn Role], config: Config) -> anyhow::Result<()> {
    let names: Vec<_> = roles.iter().map(|r| r.spec().name).collect();
    let guard = telemetry::init(&names.join("+"), &config.telemetry)?;
    config::warn_defaults(&config);
    let served = async {
        let shutdown = Shutdown::on_signals()?;
        let metrics = metrics::global();
        let mut tasks = Tasks::new();
        if let Some(address) = config.telemetry.metrics_listen {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| anyhow::anyhow!("cannot serve metrics on {address}: {e}"))?;
            let metrics = metrics.clone();
            tasks = tasks.add("metrics endpoint", move |shutdown| {
                metrics.serve(listener, shutdown)
            });
        }
        let peers = role::peers(&config, ROLES)?;
        let config = Arc::new(config);
        for &role in roles {
            let (config, peers, metrics) = (config.clone(), peers.clone(), metrics.clone());
            tasks = tasks.add(role.spec().name, move |shutdown| {
                role.run(config, peers, metrics, shutdown)
            });
        }
        supervise(tasks, shutdown).await
    }
    .await;
    guard.shutdown();
    served
}

/// Applies the migrations of `roles`, one after another.
pub async fn migrate(roles: &[&'static dyn Role], config: &Config) -> anyhow::Result<()> {
    let guard = telemetry::init("migrate", &config.telemetry)?;
    config::warn_defaults(config);
    let mut result = Ok(());
    for role in roles {
        let spec = role.spec();
        result = spec.migrate(&config.database, spec.schema).await;
        if result.is_ok() {
            result = spec.declare_queues(&config.amqp).await;
        }
        if result.is_err() {
            break;
        }
        tracing::info!(role = spec.name, "migrated");
    }
    guard.shutdown();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_services_are_named_in_the_error() {
        let error = resolve(&["billing".into()]).err().unwrap().to_string();
        assert!(error.contains("unknown service \"billing\""), "{error}");
        assert!(error.contains("callback"), "{error}");
    }

    #[test]
    fn every_role_has_its_own_name_schema_port_and_packages() {
        for (i, a) in ROLES.iter().enumerate() {
            for b in &ROLES[i + 1..] {
                let (a, b) = (a.spec(), b.spec());
                assert_ne!(a.name, b.name);
                assert_ne!(a.schema, b.schema);
                assert_ne!(a.default_port, b.default_port);
                assert!(a.packages.iter().all(|p| !b.packages.contains(p)));
            }
        }
    }
}
