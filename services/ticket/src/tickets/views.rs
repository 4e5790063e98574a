//! The views of the ticket list (티켓 목록, ticket_query.proto `TicketView`): which tickets each
//! holds for the caller, their paged lists in every order, and their counts in one call.
//!
//! A view is a condition over three things of a ticket (group, assignee, status) and the
//! caller, written once here for both the tickets table and the counts kept per (group,
//! assignee, status), so a list's total is its badge's count.

use chrono::{DateTime, Utc};
use switchboard_platform::{
    error::{Error, invalid_field},
    paging::Page,
    principal::PrincipalExt,
};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        CountTicketViewsResponse, ListTicketsRequest, ListTicketsResponse, Ticket, TicketOrderBy,
        TicketView, TicketViewCount,
    },
};
use tonic::Status;
use uuid::Uuid;

use super::{access, row, store};

/// The views, in enum order (every one but unspecified).
pub const VIEWS: [TicketView; 8] = [
    TicketView::All,
    TicketView::Unassigned,
    TicketView::MyGroups,
    TicketView::MyInProgress,
    TicketView::MyOnHold,
    TicketView::MySolved,
    TicketView::MyClosed,
    TicketView::Spam,
];

/// How a table names the three things a view looks at. The caller is bound as `$1` (is an
/// admin), `$2` (their group ids) and `$3` (their login).
struct Columns {
    group: &'static str,
    no_group: &'static str,
    assignee: &'static str,
}

const TICKETS: Columns = Columns {
    group: "group_id",
    no_group: "group_id IS NULL",
    assignee: "assignee_login",
};

const COUNTS: Columns = Columns {
    group: "group_key",
    no_group: "group_key = '00000000-0000-0000-0000-000000000000'",
    assignee: "assignee_key",
};

/// The condition of `view` over a table named as `columns`.
fn condition(view: TicketView, c: &Columns) -> String {
    let visible = format!(
        "($1 OR {g} = ANY($2) OR {none} OR {a} = $3)",
        g = c.group,
        none = c.no_group,
        a = c.assignee
    );
    let mine = |status: i32| format!("{} = $3 AND status = {status}", c.assignee);
    match view {
        TicketView::All | TicketView::Unspecified => format!("{visible} AND status <> 6"),
        TicketView::Unassigned => format!("{visible} AND status = 1"),
        TicketView::MyGroups => format!("{} = ANY($2) AND status <> 6", c.group),
        TicketView::MyInProgress => mine(2),
        TicketView::MyOnHold => mine(3),
        TicketView::MySolved => mine(4),
        TicketView::MyClosed => mine(5),
        TicketView::Spam => format!("{visible} AND status = 6"),
    }
}

fn caller_groups(principal: &Principal) -> Vec<Uuid> {
    principal
        .group_ids
        .iter()
        .filter_map(|g| Uuid::parse_str(g).ok())
        .collect()
}

/// Every view's count for `principal`, in one statement over the kept counts.
pub async fn count(
    conn: &mut sqlx::PgConnection,
    principal: &Principal,
) -> Result<Vec<i64>, Status> {
    let sums: Vec<String> = VIEWS
        .iter()
        .map(|view| {
            format!(
                "coalesce(sum(n) FILTER (WHERE {}), 0)::bigint",
                condition(*view, &COUNTS)
            )
        })
        .collect();
    let sql = format!(
        "SELECT ARRAY[{}] FROM (SELECT group_key, assignee_key, status, n FROM ticket_counts
         UNION ALL SELECT group_key, assignee_key, status, n FROM ticket_count_changes) c",
        sums.join(", ")
    );
    let (counts,): (Vec<i64>,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(principal.is_admin())
        .bind(caller_groups(principal))
        .bind(&principal.subject)
        .fetch_one(conn)
        .await
        .map_err(Error::from)?;
    Ok(counts)
}

pub async fn count_views(
    pool: &sqlx::PgPool,
    principal: &Principal,
) -> Result<CountTicketViewsResponse, Status> {
    access::require_staff(principal)?;
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    let counts = count(&mut conn, principal).await?;
    Ok(CountTicketViewsResponse {
        counts: VIEWS
            .iter()
            .zip(counts)
            .map(|(view, count)| TicketViewCount {
                view: *view as i32,
                count,
            })
            .collect(),
    })
}

/// Where a page starts: the last row's sort key, and when the first page was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    issued: i64,
    /// The priority (priority order only).
    priority: i32,
    /// The create or update time in microseconds.
    time: i64,
    number: i64,
}

/// Page tokens are good for this long (ticket_service.proto).
const TOKEN_LIFETIME_S: i64 = 24 * 3600;

