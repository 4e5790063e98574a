//! A ticket as the reports see it (one row of `ticket_facts`), read from a ticket event's
//! snapshot, and the volume counts it adds.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use switchboard_platform::{calendar::local_date, time::instant};
use switchboard_proto::ticket::v1::{Ticket, TicketStatus};
use uuid::Uuid;

/// A ticket's fact: the snapshot of its highest version seen, and its first solve.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFact {
    pub ticket_id: Uuid,
    pub version: i64,
    /// `TicketChannel` as stored.
    pub channel: i16,
    /// Empty: none (as for the other ids and the login).
    pub group_id: String,
    pub assignee_login: String,
    pub inquiry_type_id: String,
    pub mail_account_id: String,
    /// `TicketStatus` as stored.
    pub status: i16,
    /// In the spam box or deleted: left out of every report.
    pub excluded: bool,
    pub create_time: DateTime<Utc>,
    pub first_reply_time: Option<DateTime<Utc>>,
    /// The earliest `solve_time` of every version seen.
    pub first_solve_time: Option<DateTime<Utc>>,
    /// The latest solve, as the snapshot says.
    pub solve_time: Option<DateTime<Utc>>,
    pub close_time: Option<DateTime<Utc>>,
}

fn time(value: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    value.and_then(instant)
}

impl TicketFact {
    /// The fact of `ticket` at `version`; `deleted` for the snapshot of `ticket.deleted`.
    pub fn from_snapshot(ticket: &Ticket, version: i64, deleted: bool) -> Result<Self, String> {
        let ticket_id = Uuid::parse_str(&ticket.id)
            .map_err(|_| format!("ticket id {:?} is not a UUID", ticket.id))?;
        let create_time = time(ticket.create_time.as_ref())
            .ok_or_else(|| format!("ticket {ticket_id} has no create_time"))?;
        let solve_time = time(ticket.solve_time.as_ref());
        Ok(Self {
            ticket_id,
            version,
            channel: ticket.channel as i16,
            group_id: ticket.group_id.clone(),
            assignee_login: ticket.assignee_login.clone(),
            inquiry_type_id: ticket.inquiry_type_id.clone(),
            mail_account_id: ticket.mail_account_id.clone(),
            status: ticket.status as i16,
            excluded: deleted || ticket.status == TicketStatus::Spam as i32,
            create_time,
            first_reply_time: time(ticket.first_reply_time.as_ref()),
            first_solve_time: solve_time,
            solve_time,
            close_time: time(ticket.close_time.as_ref()),
        })
    }

    /// Solved or closed now: its latest solve is final (so far).
    pub fn is_resolved(&self) -> bool {
        self.status == TicketStatus::Solved as i16 || self.status == TicketStatus::Closed as i16
    }

    /// Create → first reply, in seconds.
    pub fn first_reply_seconds(&self) -> Option<f64> {
        self.first_reply_time.map(|t| seconds(self.create_time, t))
    }

    /// Create → first solve, in seconds.
    pub fn first_resolution_seconds(&self) -> Option<f64> {
        self.first_solve_time.map(|t| seconds(self.create_time, t))
    }

    /// Create → latest solve, in seconds, while solved or closed.
    pub fn final_resolution_seconds(&self) -> Option<f64> {
        self.solve_time
            .filter(|_| self.is_resolved())
            .map(|t| seconds(self.create_time, t))
    }

    /// The volume counts this ticket adds (nothing when excluded), days in `zone`.
    pub fn volume(&self, zone: Tz) -> Vec<(VolumeKey, VolumeCounts)> {
        if self.excluded {
            return Vec::new();
        }
        let key = |time: DateTime<Utc>| VolumeKey {
            day: local_date(time, zone),
            channel: self.channel,
            group_id: self.group_id.clone(),
            assignee_login: self.assignee_login.clone(),
            inquiry_type_id: self.inquiry_type_id.clone(),
            mail_account_id: self.mail_account_id.clone(),
        };
        let mut counts = vec![(key(self.create_time), VolumeCounts::new(1, 0, 0))];
        if let Some(solved) = self.solve_time.filter(|_| self.is_resolved()) {
            counts.push((key(solved), VolumeCounts::new(0, 1, 0)));
        }
        if let Some(closed) = self
            .close_time
            .filter(|_| self.status == TicketStatus::Closed as i16)
        {
            counts.push((key(closed), VolumeCounts::new(0, 0, 1)));
        }
        counts
    }
}

