//! `switchboard bench faults`: sustained IVR pushes through a private mesh while its servers
//! fail, one fault after another, and what became of every push. Everything runs on servers
//! this command starts in a scratch directory and removes at the end (also on an error or
//! Ctrl-C): a PostgreSQL cluster, a RabbitMQ node, and this binary as `serve gateway` and
//! `serve callback reporting`. The shared servers are never touched (the gateway's presence
//! uses Redis, which is not part of any fault).

mod mesh;
mod phase;
mod postgres;
mod process;
mod pushes;
mod rabbitmq;
mod report;

use std::time::{Duration, Instant};

use secrecy::SecretString;
use switchboard_gateway::GatewaySettings;
use switchboard_platform::{config::DatabaseConfig, db};

use self::{
    mesh::Mesh, phase::Fault, postgres::Postgres, process::Scratch, pushes::Pushes,
    rabbitmq::Rabbitmq,
};
use super::ivr::{self, Ivr};

/// Steady pushes before the first fault.
const WARM_UP: Duration = Duration::from_secs(3);
/// How long the model may take, after the load, to hold every stored callback.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs every fault and prints each phase's figures; the last lines are the summaries.
pub async fn run(concurrency: usize, timeout: Duration) -> anyhow::Result<()> {
    anyhow::ensure!(
        switchboard_platform::config::dev_mode(),
        "bench faults runs its mesh in development mode; set SWITCHBOARD_DEV=1"
    );
    tokio::select! {
        result = run_faults(concurrency, timeout) => result,
        // Dropping the run stops what it started.
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted; the private servers were stopped"),
    }
}

#[allow(clippy::print_stdout)] // the figures are the command's output
async fn run_faults(concurrency: usize, timeout: Duration) -> anyhow::Result<()> {
    // Declared first, dropped last: the servers stop before their directory goes.
    let scratch = Scratch::create()?;
    println!("faults: private servers in {}", scratch.dir.display());
    let postgres = Postgres::create(&scratch.dir).await?;
    println!("faults: PostgreSQL on port {}", postgres.port);
    let rabbitmq = Rabbitmq::create(&scratch.dir).await?;
    println!(
        "faults: RabbitMQ node {} on port {}",
        rabbitmq.node, rabbitmq.port
    );
    let mut mesh = Mesh::start(&scratch.dir, &postgres.url(), &rabbitmq.url()).await?;
    println!("faults: mesh up, gateway {}", mesh.gateway_url());
    let ivr = create_ivr(&mesh.gateway_url()).await?;
    let pool = db::connect(
        &DatabaseConfig {
            url: SecretString::from(postgres.url()),
            max_connections: 2,
            ..Default::default()
        },
        "callback",
    )
    .await?;

    println!(
        "faults: pushes through the gateway, closed loop, concurrency {concurrency}, deadline {} ms each",
        timeout.as_millis()
    );
    let pushes = Pushes::start(&ivr, concurrency, timeout);
    tokio::time::sleep(WARM_UP).await;
    let mut phases = Vec::new();
    for fault in Fault::ALL {
        phases.push(phase::run(fault, &pushes, &postgres, &rabbitmq, &mut mesh).await?);
    }
    let record = pushes.stop().await;
    catch_up(&pool).await?;
    let stored = report::Stored::read(&pool).await?;
    let logs = mesh.logs();
    let summaries: Vec<_> = phases
        .iter()
        .map(|phase| report::print_phase(phase, &record, &stored, &logs))
        .collect();
    match rabbitmq.queues().await {
        Ok(queues) => println!("queues at the end (messages): {queues:?}"),
        Err(error) => println!("queues at the end: unknown ({error:#})"),
    }
    for summary in summaries {
        println!("{summary}");
    }
    Ok(())
}

/// The run's IVR, once the mesh answers (the gateway may not have seen its upstreams yet).
async fn create_ivr(gateway: &str) -> anyhow::Result<Ivr> {
    let started = Instant::now();
    let run = ivr::run_id();
    loop {
        // The children run on the development defaults, so the gateway's are the same.
        match Ivr::create(&GatewaySettings::default(), gateway, "admin", &run).await {
            Ok(ivr) => return Ok(ivr),
            Err(error) if started.elapsed() > Duration::from_secs(30) => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Waits until the model holds as many callbacks as are stored, or [`CATCH_UP_TIMEOUT`].
#[allow(clippy::print_stdout)] // the figures are the command's output
async fn catch_up(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let (stored, in_model) = report::counts(pool).await?;
        if in_model >= stored {
            println!(
                "faults: the model holds all {stored} stored callbacks {:.1} s after the load",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed() >= CATCH_UP_TIMEOUT {
            println!(
                "faults: the model holds {in_model} of {stored} stored callbacks {} s after the load (not caught up)",
                CATCH_UP_TIMEOUT.as_secs()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
