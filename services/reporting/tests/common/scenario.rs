//! Random callback life cycles as the callback service would announce them: each callback's
//! events with their snapshots and versions, and its final snapshot, from which a test counts
//! the expected report directly.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use switchboard_platform::time::timestamp;
use switchboard_proto::{
    callback::v1::{AgentRef, AssignmentMethod, CallbackState},
    events::{
        Event,
        v1::{
            CallbackAssigned, CallbackAssignmentCancelled, CallbackCompleted,
            CallbackConnectRequested, CallbackRegistered, CallbackRequestRepeated,
            CallbackSnapshot, EventEnvelope,
        },
    },
};
use uuid::Uuid;

/// A small deterministic generator (xorshift64*), so a failing scenario can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` %.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub login: String,
    pub group_id: String,
    pub name: String,
}

impl Agent {
    pub fn new(login: &str, group_id: &str) -> Self {
        Self {
            login: login.into(),
            group_id: group_id.into(),
            name: format!("상담원 {login}"),
        }
    }

    fn as_ref(&self) -> AgentRef {
        AgentRef {
            agent_login: self.login.clone(),
            group_id: self.group_id.clone(),
            display_name: self.name.clone(),
        }
    }
}

/// One callback being told: its snapshot so far and its events.
pub struct Life {
    pub snapshot: CallbackSnapshot,
    pub events: Vec<EventEnvelope>,
    version: i64,
}

impl Life {
    /// A new callback (version 1, `callback.registered`).
    pub fn register(id: Uuid, route: &str, request_time: DateTime<Utc>) -> Self {
        let snapshot = CallbackSnapshot {
            callback_id: id.to_string(),
            ivr_route_id: route.into(),
            request_time: Some(timestamp(request_time)),
            state: CallbackState::Registered as i32,
            request_count: 1,
            create_time: Some(timestamp(request_time)),
            ..Default::default()
        };
        let mut life = Self {
            snapshot,
            events: Vec::new(),
            version: 0,
        };
        life.announce(|callback| CallbackRegistered {
            callback,
            phone_number: "+821012345678".into(),
            ..Default::default()
        });
        life
    }

    fn time(&self) -> DateTime<Utc> {
        let request = self.snapshot.request_time.unwrap();
        DateTime::from_timestamp(request.seconds, 0).unwrap() + Duration::minutes(self.version)
    }

    fn announce<E: Event>(&mut self, payload: impl FnOnce(Option<CallbackSnapshot>) -> E) {
        self.version += 1;
        let message = payload(Some(self.snapshot.clone()));
        self.events.push(EventEnvelope {
            event_id: Uuid::new_v4().to_string(),
            event_type: E::EVENT_TYPE.into(),
            occur_time: Some(timestamp(self.time())),
            aggregate_type: E::AGGREGATE_TYPE.into(),
            aggregate_id: self.snapshot.callback_id.clone(),
            aggregate_version: self.version,
            source: "callback".into(),
            payload: Some(prost_types::Any::from_msg(&message).unwrap()),
            ..Default::default()
        });
    }

    pub fn repeat(&mut self) {
        self.snapshot.request_count += 1;
        self.announce(|callback| CallbackRequestRepeated {
            callback,
            ..Default::default()
        });
    }

    pub fn assign(&mut self, agent: &Agent) {
        let before = self.snapshot.state;
        self.snapshot.state = CallbackState::Unprocessed as i32;
        self.snapshot.assignee = Some(agent.as_ref());
        self.snapshot.distributor = Some(Agent::new("admin", "").as_ref());
        self.snapshot.assign_time = Some(timestamp(self.time()));
        self.announce(|callback| CallbackAssigned {
            callback,
            state_before: before,
            method: AssignmentMethod::Manual as i32,
        });
    }

    pub fn cancel(&mut self) {
        let previous = self.snapshot.assignee.take();
        self.snapshot.distributor = None;
        self.snapshot.assign_time = None;
        self.snapshot.state = CallbackState::Cancelled as i32;
        self.announce(|callback| CallbackAssignmentCancelled {
            callback,
            state_before: CallbackState::Unprocessed as i32,
            previous_assignee: previous,
            reason: String::new(),
        });
    }

    pub fn connect(&mut self) {
        self.snapshot.attempt_count += 1;
        self.snapshot.last_attempt_time = Some(timestamp(self.time()));
        let agent = self.snapshot.assignee.clone().unwrap_or_default();
        self.announce(|callback| CallbackConnectRequested {
            callback,
            attempt_id: Uuid::new_v4().to_string(),
            attempt_number: 1,
            agent_login: agent.agent_login,
            phone_number: "+821012345678".into(),
        });
    }

    pub fn complete(&mut self) {
        self.snapshot.state = CallbackState::Completed as i32;
        self.snapshot.complete_time = Some(timestamp(self.time()));
        self.announce(|callback| CallbackCompleted {
            callback,
            state_before: CallbackState::Unprocessed as i32,
            note: String::new(),
        });
    }
}

/// `callbacks` random life cycles requested over `days` local days from `first` in `zone`
/// (every 25th exactly at a local midnight or a second before it), on `routes`, assigned
/// among `agents`.
pub fn generate(
    rng: &mut Rng,
    callbacks: usize,
    first: NaiveDate,
    days: u32,
    zone: Tz,
    routes: &[String],
    agents: &[Agent],
) -> Vec<Life> {
    let start = zone
        .from_local_datetime(&first.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let pick_agent = |rng: &mut Rng| &agents[rng.below(agents.len() as u64) as usize];
    (0..callbacks)
        .map(|i| {
            let day = rng.below(u64::from(days)) as i64;
            let second = match i % 25 {
                0 => 0,
                1 => 86_399,
                _ => rng.below(86_400) as i64,
            };
            let request_time = start + Duration::days(day) + Duration::seconds(second);
            let id = Uuid::from_u64_pair(rng.next(), rng.next());
            let route = &routes[rng.below(routes.len() as u64) as usize];
            let mut life = Life::register(id, route, request_time);
            if rng.chance(10) {
                life.repeat();
            }
            if rng.chance(80) {
                life.assign(pick_agent(rng));
                if rng.chance(15) {
                    life.cancel();
                    if rng.chance(50) {
                        life.assign(pick_agent(rng));
                    }
                }
                if life.snapshot.state == CallbackState::Unprocessed as i32 {
                    if rng.chance(50) {
                        life.connect();
                    }
                    if rng.chance(60) {
                        life.complete();
                    }
                }
            }
            life
        })
        .collect()
}
