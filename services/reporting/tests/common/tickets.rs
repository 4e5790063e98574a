//! Random ticket lives as the ticket service would announce them: each ticket's events with
//! their snapshots and versions, from which a test computes the expected reports directly.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use switchboard_platform::time::timestamp;
use switchboard_proto::{
    events::{
        Event,
        v1::{
            EventEnvelope, TicketAssigned, TicketCreated, TicketDeleted, TicketForwarded,
            TicketMessageAdded, TicketStatusChanged,
        },
    },
    ticket::v1::{Ticket, TicketChannel, TicketStatus},
};
use uuid::Uuid;

use super::scenario::Rng;

/// An agent of the scenario and their group.
#[derive(Debug, Clone)]
pub struct Member {
    pub login: String,
    pub group_id: String,
}

/// What the scenario is made of.
pub struct World {
    pub groups: Vec<String>,
    pub members: Vec<Member>,
    pub inquiry_types: Vec<String>,
    pub mail_accounts: Vec<String>,
}

impl World {
    pub fn new() -> Self {
        let groups: Vec<String> = (0..3).map(|_| Uuid::new_v4().to_string()).collect();
        let members = ["kim", "lee", "park", "choi", "jung", "kang", "yoon"]
            .iter()
            .enumerate()
            .map(|(i, login)| Member {
                login: (*login).into(),
                group_id: groups[i % groups.len()].clone(),
            })
            .collect();
        Self {
            groups,
            members,
            inquiry_types: (0..3).map(|_| Uuid::new_v4().to_string()).collect(),
            mail_accounts: (0..2).map(|_| Uuid::new_v4().to_string()).collect(),
        }
    }
}

/// One version of a ticket: its snapshot, and whether it is the deletion.
#[derive(Debug, Clone)]
pub struct Version {
    pub ticket: Ticket,
    pub at: DateTime<Utc>,
    pub deleted: bool,
    pub event: EventEnvelope,
}

/// A ticket's whole life.
#[derive(Debug, Clone)]
pub struct Life {
    pub versions: Vec<Version>,
}

impl Life {
    pub fn last(&self) -> &Version {
        self.versions.last().unwrap()
    }

    /// In the spam box or deleted at the end: in no report.
    pub fn excluded(&self) -> bool {
        let last = self.last();
        last.deleted || last.ticket.status == TicketStatus::Spam as i32
    }

    /// The earliest solve of any version.
    pub fn first_solve(&self) -> Option<DateTime<Utc>> {
        self.versions
            .iter()
            .filter_map(|v| v.ticket.solve_time.as_ref())
            .map(instant)
            .min()
    }
}

pub fn instant(t: &prost_types::Timestamp) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(t.seconds, t.nanos as u32).unwrap()
}

fn envelope<E: Event>(
    payload: &E,
    ticket: &Ticket,
    version: i64,
    at: DateTime<Utc>,
) -> EventEnvelope {
    EventEnvelope {
        event_id: Uuid::new_v4().to_string(),
        event_type: E::EVENT_TYPE.into(),
        aggregate_type: E::AGGREGATE_TYPE.into(),
        aggregate_id: ticket.id.clone(),
        aggregate_version: version,
        occur_time: Some(timestamp(at)),
        payload: Some(prost_types::Any::from_msg(payload).unwrap()),
        ..Default::default()
    }
}

