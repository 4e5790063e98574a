use chrono::{Duration, TimeZone, Utc};
use switchboard_platform::time::timestamp;
use switchboard_proto::ticket::v1::{TicketChannel, TicketStatus};

use super::*;

const SEOUL: Tz = chrono_tz::Asia::Seoul;

/// The model in memory, written as the store writes it.
#[derive(Debug, Default, PartialEq)]
struct Model {
    facts: BTreeMap<Uuid, TicketFact>,
    states: BTreeMap<Uuid, Vec<State>>,
    volume: BTreeMap<VolumeKey, VolumeCounts>,
    backlog: BTreeMap<BacklogKey, i64>,
}

impl Model {
    fn stored(&self) -> Stored {
        Stored {
            facts: self.facts.iter().map(|(k, v)| (*k, v.clone())).collect(),
            states: self.states.iter().map(|(k, v)| (*k, v.clone())).collect(),
        }
    }

    fn apply(&mut self, writes: Writes) {
        for fact in writes.facts {
            self.facts.insert(fact.ticket_id, fact);
        }
        for (id, state) in writes.states {
            self.states.entry(id).or_default().push(state);
        }
        for (key, counts) in writes.volume {
            self.volume.entry(key).or_default().add(counts, 1);
        }
        for (key, delta) in writes.backlog {
            *self.backlog.entry(key).or_default() += delta;
        }
        self.volume.retain(|_, c| !c.is_zero());
        self.backlog.retain(|_, d| *d != 0);
        for states in self.states.values_mut() {
            states.sort_by_key(|s| s.version);
        }
    }

    fn fold(&mut self, versions: Vec<TicketVersion>) {
        let writes = fold(versions, &self.stored(), SEOUL);
        self.apply(writes);
    }
}

/// A ticket's life: created, taken, solved, re-opened by the customer, solved again, closed;
/// one version every `hours`.
fn life(n: u128, hours: i64) -> Vec<TicketVersion> {
    use TicketStatus::*;
    let id = Uuid::from_u128(n);
    let created = Utc.with_ymd_and_hms(2025, 1, 30, 1, 0, 0).unwrap() + Duration::hours(n as i64);
    let at = |v: i64| created + Duration::hours(hours * (v - 1));
    let steps = [
        (Unassigned, ""),
        (InProgress, "kim"),
        (Solved, "kim"),
        (InProgress, "kim"),
        (Solved, "lee"),
        (Closed, "lee"),
    ];
    steps
        .iter()
        .enumerate()
        .map(|(index, (status, assignee))| {
            let version = index as i64 + 1;
            let solve = match version {
                1 | 2 => None,
                3 | 4 => Some(at(3)),
                _ => Some(at(5)),
            };
            let ticket = Ticket {
                id: id.to_string(),
                status: *status as i32,
                channel: TicketChannel::Email as i32,
                group_id: "g".into(),
                assignee_login: (*assignee).into(),
                create_time: Some(timestamp(created)),
                update_time: Some(timestamp(at(version))),
                first_reply_time: (version >= 3).then(|| timestamp(at(3))),
                solve_time: solve.map(timestamp),
                close_time: (version == 6).then(|| timestamp(at(6))),
                version,
                ..Default::default()
            };
            let envelope = EventEnvelope {
                event_type: TicketUpdated::EVENT_TYPE.into(),
                aggregate_id: id.to_string(),
                aggregate_version: version,
                payload: Some(
                    prost_types::Any::from_msg(&TicketUpdated {
                        ticket: Some(ticket),
                        ..Default::default()
                    })
                    .unwrap(),
                ),
                ..Default::default()
            };
            read(&envelope).unwrap().unwrap()
        })
        .collect()
}

