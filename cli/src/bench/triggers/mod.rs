//! `switchboard bench triggers`: the evaluation of 1,000 triggers against one ticket in this
//! process, then end to end through a running mesh, from `IngestTicketMessage` to the trigger's
//! change on the ticket at a fixed rate.

mod e2e;
mod eval;

use std::time::Duration;

use crate::config::{Config, RoleSection};

pub struct Options {
    pub triggers: usize,
    pub repeat: usize,
    pub rate: u32,
    pub duration: Duration,
    pub warmup: Duration,
    pub gateway: String,
    pub admin: String,
}

#[allow(clippy::print_stdout)] // the figures are the command's output
pub async fn run(config: &Config, options: Options) -> anyhow::Result<()> {
    let eval = eval::run(options.triggers, options.repeat)?;
    let per_trigger_ns = eval.p50_us * 1_000.0 / eval.triggers as f64;
    println!(
        "eval  triggers={} fired={} p50_us={:.1} per_trigger_ns={per_trigger_ns:.0} \
         dry_run_p50_us={:.1} baseline_substring_p50_us={:.1} ratio={:.2}",
        eval.triggers,
        eval.fired,
        eval.p50_us,
        eval.dry_run_p50_us,
        eval.baseline_p50_us,
        eval.baseline_p50_us / eval.p50_us,
    );
    let settings = config
        .section::<RoleSection<switchboard_gateway::GatewaySettings>>("gateway")?
        .settings;
    let e2e = e2e::run(
        config,
        &settings,
        &options.gateway,
        &options.admin,
        options.rate,
        (options.duration, options.warmup),
    )
    .await?;
    let p50 = e2e::quantile(&e2e.latencies_ms, 0.5);
    let p99 = e2e::quantile(&e2e.latencies_ms, 0.99);
    let ingest_p50 = e2e::quantile(&e2e.ingest_ms, 0.5);
    println!(
        "e2e  rate_per_s={} sent={} changed={} timed={} errors={} p50_ms={p50:.2} \
         p99_ms={p99:.2} ingest_p50_ms={ingest_p50:.2} ingest_p99_ms={:.2} ratio={:.2}",
        options.rate,
        e2e.sent,
        e2e.changed,
        e2e.latencies_ms.len(),
        e2e.errors,
        e2e::quantile(&e2e.ingest_ms, 0.99),
        ingest_p50 / p50,
    );
    println!(
        "eval_1000_triggers_us={:.1} e2e_p50_ms={p50:.2} e2e_p99_ms={p99:.2} errors={}",
        eval.p50_us * 1_000.0 / eval.triggers as f64,
        e2e.errors
    );
    Ok(())
}
