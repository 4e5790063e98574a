//! `switchboard bench pipeline`: IVR pushes through the gateway of a running mesh, closed loop,
//! while the reporting model is watched every second: how many of the run's callbacks it holds,
//! how far behind the pushes it is, and how long it takes to catch up after the load.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sqlx::PgPool;
use switchboard_gateway::GatewaySettings;
use switchboard_platform::db;

use super::{
    ivr::{self, Ivr},
    model, run_closed_loop,
};
use crate::config::{Config, RoleSection};

/// The definitions of the figures, printed by `--help` and in the README.
pub const DEFINITIONS: &str = "\
model size: the run's callbacks in the reporting model (reporting.callback_facts, looked up \
by the ids the pushes were answered with). \
lag: now minus the time at which the pushes answered OK first numbered the model's size (how \
far back in time the model is); 0 when the model holds every OK push. \
applied_per_s: events the reporting model applied per second during the load \
(reporting.read_models.applied_event_count). \
catch_up_s: from the end of the load until the model holds every OK push. \
lost: pushes answered OK whose callback is not in the model after the catch-up.";

/// The pushes answered OK so far, in the order they were answered.
#[derive(Default)]
struct Answered {
    times: Vec<Instant>,
    ids: Vec<uuid::Uuid>,
    /// Failed pushes by gRPC code.
    errors: BTreeMap<String, u64>,
}

/// What the model is known to hold of the answered pushes.
#[derive(Default)]
struct Watch {
    /// Answered ids taken from [`Answered`] so far.
    taken: usize,
    seen: HashSet<uuid::Uuid>,
    /// Answered ids the model did not hold at the last look, oldest first.
    pending: Vec<uuid::Uuid>,
    held: usize,
}

impl Watch {
    /// Takes the newly answered ids and looks up the pending ones, oldest first. The model
    /// applies events about in the order they were pushed, so the look stops at the first chunk
    /// it holds none of: each second costs about the ids applied since the last, however far
    /// behind the model is (a gap of a whole chunk shows as lag until the final check).
    async fn look(&mut self, pool: &PgPool, answered: &Mutex<Answered>) -> anyhow::Result<()> {
        let new: Vec<_> = {
            let answered = answered.lock().expect("answered pushes");
            answered.ids[self.taken..].to_vec()
        };
        self.taken += new.len();
        self.pending
            .extend(new.into_iter().filter(|id| self.seen.insert(*id)));
        let mut found = HashSet::new();
        for chunk in self.pending.chunks(model::CHUNK) {
            let held = model::held_chunk(pool, chunk).await?;
            if held.is_empty() {
                break;
            }
            found.extend(held);
        }
        self.pending.retain(|id| !found.contains(id));
        self.held += found.len();
        Ok(())
    }

    /// Seconds the model is behind at `now`.
    fn lag(&self, answered: &Answered, start: Instant, now: Instant) -> f64 {
        if self.pending.is_empty() {
            return 0.0;
        }
        let reached = match self.held {
            0 => start,
            held => answered.times[held - 1],
        };
        now.saturating_duration_since(reached).as_secs_f64()
    }
}

/// Runs the benchmark and prints its figures; the last line is the summary.
#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(
    config: &Config,
    gateway: &str,
    admin: &str,
    concurrency: usize,
    duration: Duration,
    catch_up_timeout: Duration,
) -> anyhow::Result<()> {
    ivr::vacuum_when_autovacuum_is_off(config).await?;
    let settings = config
        .section::<RoleSection<GatewaySettings>>("gateway")?
        .settings;
    let ivr = Ivr::create(&settings, gateway, admin, &ivr::run_id()).await?;
    let mut database = config.database.clone();
    database.max_connections = 2;
    let pool = db::connect(&database, "reporting").await?;
    println!(
        "pipeline: CreateCallback through {gateway}, closed loop, concurrency {concurrency}, {} s; the reporting model sampled every second",
        duration.as_secs()
    );

    let answered = Arc::new(Mutex::new(Answered::default()));
    let start = Instant::now();
    let applied_before = model::applied_events(&pool).await?;
    let load = {
        let answered = answered.clone();
        tokio::spawn(run_closed_loop(
            concurrency,
            Duration::ZERO,
            duration,
            move |worker, seq| {
                let (ivr, answered) = (ivr.clone(), answered.clone());
                async move {
                    let result = ivr.push(worker, seq, None).await;
                    let mut answered = answered.lock().expect("answered pushes");
                    match result.as_ref().map(ivr::callback_id) {
                        Ok(Some(id)) => {
                            answered.times.push(Instant::now());
                            answered.ids.push(id);
                            true
                        }
                        Ok(None) => {
                            *answered
                                .errors
                                .entry("OK without an id".into())
                                .or_default() += 1;
                            false
                        }
                        Err(status) => {
                            *answered
                                .errors
                                .entry(format!("{:?}", status.code()))
                                .or_default() += 1;
                            false
                        }
                    }
                }
            },
        ))
    };

    let mut watch = Watch::default();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.tick().await;
    let (mut answered_before, mut max_lag) = (0usize, 0f64);
    let mut applied_before_tick = applied_before;
    let mut load_end: Option<(Instant, i64)> = None;
    let caught_up = loop {
        ticks.tick().await;
        let loading = !load.is_finished();
        watch.look(&pool, &answered).await?;
        let now = Instant::now();
        let applied = model::applied_events(&pool).await?;
        let (ok, lag) = {
            let answered = answered.lock().expect("answered pushes");
            (answered.ids.len(), watch.lag(&answered, start, now))
        };
        max_lag = max_lag.max(lag);
        println!(
            "t={:>4.0} pushes_per_s={:>5} model={:>7} lag_s={lag:>6.1} applied_per_s={:>5}",
            now.duration_since(start).as_secs_f64(),
            ok - answered_before,
            watch.held,
            applied - applied_before_tick,
        );
        (answered_before, applied_before_tick) = (ok, applied);
        if loading {
            continue;
        }
        let (ended, _) = *load_end.get_or_insert((start + duration, applied));
        if watch.pending.is_empty() {
            break Some(now.duration_since(ended));
        }
        if now.duration_since(ended) >= catch_up_timeout {
            break None;
        }
    };
    let pushes = load.await?;
    let (_, applied_at_end) = load_end.unwrap_or((start + duration, applied_before_tick));
    let lost = model::held(&pool, &watch.pending).await?;
    let lost = watch.pending.len() - lost.len();
    let answered = answered.lock().expect("answered pushes");
    println!("{DEFINITIONS}");
    println!(
        "pushes={} ok={} errors={:?}",
        pushes.calls,
        answered.ids.len(),
        answered.errors
    );
    let catch_up = match caught_up {
        Some(took) => format!("{:.1}", took.as_secs_f64()),
        None => {
            println!(
                "the model had not caught up {} s after the load",
                catch_up_timeout.as_secs()
            );
            "not_caught_up".into()
        }
    };
    let seconds = duration.as_secs_f64();
    println!(
        "pushes_per_s={:.0} applied_per_s={:.0} max_lag_s={max_lag:.1} catch_up_s={catch_up} lost={lost}",
        answered.ids.len() as f64 / seconds,
        (applied_at_end - applied_before) as f64 / seconds,
    );
    Ok(())
}