/// `count` tickets created over `days` local days from `first_day` in `zone`, each living
/// through a random walk of takes, forwards, holds, replies, internal solves, re-opens, closes
/// and spam (restored or deleted), every step minutes to a day after the previous.
pub fn generate(
    rng: &mut Rng,
    count: usize,
    first_day: NaiveDate,
    days: i64,
    zone: Tz,
    world: &World,
) -> Vec<Life> {
    let start = zone
        .from_local_datetime(&first_day.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let span = days * 86_400;
    (0..count)
        .map(|_| {
            let created = start + Duration::seconds(rng.below(span as u64) as i64);
            life(rng, created, world)
        })
        .collect()
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

fn life(rng: &mut Rng, created: DateTime<Utc>, world: &World) -> Life {
    use TicketStatus::*;
    let channel = [
        TicketChannel::HelpCenter,
        TicketChannel::Email,
        TicketChannel::External,
        TicketChannel::Phone,
        TicketChannel::Agent,
    ][rng.below(5) as usize];
    let mut ticket = Ticket {
        id: Uuid::new_v4().to_string(),
        number: rng.next() as i64 & 0xffff_ffff,
        status: Unassigned as i32,
        channel: channel as i32,
        mail_account_id: if channel == TicketChannel::Email {
            pick(rng, &world.mail_accounts).clone()
        } else {
            String::new()
        },
        inquiry_type_id: if rng.chance(70) {
            pick(rng, &world.inquiry_types).clone()
        } else {
            String::new()
        },
        create_time: Some(timestamp(created)),
        ..Default::default()
    };
    if rng.chance(40) {
        ticket.group_id = pick(rng, &world.groups).clone();
    }
    let mut versions = Vec::new();
    let mut at = created;
    let mut push = |ticket: &mut Ticket, at: DateTime<Utc>, event: EventEnvelope, deleted| {
        versions.push(Version {
            ticket: ticket.clone(),
            at,
            deleted,
            event,
        });
    };
    ticket.version = 1;
    ticket.update_time = Some(timestamp(at));
    let created_event = envelope(
        &TicketCreated {
            ticket: Some(ticket.clone()),
            ..Default::default()
        },
        &ticket,
        1,
        at,
    );
    push(&mut ticket, at, created_event, false);
    let steps = rng.below(7);
    for _ in 0..steps {
        at += Duration::seconds(300 + rng.below(30 * 3600) as i64);
        let status = TicketStatus::try_from(ticket.status).unwrap();
        let roll = rng.below(100);
        let event_type = match status {
            Unassigned if roll < 12 => {
                ticket.status = Spam as i32;
                Some("status")
            }
            Unassigned | OnHold => {
                let member = pick(rng, &world.members).clone();
                ticket.assignee_login = member.login;
                ticket.group_id = member.group_id;
                ticket.status = InProgress as i32;
                Some("assigned")
            }
            InProgress if roll < 15 => {
                let member = pick(rng, &world.members).clone();
                ticket.assignee_login = member.login;
                ticket.group_id = member.group_id;
                Some("forwarded")
            }
            InProgress if roll < 35 => {
                ticket.status = OnHold as i32;
                if ticket.first_reply_time.is_none() {
                    ticket.first_reply_time = Some(timestamp(at));
                }
                Some("message")
            }
            InProgress if roll < 85 => {
                ticket.status = Solved as i32;
                ticket.solve_time = Some(timestamp(at));
                if ticket.first_reply_time.is_none() {
                    ticket.first_reply_time = Some(timestamp(at));
                }
                Some("message")
            }
            InProgress => {
                // Resolved internally: solved without a reply.
                ticket.status = Solved as i32;
                ticket.solve_time = Some(timestamp(at));
                Some("status")
            }
            Solved if roll < 45 => {
                // The customer writes again.
                ticket.status = InProgress as i32;
                Some("message")
            }
            Solved => {
                ticket.status = Closed as i32;
                ticket.close_time = Some(timestamp(at));
                Some("status")
            }
            Spam if roll < 40 => {
                ticket.status = Unassigned as i32;
                Some("status")
            }
            Spam if roll < 70 => {
                // The payload is the ticket as it was; the envelope's version is one more.
                let deleted = envelope(
                    &TicketDeleted {
                        ticket: Some(ticket.clone()),
                    },
                    &ticket,
                    ticket.version + 1,
                    at,
                );
                push(&mut ticket, at, deleted, true);
                break;
            }
            Closed | Spam | Unspecified => None,
        };
        let Some(event_type) = event_type else { break };
        ticket.version += 1;
        ticket.update_time = Some(timestamp(at));
        let snapshot = Some(ticket.clone());
        let version = ticket.version;
        let event = match event_type {
            "assigned" => envelope(
                &TicketAssigned {
                    ticket: snapshot,
                    ..Default::default()
                },
                &ticket,
                version,
                at,
            ),
            "forwarded" => envelope(
                &TicketForwarded {
                    ticket: snapshot,
                    ..Default::default()
                },
                &ticket,
                version,
                at,
            ),
            "message" => envelope(
                &TicketMessageAdded {
                    ticket: snapshot,
                    ..Default::default()
                },
                &ticket,
                version,
                at,
            ),
            _ => envelope(
                &TicketStatusChanged {
                    ticket: snapshot,
                    ..Default::default()
                },
                &ticket,
                version,
                at,
            ),
        };
        push(&mut ticket, at, event, false);
    }
    Life { versions }
}
