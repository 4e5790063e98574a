use std::collections::{BTreeMap, HashMap};

use chrono::{TimeZone, Utc};
use switchboard_proto::{
    callback::v1::{AgentRef, CallbackState, IvrRoute},
    events::{
        Event,
        v1::{CallbackAssigned, CallbackSnapshot, EventEnvelope, IvrRouteChanged},
    },
};
use uuid::Uuid;

use super::*;
use crate::domain::fact::{CountKey, Counts, UnfinishedKey};

const ROUTE: &str = "0191d3b4-1111-7000-8000-000000000001";

fn seoul() -> Tz {
    "Asia/Seoul".parse().unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0191_d3b4_2222_7000_8000_0000_0000_0000 + n)
}

/// Callback `n` at `version`, in `state`, assigned to `agent` (under group g1) when given.
fn event(n: u128, version: i64, state: CallbackState, agent: Option<&str>) -> EventEnvelope {
    let request = Utc.with_ymd_and_hms(2025, 1, 31, 15, 0, 0).unwrap();
    let snapshot = CallbackSnapshot {
        callback_id: id(n).to_string(),
        ivr_route_id: ROUTE.into(),
        request_time: Some(switchboard_platform::time::timestamp(request)),
        state: state as i32,
        assignee: agent.map(|login| AgentRef {
            agent_login: login.into(),
            group_id: "g1".into(),
            display_name: String::new(),
        }),
        ..Default::default()
    };
    EventEnvelope {
        event_id: Uuid::new_v4().to_string(),
        event_type: CallbackAssigned::EVENT_TYPE.into(),
        aggregate_type: CallbackAssigned::AGGREGATE_TYPE.into(),
        aggregate_id: id(n).to_string(),
        aggregate_version: version,
        payload: Some(
            prost_types::Any::from_msg(&CallbackAssigned {
                callback: Some(snapshot),
                ..Default::default()
            })
            .unwrap(),
        ),
        ..Default::default()
    }
}

fn fact(event: &EventEnvelope) -> CallbackFact {
    EventBatch::read(std::slice::from_ref(event), seoul())
        .unwrap()
        .callbacks
        .remove(0)
}

/// What folding `events` one at a time onto `stored` changes: each event against the model
/// as the events before it left it, the changes summed per row (zero sums left out).
fn one_by_one(
    events: &[EventEnvelope],
    mut stored: HashMap<Uuid, CallbackFact>,
) -> (HashMap<Uuid, CallbackFact>, Changes) {
    let mut days: BTreeMap<CountKey, Counts> = BTreeMap::new();
    let mut unfinished: BTreeMap<UnfinishedKey, i64> = BTreeMap::new();
    for event in events {
        let new = fact(event);
        let old = stored.get(&new.callback_id);
        if old.is_some_and(|old| old.version >= new.version) {
            continue;
        }
        let changes = Tally::change(old, &new).into_changes();
        for (key, counts) in changes.days {
            let sum = days.entry(key).or_default();
            sum.completed += counts.completed;
            sum.unprocessed += counts.unprocessed;
        }
        for (key, n) in changes.unfinished {
            *unfinished.entry(key).or_default() += n;
        }
        stored.insert(new.callback_id, new);
    }
    let changes = Changes {
        days: days
            .into_iter()
            .filter(|(_, c)| *c != Counts::default())
            .collect(),
        unfinished: unfinished.into_iter().filter(|(_, n)| *n != 0).collect(),
    };
    (stored, changes)
}

fn in_batch(events: &[EventEnvelope], stored: &HashMap<Uuid, CallbackFact>) -> Superseded {
    supersede(EventBatch::read(events, seoul()).unwrap().callbacks, stored)
}

#[test]
fn of_several_versions_out_of_order_the_highest_is_kept_and_counted_once() {
    use CallbackState::*;
    let events = [
        event(1, 3, Completed, Some("lee")),
        event(1, 1, Registered, None),
        event(1, 4, Cancelled, None),
        event(1, 2, Unprocessed, Some("kim")),
    ];
    let batch = EventBatch::read(&events, seoul()).unwrap();
    assert_eq!(batch.callbacks.len(), 1);
    assert_eq!(batch.callbacks[0].version, 4);
    let superseded = supersede(batch.callbacks, &HashMap::new());
    assert_eq!(superseded.facts.len(), 1);
    // Cancelled counts nowhere: the versions before it leave nothing behind.
    assert_eq!(superseded.changes, Changes::default());
    assert_eq!(superseded.changes, one_by_one(&events, HashMap::new()).1);
}

