//! A callback as the model keeps it, and what it adds to the pre-aggregated day counts.
//!
//! The model keeps, per callback, the snapshot of the highest version seen. A change of the
//! snapshot moves the callback's contribution from its old count rows (day counts and
//! unfinished counts per agent) to its new ones: the difference of the two tallies
//! ([`Tally::change`]), so the counts stay equal to a fresh count of the facts whatever the
//! order of events.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use switchboard_platform::error::quote;
use switchboard_platform::{calendar::local_date, time::instant};
use switchboard_proto::{callback::v1::CallbackState, events::v1::CallbackSnapshot};
use uuid::Uuid;

/// The current assignee of a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignee {
    pub login: String,
    /// Empty when the agent had no group.
    pub group_id: String,
    pub display_name: String,
}

/// One callback in the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackFact {
    pub callback_id: Uuid,
    pub version: i64,
    pub ivr_route_id: Uuid,
    pub request_time: DateTime<Utc>,
    /// The local day of `request_time`: the bucket the callback counts in.
    pub request_day: NaiveDate,
    pub state: CallbackState,
    pub assignee: Option<Assignee>,
    pub assign_time: Option<DateTime<Utc>>,
}

impl CallbackFact {
    /// The fact a snapshot of `version` describes, with its request day in `zone`.
    pub fn from_snapshot(
        snapshot: &CallbackSnapshot,
        version: i64,
        zone: Tz,
    ) -> Result<Self, String> {
        let uuid = |text: &str, field: &str| {
            Uuid::parse_str(text)
                .map_err(|_| format!("snapshot {field} {} is not a UUID", quote(text)))
        };
        let request_time = snapshot
            .request_time
            .as_ref()
            .and_then(instant)
            .ok_or("snapshot request_time is missing or invalid")?;
        let state = CallbackState::try_from(snapshot.state)
            .ok()
            .filter(|s| *s != CallbackState::Unspecified)
            .ok_or_else(|| format!("snapshot state {} is not a callback state", snapshot.state))?;
        let assignee = snapshot
            .assignee
            .as_ref()
            .filter(|a| !a.agent_login.is_empty())
            .map(|a| Assignee {
                login: a.agent_login.to_lowercase(),
                group_id: a.group_id.clone(),
                display_name: a.display_name.clone(),
            });
        Ok(Self {
            callback_id: uuid(&snapshot.callback_id, "callback_id")?,
            version,
            ivr_route_id: uuid(&snapshot.ivr_route_id, "ivr_route_id")?,
            request_time,
            request_day: local_date(request_time, zone),
            state,
            assignee,
            assign_time: snapshot.assign_time.as_ref().and_then(instant),
        })
    }

    /// Whether the callback has an assignee now in the sense of docs/product.md §2.6 (UNPROCESSED or
    /// COMPLETED); REGISTERED and CANCELLED callbacks count nowhere.
    fn counted(&self) -> Option<Counts> {
        match self.state {
            CallbackState::Unprocessed => Some(Counts {
                completed: 0,
                unprocessed: 1,
            }),
            CallbackState::Completed => Some(Counts {
                completed: 1,
                unprocessed: 0,
            }),
            _ => None,
        }
    }
}

/// Which assignees a count row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i16)]
pub enum Dimension {
    /// Every callback, whoever the assignee (assignee key "").
    All = 0,
    /// One agent's callbacks (assignee key = login).
    Agent = 1,
    /// One group's callbacks (assignee key = group id).
    Group = 2,
}

/// A row of the day counts. Ordered, so that every transaction updates rows in the same order
/// and two consumers never deadlock on them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CountKey {
    pub dimension: Dimension,
    pub assignee: String,
    pub day: NaiveDate,
    pub ivr_route_id: Uuid,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub completed: i64,
    pub unprocessed: i64,
}

/// An agent's unfinished callbacks under one group (empty: no group).
pub type UnfinishedKey = (String, String);

/// Count rows and what is added to each.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    days: BTreeMap<CountKey, Counts>,
    unfinished: BTreeMap<UnfinishedKey, i64>,
}

/// The rows a tally changes, each list in key order (so every transaction updates rows in the
/// same order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub days: Vec<(CountKey, Counts)>,
    pub unfinished: Vec<(UnfinishedKey, i64)>,
}

impl Tally {
    /// What moving a callback from `old` to `new` changes in the counts.
    pub fn change(old: Option<&CallbackFact>, new: &CallbackFact) -> Self {
        let mut tally = Self::default();
        tally.replace(old, new);
        tally
    }

    /// Adds what moving a callback from `old` to `new` changes.
    pub fn replace(&mut self, old: Option<&CallbackFact>, new: &CallbackFact) {
        if let Some(old) = old {
            self.add(old, -1);
        }
        self.add(new, 1);
    }

    /// Adds `fact`'s contribution `sign` times (1 to count it, -1 to take it back).
    pub fn add(&mut self, fact: &CallbackFact, sign: i64) {
        let Some(counts) = fact.counted() else {
            return;
        };
        if let Some(assignee) = fact.assignee.as_ref().filter(|_| counts.unprocessed > 0) {
            *self
                .unfinished
                .entry((assignee.login.clone(), assignee.group_id.clone()))
                .or_default() += sign;
        }
        let key = |dimension, assignee: &str| CountKey {
            dimension,
            assignee: assignee.to_owned(),
            day: fact.request_day,
            ivr_route_id: fact.ivr_route_id,
        };
        let mut keys = vec![key(Dimension::All, "")];
        if let Some(assignee) = &fact.assignee {
            keys.push(key(Dimension::Agent, &assignee.login));
            if !assignee.group_id.is_empty() {
                keys.push(key(Dimension::Group, &assignee.group_id));
            }
        }
        for key in keys {
            let entry = self.days.entry(key).or_default();
            entry.completed += sign * counts.completed;
            entry.unprocessed += sign * counts.unprocessed;
        }
    }

