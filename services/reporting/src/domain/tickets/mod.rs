//! The ticket model's pure logic: what a `ticket.*` event says (a snapshot at a version), and
//! what a batch of them changes in the facts, the states, the volume counts and the backlog
//! changes, given what the model holds. Folding is order-independent and idempotent: a version
//! already held changes nothing.

pub mod backlog;
pub mod fact;
pub mod query;
pub mod stats;

use std::collections::{BTreeMap, HashMap};

use chrono_tz::Tz;
use switchboard_platform::time::instant;
use switchboard_proto::{
    events::{
        Event,
        v1::{
            EventEnvelope, TicketAssigned, TicketCreated, TicketDeleted, TicketForwarded,
            TicketMessageAdded, TicketStatusChanged, TicketUpdated,
        },
    },
    ticket::v1::Ticket,
};
use uuid::Uuid;

use self::{
    backlog::{BacklogKey, BacklogTally, State},
    fact::{TicketFact, VolumeCounts, VolumeKey, VolumeTally},
};

/// The aggregate type of the ticket events.
pub const TICKET_AGGREGATE: &str = TicketCreated::AGGREGATE_TYPE;

/// The ticket event types the model folds.
pub const TICKET_EVENTS: [&str; 7] = [
    TicketCreated::EVENT_TYPE,
    TicketUpdated::EVENT_TYPE,
    TicketAssigned::EVENT_TYPE,
    TicketForwarded::EVENT_TYPE,
    TicketStatusChanged::EVENT_TYPE,
    TicketMessageAdded::EVENT_TYPE,
    TicketDeleted::EVENT_TYPE,
];

/// One version of one ticket, read from its event.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketVersion {
    pub fact: TicketFact,
    pub state: State,
}

fn unpack<E: Event>(envelope: &EventEnvelope) -> Result<E, String> {
    envelope.unpack::<E>().map_err(|e| e.to_string())
}

/// The snapshot `envelope` carries, and whether it is the deletion; `None` for an event type
/// the model does not fold.
fn snapshot(envelope: &EventEnvelope) -> Result<Option<(Option<Ticket>, bool)>, String> {
    Ok(Some(match envelope.event_type.as_str() {
        TicketCreated::EVENT_TYPE => (unpack::<TicketCreated>(envelope)?.ticket, false),
        TicketUpdated::EVENT_TYPE => (unpack::<TicketUpdated>(envelope)?.ticket, false),
        TicketAssigned::EVENT_TYPE => (unpack::<TicketAssigned>(envelope)?.ticket, false),
        TicketForwarded::EVENT_TYPE => (unpack::<TicketForwarded>(envelope)?.ticket, false),
        TicketStatusChanged::EVENT_TYPE => (unpack::<TicketStatusChanged>(envelope)?.ticket, false),
        TicketMessageAdded::EVENT_TYPE => (unpack::<TicketMessageAdded>(envelope)?.ticket, false),
        TicketDeleted::EVENT_TYPE => (unpack::<TicketDeleted>(envelope)?.ticket, true),
        _ => return Ok(None),
    }))
}

/// Reads a ticket event; `None` for one the model does not fold. A ticket event that cannot be
/// read is an error (retried, then dead-lettered).
pub fn read(envelope: &EventEnvelope) -> Result<Option<TicketVersion>, String> {
    let Some((ticket, deleted)) = snapshot(envelope)? else {
        return Ok(None);
    };
    let kind = &envelope.event_type;
    let ticket = ticket.ok_or_else(|| format!("{kind} carries no ticket snapshot"))?;
    if ticket.id != envelope.aggregate_id {
        return Err(format!(
            "{kind} snapshot of ticket {} in an event of aggregate {}",
            ticket.id, envelope.aggregate_id
        ));
    }
    let version = envelope.aggregate_version;
    let fact = TicketFact::from_snapshot(&ticket, version, deleted)?;
    // A change's time is the snapshot's; the deletion's is the event's.
    let at = if deleted {
        envelope.occur_time.as_ref().and_then(instant)
    } else {
        ticket.update_time.as_ref().and_then(instant)
    }
    .ok_or_else(|| format!("{kind} of ticket {} has no time", ticket.id))?;
    let state = State {
        version,
        at,
        status: if deleted { 0 } else { fact.status },
        group_id: fact.group_id.clone(),
        assignee_login: fact.assignee_login.clone(),
    };
    Ok(Some(TicketVersion { fact, state }))
}

/// What the model holds of the batch's tickets.
#[derive(Debug, Default)]
pub struct Stored {
    pub facts: HashMap<Uuid, TicketFact>,
    pub states: HashMap<Uuid, Vec<State>>,
}

/// What a batch writes.
#[derive(Debug, Default, PartialEq)]
pub struct Writes {
    /// New or replaced facts, in id order.
    pub facts: Vec<TicketFact>,
    /// New states, in id then version order.
    pub states: Vec<(Uuid, State)>,
    pub volume: Vec<(VolumeKey, VolumeCounts)>,
    pub backlog: Vec<(BacklogKey, i64)>,
}

/// Folds `versions` (any order, repeats allowed) into the model `stored`, days in `zone`.
pub fn fold(versions: Vec<TicketVersion>, stored: &Stored, zone: Tz) -> Writes {
    let mut per_ticket: BTreeMap<Uuid, BTreeMap<i64, TicketVersion>> = BTreeMap::new();
    for version in versions {
        // Of equal versions the first delivered stays.
        per_ticket
            .entry(version.fact.ticket_id)
            .or_default()
            .entry(version.fact.version)
            .or_insert(version);
    }
    let mut writes = Writes::default();
    let mut volume = VolumeTally::default();
    let mut backlog = BacklogTally::default();
    let no_states = Vec::new();
    for (ticket_id, incoming) in per_ticket {
        let held = stored.states.get(&ticket_id).unwrap_or(&no_states);
        let new: Vec<TicketVersion> = incoming
            .into_values()
            .filter(|v| !held.iter().any(|s| s.version == v.fact.version))
            .collect();
        if new.is_empty() {
            continue;
        }
        let mut merged = held.clone();
        merged.extend(new.iter().map(|v| v.state.clone()));
        backlog.add(held, zone, -1);
        backlog.add(&merged, zone, 1);
        writes
            .states
            .extend(new.iter().map(|v| (ticket_id, v.state.clone())));

        let old = stored.facts.get(&ticket_id);
        let first_solve = new
            .iter()
            .filter_map(|v| v.fact.first_solve_time)
            .chain(old.and_then(|f| f.first_solve_time))
            .min();
        let newest = new.iter().max_by_key(|v| v.fact.version).map(|v| &v.fact);
        let mut fact = match (old, newest) {
            (Some(old), Some(newest)) if newest.version <= old.version => old.clone(),
            (_, Some(newest)) => newest.clone(),
            (Some(old), None) => old.clone(),
            (None, None) => continue,
        };
        fact.first_solve_time = first_solve;
        if old == Some(&fact) {
            continue;
        }
        if let Some(old) = old {
            volume.add(old, zone, -1);
        }
        volume.add(&fact, zone, 1);
        writes.facts.push(fact);
    }
    writes.volume = volume.into_changes();
    writes.backlog = backlog.into_changes();
    writes
}

#[cfg(test)]
mod tests;