#[test]
fn any_order_any_batches_and_repeats_give_the_model_of_one_ordered_fold() {
    let all: Vec<TicketVersion> = (1..=6).flat_map(|n| life(n, 7 * n as i64)).collect();
    let mut ordered = Model::default();
    ordered.fold(all.clone());

    // A fixed shuffle (deterministic), every version twice, in batches of 1 to 5.
    let mut deliveries: Vec<TicketVersion> = all.iter().chain(all.iter()).cloned().collect();
    let mut seed = 7_u64;
    for i in (1..deliveries.len()).rev() {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        deliveries.swap(i, (seed >> 33) as usize % (i + 1));
    }
    let mut shuffled = Model::default();
    let mut rest = deliveries.as_slice();
    let mut size = 1;
    while !rest.is_empty() {
        let (batch, tail) = rest.split_at(size.min(rest.len()));
        shuffled.fold(batch.to_vec());
        rest = tail;
        size = size % 5 + 1;
    }
    assert_eq!(shuffled, ordered);

    // The facts: closed, first solve kept from version 3, the latest solve from version 5.
    let fact = &ordered.facts[&Uuid::from_u128(1)];
    assert_eq!(fact.version, 6);
    assert_eq!(fact.first_resolution_seconds(), Some(2.0 * 7.0 * 3600.0));
    assert_eq!(fact.final_resolution_seconds(), Some(4.0 * 7.0 * 3600.0));
    // Each ticket is created once, solved once (latest solve), closed once.
    let total = ordered
        .volume
        .values()
        .fold(VolumeCounts::default(), |mut sum, c| {
            sum.add(*c, 1);
            sum
        });
    assert_eq!(total, VolumeCounts::new(6, 6, 6));
    // Every ticket is closed in the end: the backlog changes of each row sum to zero.
    let mut per_row: BTreeMap<(i16, String), i64> = BTreeMap::new();
    for (key, delta) in &ordered.backlog {
        *per_row
            .entry((key.status, key.assignee_login.clone()))
            .or_default() += delta;
    }
    assert!(per_row.values().all(|sum| *sum == 0), "{per_row:?}");
    assert!(!ordered.backlog.is_empty());
}

#[test]
fn a_version_already_held_writes_nothing() {
    let mut model = Model::default();
    model.fold(life(1, 5));
    let writes = fold(life(1, 5), &model.stored(), SEOUL);
    assert_eq!(writes, Writes::default());
}

#[test]
fn the_deletion_leaves_the_ticket_out_and_closes_its_backlog() {
    let versions = life(1, 30);
    let mut model = Model::default();
    // Created and taken, then deleted (as if from the spam box) the next day.
    model.fold(versions[..2].to_vec());
    let mut deleted = versions[1].clone();
    deleted.fact.version = 3;
    deleted.fact.excluded = true;
    deleted.state.version = 3;
    deleted.state.status = 0;
    deleted.state.at += Duration::days(2);
    model.fold(vec![deleted]);
    assert!(model.volume.is_empty());
    let open_at_end: i64 = model.backlog.values().sum();
    assert_eq!(open_at_end, 0);
    assert!(model.facts[&Uuid::from_u128(1)].excluded);
}

#[test]
fn events_of_other_types_are_not_folded_and_bad_ones_are_errors() {
    let other = EventEnvelope {
        event_type: "ticket_message.reply_requested".into(),
        ..Default::default()
    };
    assert_eq!(read(&other), Ok(None));
    let empty = EventEnvelope {
        event_type: TicketCreated::EVENT_TYPE.into(),
        payload: Some(prost_types::Any::from_msg(&TicketCreated::default()).unwrap()),
        ..Default::default()
    };
    assert!(read(&empty).unwrap_err().contains("no ticket snapshot"));
}

#[test]
fn every_ticket_event_of_the_table_is_folded() {
    let table: Vec<_> = switchboard_proto::events::ALL
        .iter()
        .filter(|kind| kind.aggregate_type == TICKET_AGGREGATE)
        .map(|kind| kind.event_type)
        .collect();
    assert_eq!(table, TICKET_EVENTS);
}
