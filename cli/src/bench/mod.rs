//! Load generators: programs that print figures, never timed assertions. Each measures its
//! subject and a baseline in the same run and prints their ratio, because shared machines are
//! noisy (docs/architecture.md §4).

pub mod callbacks;
pub mod export;
pub mod faults;
pub mod gateway;
mod ivr;
mod load;
mod mail;
mod model;
pub mod pipeline;
pub mod reporting;
mod ticket_queries;
pub mod ticket_reports;
mod tickets;
mod triggers;
mod vacuum;

use switchboard_platform::{grpc::MeshInterceptor, principal::PrincipalKey};
use switchboard_proto::common::v1::{Principal, PrincipalKind};
use tonic::transport::Channel;

pub use load::{LoadResult, run_closed_loop};

use crate::{BenchCommand, config::Config};

/// The context of a service a benchmark starts in this process: a free loopback port, the
/// scratch `schema`, the given peers and settings.
fn in_process<S>(
    config: &Config,
    schema: &str,
    peers: Vec<switchboard_platform::service::Peer>,
    settings: S,
) -> switchboard_platform::service::ServiceContext<S> {
    switchboard_platform::service::ServiceContext {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        platform: config.config.clone(),
        schema: schema.to_owned(),
        peers,
        metrics: Default::default(),
        settings,
    }
}

/// Runs the benchmark `command` names.
pub async fn run(command: BenchCommand, config: &Config) -> anyhow::Result<()> {
    let seconds = std::time::Duration::from_secs;
    match command {
        BenchCommand::Gateway {
            concurrency,
            duration,
        } => gateway::run(config, concurrency, seconds(duration)).await,
        BenchCommand::Callbacks {
            concurrency,
            duration,
            gateway,
            admin,
        } => callbacks::run(config, &gateway, &admin, concurrency, seconds(duration)).await,
        BenchCommand::Mail {
            concurrency,
            duration,
            warmup,
            gateway,
            admin,
        } => {
            let load = callbacks::Load {
                concurrency,
                warmup: seconds(warmup),
                duration: seconds(duration),
            };
            mail::run(config, &gateway, &admin, load).await
        }
        BenchCommand::Tickets {
            concurrency,
            duration,
            warmup,
            gateway,
            admin,
        } => {
            let load = callbacks::Load {
                concurrency,
                warmup: seconds(warmup),
                duration: seconds(duration),
            };
            tickets::run(config, &gateway, &admin, load).await
        }
        BenchCommand::Pipeline {
            concurrency,
            duration,
            catch_up_timeout,
            gateway,
            admin,
        } => {
            pipeline::run(
                config,
                &gateway,
                &admin,
                concurrency,
                seconds(duration),
                seconds(catch_up_timeout),
            )
            .await
        }
        BenchCommand::Triggers {
            triggers,
            repeat,
            rate,
            duration,
            warmup,
            gateway,
            admin,
        } => {
            let options = triggers::Options {
                triggers,
                repeat,
                rate,
                duration: seconds(duration),
                warmup: seconds(warmup),
                gateway,
                admin,
            };
            triggers::run(config, options).await
        }
        BenchCommand::Faults {
            concurrency,
            timeout_ms,
        } => faults::run(concurrency, std::time::Duration::from_millis(timeout_ms)).await,
        BenchCommand::Export { rows } => export::run(config, rows).await,
        BenchCommand::Reporting {
            callbacks,
            repeat,
            schema,
            drop,
        } => reporting::run(config, callbacks, repeat, &schema, drop).await,
        BenchCommand::TicketQueries {
            tickets,
            repeat,
            naive_repeat,
            schema,
            keep,
        } => {
            let options = ticket_queries::Options {
                tickets,
                repeat,
                naive_repeat,
                schema,
                keep,
            };
            ticket_queries::run(config, options).await
        }
        BenchCommand::TicketReports {
            tickets,
            repeat,
            raw_repeat,
            schema,
            drop,
            fold_events,
            seed,
        } => {
            let options = ticket_reports::Options {
                tickets,
                repeat,
                raw_repeat,
                schema,
                drop,
                fold_events,
                seed,
            };
            ticket_reports::run(config, options).await
        }
    }
}

/// One result's figures on one line.
#[allow(clippy::print_stdout)] // the figures are the command's output
fn print_line(name: &str, result: &LoadResult) {
    println!(
        "{name}  calls={} errors={} rps={:.0} p50_ms={:.3} p99_ms={:.3} p99.9_ms={:.3}",
        result.calls,
        result.errors,
        result.per_second(),
        result.quantile_ms(0.5),
        result.quantile_ms(0.99),
        result.quantile_ms(0.999),
    );
}

/// Signs an admin principal into every call, as the gateway would, for benchmarks that call a
/// service in this process directly.
fn admin_interceptor(
    config: &switchboard_platform::config::PrincipalConfig,
) -> anyhow::Result<MeshInterceptor> {
    let admin = Principal {
        subject: "bench-admin".into(),
        kind: PrincipalKind::Admin as i32,
        ..Default::default()
    };
    signed(config, admin)
}

/// Signs `principal` into every call (valid for a minute each), as the gateway would.
fn signed(
    config: &switchboard_platform::config::PrincipalConfig,
    principal: Principal,
) -> anyhow::Result<MeshInterceptor> {
    Ok(MeshInterceptor::with_principal(
        PrincipalKey::from_config(config)?,
        principal,
        std::time::Duration::from_secs(60),
    ))
}

async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Channel> {
    connect_url(&format!("http://{addr}")).await
}

async fn connect_url(url: &str) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(url.to_owned())?.connect().await?)
}
