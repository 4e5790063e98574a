//! The service roles this binary can run, and running them side by side in one process. Each
//! built role is one entry of [`ROLES`]: its declaration (name, schema, packages, migrations,
//! port) and its settings come from the service crate's [`Service`] implementation.

use std::{future::Future, marker::PhantomData, pin::Pin, sync::Arc};

use anyhow::bail;
use switchboard_callback::Application as CallbackService;
use switchboard_gateway::Gateway;
use switchboard_platform::{
    Shutdown,
    config::SERVICE_KEYS,
    metrics::Metrics,
    service::{Peer, Service, ServiceContext, ServiceSpec, Tasks, supervise},
    telemetry,
};
use switchboard_reporting::Application as ReportingService;

use crate::config::{self, Config, RoleAddress, RoleSection};

type RoleFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// A service role of the mesh. Each runs as its own process in production
/// (`switchboard serve callback`) or all together for development (`switchboard serve all`).
pub trait Role: Sync {
    fn spec(&self) -> ServiceSpec;

    /// Whether this binary has the role's implementation yet. Roles arrive issue by issue.
    fn is_built(&self) -> bool;

    /// Builds the role from `config` and runs it until `shutdown`.
    fn run(&self, config: Arc<Config>, metrics: Metrics, shutdown: Shutdown) -> RoleFuture;
}

/// Every role, in the order `switchboard services` lists them. Adding a role is one entry.
pub static ROLES: &[&dyn Role] = &[
    &Built::<Gateway>(PhantomData),
    &Built::<CallbackService>(PhantomData),
    &Planned(ServiceSpec {
        name: "ticket",
        schema: "ticket",
        packages: &["switchboard.ticket.v1"],
        migrator: None,
        default_port: 50062,
        production_keys: &[],
    }),
    &Planned(ServiceSpec {
        name: "trigger-engine",
        schema: "trigger_engine",
        packages: &["switchboard.trigger.v1"],
        migrator: None,
        default_port: 50063,
        production_keys: &[],
    }),
    &Planned(ServiceSpec {
        name: "mail-ingest",
        schema: "mail_ingest",
        packages: &["switchboard.inbound.v1"],
        migrator: None,
        default_port: 50064,
        production_keys: &[],
    }),
    &Built::<ReportingService>(PhantomData),
];

/// A role whose service crate is in this binary.
struct Built<S>(PhantomData<fn() -> S>);

impl<S: Service> Role for Built<S> {
    fn spec(&self) -> ServiceSpec {
        S::SPEC
    }

    fn is_built(&self) -> bool {
        true
    }

    fn run(&self, config: Arc<Config>, metrics: Metrics, shutdown: Shutdown) -> RoleFuture {
        Box::pin(async move {
            let service = S::bind(context::<S>(&config, metrics)?).await?;
            service.run_until_stopped(shutdown).await
        })
    }
}

/// A role of the design that is not implemented yet: listed, with its address, but not run.
struct Planned(ServiceSpec);

impl Role for Planned {
    fn spec(&self) -> ServiceSpec {
        self.0
    }

    fn is_built(&self) -> bool {
        false
    }

    fn run(&self, _: Arc<Config>, _: Metrics, _: Shutdown) -> RoleFuture {
        let name = self.0.name;
        Box::pin(async move { bail!("the {name} service is not built into this binary yet") })
    }
}

/// What `S` is built from: the platform's configuration, its section, and where its peers are.
fn context<S: Service>(
    config: &Config,
    metrics: Metrics,
) -> anyhow::Result<ServiceContext<S::Settings>> {
    let section: RoleSection<S::Settings> = config.section(&S::SPEC.config_key())?;
    Ok(ServiceContext {
        listen: section
            .address
            .listen
            .unwrap_or_else(|| S::SPEC.default_listen()),
        platform: config.config.clone(),
        schema: S::SPEC.schema.to_owned(),
        peers: peers(config)?,
        metrics,
        settings: section.settings,
    })
}

/// Every built role, as the others reach it.
fn peers(config: &Config) -> anyhow::Result<Vec<Peer>> {
    ROLES
        .iter()
        .filter(|role| role.is_built())
        .map(|role| {
            let spec = role.spec();
            Ok(Peer {
                name: spec.name.to_owned(),
                packages: spec.packages.iter().map(|p| (*p).to_owned()).collect(),
                url: url(config, &spec)?,
            })
        })
        .collect()
}

fn address(config: &Config, spec: &ServiceSpec) -> anyhow::Result<RoleAddress> {
    config.section(&spec.config_key())
}

/// Where the role listens.
fn listen(config: &Config, spec: &ServiceSpec) -> anyhow::Result<std::net::SocketAddr> {
    Ok(address(config, spec)?
        .listen
        .unwrap_or_else(|| spec.default_listen()))
}

/// How other roles reach the role.
fn url(config: &Config, spec: &ServiceSpec) -> anyhow::Result<String> {
    match address(config, spec)?.url {
        Some(url) => Ok(url),
        None => Ok(format!("http://{}", listen(config, spec)?)),
    }
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
        let listen = listen(config, &spec)?.to_string();
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
        let metrics = Metrics::default();
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
        let config = Arc::new(config);
        for &role in roles {
            let (config, metrics) = (config.clone(), metrics.clone());
            tasks = tasks.add(role.spec().name, move |shutdown| {
                role.run(config, metrics, shutdown)
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
