//! The SQL of a search: the filters as conditions with their values bound in order, the
//! visibility rule, the orders and their keyset positions.

use chrono::{DateTime, Utc};
use sqlx::{Arguments, Encode, Postgres, Type, postgres::PgArguments};
use switchboard_platform::{error::Error, principal::PrincipalExt};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{Ticket, TicketStatus},
};
use uuid::Uuid;

use super::filters::{Filters, Order};
use crate::domain::text;

/// A statement's values, bound as its conditions are written: `bind` answers the placeholder.
#[derive(Default)]
pub struct Binds {
    pub args: PgArguments,
    count: usize,
    error: Option<Error>,
}

impl Binds {
    pub fn bind<'q, T>(&mut self, value: T) -> String
    where
        T: Encode<'q, Postgres> + Type<Postgres> + Send + 'q,
    {
        if let Err(error) = self.args.add(value) {
            self.error.get_or_insert(Error::internal(error));
        }
        self.count += 1;
        format!("${}", self.count)
    }

    /// The values, or the first that could not be encoded.
    pub fn finish(self) -> Result<PgArguments, Error> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.args),
        }
    }
}

/// How the subject words are matched: by the normalised text only, or also by the bigram
/// index (the words of two characters or more hold bigrams).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    LikeOnly,
    WithBigrams,
}

/// The tickets `principal` sees (access.rs): admins every one; agents those of their groups,
/// those with no group and their own.
fn visible(principal: &Principal, binds: &mut Binds) -> Option<String> {
    if principal.is_admin() {
        return None;
    }
    let groups: Vec<Uuid> = principal
        .group_ids
        .iter()
        .filter_map(|g| Uuid::parse_str(g).ok())
        .collect();
    Some(format!(
        "(group_id = ANY({}) OR group_id IS NULL OR assignee_login = {})",
        binds.bind(groups),
        binds.bind(principal.subject.clone()),
    ))
}

/// `column = ANY(values)` when `values` is not empty.
fn any_of<'q, T>(out: &mut Vec<String>, binds: &mut Binds, column: &str, values: &'q [T])
where
    Vec<T>: Encode<'q, Postgres> + Type<Postgres> + Send + 'q,
    T: Clone,
{
    if !values.is_empty() {
        out.push(format!("{column} = ANY({})", binds.bind(values.to_vec())));
    }
}

/// The conditions of `filters` for `principal` but the substring ones (combined with AND): the
/// conditions B-tree indexes answer.
pub fn conditions(filters: &Filters, principal: &Principal, binds: &mut Binds) -> Vec<String> {
    let mut out: Vec<String> = visible(principal, binds).into_iter().collect();
    if filters.statuses.is_empty() {
        out.push(format!("status <> {}", TicketStatus::Spam as i16));
    }
    any_of(&mut out, binds, "status", &filters.statuses);
    if let Some(start) = filters.create_start {
        out.push(format!("create_time >= {}", binds.bind(start)));
    }
    if let Some(end) = filters.create_end {
        out.push(format!("create_time < {}", binds.bind(end)));
    }
    if let Some(number) = filters.number {
        out.push(format!("number = {}", binds.bind(number)));
    }
    any_of(&mut out, binds, "priority", &filters.priorities);
    any_of(&mut out, binds, "group_id", &filters.group_ids);
    any_of(&mut out, binds, "assignee_login", &filters.assignee_logins);
    if filters.unassigned_only {
        out.push("assignee_login IS NULL".into());
    }
    any_of(&mut out, binds, "channel", &filters.channels);
    any_of(
        &mut out,
        binds,
        "external_channel",
        &filters.external_channels,
    );
    any_of(
        &mut out,
        binds,
        "inquiry_type_id",
        &filters.inquiry_type_ids,
    );
    any_of(
        &mut out,
        binds,
        "processing_type_id",
        &filters.processing_type_ids,
    );
    any_of(
        &mut out,
        binds,
        "mail_account_id",
        &filters.mail_account_ids,
    );
    if let Some(email) = &filters.requester_email {
        out.push(format!(
            "lower(requester_email) = lower({}) AND requester_email <> ''",
            binds.bind(email.clone())
        ));
    }
    if !filters.tags.is_empty() {
        out.push(format!("tags @> {}", binds.bind(filters.tags.clone())));
    }
    out
}

