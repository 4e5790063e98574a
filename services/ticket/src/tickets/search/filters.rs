//! A `SearchTicketsRequest` read into its filters, every bad field named at once
//! (`statuses[1]`, `group_ids[0]`, `create_end_time`, ...).

use chrono::{DateTime, Utc};
use switchboard_platform::error::FieldViolations;
use switchboard_proto::ticket::v1::{
    SearchTicketsRequest, TicketChannel, TicketOrderBy, TicketPriority, TicketStatus,
};
use tonic::Status;
use uuid::Uuid;

use crate::domain::text;

/// The longest `subject_query` and `requester_name`, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The longest `requester_email` (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 320;

/// The order of the results; ties by number, descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    CreateDesc,
    CreateAsc,
    UpdateDesc,
    PriorityDesc,
}

/// What a search keeps, in the stored forms: enums as their numbers, text normalised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub create_start: Option<DateTime<Utc>>,
    pub create_end: Option<DateTime<Utc>>,
    pub priorities: Vec<i16>,
    pub number: Option<i64>,
    /// Normalised subject words, all of which must occur.
    pub words: Vec<String>,
    pub group_ids: Vec<Uuid>,
    pub assignee_logins: Vec<String>,
    pub unassigned_only: bool,
    /// Empty: every status but spam.
    pub statuses: Vec<i16>,
    pub channels: Vec<i16>,
    pub external_channels: Vec<String>,
    pub inquiry_type_ids: Vec<Uuid>,
    pub processing_type_ids: Vec<Uuid>,
    pub mail_account_ids: Vec<Uuid>,
    /// Normalised; matched as a substring of the normalised requester name.
    pub requester_name: Option<String>,
    pub requester_email: Option<String>,
    pub tags: Vec<String>,
}

impl Filters {
    /// Whether a substring filter (subject words, requester name) is set: the filters no
    /// B-tree index answers.
    pub fn has_substring(&self) -> bool {
        !self.words.is_empty() || self.requester_name.is_some()
    }

    /// Whether a filter that may leave few tickets is set (a period, a group, an assignee, an
    /// account, a type, an e-mail address, tags); statuses, priorities and channels never do
    /// at scale.
    pub fn narrows(&self) -> bool {
        self.create_start.is_some()
            || self.create_end.is_some()
            || !self.group_ids.is_empty()
            || !self.assignee_logins.is_empty()
            || !self.external_channels.is_empty()
            || !self.inquiry_type_ids.is_empty()
            || !self.processing_type_ids.is_empty()
            || !self.mail_account_ids.is_empty()
            || self.requester_email.is_some()
            || !self.tags.is_empty()
    }

    /// The bigrams every matching subject holds (of the words of two characters or more).
    pub fn subject_bigrams(&self) -> Vec<String> {
        let mut grams: Vec<String> = self.words.iter().flat_map(|w| text::bigrams(w)).collect();
        grams.sort();
        grams.dedup();
        grams
    }
}

/// Enum values of a repeated filter: each a known value other than unspecified.
fn enums<E>(violations: &mut FieldViolations, field: &str, values: &[i32]) -> Vec<i16>
where
    E: TryFrom<i32> + Default + PartialEq,
{
    let mut kept = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match E::try_from(*value) {
            Ok(known) if known != E::default() => kept.push(*value as i16),
            _ => {
                violations.add(
                    format!("{field}[{i}]"),
                    "must be a known value other than unspecified",
                );
            }
        }
    }
    kept
}

fn uuids(violations: &mut FieldViolations, field: &str, values: &[String]) -> Vec<Uuid> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, text)| violations.uuid(format!("{field}[{i}]"), text))
        .collect()
}

/// Non-empty texts of a repeated filter.
fn texts(violations: &mut FieldViolations, field: &str, values: &[String]) -> Vec<String> {
    for (i, value) in values.iter().enumerate() {
        violations.check(value.is_empty(), &format!("{field}[{i}]"), || {
            "must not be empty".into()
        });
    }
    values.to_vec()
}

