//! Folding consumed events into the models, inside the consumer's transaction (the platform's
//! inbox makes each event count once): the events are retained, the callbacks' facts and day
//! counts move together, and the model's freshness advances. A batch takes the same statements
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
    },
    store::{
        counts, facts, log,
        routes::{self, RouteRow},
        status, unfinished,
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
        let batch = EventBatch::read(events, self.zone).map_err(HandlerError)?;
        let newest_callback_time = newest_callback_time(events).map_err(HandlerError)?;
        log::retain(tx, events).await.map_err(HandlerError)?;
        apply_callbacks(tx, batch.callbacks).await?;
        apply_routes(tx, &batch.routes).await?;
        status::record_applied(tx, status::CALLBACKS, events.len(), newest_callback_time).await?;
        Ok(())
    }
}

/// The newest time of `events`' callback events: freshness is about callbacks, so a route
/// event does not make the counts newer.
fn newest_callback_time(events: &[EventEnvelope]) -> Result<Option<DateTime<Utc>>, String> {
    let mut newest = None;
    for event in events {
        let time = log::occur_time(event)?;
        if event.aggregate_type == events::CALLBACK_AGGREGATE {
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
