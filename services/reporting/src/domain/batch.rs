//! A batch of events folded at once. The model keeps, per callback, the snapshot of the highest
//! version seen, so only each callback's highest version in the batch is compared with the
//! model's fact: the versions between contribute nothing. The count changes of all the batch's
//! callbacks are summed per row, so each table takes one statement per batch.

use std::collections::{BTreeMap, HashMap};

use chrono_tz::Tz;
use switchboard_proto::events::v1::EventEnvelope;
use uuid::Uuid;

use crate::domain::{
    events::{self, Change},
    fact::{CallbackFact, Changes, Tally},
};

/// What a batch of events changes, read before anything is written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct EventBatch {
    /// Each callback's highest version in the batch, in id order.
    pub callbacks: Vec<CallbackFact>,
    /// The route changes with their versions, oldest first.
    pub routes: Vec<(i64, Change)>,
}

impl EventBatch {
    /// Reads every event of `events` (local days in `zone`); one that cannot be read fails the
    /// whole batch.
    pub fn read(events: &[EventEnvelope], zone: Tz) -> Result<Self, String> {
        let mut callbacks: BTreeMap<Uuid, CallbackFact> = BTreeMap::new();
        let mut routes = Vec::new();
        for event in events {
            let version = event.aggregate_version;
            match events::read(event)? {
                Change::Callback(snapshot) => {
                    if snapshot.callback_id != event.aggregate_id {
                        return Err(format!(
                            "{} snapshot of callback {} in an event of aggregate {}",
                            event.event_type, snapshot.callback_id, event.aggregate_id
                        ));
                    }
                    let fact = CallbackFact::from_snapshot(&snapshot, version, zone)?;
                    // Of equal versions the first delivered stays, as when folded one by one.
                    match callbacks.get(&fact.callback_id) {
                        Some(kept) if kept.version >= version => {}
                        _ => {
                            callbacks.insert(fact.callback_id, fact);
                        }
                    }
                }
                change @ (Change::Route(_) | Change::RouteDeleted(_)) => {
                    routes.push((version, change));
                }
                Change::Retained => {}
            }
        }
        routes.sort_by_key(|(version, _)| *version);
        Ok(Self {
            callbacks: callbacks.into_values().collect(),
            routes,
        })
    }
}

/// The facts of a batch that supersede the model's, and what they change in the counts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Superseded {
    /// The facts to write, in id order.
    pub facts: Vec<CallbackFact>,
    /// The count changes summed per row, zero changes left out, in key order.
    pub changes: Changes,
}

/// Which of `newest` (distinct callbacks, in id order) are newer than the model's facts
/// `stored`, and the counts they move.
pub fn supersede(newest: Vec<CallbackFact>, stored: &HashMap<Uuid, CallbackFact>) -> Superseded {
    let mut tally = Tally::default();
    let mut facts = Vec::with_capacity(newest.len());
    for fact in newest {
        let old = stored.get(&fact.callback_id);
        if old.is_some_and(|old| old.version >= fact.version) {
            continue;
        }
        tally.replace(old, &fact);
        facts.push(fact);
    }
    Superseded {
        facts,
        changes: tally.into_changes(),
    }
}

#[cfg(test)]
mod tests;