impl Cursor {
    fn encode(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.issued, self.priority, self.time, self.number
        )
    }

    fn decode(text: &str, now: DateTime<Utc>) -> Result<Self, Status> {
        let bad = || invalid_field("page_token", "not a page token of this list");
        let parts: Vec<i64> = text
            .split(':')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let [issued, priority, time, number] = parts[..] else {
            return Err(bad());
        };
        if now.timestamp() - issued > TOKEN_LIFETIME_S {
            return Err(invalid_field(
                "page_token",
                "has expired (24 hours); start again",
            ));
        }
        Ok(Self {
            issued,
            priority: i32::try_from(priority).map_err(|_| bad())?,
            time,
            number,
        })
    }
}

fn micros(at: &Option<prost_types::Timestamp>) -> i64 {
    at.as_ref()
        .map(|t| t.seconds * 1_000_000 + i64::from(t.nanos) / 1_000)
        .unwrap_or_default()
}

/// The ORDER BY of `order` and the condition of the rows after `$4…$6` (priority, time,
/// number), ties always by number descending.
fn order_sql(order: TicketOrderBy) -> (&'static str, &'static str) {
    match order {
        TicketOrderBy::CreateTimeAsc => (
            "create_time ASC, number DESC",
            // Mixed directions have no row comparison; the first bound is where the index
            // scan starts.
            "create_time >= $5 AND (create_time > $5 OR number < $6)",
        ),
        TicketOrderBy::UpdateTimeDesc => (
            "update_time DESC, number DESC",
            "(update_time, number) < ($5, $6)",
        ),
        TicketOrderBy::PriorityDesc => (
            "priority DESC, create_time DESC, number DESC",
            "(priority, create_time, number) < ($4::smallint, $5, $6)",
        ),
        TicketOrderBy::CreateTimeDesc | TicketOrderBy::Unspecified => (
            "create_time DESC, number DESC",
            "(create_time, number) < ($5, $6)",
        ),
    }
}

pub async fn list(
    pool: &sqlx::PgPool,
    principal: &Principal,
    request: ListTicketsRequest,
) -> Result<ListTicketsResponse, Status> {
    access::require_staff(principal)?;
    let view = TicketView::try_from(request.view)
        .map_err(|_| invalid_field("view", "is not a TicketView"))?;
    let order = TicketOrderBy::try_from(request.order_by)
        .map_err(|_| invalid_field("order_by", "is not a TicketOrderBy"))?;
    let page = Page::of_sized(&request, |r| (&mut r.page_size, &mut r.page_token), 50, 200)?;
    let now = Utc::now();
    let cursor = page
        .after
        .as_deref()
        .map(|text| Cursor::decode(text, now))
        .transpose()?;
    let (order_by, after) = order_sql(order);
    let sql = format!(
        "SELECT {} FROM tickets WHERE {} AND ($7 OR {after}) ORDER BY {order_by} LIMIT $8",
        row::COLUMNS,
        condition(view, &TICKETS)
    );
    let start = cursor.unwrap_or(Cursor {
        issued: now.timestamp(),
        priority: 0,
        time: 0,
        number: 0,
    });
    let time = DateTime::from_timestamp_micros(start.time).unwrap_or_default();
    let mut conn = pool.acquire().await.map_err(Error::from)?;
    let query = sqlx::query_as::<_, row::TicketRow>(sqlx::AssertSqlSafe(sql))
        .bind(principal.is_admin())
        .bind(caller_groups(principal))
        .bind(&principal.subject)
        .bind(start.priority as i16)
        .bind(time)
        .bind(start.number)
        .bind(cursor.is_none())
        .bind(page.fetch_limit());
    let mut tickets = store::select(&mut conn, query).await?;
    let counts = count(&mut conn, principal).await?;
    let index = VIEWS.iter().position(|v| *v == view).unwrap_or_default();
    let next_page_token = page.finish(&mut tickets, |ticket: &Ticket| {
        let time = match order {
            TicketOrderBy::UpdateTimeDesc => micros(&ticket.update_time),
            _ => micros(&ticket.create_time),
        };
        Cursor {
            issued: start.issued,
            priority: ticket.priority,
            time,
            number: ticket.number,
        }
        .encode()
    });
    Ok(ListTicketsResponse {
        tickets,
        next_page_token,
        total_size: i32::try_from(counts[index]).unwrap_or(i32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_expires_after_a_day() {
        let now = Utc::now();
        let cursor = Cursor {
            issued: now.timestamp(),
            priority: 3,
            time: 1_700_000_000_123_456,
            number: 1042,
        };
        assert_eq!(Cursor::decode(&cursor.encode(), now).unwrap(), cursor);
        let old = Cursor {
            issued: now.timestamp() - TOKEN_LIFETIME_S - 1,
            ..cursor
        };
        assert!(Cursor::decode(&old.encode(), now).is_err());
        assert!(Cursor::decode("1:2:3", now).is_err());
    }

    #[test]
    fn the_my_views_are_the_callers_own_and_the_rest_what_they_see() {
        assert_eq!(
            condition(TicketView::MyOnHold, &TICKETS),
            "assignee_login = $3 AND status = 3"
        );
        assert!(condition(TicketView::Spam, &COUNTS).starts_with("($1 OR group_key = ANY($2)"));
    }
}
