//! `switchboard reporting rebuild`: the models built again from the retained event log, for
//! when their shape (or the time zone) changes. Runs in one transaction: consumers wait for it
//! (their events stay queued in RabbitMQ), and reports wait for the new model rather than see a
//! half-built one.

use std::time::{Duration, Instant};

use prost::Message;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::calendar;
use switchboard_proto::events::v1::EventEnvelope;

use crate::{
    domain::{
        batch::EventBatch,
        events::{self, Change},
        fact::{CallbackFact, Tally},
        tickets::{self, TICKET_AGGREGATE, backlog::BacklogTally, fact::VolumeTally},
    },
    fold,
    store::{
        counts, facts, log, status, ticket_backlog, ticket_facts, ticket_states, ticket_volume,
        unfinished,
    },
};

/// Events read from the log, and rows written, per statement.
const BATCH: i64 = 5_000;

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    /// Events in the retained log.
    pub events: i64,
    /// Callbacks in the new model.
    pub callbacks: u64,
    /// Tickets in the new model.
    pub tickets: u64,
    /// Count rows written.
    pub count_rows: usize,
    pub elapsed: Duration,
}

/// Replaces the models of the schema `pool` uses with ones built from its event log, with
/// local days in `time_zone`.
pub async fn rebuild(pool: &PgPool, time_zone: &str) -> anyhow::Result<Rebuilt> {
    let zone = calendar::zone(time_zone)?;
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // New events wait (SHARE blocks the consumers' inserts, not reads) until the new model is in.
    sqlx::query("LOCK TABLE event_log IN SHARE MODE")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "TRUNCATE callback_facts, callback_day_counts, agent_unfinished, ivr_routes,
             ticket_facts, ticket_states, ticket_volume_counts, ticket_volume_group_counts,
             ticket_backlog_changes",
    )
    .execute(&mut *tx)
    .await?;
    let callbacks = replay_callbacks(&mut tx, zone).await?;
    replay_routes(&mut tx, zone).await?;
    let count_rows = recount(&mut tx).await?;
    let callback_types = [events::CALLBACK_AGGREGATE, events::ROUTE_AGGREGATE];
    let (callback_events, newest) =
        log::extent(&mut tx, &callback_types, events::CALLBACK_AGGREGATE).await?;
    status::rebuilt(
        &mut tx,
        status::CALLBACKS,
        time_zone,
        callback_events,
        newest,
    )
    .await?;
    let tickets = replay_tickets(&mut tx, zone).await?;
    let (ticket_events, newest) =
        log::extent(&mut tx, &[TICKET_AGGREGATE], TICKET_AGGREGATE).await?;
    status::rebuilt(&mut tx, status::TICKETS, time_zone, ticket_events, newest).await?;
    tx.commit().await?;
    Ok(Rebuilt {
        events: callback_events + ticket_events,
        callbacks,
        tickets,
        count_rows,
        elapsed: started.elapsed(),
    })
}

/// Each callback's newest retained snapshot becomes its fact.
async fn replay_callbacks(tx: &mut PgConnection, zone: chrono_tz::Tz) -> anyhow::Result<u64> {
    let mut after = String::new();
    let mut written = 0;
    loop {
        let batch = log::newest_per_aggregate(
            tx,
            events::CALLBACK_AGGREGATE,
            &events::CALLBACK_EVENTS,
            &after,
            BATCH,
        )
        .await?;
        let Some((last, _)) = batch.last() else {
            return Ok(written);
        };
        after = last.clone();
        let mut batch_facts = Vec::with_capacity(batch.len());
        for (id, event) in &batch {
            match events::read(event).map_err(|e| anyhow::anyhow!("callback {id}: {e}"))? {
                Change::Callback(snapshot) => batch_facts.push(
                    CallbackFact::from_snapshot(&snapshot, event.aggregate_version, zone)
                        .map_err(|e| anyhow::anyhow!("callback {id}: {e}"))?,
                ),
                _ => tracing::warn!(callback = %id, event_type = %event.event_type,
                    "the newest retained event carries no snapshot; callback left out"),
            }
        }
        facts::save(tx, &batch_facts).await?;
        written += batch_facts.len() as u64;
    }
}

