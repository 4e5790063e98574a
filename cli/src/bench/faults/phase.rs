//! One fault under load: some seconds of steady pushes, the fault, the wait until pushes are
//! answered OK again, some more steady seconds. Only times are kept here; what the pushes of a
//! phase became is read from the database at the end ([`super::report`]).

use std::time::{Duration, Instant};

use super::{mesh::Mesh, postgres::Postgres, pushes::Pushes, rabbitmq::Rabbitmq};

/// Steady pushes before each fault and after the recovery.
const STEADY: Duration = Duration::from_secs(5);
/// How long PostgreSQL stays down.
const POSTGRES_DOWN: Duration = Duration::from_secs(3);
/// How long the mesh may take to answer OK again after the server is back.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The private RabbitMQ node stopped and started again.
    RabbitmqRestart,
    /// `pg_ctl stop -m immediate`, then started again after [`POSTGRES_DOWN`].
    PostgresCrash,
    /// SIGKILL of `serve callback reporting`, then started again.
    ServicesKill,
}

impl Fault {
    pub const ALL: [Fault; 3] = [
        Fault::RabbitmqRestart,
        Fault::PostgresCrash,
        Fault::ServicesKill,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::RabbitmqRestart => "rabbitmq_restart",
            Fault::PostgresCrash => "postgres_crash",
            Fault::ServicesKill => "services_kill",
        }
    }
}

/// When a phase's parts happened, and how the mesh came out of it.
#[derive(Debug)]
pub struct Phase {
    pub fault: Fault,
    pub start: Instant,
    /// The fault was injected.
    pub injected: Instant,
    /// The server (or process) was back.
    pub back: Instant,
    pub end: Instant,
    /// From `back` to the first OK answer of a push sent after it.
    pub recovered_after: Option<Duration>,
    /// For the server faults: both mesh processes still ran with the ids they had before.
    pub same_processes: Option<bool>,
    /// Messages added to the dead-letter queues during the phase.
    pub dead_lettered: Option<i64>,
    /// Where each process's log stood at the start and the end of the phase.
    pub log_ranges: Vec<(u64, u64)>,
}

/// Runs `fault` under the running `pushes`.
#[allow(clippy::print_stdout)] // progress is part of the command's output
pub async fn run(
    fault: Fault,
    pushes: &Pushes,
    postgres: &Postgres,
    rabbitmq: &Rabbitmq,
    mesh: &mut Mesh,
) -> anyhow::Result<Phase> {
    let start = Instant::now();
    let log_start = log_sizes(mesh);
    let dead_before = rabbitmq.dead_letters().await.ok();
    let pids = mesh.pids();
    tokio::time::sleep(STEADY).await;
    println!("phase {}: injecting the fault", fault.name());
    let injected = Instant::now();
    match fault {
        Fault::RabbitmqRestart => {
            rabbitmq.stop().await?;
            rabbitmq.start().await?;
        }
        Fault::PostgresCrash => {
            postgres.crash().await?;
            tokio::time::sleep(POSTGRES_DOWN).await;
            postgres.start().await?;
        }
        Fault::ServicesKill => {
            mesh.kill_services().await?;
            mesh.restart_services().await?;
        }
    }
    let back = Instant::now();
    println!(
        "phase {}: back after {:.1} s",
        fault.name(),
        back.duration_since(injected).as_secs_f64()
    );
    let recovered_after = loop {
        if let Some(ok) = pushes.first_ok_after(back) {
            break Some(ok.saturating_duration_since(back));
        }
        if back.elapsed() >= RECOVERY_TIMEOUT {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(STEADY).await;
    let same_processes =
        (fault != Fault::ServicesKill).then(|| pids.is_some() && mesh.pids() == pids);
    let dead_after = rabbitmq.dead_letters().await.ok();
    let log_end = log_sizes(mesh);
    Ok(Phase {
        fault,
        start,
        injected,
        back,
        end: Instant::now(),
        recovered_after,
        same_processes,
        dead_lettered: dead_before
            .zip(dead_after)
            .map(|(before, after)| after as i64 - before as i64),
        log_ranges: log_start.into_iter().zip(log_end).collect(),
    })
}

fn log_sizes(mesh: &Mesh) -> Vec<u64> {
    mesh.logs()
        .iter()
        .map(|log| std::fs::metadata(log).map(|m| m.len()).unwrap_or(0))
        .collect()
}