#[test]
fn versions_not_newer_than_the_stored_fact_change_nothing() {
    use CallbackState::*;
    let stored_event = event(1, 3, Unprocessed, Some("kim"));
    let stored = HashMap::from([(id(1), fact(&stored_event))]);
    let older = [
        event(1, 1, Registered, None),
        event(1, 3, Completed, Some("kim")),
    ];
    assert_eq!(in_batch(&older, &stored), Superseded::default());
    // A newer one moves the counts from the stored fact, not from the batch's older versions.
    let mut events = older.to_vec();
    events.push(event(1, 4, Completed, Some("kim")));
    let superseded = in_batch(&events, &stored);
    assert_eq!(superseded.facts.len(), 1);
    assert_eq!(
        superseded.changes.unfinished,
        [(("kim".into(), "g1".into()), -1)]
    );
    assert!(superseded.changes.days.iter().all(|(_, c)| *c
        == Counts {
            completed: 1,
            unprocessed: -1
        }));
}

#[test]
fn the_counts_of_a_batch_are_the_sums_of_its_events_folded_one_by_one() {
    use CallbackState::*;
    let agents = [Some("kim"), Some("lee"), None];
    let states = [Registered, Unprocessed, Completed, Cancelled];
    // Twelve callbacks, five versions each, interleaved and out of order; half have a stored
    // fact, some of them newer than part of the batch.
    let mut events = Vec::new();
    for version in [2, 5, 1, 4, 3] {
        for n in 0..12u128 {
            let state = states[(n as usize + version as usize) % states.len()];
            let agent = match state {
                Registered | Cancelled => None,
                _ => agents[(n as usize * version as usize) % 2],
            };
            events.push(event(n, version, state, agent));
        }
    }
    let stored: HashMap<Uuid, CallbackFact> = (0..12u128)
        .step_by(2)
        .map(|n| {
            let stored = event(n, (n % 5) as i64 + 1, Unprocessed, agents[n as usize % 3]);
            (id(n), fact(&stored))
        })
        .collect();
    let (model, expected) = one_by_one(&events, stored.clone());
    let superseded = in_batch(&events, &stored);
    assert_eq!(superseded.changes, expected);
    assert!(!expected.days.is_empty() && !expected.unfinished.is_empty());
    // The facts written are those the one-by-one fold ends with, where it changed any.
    for written in &superseded.facts {
        assert_eq!(Some(written), model.get(&written.callback_id));
    }
    let changed = model
        .values()
        .filter(|f| stored.get(&f.callback_id) != Some(*f))
        .count();
    assert_eq!(superseded.facts.len(), changed);
    assert!(superseded.facts.is_sorted_by_key(|f| f.callback_id));
}

#[test]
fn one_bad_event_fails_the_batch() {
    use CallbackState::*;
    let mut stray = event(2, 1, Registered, None);
    stray.aggregate_id = id(3).to_string();
    let error = EventBatch::read(&[event(1, 1, Registered, None), stray], seoul()).unwrap_err();
    assert!(error.contains("in an event of aggregate"), "{error}");
    let mut unreadable = event(2, 1, Registered, None);
    unreadable.payload = None;
    assert!(EventBatch::read(&[unreadable], seoul()).is_err());
}

#[test]
fn route_changes_are_kept_in_version_order() {
    let route = |version: i64, code: &str| EventEnvelope {
        event_type: IvrRouteChanged::EVENT_TYPE.into(),
        aggregate_version: version,
        payload: Some(
            prost_types::Any::from_msg(&IvrRouteChanged {
                ivr_route: Some(IvrRoute {
                    code: code.into(),
                    ..Default::default()
                }),
            })
            .unwrap(),
        ),
        ..Default::default()
    };
    let batch = EventBatch::read(&[route(2, "b"), route(1, "a")], seoul()).unwrap();
    let codes: Vec<_> = batch
        .routes
        .iter()
        .map(|(version, change)| match change {
            Change::Route(route) => (*version, route.code.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, [(1, "a"), (2, "b")]);
    assert!(batch.callbacks.is_empty());
}
