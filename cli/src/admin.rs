//! Admin tools that work without a running mesh: the first admin, local tokens, and the
//! reporting rebuild.

use std::time::{Duration, UNIX_EPOCH};

use switchboard_gateway::{Bootstrapped, Gateway, GatewaySettings};
use switchboard_platform::service::Service;
use switchboard_reporting::Application as Reporting;

use crate::config::{self, Config, RoleSection};

/// `switchboard directory create-admin`: creates the first admin of a fresh install.
#[allow(clippy::print_stdout)] // the command's answer
pub async fn create_admin(
    config: &Config,
    login: &str,
    name: &str,
    email: &str,
) -> anyhow::Result<()> {
    let guard = switchboard_platform::telemetry::init("directory", &config.telemetry)?;
    config::warn_defaults(config);
    let schema = Gateway::SPEC.schema;
    let result =
        switchboard_gateway::create_admin(&config.database, schema, login, name, email).await;
    guard.shutdown();
    match result? {
        Bootstrapped::Created(agent) => println!("created admin {}", agent.login),
        Bootstrapped::Exists => println!("{login} exists already; nothing changed"),
    }
    Ok(())
}

/// `switchboard token`: prints a token of the gateway's own for an agent.
#[allow(clippy::print_stdout)] // the token is the command's output
pub fn print_token(config: &Config, login: &str, ttl_minutes: Option<u64>) -> anyhow::Result<()> {
    let ttl = ttl_minutes.map(|m| Duration::from_secs(m * 60));
    let gateway: RoleSection<GatewaySettings> = config.section("gateway")?;
    let (token, expires) = switchboard_gateway::issue_local_token(&gateway.settings, login, ttl)?;
    let expires = expires
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    eprintln!(
        "token for {login}, valid until {expires} (Unix time); send it as `authorization: Bearer <token>`"
    );
    println!("{token}");
    Ok(())
}

/// `switchboard reporting rebuild`: the reporting models built again from the event log.
#[allow(clippy::print_stdout)] // the command's answer
pub async fn rebuild_reporting(config: &Config) -> anyhow::Result<()> {
    let guard = switchboard_platform::telemetry::init("reporting", &config.telemetry)?;
    config::warn_defaults(config);
    let result =
        switchboard_reporting::rebuild(&config.database, Reporting::SPEC.schema, &config.time_zone)
            .await;
    guard.shutdown();
    let rebuilt = result?;
    println!(
        "rebuilt the reporting models in {}: {} events replayed, {} callbacks, {} tickets, {} \
         count rows, {:.1} s",
        config.time_zone,
        rebuilt.events,
        rebuilt.callbacks,
        rebuilt.tickets,
        rebuilt.count_rows,
        rebuilt.elapsed.as_secs_f64()
    );
    Ok(())
}
