//! Folding consumed events into the models, inside the consumer's transaction (the platform's
//! inbox makes each event count once): the events are retained, the callbacks' facts and day
//! counts move together, so do the tickets' facts, states, volume counts and backlog changes,
//! and each model's freshness advances. A batch takes the same statements
//! whatever its size, one per table; a single event is a batch of one, so the consumer's
//! retries take the same path.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgConnection;
use switchboard_platform::{
    error::Result,
    events::{EventHandler, HandlerError},
};
use switchboard_proto::{callback::v1::IvrRoute, events::v1::EventEnvelope};
use uuid::Uuid;

use crate::{
    domain::{
        batch::{self, EventBatch},
        events::{self, Change},
        fact::CallbackFact,
        tickets::{self, TICKET_AGGREGATE, TicketVersion},
    },
    store::{
        counts, facts, log,
        routes::{self, RouteRow},
        status, ticket_backlog, ticket_facts, ticket_states, ticket_volume, unfinished,
    },
};

/// The reporting service's event handler. The model does not depend on the order events are
/// folded in, so several workers may fold one queue at once.
pub struct Fold {
    zone: Tz,
}

impl Fold {
    pub fn new(zone: Tz) -> Self {
        Self { zone }
    }
}

impl EventHandler for Fold {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(
        &self,
        tx: &mut PgConnection,
        events: &[EventEnvelope],
    ) -> Result<(), HandlerError> {
        // Ticket events are not the callback model's: it reads them as only retained.
        let batch = EventBatch::read(events, self.zone).map_err(HandlerError)?;
        let newest_callback_time = newest_time(events, events::CALLBACK_AGGREGATE)?;
        let mut ticket_versions = Vec::new();
        for event in events {
            ticket_versions.extend(tickets::read(event).map_err(HandlerError)?);
        }
        log::retain(tx, events).await.map_err(HandlerError)?;
        apply_callbacks(tx, batch.callbacks).await?;
        apply_routes(tx, &batch.routes).await?;
        let ticket_events = events
            .iter()
            .filter(|e| e.aggregate_type == TICKET_AGGREGATE)
            .count();
        if ticket_events > 0 {
            let newest = newest_time(events, TICKET_AGGREGATE)?;
            apply_tickets(tx, ticket_versions, self.zone).await?;
            status::record_applied(tx, status::TICKETS, ticket_events, newest).await?;
        }
        let other_events = events.len() - ticket_events;
        if other_events > 0 {
            status::record_applied(tx, status::CALLBACKS, other_events, newest_callback_time)
                .await?;
        }
        Ok(())
    }
}

/// Folds `versions` into the ticket model: the tickets are locked, their facts and states read,
/// and what the versions change written, one statement per table.
pub async fn apply_tickets(
    tx: &mut PgConnection,
    versions: Vec<TicketVersion>,
    zone: Tz,
) -> Result<()> {
    if versions.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<Uuid> = versions.iter().map(|v| v.fact.ticket_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ticket_facts::lock(tx, &ids).await?;
    let stored = tickets::Stored {
        facts: ticket_facts::get(tx, &ids).await?,
        states: ticket_states::get(tx, &ids).await?,
    };
    let writes = tickets::fold(versions, &stored, zone);
    ticket_facts::save(tx, &writes.facts, zone).await?;
    ticket_states::add(tx, &writes.states).await?;
    ticket_volume::add(tx, &writes.volume).await?;
    ticket_backlog::add(tx, &writes.backlog).await?;
    Ok(())
}

/// The newest time of `events`' events of `aggregate_type`: a model's freshness is about its
/// own events (a route event does not make the callback counts newer).
fn newest_time(
    events: &[EventEnvelope],
    aggregate_type: &str,
) -> Result<Option<DateTime<Utc>>, HandlerError> {
    let mut newest = None;
    for event in events {
        let time = log::occur_time(event).map_err(HandlerError)?;
        if event.aggregate_type == aggregate_type {
            newest = newest.max(Some(time));
        }
    }
    Ok(newest)
}

/// Keeps each of `newest` (distinct callbacks, in id order) that is newer than the model's
/// fact, moving the callbacks' counts with them.
async fn apply_callbacks(tx: &mut PgConnection, newest: Vec<CallbackFact>) -> Result<()> {
    if newest.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = newest.iter().map(|fact| fact.callback_id).collect();
    facts::lock(tx, &ids).await?;
    let stored = facts::get(tx, &ids).await?;
    let superseded = batch::supersede(newest, &stored);
    facts::save(tx, &superseded.facts).await?;
    counts::add(tx, &superseded.changes.days).await?;
    unfinished::add(tx, &superseded.changes.unfinished).await?;
    Ok(())
}

/// Applies route changes (few: one statement each), given with their versions.
pub async fn apply_routes(
    tx: &mut PgConnection,
    changes: &[(i64, Change)],
) -> Result<(), HandlerError> {
    for (version, change) in changes {
        match change {
            Change::Route(route) => routes::save(tx, &route_row(route, *version)?).await?,
            Change::RouteDeleted(id) => routes::delete(tx, route_id(id)?, *version).await?,
            Change::Callback(_) | Change::Retained => {}
        }
    }
    Ok(())
}

fn route_id(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("route id {text:?} is not a UUID")))
}

fn route_row(route: &IvrRoute, version: i64) -> Result<RouteRow, HandlerError> {
    Ok(RouteRow {
        id: route_id(&route.id)?,
        version,
        code: route.code.clone(),
        display_name: route.display_name.clone(),
        deleted: false,
    })
}
