//! Folding consumed events into the models, inside the consumer's transaction (the platform's
//! inbox makes each event count once): the event is retained, the callback's fact and day
//! counts move together, and the model's freshness advances.

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
        events::{self, Change},
        fact::{CallbackFact, Tally},
    },
    store::{
        counts, facts, log,
        routes::{self, RouteRow},
        status, unfinished,
    },
};

/// The reporting service's event handler.
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
        let occur_time = log::occur_time(event).map_err(HandlerError)?;
        log::retain(tx, event).await.map_err(HandlerError)?;
        apply(tx, event, self.zone).await?;
        // Freshness is about callbacks: a route event does not make the counts newer.
        let callback_time =
            (event.aggregate_type == events::CALLBACK_AGGREGATE).then_some(occur_time);
        status::record_applied(tx, status::CALLBACKS, callback_time).await?;
        Ok(())
    }
}

/// Applies one event's change to the models (not retaining it, not counting it).
pub async fn apply(
    tx: &mut PgConnection,
    event: &EventEnvelope,
    zone: Tz,
) -> Result<(), HandlerError> {
    let version = event.aggregate_version;
    match events::read(event).map_err(HandlerError)? {
        Change::Callback(snapshot) => {
            if snapshot.callback_id != event.aggregate_id {
                return Err(HandlerError(format!(
                    "{} snapshot of callback {} in an event of aggregate {}",
                    event.event_type, snapshot.callback_id, event.aggregate_id
                )));
            }
            let fact =
                CallbackFact::from_snapshot(&snapshot, version, zone).map_err(HandlerError)?;
            apply_fact(tx, fact).await?;
        }
        Change::Route(route) => routes::save(tx, &route_row(route, version)?).await?,
        Change::RouteDeleted(id) => routes::delete(tx, route_id(&id)?, version).await?,
        Change::Retained => {}
    }
    Ok(())
}

/// Keeps `fact` if it is newer than the model's, moving the callback's counts with it; returns
/// whether it was newer.
pub async fn apply_fact(tx: &mut PgConnection, fact: CallbackFact) -> Result<bool> {
    facts::lock(tx, fact.callback_id).await?;
    let old = facts::get(tx, fact.callback_id).await?;
    if old.as_ref().is_some_and(|old| old.version >= fact.version) {
        return Ok(false);
    }
    let changes = Tally::change(old.as_ref(), &fact).into_changes();
    facts::save(tx, std::slice::from_ref(&fact)).await?;
    counts::add(tx, &changes.days).await?;
    unfinished::add(tx, &changes.unfinished).await?;
    Ok(true)
}

fn route_id(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("route id {text:?} is not a UUID")))
}

fn route_row(route: IvrRoute, version: i64) -> Result<RouteRow, HandlerError> {
    Ok(RouteRow {
        id: route_id(&route.id)?,
        version,
        code: route.code,
        display_name: route.display_name,
        deleted: false,
    })
}
