//! The ticket reports' filter and breakdown in SQL, shared by the tables that keep every
//! filter dimension (`ticket_facts`, `ticket_volume_counts`, `ticket_backlog_changes`).

use sqlx::{Postgres, postgres::PgArguments, query::QueryAs};

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

/// The conditions of the whole filter, binding `$first` to `$first + 4` (see [`bind`]).
pub fn conditions(first: usize) -> String {
    let [a, b, c, d, e] = [first, first + 1, first + 2, first + 3, first + 4];
    format!(
        "(cardinality(${a}::int2[]) = 0 OR channel = ANY(${a}))
         AND (cardinality(${b}::text[]) = 0 OR group_id = ANY(${b}))
         AND (cardinality(${c}::text[]) = 0 OR assignee_login = ANY(${c}))
         AND (cardinality(${d}::text[]) = 0 OR inquiry_type_id = ANY(${d}))
         AND (cardinality(${e}::text[]) = 0 OR mail_account_id = ANY(${e}))"
    )
}

/// The conditions of a filter on the group and assignee only (the backlog's changes), binding
/// `$first` and `$first + 1` (see [`bind_assignees`]).
pub fn assignee_conditions(first: usize) -> String {
    let [b, c] = [first, first + 1];
    format!(
        "(cardinality(${b}::text[]) = 0 OR group_id = ANY(${b}))
         AND (cardinality(${c}::text[]) = 0 OR assignee_login = ANY(${c}))"
    )
}

type Query<'q, O> = QueryAs<'q, Postgres, O, PgArguments>;

/// Binds the values of [`conditions`], in its order.
pub fn bind<'q, O>(query: Query<'q, O>, filter: &'q TicketFilter) -> Query<'q, O> {
    query
        .bind(&filter.channels)
        .bind(&filter.group_ids)
        .bind(&filter.agent_logins)
        .bind(&filter.inquiry_type_ids)
        .bind(&filter.mail_account_ids)
}

/// Binds the values of [`assignee_conditions`], in its order.
pub fn bind_assignees<'q, O>(query: Query<'q, O>, filter: &'q TicketFilter) -> Query<'q, O> {
    query.bind(&filter.group_ids).bind(&filter.agent_logins)
}
