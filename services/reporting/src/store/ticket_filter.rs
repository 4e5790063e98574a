//! The ticket reports' filter and breakdown in SQL, shared by the tables that keep every
//! filter dimension (`ticket_facts`, `ticket_volume_counts`, `ticket_backlog_changes`).

use sqlx::{Postgres, postgres::PgArguments, query::QueryAs};

use super::ticket_dimensions::{key_column_of, keys_of_parameter};
use crate::domain::tickets::query::{Breakdown, TicketFilter};

/// The column a breakdown's value is read from, as text (`''` without a breakdown).
pub fn column(breakdown: Breakdown) -> &'static str {
    match breakdown {
        Breakdown::None => "''::text",
        Breakdown::Channel => "channel::text",
        Breakdown::Group => "group_id",
        Breakdown::Agent => "assignee_login",
        Breakdown::InquiryType => "inquiry_type_id",
        Breakdown::MailAccount => "mail_account_id",
    }
}

/// The filter's columns, in the order their values are bound.
const COLUMNS: [&str; 5] = [
    "channel",
    "group_id",
    "assignee_login",
    "inquiry_type_id",
    "mail_account_id",
];

/// Which of the filter's lists are set, in [`COLUMNS`] order.
fn set(filter: &TicketFilter) -> [bool; 5] {
    [
        !filter.channels.is_empty(),
        !filter.group_ids.is_empty(),
        !filter.agent_logins.is_empty(),
        !filter.inquiry_type_ids.is_empty(),
        !filter.mail_account_ids.is_empty(),
    ]
}

/// The conditions of the filter's non-empty lists (`TRUE` for none), binding `$first` on (see
/// [`bind`]). Only what is asked is written into the text: a catch-all condition bound as
/// "empty means any" would leave the planner one generic plan for every filter.
pub fn conditions(filter: &TicketFilter, first: usize) -> String {
    write(first, set(filter), Columns::Text)
}

/// [`conditions`] on `ticket_facts`' dimension keys (the times report's indexes), the text
/// values bound as they are and turned into keys in SQL.
pub fn keyed_conditions(filter: &TicketFilter, first: usize) -> String {
    write(first, set(filter), Columns::Keys)
}

/// The column of a breakdown's value in `ticket_facts`' times indexes: the channel, a
/// dimension's key, or `0` without a breakdown. [`ticket_dimensions`] turns keys into text.
///
/// [`ticket_dimensions`]: super::ticket_dimensions
pub fn key_column(breakdown: Breakdown) -> Option<&'static str> {
    key_column_of(column(breakdown))
}

/// Which columns a filter is written on.
#[derive(Clone, Copy)]
enum Columns {
    Text,
    Keys,
}

/// The conditions of the filter's group and assignee lists only (the backlog's changes keep no
/// other dimension), binding `$first` on (see [`bind_assignees`]).
pub fn assignee_conditions(filter: &TicketFilter, first: usize) -> String {
    let [_, groups, agents, _, _] = set(filter);
    write(first, [false, groups, agents, false, false], Columns::Text)
}

fn write(first: usize, set: [bool; 5], columns: Columns) -> String {
    let mut parameter = first;
    let parts: Vec<String> = COLUMNS
        .into_iter()
        .zip(set)
        .filter(|(_, set)| *set)
        .map(|(column, _)| {
            let part = match (column, key_column_of(column), columns) {
                (column, None, _) => format!("{column} = ANY(${parameter}::int2[])"),
                (column, Some(_), Columns::Text) => {
                    format!("{column} = ANY(${parameter}::text[])")
                }
                (_, Some(key), Columns::Keys) => {
                    format!("{key} = ANY({})", keys_of_parameter(parameter))
                }
            };
            parameter += 1;
            part
        })
        .collect();
    if parts.is_empty() {
        "TRUE".to_owned()
    } else {
        parts.join(" AND ")
    }
}

type Query<'q, O> = QueryAs<'q, Postgres, O, PgArguments>;

/// Binds the values of [`conditions`], in its order.
pub fn bind<'q, O>(mut query: Query<'q, O>, filter: &'q TicketFilter) -> Query<'q, O> {
    if !filter.channels.is_empty() {
        query = query.bind(&filter.channels);
    }
    for (values, _) in text_lists(filter) {
        query = query.bind(values);
    }
    query
}

/// Binds the values of [`assignee_conditions`], in its order.
pub fn bind_assignees<'q, O>(mut query: Query<'q, O>, filter: &'q TicketFilter) -> Query<'q, O> {
    for (values, assignee) in text_lists(filter) {
        if assignee {
            query = query.bind(values);
        }
    }
    query
}

/// The non-empty text lists in [`COLUMNS`] order, and whether each is a group or assignee one.
fn text_lists(filter: &TicketFilter) -> impl Iterator<Item = (&Vec<String>, bool)> {
    [
        (&filter.group_ids, true),
        (&filter.agent_logins, true),
        (&filter.inquiry_type_ids, false),
        (&filter.mail_account_ids, false),
    ]
    .into_iter()
    .filter(|(values, _)| !values.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lists_asked_for_are_written_and_numbered_in_order() {
        let none = TicketFilter::default();
        assert_eq!(conditions(&none, 3), "TRUE");
        let filter = TicketFilter {
            channels: vec![2],
            agent_logins: vec!["kim".into()],
            mail_account_ids: vec!["m".into()],
            inquiry_type_ids: vec!["t".into()],
            ..Default::default()
        };
        assert_eq!(
            conditions(&filter, 3),
            "channel = ANY($3::int2[]) AND assignee_login = ANY($4::text[]) \
             AND inquiry_type_id = ANY($5::text[]) AND mail_account_id = ANY($6::text[])"
        );
        assert_eq!(
            assignee_conditions(&filter, 1),
            "assignee_login = ANY($1::text[])"
        );
        assert_eq!(text_lists(&filter).count(), 3);
        assert_eq!(
            keyed_conditions(&filter, 3),
            "channel = ANY($3::int2[]) AND assignee_key = ANY(ARRAY(SELECT key FROM \
             ticket_dimension_keys WHERE value = ANY($4::text[]))) AND inquiry_type_key = \
             ANY(ARRAY(SELECT key FROM ticket_dimension_keys WHERE value = ANY($5::text[]))) \
             AND mail_account_key = ANY(ARRAY(SELECT key FROM ticket_dimension_keys WHERE \
             value = ANY($6::text[])))"
        );
    }
}
