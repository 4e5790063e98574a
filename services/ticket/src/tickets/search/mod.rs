//! `SearchTickets` (티켓 검색): every filter of the request over the tickets the caller sees,
//! paged by keyset in the requested order.
//!
//! Subject words match on the normalised subject (`subject_norm LIKE '%word%'`), found through
//! the GIN index of its bigrams (`subject_bigrams @> the words' bigrams`). The planner cannot
//! weigh that index well, so a substring search decides itself how to go:
//! - When the other filters leave few tickets (fewer than [`CANDIDATE_ROWS`], as with a group
//!   and a period), those are read by their B-tree indexes and checked by `LIKE`; the bigram
//!   index is left out, since ANDing its bitmap of a common word's many rows costs more than
//!   the whole answer.
//! - Otherwise, a common word with ORDER BY … LIMIT plans badly (the planner walks the order's
//!   index hoping to meet matches early, or sorts every match), so the page comes in two
//!   phases: first the next [`RECENT_ROWS`] rows in the order, by the order's index, filtered
//!   (a bounded scan that fills the page when the word is common); only when they give less
//!   than a page, the bigram index gives every match, which are then sorted.

mod filters;
mod query;

use sqlx::PgConnection;
use switchboard_platform::{
    error::{Error, Result as StoreResult, invalid_field},
    paging::Page,
    principal::PrincipalExt,
};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{SearchTicketsRequest, SearchTicketsResponse, Ticket},
};
use tonic::Status;

use self::{
    filters::{Filters, Order},
    query::{Binds, Cursor, Subject, conditions, substrings},
};
use super::{TicketApi, access, row, store};

/// The rows the first phase reads in the order before it falls back to the bigram index.
const RECENT_ROWS: i64 = 2_000;
/// Up to this many tickets left by the other filters are checked by `LIKE` alone.
const CANDIDATE_ROWS: i64 = 5_000;
/// `total_size` counts this many matches at most; a count above it is reported as
/// [`COUNT_CAP`] + 1 ("more than 10,000").
pub const COUNT_CAP: i64 = 10_000;

/// One search: its filters and order, for a caller, from a position.
struct Search<'a> {
    filters: &'a Filters,
    order: Order,
    principal: &'a Principal,
    after: Option<Cursor>,
}