/// Every ticket's retained events, folded a page of tickets at a time (all of a ticket's
/// versions in one fold, as the consumer would have in the end).
async fn replay_tickets(tx: &mut PgConnection, zone: chrono_tz::Tz) -> anyhow::Result<u64> {
    let mut after = String::new();
    let mut written = 0;
    loop {
        let page = log::events_of_aggregates(tx, TICKET_AGGREGATE, &after, BATCH / 5).await?;
        let Some((last, _)) = page.last() else {
            return Ok(written);
        };
        after = last.clone();
        let mut versions = Vec::with_capacity(page.len());
        for (id, event) in &page {
            versions.extend(tickets::read(event).map_err(|e| anyhow::anyhow!("ticket {id}: {e}"))?);
        }
        let tickets: std::collections::HashSet<_> =
            versions.iter().map(|v| v.fact.ticket_id).collect();
        written += tickets.len() as u64;
        fold::apply_tickets(tx, versions, zone).await?;
    }
}

/// Route events are few: every one is applied again, oldest first, as the consumer did.
async fn replay_routes(tx: &mut PgConnection, zone: chrono_tz::Tz) -> anyhow::Result<()> {
    let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
        "SELECT envelope FROM event_log WHERE aggregate_type = 'ivr_route'
         ORDER BY aggregate_id, aggregate_version",
    )
    .fetch_all(&mut *tx)
    .await?;
    let events = rows
        .iter()
        .map(|(bytes,)| EventEnvelope::decode(bytes.as_slice()))
        .collect::<Result<Vec<_>, _>>()?;
    let batch =
        EventBatch::read(&events, zone).map_err(|e| anyhow::anyhow!("route events: {e}"))?;
    fold::apply_routes(tx, &batch.routes)
        .await
        .map_err(|e| anyhow::anyhow!("route events: {e}"))?;
    Ok(())
}

/// Rewrites the day and unfinished counts from the facts (empty count tables are expected);
/// returns the day-count rows written. Also used to load a generated model (the benchmark).
pub async fn recount(tx: &mut PgConnection) -> anyhow::Result<usize> {
    let mut tally = Tally::default();
    let mut after = None;
    loop {
        let page = facts::page(tx, after, BATCH * 4).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.callback_id);
        for fact in &page {
            tally.add(fact, 1);
        }
    }
    let changes = tally.into_changes();
    for chunk in changes.days.chunks(BATCH as usize * 4) {
        counts::add(tx, chunk).await?;
    }
    for chunk in changes.unfinished.chunks(BATCH as usize * 4) {
        unfinished::add(tx, chunk).await?;
    }
    Ok(changes.days.len())
}

/// Rewrites the ticket volume counts and backlog changes from the ticket facts and states
/// (empty count tables are expected); returns the rows written. For a model loaded directly
/// into the facts and states tables (the benchmark).
pub async fn recount_tickets(tx: &mut PgConnection, zone: chrono_tz::Tz) -> anyhow::Result<usize> {
    let mut volume = VolumeTally::default();
    let mut backlog = BacklogTally::default();
    let mut after = uuid::Uuid::nil();
    loop {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
            "SELECT ticket_id FROM ticket_facts WHERE ticket_id > $1 ORDER BY ticket_id LIMIT $2",
        )
        .bind(after)
        .bind(BATCH * 4)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = ids.last() else { break };
        after = *last;
        let facts = ticket_facts::get(tx, &ids).await?;
        let states = ticket_states::get(tx, &ids).await?;
        for fact in facts.values() {
            volume.add(fact, zone, 1);
        }
        for states in states.values() {
            backlog.add(states, zone, 1);
        }
    }
    let volume = volume.into_changes();
    let backlog = backlog.into_changes();
    for chunk in volume.chunks(BATCH as usize * 4) {
        ticket_volume::add(tx, chunk).await?;
    }
    for chunk in backlog.chunks(BATCH as usize * 4) {
        ticket_backlog::add(tx, chunk).await?;
    }
    Ok(volume.len() + backlog.len())
}