    /// The rows that change.
    pub fn into_changes(self) -> Changes {
        Changes {
            days: self
                .days
                .into_iter()
                .filter(|(_, counts)| *counts != Counts::default())
                .collect(),
            unfinished: self
                .unfinished
                .into_iter()
                .filter(|(_, n)| *n != 0)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use switchboard_proto::callback::v1::AgentRef;

    use super::*;

    const ROUTE: &str = "0191d3b4-1111-7000-8000-000000000001";
    const ID: &str = "0191d3b4-2222-7000-8000-000000000002";

    fn seoul() -> Tz {
        "Asia/Seoul".parse().unwrap()
    }

    fn snapshot(state: CallbackState, assignee: Option<(&str, &str)>) -> CallbackSnapshot {
        let request = Utc.with_ymd_and_hms(2025, 1, 31, 15, 0, 0).unwrap();
        CallbackSnapshot {
            callback_id: ID.into(),
            ivr_route_id: ROUTE.into(),
            request_time: Some(switchboard_platform::time::timestamp(request)),
            state: state as i32,
            assignee: assignee.map(|(login, group)| AgentRef {
                agent_login: login.into(),
                group_id: group.into(),
                display_name: "김상담".into(),
            }),
            ..Default::default()
        }
    }

    fn fact(state: CallbackState, assignee: Option<(&str, &str)>) -> CallbackFact {
        CallbackFact::from_snapshot(&snapshot(state, assignee), 1, seoul()).unwrap()
    }

    #[test]
    fn a_snapshot_counts_in_its_local_request_day() {
        let fact = fact(CallbackState::Unprocessed, Some(("Kim", "g1")));
        // 15:00 UTC on 31 January is 00:00 on 1 February in Seoul.
        assert_eq!(
            fact.request_day,
            NaiveDate::from_ymd_opt(2025, 2, 1).unwrap()
        );
        assert_eq!(fact.assignee.unwrap().login, "kim");
    }

    #[test]
    fn bad_snapshots_are_refused_with_the_field() {
        let mut bad = snapshot(CallbackState::Registered, None);
        bad.ivr_route_id = "route-1".into();
        let error = CallbackFact::from_snapshot(&bad, 1, seoul()).unwrap_err();
        assert!(error.contains("ivr_route_id"), "{error}");
        let mut bad = snapshot(CallbackState::Unspecified, None);
        assert!(CallbackFact::from_snapshot(&bad, 1, seoul()).is_err());
        bad.state = CallbackState::Registered as i32;
        bad.request_time = None;
        assert!(CallbackFact::from_snapshot(&bad, 1, seoul()).is_err());
    }

    #[test]
    fn registered_and_cancelled_count_nowhere() {
        for state in [CallbackState::Registered, CallbackState::Cancelled] {
            let changes = Tally::change(None, &fact(state, None)).into_changes();
            assert_eq!(changes, Changes::default());
        }
    }

    #[test]
    fn an_assignment_counts_for_all_the_agent_and_the_group() {
        let changes = Tally::change(None, &fact(CallbackState::Unprocessed, Some(("kim", "g1"))))
            .into_changes();
        assert_eq!(changes.unfinished, [(("kim".into(), "g1".into()), 1)]);
        let keys: Vec<_> = changes
            .days
            .iter()
            .map(|(k, c)| (k.dimension, k.assignee.as_str(), c.unprocessed))
            .collect();
        assert_eq!(
            keys,
            [
                (Dimension::All, "", 1),
                (Dimension::Agent, "kim", 1),
                (Dimension::Group, "g1", 1)
            ]
        );
        // Without a group there is no group row.
        let changes =
            Tally::change(None, &fact(CallbackState::Completed, Some(("lee", "")))).into_changes();
        assert_eq!(changes.days.len(), 2);
        assert!(changes.unfinished.is_empty(), "completed is not unfinished");
    }

    #[test]
    fn completing_moves_one_count_within_the_same_rows() {
        let old = fact(CallbackState::Unprocessed, Some(("kim", "g1")));
        let new = fact(CallbackState::Completed, Some(("kim", "g1")));
        let changes = Tally::change(Some(&old), &new).into_changes();
        assert_eq!(changes.unfinished, [(("kim".into(), "g1".into()), -1)]);
        assert_eq!(changes.days.len(), 3);
        for (_, counts) in changes.days {
            assert_eq!(
                counts,
                Counts {
                    completed: 1,
                    unprocessed: -1
                }
            );
        }
    }

    #[test]
    fn reassignment_moves_the_agent_rows_and_cancelling_takes_everything_back() {
        let kim = fact(CallbackState::Unprocessed, Some(("kim", "g1")));
        let lee = fact(CallbackState::Unprocessed, Some(("lee", "g1")));
        let changes = Tally::change(Some(&kim), &lee).into_changes();
        assert_eq!(
            changes.unfinished,
            [
                (("kim".into(), "g1".into()), -1),
                (("lee".into(), "g1".into()), 1)
            ]
        );
        let moved: Vec<_> = changes
            .days
            .iter()
            .map(|(k, c)| (k.assignee.as_str(), c.unprocessed))
            .collect();
        assert_eq!(moved, [("kim", -1), ("lee", 1)]);
        let cancelled = fact(CallbackState::Cancelled, None);
        let changes = Tally::change(Some(&lee), &cancelled).into_changes();
        assert!(changes.days.iter().all(|(_, c)| c.unprocessed == -1));
        assert_eq!(changes.days.len(), 3);
        assert_eq!(changes.unfinished.len(), 1);
    }
}
