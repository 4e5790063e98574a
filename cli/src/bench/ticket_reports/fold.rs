//! The fold rate: real ticket events (created, assigned, replied, solved; a `Ticket` snapshot
//! each) written to a scratch schema's outbox, published by the platform's relay to the events
//! exchange of a private RabbitMQ virtual host, then folded by a consuming reporting service in
//! this process on a scratch schema of its own. The queue is full before the consumer starts,
//! so the rate is the fold's alone.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use switchboard_platform::{
    Shutdown,
    config::AmqpConfig,
    db,
    events::{NewEvent, OutboxRelay, RelayConfig, outbox::outbox_row},
    service::Service,
    time::timestamp,
};
use switchboard_proto::{
    events::v1::{TicketAssigned, TicketCreated, TicketMessageAdded, TicketStatusChanged},
    ticket::v1::{Ticket, TicketChannel, TicketStatus},
};
use switchboard_reporting::{Application, ReportingSettings};
use tokio::process::Command;

use super::{
    Rng,
    fill::{AGENTS, agent_login, group_id},
};
use crate::{bench::in_process, config::Config};

/// Events per ticket: created, assigned, first reply, solved.
pub const VERSIONS: i64 = 4;
/// Outbox rows written per statement.
const OUTBOX_BATCH: usize = 5_000;

/// What the fold did.
pub struct Folded {
    pub events: i64,
    pub tickets: i64,
    pub publish_s: f64,
    /// From the consumer's start to the last event applied.
    pub total_s: f64,
    /// From the first event applied to the last.
    pub fold_s: f64,
    pub events_per_s: f64,
}

async fn rabbitmqctl(args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("rabbitmqctl").args(args).output().await?;
    anyhow::ensure!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// A RabbitMQ virtual host of the benchmark's own, so its queues never take a running mesh's
/// events; deleted by [`Vhost::delete`].
struct Vhost {
    name: String,
    amqp: AmqpConfig,
}

impl Vhost {
    async fn create(config: &AmqpConfig, name: &str) -> anyhow::Result<Self> {
        let url = config.url.expose_secret();
        let (server, _) = url
            .rsplit_once('/')
            .filter(|(server, _)| server.contains("//"))
            .ok_or_else(|| anyhow::anyhow!("amqp.url has no virtual host part"))?;
        let user = server
            .split_once("//")
            .and_then(|(_, rest)| rest.split_once('@'))
            .map_or("guest", |(credentials, _)| {
                credentials.split(':').next().unwrap_or("guest")
            });
        rabbitmqctl(&["add_vhost", name]).await?;
        rabbitmqctl(&["set_permissions", "-p", name, user, ".*", ".*", ".*"]).await?;
        Ok(Self {
            name: name.to_owned(),
            amqp: AmqpConfig {
                url: SecretString::from(format!("{server}/{name}")),
                ..config.clone()
            },
        })
    }

    async fn delete(self) -> anyhow::Result<()> {
        rabbitmqctl(&["delete_vhost", &self.name]).await
    }
}

/// A ticket's four snapshots, with the time of each.
fn lifecycle(rng: &mut Rng, n: i64) -> Vec<(NewEvent, DateTime<Utc>)> {
    let year = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let created = year + chrono::Duration::seconds(rng.below(365 * 86_400) as i64);
    let taken = created + chrono::Duration::seconds(60 + rng.below(3_600) as i64);
    let replied = taken + chrono::Duration::seconds(120 + rng.below(7_200) as i64);
    let solved = replied + chrono::Duration::seconds(600 + rng.below(86_400) as i64);
    let agent = n % AGENTS;
    let channel = [
        TicketChannel::Email,
        TicketChannel::HelpCenter,
        TicketChannel::External,
        TicketChannel::Phone,
        TicketChannel::Agent,
    ][rng.below(5) as usize];
    let id = uuid::Uuid::new_v4().to_string();
    let mut ticket = Ticket {
        id: id.clone(),
        subject: format!("문의 {n}"),
        status: TicketStatus::Unassigned as i32,
        group_id: group_id(agent % 10 + 1),
        channel: channel as i32,
        inquiry_type_id: format!("00000000-0000-4000-b000-{:012}", rng.below(8) + 1),
        mail_account_id: if channel == TicketChannel::Email {
            format!("00000000-0000-4000-c000-{:012}", rng.below(3) + 1)
        } else {
            String::new()
        },
        create_time: Some(timestamp(created)),
        update_time: Some(timestamp(created)),
        ..Default::default()
    };
    let mut events = Vec::with_capacity(VERSIONS as usize);
    events.push((
        NewEvent::new(
            &TicketCreated {
                ticket: Some(ticket.clone()),
                ..Default::default()
            },
            &id,
            1,
        ),
        created,
    ));
    ticket.status = TicketStatus::InProgress as i32;
    ticket.assignee_login = agent_login(agent);
    ticket.update_time = Some(timestamp(taken));
    events.push((
        NewEvent::new(
            &TicketAssigned {
                ticket: Some(ticket.clone()),
                ..Default::default()
            },
            &id,
            2,
        ),
        taken,
    ));
    ticket.first_reply_time = Some(timestamp(replied));
    ticket.update_time = Some(timestamp(replied));
    events.push((
        NewEvent::new(
            &TicketMessageAdded {
                ticket: Some(ticket.clone()),
                ..Default::default()
            },
            &id,
            3,
        ),
        replied,
    ));
    ticket.status = TicketStatus::Solved as i32;
    ticket.solve_time = Some(timestamp(solved));
    ticket.update_time = Some(timestamp(solved));
    events.push((
        NewEvent::new(
            &TicketStatusChanged {
                ticket: Some(ticket),
                ..Default::default()
            },
            &id,
            4,
        ),
        solved,
    ));
    events
}

/// Writes `tickets` tickets' events to the outbox of the schema `pool` uses, in the order of
/// their times (as a mesh would publish them); returns how many.
async fn write_outbox(pool: &PgPool, rng: &mut Rng, tickets: i64) -> anyhow::Result<i64> {
    let mut events: Vec<(NewEvent, DateTime<Utc>)> =
        (0..tickets).flat_map(|n| lifecycle(rng, n)).collect();
    events.sort_by_key(|(_, at)| *at);
    let total = events.len() as i64;
    for chunk in events.chunks(OUTBOX_BATCH) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(event, _)| outbox_row("ticket", event.clone()))
            .collect();
        sqlx::query(
            "INSERT INTO outbox (event_id, routing_key, envelope)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::bytea[])",
        )
        .bind(rows.iter().map(|r| r.event_id).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.routing_key.clone())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.envelope.clone()).collect::<Vec<_>>())
        .execute(pool)
        .await?;
    }
    Ok(total)
}