/// The request's filters and order, or INVALID_ARGUMENT naming every bad field.
pub fn read(request: &SearchTicketsRequest) -> Result<(Filters, Order), Status> {
    let mut v = FieldViolations::new();
    let create_start = request
        .create_start_time
        .as_ref()
        .and_then(|t| v.timestamp("create_start_time", t));
    let create_end = request
        .create_end_time
        .as_ref()
        .and_then(|t| v.timestamp("create_end_time", t));
    if let (Some(start), Some(end)) = (create_start, create_end) {
        v.check(end <= start, "create_end_time", || {
            "must be after create_start_time".into()
        });
    }
    v.check(request.number < 0, "number", || {
        "must be a ticket number (0 for none)".into()
    });
    let mut words = Vec::new();
    if v.max_chars("subject_query", &request.subject_query, MAX_QUERY_CHARS) {
        words = text::words(&request.subject_query);
    }
    let mut requester_name = None;
    if v.max_chars("requester_name", &request.requester_name, MAX_QUERY_CHARS) {
        let name = text::normalise(request.requester_name.trim());
        requester_name = (!name.is_empty()).then_some(name);
    }
    v.max_chars("requester_email", &request.requester_email, MAX_EMAIL_CHARS);
    v.check(
        request.unassigned_only && !request.assignee_logins.is_empty(),
        "unassigned_only",
        || "cannot be combined with assignee_logins".into(),
    );
    let order = match TicketOrderBy::try_from(request.order_by) {
        Ok(TicketOrderBy::Unspecified | TicketOrderBy::CreateTimeDesc) => Order::CreateDesc,
        Ok(TicketOrderBy::CreateTimeAsc) => Order::CreateAsc,
        Ok(TicketOrderBy::UpdateTimeDesc) => Order::UpdateDesc,
        Ok(TicketOrderBy::PriorityDesc) => Order::PriorityDesc,
        Err(_) => {
            v.add("order_by", "must be a TicketOrderBy");
            Order::CreateDesc
        }
    };
    let filters = Filters {
        create_start,
        create_end,
        priorities: enums::<TicketPriority>(&mut v, "priorities", &request.priorities),
        number: (request.number > 0).then_some(request.number),
        words,
        group_ids: uuids(&mut v, "group_ids", &request.group_ids),
        assignee_logins: texts(&mut v, "assignee_logins", &request.assignee_logins),
        unassigned_only: request.unassigned_only,
        statuses: enums::<TicketStatus>(&mut v, "statuses", &request.statuses),
        channels: enums::<TicketChannel>(&mut v, "channels", &request.channels),
        external_channels: texts(&mut v, "external_channels", &request.external_channels),
        inquiry_type_ids: uuids(&mut v, "inquiry_type_ids", &request.inquiry_type_ids),
        processing_type_ids: uuids(&mut v, "processing_type_ids", &request.processing_type_ids),
        mail_account_ids: uuids(&mut v, "mail_account_ids", &request.mail_account_ids),
        requester_name,
        requester_email: (!request.requester_email.is_empty())
            .then(|| request.requester_email.clone()),
        tags: texts(&mut v, "tags", &request.tags),
    };
    v.into_result()?;
    Ok((filters, order))
}

#[cfg(test)]
mod tests {
    use switchboard_platform::error::violated_fields;

    use super::*;

    fn fields(request: SearchTicketsRequest) -> Vec<String> {
        violated_fields(&read(&request).unwrap_err())
    }

    #[test]
    fn search_bad_values_are_named_by_field_and_index() {
        let request = SearchTicketsRequest {
            statuses: vec![TicketStatus::Spam as i32, 0],
            priorities: vec![99],
            group_ids: vec!["nope".into()],
            channels: vec![TicketChannel::Email as i32],
            tags: vec!["vip".into(), String::new()],
            number: -1,
            order_by: 42,
            ..Default::default()
        };
        assert_eq!(
            fields(request),
            [
                "number",
                "order_by",
                "priorities[0]",
                "group_ids[0]",
                "statuses[1]",
                "tags[1]"
            ]
        );
    }

    #[test]
    fn search_time_range_must_be_ordered_and_valid() {
        let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
        let backwards = SearchTicketsRequest {
            create_start_time: at(2_000),
            create_end_time: at(1_000),
            ..Default::default()
        };
        assert_eq!(fields(backwards), ["create_end_time"]);
        let out_of_range = SearchTicketsRequest {
            create_start_time: at(i64::MAX),
            ..Default::default()
        };
        assert_eq!(fields(out_of_range), ["create_start_time"]);
    }

    #[test]
    fn search_long_queries_and_unassigned_with_assignees_are_refused() {
        let request = SearchTicketsRequest {
            subject_query: "환".repeat(201),
            requester_name: "a".repeat(201),
            unassigned_only: true,
            assignee_logins: vec!["kim".into()],
            ..Default::default()
        };
        assert_eq!(
            fields(request),
            ["subject_query", "requester_name", "unassigned_only"]
        );
        let within = SearchTicketsRequest {
            subject_query: "환".repeat(200),
            ..Default::default()
        };
        assert!(read(&within).is_ok());
    }

    #[test]
    fn search_words_are_normalised_and_give_their_bigrams() {
        let request = SearchTicketsRequest {
            subject_query: " ＲＥＦＵＮＤ  환불 a ".into(),
            requester_name: "  ".into(),
            ..Default::default()
        };
        let (filters, order) = read(&request).unwrap();
        assert_eq!(order, Order::CreateDesc);
        assert_eq!(filters.words, ["refund", "환불", "a"]);
        assert_eq!(filters.requester_name, None);
        assert_eq!(
            filters.subject_bigrams(),
            ["ef", "fu", "nd", "re", "un", "환불"]
        );
    }
}