/// The substring conditions of `filters` (subject words, requester name), also through their
/// bigram indexes with [`Subject::WithBigrams`].
pub fn substrings(filters: &Filters, subject: Subject, binds: &mut Binds) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(name) = &filters.requester_name {
        let grams = text::bigrams(name);
        if subject == Subject::WithBigrams && !grams.is_empty() {
            out.push(format!("requester_name_bigrams @> {}", binds.bind(grams)));
        }
        out.push(format!(
            "requester_name_norm LIKE {}",
            binds.bind(text::contains_pattern(name))
        ));
    }
    let grams = filters.subject_bigrams();
    if subject == Subject::WithBigrams && !grams.is_empty() {
        out.push(format!("subject_bigrams @> {}", binds.bind(grams)));
    }
    for word in &filters.words {
        out.push(format!(
            "subject_norm LIKE {}",
            binds.bind(text::contains_pattern(word))
        ));
    }
    out
}

/// Where a page starts: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub priority: i16,
    pub time: DateTime<Utc>,
    pub number: i64,
}

fn micros(at: &Option<prost_types::Timestamp>) -> i64 {
    at.as_ref()
        .map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1_000)
        .unwrap_or_default()
}

impl Cursor {
    /// The token text of `ticket`'s position in `order`.
    pub fn key(order: Order, ticket: &Ticket) -> String {
        let time = match order {
            Order::UpdateDesc => &ticket.update_time,
            _ => &ticket.create_time,
        };
        format!("{}/{}/{}", ticket.priority, micros(time), ticket.number)
    }

    /// The position a token's text names; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let priority = parts.next()?.parse().ok()?;
        let time = DateTime::from_timestamp_micros(parts.next()?.parse().ok()?)?;
        let number = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Self {
            priority,
            time,
            number,
        })
    }
}

impl Order {
    /// The ORDER BY of the order (ties by number, descending).
    pub fn sql(self) -> &'static str {
        match self {
            Order::CreateDesc => "create_time DESC, number DESC",
            Order::CreateAsc => "create_time ASC, number DESC",
            Order::UpdateDesc => "update_time DESC, number DESC",
            Order::PriorityDesc => "priority DESC, create_time DESC, number DESC",
        }
    }

    /// The rows after `cursor` in this order.
    pub fn after(self, cursor: &Cursor, binds: &mut Binds) -> String {
        let (time, number) = (binds.bind(cursor.time), binds.bind(cursor.number));
        match self {
            Order::CreateDesc => format!("(create_time, number) < ({time}, {number})"),
            // Mixed directions have no row comparison; the first bound is where the index
            // scan starts.
            Order::CreateAsc => {
                format!("create_time >= {time} AND (create_time > {time} OR number < {number})")
            }
            Order::UpdateDesc => format!("(update_time, number) < ({time}, {number})"),
            Order::PriorityDesc => format!(
                "(priority, create_time, number) < ({}, {time}, {number})",
                binds.bind(cursor.priority)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_cursor_round_trips_and_refuses_other_text() {
        let ticket = Ticket {
            priority: 3,
            number: 42,
            create_time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 123_456_000,
            }),
            ..Default::default()
        };
        let key = Cursor::key(Order::CreateAsc, &ticket);
        assert_eq!(key, "3/1700000000123456/42");
        let cursor = Cursor::parse(&key).unwrap();
        assert_eq!((cursor.priority, cursor.number), (3, 42));
        assert_eq!(cursor.time.timestamp_micros(), 1_700_000_000_123_456);
        for bad in ["", "3/1/", "3/x/4", "3/1/4/5", "40000/1/1"] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn search_conditions_bind_in_order_and_agents_see_only_their_tickets() {
        let agent = Principal {
            subject: "kim".into(),
            kind: switchboard_proto::common::v1::PrincipalKind::Agent as i32,
            ..Default::default()
        };
        let filters = Filters {
            words: vec!["환불".into(), "a".into()],
            tags: vec!["vip".into()],
            ..Default::default()
        };
        let mut binds = Binds::default();
        let mut written = conditions(&filters, &agent, &mut binds);
        written.extend(substrings(&filters, Subject::WithBigrams, &mut binds));
        assert_eq!(
            written,
            [
                "(group_id = ANY($1) OR group_id IS NULL OR assignee_login = $2)",
                "status <> 6",
                "tags @> $3",
                "subject_bigrams @> $4",
                "subject_norm LIKE $5",
                "subject_norm LIKE $6",
            ]
        );
        let mut binds = Binds::default();
        let like_only = substrings(&filters, Subject::LikeOnly, &mut binds);
        assert!(!like_only.iter().any(|c| c.contains("bigrams")));
    }
}
