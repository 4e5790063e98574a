//! The service roles this binary can run, and running them side by side in one process.

use std::{fmt, net::SocketAddr, sync::Arc};

use anyhow::bail;
use switchboard_callback::{Application as CallbackService, CallbackConfig};
use switchboard_gateway::{Gateway, GatewayConfig, Upstream};
use switchboard_platform::{
    Shutdown,
    metrics::{self, Metrics},
    telemetry,
};
use switchboard_reporting::{Application as ReportingService, ReportingConfig};
use tokio::task::JoinSet;

use crate::config::{self, Config, RoleConfig};

/// A service role of the mesh (DESIGN §1). Each runs as its own process in production
/// (`switchboard serve callback`) or all together for development (`switchboard serve all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Gateway,
    Callback,
    Ticket,
    TriggerEngine,
    MailIngest,
    Reporting,
}

const ROLES: [Role; 6] = [
    Role::Gateway,
    Role::Callback,
    Role::Ticket,
    Role::TriggerEngine,
    Role::MailIngest,
    Role::Reporting,
];

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Gateway => "gateway",
            Role::Callback => "callback",
            Role::Ticket => "ticket",
            Role::TriggerEngine => "trigger-engine",
            Role::MailIngest => "mail-ingest",
            Role::Reporting => "reporting",
        }
    }

    /// Whether this binary has the role's implementation yet. Roles arrive issue by issue.
    pub fn is_built(self) -> bool {
        matches!(self, Role::Gateway | Role::Callback | Role::Reporting)
    }

    /// Runs the role until `shutdown`, registering what it measures with `metrics`.
    async fn run(self, config: Config, metrics: Metrics, shutdown: Shutdown) -> anyhow::Result<()> {
        match self {
            Role::Gateway => {
                let upstreams = ROLES
                    .into_iter()
                    .filter(|role| *role != Role::Gateway && role.is_built())
                    .map(|role| Upstream {
                        package: role.package().to_owned(),
                        service: role.name().to_owned(),
                        url: role.url(&config),
                    })
                    .collect();
                let platform = &config.platform;
                let gateway = Gateway::build(GatewayConfig {
                    listen: self.listen(&config),
                    grpc: platform.grpc.clone(),
                    upstreams,
                    settings: config.gateway.settings.clone(),
                    database: platform.database.clone(),
                    amqp: platform.amqp.clone(),
                    redis: platform.redis.clone(),
                    principal: platform.principal.clone(),
                    schema: switchboard_gateway::SCHEMA.into(),
                })
                .await?;
                gateway.run_until_stopped(shutdown).await
            }
            Role::Callback => {
                let platform = &config.platform;
                let service = CallbackService::build(CallbackConfig {
                    listen: self.listen(&config),
                    grpc: platform.grpc.clone(),
                    database: platform.database.clone(),
                    amqp: platform.amqp.clone(),
                    principal: platform.principal.clone(),
                    schema: switchboard_callback::SCHEMA.into(),
                    gateway_url: Role::Gateway.url(&config),
                    time_zone: config.time_zone.clone(),
                    settings: config.callback.settings.clone(),
                })
                .await?;
                service.run_until_stopped(shutdown).await
            }
            Role::Reporting => {
                let platform = &config.platform;
                let service = ReportingService::build(ReportingConfig {
                    listen: self.listen(&config),
                    grpc: platform.grpc.clone(),
                    database: platform.database.clone(),
                    amqp: platform.amqp.clone(),
                    principal: platform.principal.clone(),
                    schema: switchboard_reporting::SCHEMA.into(),
                    time_zone: config.time_zone.clone(),
                    consume_events: true,
                })
                .await?;
                metrics.register(Arc::new(service.lag()));
                service.run_until_stopped(shutdown).await
            }
            _ => bail!("the {self} service is not built into this binary yet"),
        }
    }

    /// Applies the role's migrations.
    async fn migrate(self, config: &Config) -> anyhow::Result<()> {
        match self {
            Role::Gateway => {
                switchboard_gateway::migrate(&config.platform.database, switchboard_gateway::SCHEMA)
                    .await
            }
            Role::Callback => {
                switchboard_callback::migrate(
                    &config.platform.database,
                    switchboard_callback::SCHEMA,
                )
                .await
            }
            Role::Reporting => {
                switchboard_reporting::migrate(
                    &config.platform.database,
                    switchboard_reporting::SCHEMA,
                )
                .await
            }
            _ => bail!("the {self} service is not built into this binary yet"),
        }
    }

    fn settings(self, config: &Config) -> &RoleConfig {
        match self {
            Role::Gateway => &config.gateway.role,
            Role::Callback => &config.callback.role,
            Role::Ticket => &config.ticket,
            Role::TriggerEngine => &config.trigger_engine,
            Role::MailIngest => &config.mail_ingest,
            Role::Reporting => &config.reporting,
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Role::Gateway => 50051,
            Role::Callback => 50061,
            Role::Ticket => 50062,
            Role::TriggerEngine => 50063,
            Role::MailIngest => 50064,
            Role::Reporting => 50065,
        }
    }

    /// Where the role listens.
    pub fn listen(self, config: &Config) -> SocketAddr {
        self.settings(config)
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], self.default_port())))
    }

    /// How other roles reach this one.
    pub fn url(self, config: &Config) -> String {
        self.settings(config)
            .url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen(config)))
    }

    /// The API package the role owns, which the gateway routes to it.
    fn package(self) -> &'static str {
        match self {
            Role::Gateway => "switchboard.gateway.v1",
            Role::Callback => "switchboard.callback.v1",
            Role::Ticket => "switchboard.ticket.v1",
            Role::TriggerEngine => "switchboard.trigger.v1",
            Role::MailIngest => "switchboard.inbound.v1",
            Role::Reporting => "switchboard.reporting.v1",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The roles named on the command line; `all` (or nothing, for `migrate`) means every built one.
pub fn resolve(names: &[String]) -> anyhow::Result<Vec<Role>> {
    let known = || ROLES.map(Role::name).join(", ");
    let mut roles = Vec::new();
    if names.is_empty() || names.iter().any(|n| n == "all") {
        roles.extend(ROLES.into_iter().filter(|r| r.is_built()));
        if roles.is_empty() {
            bail!(
                "no service is built into this binary yet (known roles: {})",
                known()
            );
        }
        return Ok(roles);
    }
    for name in names {
        let Some(role) = ROLES.into_iter().find(|r| r.name() == name) else {
            bail!(
                "unknown service {name:?}; known services: {}, or all",
                known()
            );
        };
        if !role.is_built() {
            bail!("the {role} service is not built into this binary yet");
        }
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// Prints every role, where it would listen, and whether this binary has it.
#[allow(clippy::print_stdout)] // this command's output is its purpose
pub fn print_roles(config: &Config) {
    for role in ROLES {
        let state = if role.is_built() {
            "built"
        } else {
            "not built yet"
        };
        let listen = role.listen(config).to_string();
        println!("{:<16}{listen:<22}{state}", role.name());
    }
}

/// Runs `roles` in this process until SIGTERM or SIGINT, then stops them all gracefully.
pub async fn serve(
    roles: &[Role],
    config: Config,
    defaulted: &[&'static str],
) -> anyhow::Result<()> {
    let names: Vec<_> = roles.iter().map(|r| r.name()).collect();
    let guard = telemetry::init(&names.join("+"), &config.platform.telemetry)?;
    config::warn_defaults(defaulted);
    let shutdown = Shutdown::on_signals()?;
    let metrics = metrics::global();
    if let Some(address) = config.platform.telemetry.metrics_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {address}: {e}"))?;
        let (metrics, shutdown) = (metrics.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(error) = metrics.serve(listener, shutdown).await {
                tracing::error!(error = format!("{error:#}"), "the metrics endpoint failed");
            }
        });
    }
    let mut running = JoinSet::new();
    for role in roles {
        let (role, config, metrics, shutdown) =
            (*role, config.clone(), metrics.clone(), shutdown.clone());
        running.spawn(async move { (role, role.run(config, metrics, shutdown).await) });
    }
    let mut failed = None;
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok((role, Ok(()))) => tracing::info!(%role, "stopped"),
            Ok((role, Err(error))) => {
                tracing::error!(%role, error = format!("{error:#}"), "failed");
                failed.get_or_insert(error.context(format!("{role} failed")));
            }
            Err(error) => {
                failed.get_or_insert(anyhow::anyhow!("a service task panicked: {error}"));
            }
        }
    }
    guard.shutdown();
    failed.map_or(Ok(()), Err)
}

/// Applies the migrations of `roles`, one after another.
pub async fn migrate(
    roles: &[Role],
    config: &Config,
    defaulted: &[&'static str],
) -> anyhow::Result<()> {
    let guard = telemetry::init("migrate", &config.platform.telemetry)?;
    config::warn_defaults(defaulted);
    let mut result = Ok(());
    for role in roles {
        result = role.migrate(config).await;
        if result.is_err() {
            break;
        }
        tracing::info!(%role, "migrated");
    }
    guard.shutdown();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_services_are_named_in_the_error() {
        let error = resolve(&["billing".into()]).unwrap_err().to_string();
        assert!(error.contains("unknown service \"billing\""), "{error}");
        assert!(error.contains("callback"), "{error}");
    }
}
