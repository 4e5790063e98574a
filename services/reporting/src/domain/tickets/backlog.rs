//! The backlog of past days: every version of a ticket is a state (status, group, assignee) in
//! effect from its time until the next version's. A ticket is open at the end of local day D
//! when the state in effect then has an open status, so an open state that begins on day A and
//! ends on day B (B > A) adds 1 from A and takes it back from B. Those changes, summed per day,
//! status, group and assignee, give the backlog of any day as a running sum, whatever order the
//! versions arrive in: a ticket's contribution is recomputed from all its versions each time one
//! arrives, and the difference applied.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use switchboard_platform::calendar::local_date;
use switchboard_proto::ticket::v1::TicketStatus;

/// One version of a ticket, as the backlog needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub version: i64,
    pub at: DateTime<Utc>,
    /// `TicketStatus` as stored; 0 for a deleted ticket (never open).
    pub status: i16,
    pub group_id: String,
    pub assignee_login: String,
}

/// The open statuses, in the order the report lists them.
pub const OPEN: [TicketStatus; 3] = [
    TicketStatus::Unassigned,
    TicketStatus::InProgress,
    TicketStatus::OnHold,
];

pub fn is_open(status: i16) -> bool {
    OPEN.iter().any(|s| *s as i16 == status)
}

/// A row of `ticket_backlog_changes`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BacklogKey {
    pub day: NaiveDate,
    pub status: i16,
    pub group_id: String,
    pub assignee_login: String,
}

/// Backlog changes summed per row.
#[derive(Debug, Default)]
pub struct BacklogTally(BTreeMap<BacklogKey, i64>);

impl BacklogTally {
    /// Adds the contribution of one ticket's `states` (any order, distinct versions) with
    /// `sign`, days in `zone`.
    pub fn add(&mut self, states: &[State], zone: Tz, sign: i64) {
        let mut ordered: Vec<&State> = states.iter().collect();
        ordered.sort_by_key(|s| s.version);
        for (index, state) in ordered.iter().enumerate() {
            if !is_open(state.status) {
                continue;
            }
            let from = local_date(state.at, zone);
            let until = ordered.get(index + 1).map(|next| local_date(next.at, zone));
            if until.is_some_and(|until| until <= from) {
                // Replaced the same day: never open at a day's end.
                continue;
            }
            let key = |day| BacklogKey {
                day,
                status: state.status,
                group_id: state.group_id.clone(),
                assignee_login: state.assignee_login.clone(),
            };
            *self.0.entry(key(from)).or_default() += sign;
            if let Some(until) = until {
                *self.0.entry(key(until)).or_default() -= sign;
            }
        }
    }

    /// The non-zero changes, in key order.
    pub fn into_changes(self) -> Vec<(BacklogKey, i64)> {
        self.0.into_iter().filter(|(_, d)| *d != 0).collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const SEOUL: Tz = chrono_tz::Asia::Seoul;

    /// A state at a Seoul local time on January 2025 day `d`.
    fn state(version: i64, d: u32, h: u32, status: TicketStatus, assignee: &str) -> State {
        State {
            version,
            at: SEOUL
                .with_ymd_and_hms(2025, 1, d, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc),
            status: status as i16,
            group_id: "g".into(),
            assignee_login: assignee.into(),
        }
    }

    fn changes(states: &[State]) -> Vec<(u32, i16, String, i64)> {
        let mut tally = BacklogTally::default();
        tally.add(states, SEOUL, 1);
        tally
            .into_changes()
            .into_iter()
            .map(|(k, d)| {
                use chrono::Datelike;
                (k.day.day(), k.status, k.assignee_login, d)
            })
            .collect()
    }

    #[test]
    fn an_open_span_adds_on_its_first_day_and_takes_back_when_the_next_state_begins() {
        use TicketStatus::*;
        let states = [
            state(1, 10, 9, Unassigned, ""),
            state(2, 10, 11, InProgress, "kim"),
            state(3, 12, 15, Solved, "kim"),
            state(4, 14, 23, InProgress, "kim"),
        ];
        // Unassigned for two hours on the 10th: never open at a day's end.
        assert_eq!(
            changes(&states),
            [
                (10, InProgress as i16, "kim".into(), 1),
                (12, InProgress as i16, "kim".into(), -1),
                (14, InProgress as i16, "kim".into(), 1),
            ]
        );
        // The order the versions come in does not matter.
        let mut shuffled = states.to_vec();
        shuffled.reverse();
        assert_eq!(changes(&shuffled), changes(&states));
    }

    #[test]
    fn a_late_version_between_two_others_moves_the_changes() {
        use TicketStatus::*;
        let early = [state(1, 10, 9, Unassigned, ""), state(3, 13, 9, Solved, "")];
        let all = [
            state(1, 10, 9, Unassigned, ""),
            state(2, 11, 9, OnHold, "lee"),
            state(3, 13, 9, Solved, "lee"),
        ];
        let mut tally = BacklogTally::default();
        tally.add(&early, SEOUL, -1);
        tally.add(&all, SEOUL, 1);
        let mut expected = BacklogTally::default();
        expected.add(&all, SEOUL, 1);
        let mut net: BTreeMap<_, i64> = BTreeMap::new();
        let mut before = BacklogTally::default();
        before.add(&early, SEOUL, 1);
        for (k, d) in before
            .into_changes()
            .into_iter()
            .chain(tally.into_changes())
        {
            *net.entry(k).or_default() += d;
        }
        net.retain(|_, d| *d != 0);
        assert_eq!(net.into_iter().collect::<Vec<_>>(), expected.into_changes());
    }
}