/// Seconds from `from` to `to`, to the microsecond.
pub fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
}

/// A row of `ticket_volume_counts`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VolumeKey {
    pub day: NaiveDate,
    pub channel: i16,
    pub group_id: String,
    pub assignee_login: String,
    pub inquiry_type_id: String,
    pub mail_account_id: String,
}

/// The counts of a volume row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VolumeCounts {
    pub created: i64,
    pub solved: i64,
    pub closed: i64,
}

impl VolumeCounts {
    pub fn new(created: i64, solved: i64, closed: i64) -> Self {
        Self {
            created,
            solved,
            closed,
        }
    }

    pub fn add(&mut self, other: VolumeCounts, sign: i64) {
        self.created += sign * other.created;
        self.solved += sign * other.solved;
        self.closed += sign * other.closed;
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// Volume count changes summed per row.
#[derive(Debug, Default)]
pub struct VolumeTally(BTreeMap<VolumeKey, VolumeCounts>);

impl VolumeTally {
    /// Adds `fact`'s counts with `sign` (+1 or −1).
    pub fn add(&mut self, fact: &TicketFact, zone: Tz, sign: i64) {
        for (key, counts) in fact.volume(zone) {
            self.0.entry(key).or_default().add(counts, sign);
        }
    }

    /// The non-zero changes, in key order.
    pub fn into_changes(self) -> Vec<(VolumeKey, VolumeCounts)> {
        self.0.into_iter().filter(|(_, c)| !c.is_zero()).collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use switchboard_platform::time::timestamp;

    use super::*;

    const SEOUL: Tz = chrono_tz::Asia::Seoul;

    fn ticket(status: TicketStatus) -> Ticket {
        Ticket {
            id: "0191d3b4-0000-7000-8000-000000000001".into(),
            status: status as i32,
            group_id: "g".into(),
            // 2025-01-31 23:30 in Seoul.
            create_time: Some(timestamp(
                Utc.with_ymd_and_hms(2025, 1, 31, 14, 30, 0).unwrap(),
            )),
            // 2025-02-01 00:10 in Seoul.
            solve_time: Some(timestamp(
                Utc.with_ymd_and_hms(2025, 1, 31, 15, 10, 0).unwrap(),
            )),
            ..Default::default()
        }
    }

    #[test]
    fn a_solved_ticket_counts_created_and_solved_on_its_local_days() {
        let fact = TicketFact::from_snapshot(&ticket(TicketStatus::Solved), 3, false).unwrap();
        let days: Vec<_> = fact
            .volume(SEOUL)
            .into_iter()
            .map(|(k, c)| (k.day.to_string(), c))
            .collect();
        assert_eq!(
            days,
            [
                ("2025-01-31".into(), VolumeCounts::new(1, 0, 0)),
                ("2025-02-01".into(), VolumeCounts::new(0, 1, 0)),
            ]
        );
        assert_eq!(fact.final_resolution_seconds(), Some(2400.0));
    }

    #[test]
    fn a_reopened_ticket_is_not_solved_and_spam_counts_nowhere() {
        let fact = TicketFact::from_snapshot(&ticket(TicketStatus::InProgress), 4, false).unwrap();
        assert_eq!(fact.volume(SEOUL).len(), 1);
        assert_eq!(fact.final_resolution_seconds(), None);
        assert_eq!(fact.first_resolution_seconds(), Some(2400.0));
        let spam = TicketFact::from_snapshot(&ticket(TicketStatus::Spam), 5, false).unwrap();
        assert!(spam.excluded && spam.volume(SEOUL).is_empty());
        let deleted = TicketFact::from_snapshot(&ticket(TicketStatus::Solved), 6, true).unwrap();
        assert!(deleted.volume(SEOUL).is_empty());
    }

    #[test]
    fn a_tally_nets_a_replaced_fact_out() {
        let old = TicketFact::from_snapshot(&ticket(TicketStatus::InProgress), 1, false).unwrap();
        let new = TicketFact::from_snapshot(&ticket(TicketStatus::Solved), 2, false).unwrap();
        let mut tally = VolumeTally::default();
        tally.add(&old, SEOUL, -1);
        tally.add(&new, SEOUL, 1);
        let changes = tally.into_changes();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].1, VolumeCounts::new(0, 1, 0));
    }
}