impl Search<'_> {
    /// The conditions of the filters and the page position, written into `binds`.
    fn conditions(&self, subject: Subject, paged: bool, binds: &mut Binds) -> String {
        let mut all = conditions(self.filters, self.principal, binds);
        all.extend(substrings(self.filters, subject, binds));
        if let (true, Some(cursor)) = (paged, &self.after) {
            all.push(self.order.after(cursor, binds));
        }
        if all.is_empty() {
            "TRUE".into()
        } else {
            all.join(" AND ")
        }
    }

    /// The number of matches when the filters but the substring ones leave fewer than
    /// [`CANDIDATE_ROWS`] tickets (all of them read and checked); `None` when they leave more.
    async fn few_candidates(&self, conn: &mut PgConnection) -> StoreResult<Option<i64>> {
        let mut binds = Binds::default();
        let others = conditions(self.filters, self.principal, &mut binds);
        let others = if others.is_empty() {
            "TRUE".into()
        } else {
            others.join(" AND ")
        };
        let matching = substrings(self.filters, Subject::LikeOnly, &mut binds).join(" AND ");
        let statement = format!(
            "SELECT count(*), count(*) FILTER (WHERE {matching}) FROM (
                 SELECT subject_norm, requester_name_norm FROM tickets WHERE {others} LIMIT {})
             AS candidates",
            binds.bind(CANDIDATE_ROWS)
        );
        let (candidates, matches): (i64, i64) =
            sqlx::query_as_with(sqlx::AssertSqlSafe(statement), binds.finish()?)
                .fetch_one(conn)
                .await?;
        Ok((candidates < CANDIDATE_ROWS).then_some(matches))
    }

    async fn rows(
        &self,
        conn: &mut PgConnection,
        statement: String,
        binds: Binds,
    ) -> StoreResult<Vec<Ticket>> {
        let query = sqlx::query_as_with::<_, row::TicketRow, _>(
            sqlx::AssertSqlSafe(statement),
            binds.finish()?,
        );
        store::select(conn, query).await
    }

    /// Phase one: the matches among the next [`RECENT_ROWS`] rows in the order.
    async fn recent(&self, conn: &mut PgConnection, limit: i64) -> StoreResult<Vec<Ticket>> {
        let mut binds = Binds::default();
        let position = match &self.after {
            Some(cursor) => self.order.after(cursor, &mut binds),
            None => "TRUE".into(),
        };
        let matching = self.conditions(Subject::LikeOnly, false, &mut binds);
        let order = self.order.sql();
        let statement = format!(
            "SELECT {} FROM (SELECT * FROM tickets WHERE {position} ORDER BY {order} LIMIT {})
             AS recent WHERE {matching} ORDER BY {order} LIMIT {}",
            row::COLUMNS,
            binds.bind(RECENT_ROWS),
            binds.bind(limit),
        );
        self.rows(conn, statement, binds).await
    }

    /// Every match after the position: through the bigram index when the words have bigrams
    /// (the matches' keys gathered first, then sorted), else as one ordered query.
    async fn all(
        &self,
        conn: &mut PgConnection,
        subject: Subject,
        limit: i64,
    ) -> StoreResult<Vec<Ticket>> {
        let mut binds = Binds::default();
        let matching = self.conditions(subject, true, &mut binds);
        let order = self.order.sql();
        let statement = if subject == Subject::LikeOnly || self.filters.subject_bigrams().is_empty()
        {
            format!(
                "SELECT {} FROM tickets WHERE {matching} ORDER BY {order} LIMIT {}",
                row::COLUMNS,
                binds.bind(limit)
            )
        } else {
            format!(
                "WITH hits AS MATERIALIZED (
                     SELECT id, number, priority, create_time, update_time FROM tickets
                     WHERE {matching}),
                 page AS (SELECT id FROM hits ORDER BY {order} LIMIT {})
                 SELECT {} FROM tickets WHERE id IN (SELECT id FROM page) ORDER BY {order}",
                binds.bind(limit),
                row::COLUMNS
            )
        };
        self.rows(conn, statement, binds).await
    }

    /// The page's rows (up to `limit`), in the order.
    async fn page(&self, conn: &mut PgConnection, limit: i64) -> StoreResult<Vec<Ticket>> {
        if self.filters.has_substring() && self.filters.number.is_none() {
            let recent = self.recent(conn, limit).await?;
            if recent.len() as i64 >= limit {
                return Ok(recent);
            }
        }
        self.all(conn, Subject::WithBigrams, limit).await
    }

    /// The number of matches (every page), counted up to [`COUNT_CAP`] + 1.
    async fn count(&self, conn: &mut PgConnection) -> StoreResult<i64> {
        let mut binds = Binds::default();
        let matching = self.conditions(Subject::WithBigrams, false, &mut binds);
        let statement = format!(
            "SELECT count(*) FROM (SELECT 1 FROM tickets WHERE {matching} LIMIT {}) AS capped",
            binds.bind(COUNT_CAP + 1)
        );
        let (count,): (i64,) = sqlx::query_as_with(sqlx::AssertSqlSafe(statement), binds.finish()?)
            .fetch_one(conn)
            .await?;
        Ok(count)
    }
}

pub async fn search(
    api: &TicketApi,
    principal: &Principal,
    request: SearchTicketsRequest,
) -> Result<SearchTicketsResponse, Status> {
    access::require_staff(principal)?;
    let (filters, order) = filters::read(&request)?;
    let page = Page::of_sized(&request, |r| (&mut r.page_size, &mut r.page_token), 50, 200)?;
    let after = match &page.after {
        None => None,
        Some(text) => Some(Cursor::parse(text).ok_or_else(|| {
            invalid_field("page_token", "not a page token of this list and filters")
        })?),
    };
    let search = Search {
        filters: &filters,
        order,
        principal,
        after,
    };
    // The page and the count of one snapshot.
    let mut tx = api.pool.begin().await.map_err(Error::from)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?;
    // Plans for these values: a generic plan of a cached statement cannot know whether a group
    // and a period leave 1,000 tickets or 500,000, and walks the wrong index.
    sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?;
    // An agent's visibility narrows too: their groups may hold few tickets.
    let narrowed = filters.narrows() || !principal.is_admin();
    let few = match narrowed && filters.has_substring() && filters.number.is_none() {
        true => search.few_candidates(&mut tx).await?,
        false => None,
    };
    let (mut tickets, total) = match few {
        Some(matches) => (
            search
                .all(&mut tx, Subject::LikeOnly, page.fetch_limit())
                .await?,
            matches,
        ),
        None => (
            search.page(&mut tx, page.fetch_limit()).await?,
            search.count(&mut tx).await?,
        ),
    };
    tx.commit().await.map_err(Error::from)?;
    let next_page_token = page.finish(&mut tickets, |t| Cursor::key(order, t));
    Ok(SearchTicketsResponse {
        tickets,
        next_page_token,
        total_size: total as i32,
    })
}