/// Publishes and folds about `events` ticket events in `schema` (created, then dropped).
#[allow(clippy::print_stdout)] // progress is part of the command's output
pub async fn run(
    config: &Config,
    schema: &str,
    events: i64,
    rng: &mut Rng,
) -> anyhow::Result<Folded> {
    let database = &config.database;
    let tickets = (events.max(1) + VERSIONS - 1) / VERSIONS;
    let admin = db::connect(database, "public").await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE"
    )))
    .execute(&admin)
    .await?;
    Application::SPEC.migrate(database, schema).await?;
    let pool = db::connect(database, schema).await?;
    let vhost = Vhost::create(
        &config.config.amqp,
        &format!("switchboard-bench-{schema}-{}", std::process::id()),
    )
    .await?;
    let result = fold(config, schema, &pool, &vhost.amqp, tickets, rng).await;
    let deleted = vhost.delete().await;
    pool.close().await;
    let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await;
    let folded = result?;
    deleted?;
    dropped?;
    Ok(folded)
}

#[allow(clippy::print_stdout)] // progress is part of the command's output
async fn fold(
    config: &Config,
    schema: &str,
    pool: &PgPool,
    amqp: &AmqpConfig,
    tickets: i64,
    rng: &mut Rng,
) -> anyhow::Result<Folded> {
    // The consumer declares its queues on the private virtual host when it is bound, so the
    // events published next wait there for it.
    let mut context = in_process(config, schema, Vec::new(), ReportingSettings::default());
    context.platform.amqp = amqp.clone();
    let service = Application::bind(context).await?;
    let stats = service
        .ticket_consumer_stats()
        .ok_or_else(|| anyhow::anyhow!("the reporting service consumes no ticket events"))?;

    let began = Instant::now();
    let total = write_outbox(pool, rng, tickets).await?;
    let relay = OutboxRelay::new(pool.clone(), amqp.clone(), RelayConfig::new(schema));
    let published = relay.stats();
    let (stop_relay, relay_shutdown) = Shutdown::new();
    let relay_task = tokio::spawn(relay.run(relay_shutdown));
    let deadline = Instant::now() + Duration::from_secs(600);
    while (published
        .published
        .load(std::sync::atomic::Ordering::Relaxed) as i64)
        < total
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the relay published only {} of {total} events in 600 s",
            published
                .published
                .load(std::sync::atomic::Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_relay.trigger();
    let _ = tokio::time::timeout(Duration::from_secs(10), relay_task).await;
    let publish_s = began.elapsed().as_secs_f64();
    println!("fold: {total} events of {tickets} tickets published in {publish_s:.1} s");

    let applied = || stats.applied.load(std::sync::atomic::Ordering::Relaxed) as i64;
    let (stop, shutdown) = Shutdown::new();
    let started = Instant::now();
    let task = tokio::spawn(service.run_until_stopped(shutdown));
    let mut first: Option<(Instant, i64)> = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    let last = loop {
        let now = applied();
        let at = Instant::now();
        if now > 0 && first.is_none() {
            first = Some((at, now));
        }
        if now >= total {
            break at;
        }
        if at > deadline {
            stop.trigger();
            anyhow::bail!("the consumer applied only {now} of {total} events in 600 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    stop.trigger();
    let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    let (first_at, first_count) = first.unwrap_or((started, 0));
    let fold_s = (last - first_at).as_secs_f64();
    let total_s = (last - started).as_secs_f64();

    // The fold must have built the model the events describe.
    let (facts, solved): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 4 AND version = 4) FROM ticket_facts",
    )
    .fetch_one(pool)
    .await?;
    let states: i64 = sqlx::query_scalar("SELECT count(*) FROM ticket_states")
        .fetch_one(pool)
        .await?;
    let counted: i64 = sqlx::query_scalar(
        "SELECT coalesce(applied_event_count, 0) FROM read_models WHERE name = 'tickets'",
    )
    .fetch_optional(pool)
    .await?
    .unwrap_or(0);
    anyhow::ensure!(
        facts == tickets && solved == tickets && states == total && counted == total,
        "the folded model disagrees with the events: {facts} facts ({solved} solved at \
         version 4), {states} states, {counted} applied, against {tickets} tickets and \
         {total} events"
    );
    let events_per_s = if fold_s > 0.0 {
        (total - first_count) as f64 / fold_s
    } else {
        f64::INFINITY
    };
    Ok(Folded {
        events: total,
        tickets,
        publish_s,
        total_s,
        fold_s,
        events_per_s,
    })
}
