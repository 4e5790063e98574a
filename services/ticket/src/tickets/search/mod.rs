//! `SearchTickets` (티켓 검색): every filter of the request over the tickets the caller sees,
//! paged by keyset in the requested order.
//!
//! Subject words match on the normalised subject (`subject_norm LIKE '%word%'`), found through
//! the GIN index of its bigrams (`subject_bigrams @> the words' bigrams`). A common word with
//! ORDER BY … LIMIT plans badly (the planner walks the order's index hoping to meet matches
//! early, or sorts every match), so a substring search goes in two phases: first the next
//! [`RECENT_ROWS`] rows in the order, by the order's index, filtered (a bounded scan that fills
//! the page when the word is common); only when they give less than a page, the bigram index
//! gives every match, which are then sorted.

mod filters;
mod query;

use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::{
    error::{Error, Result as StoreResult, invalid_field},
    paging::Page,
};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{SearchTicketsRequest, SearchTicketsResponse, Ticket},
};
use tonic::Status;

use self::{
    filters::{Filters, Order},
    query::{Binds, Cursor, Subject, conditions},
};
use super::{TicketApi, access, row, store};

/// The rows the first phase reads in the order before it falls back to the bigram index.
const RECENT_ROWS: i64 = 2_000;
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
        let mut all = conditions(self.filters, self.principal, subject, binds);
        if let (true, Some(cursor)) = (paged, &self.after) {
            all.push(self.order.after(cursor, binds));
        }
        if all.is_empty() {
            "TRUE".into()
        } else {
            all.join(" AND ")
        }
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
    async fn all(&self, conn: &mut PgConnection, limit: i64) -> StoreResult<Vec<Ticket>> {
        let mut binds = Binds::default();
        let matching = self.conditions(Subject::WithBigrams, true, &mut binds);
        let order = self.order.sql();
        let statement = if self.filters.subject_bigrams().is_empty() {
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
        self.all(conn, limit).await
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
    let fingerprint = SearchTicketsRequest {
        page_size: 0,
        page_token: String::new(),
        ..request.clone()
    };
    let page = Page::parse_sized(
        request.page_size,
        &request.page_token,
        &fingerprint.encode_to_vec(),
        50,
        200,
    )?;
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
    let mut tickets = search.page(&mut tx, page.fetch_limit()).await?;
    let total = search.count(&mut tx).await?;
    tx.commit().await.map_err(Error::from)?;
    let next_page_token = page.finish(&mut tickets, |t| Cursor::key(order, t));
    Ok(SearchTicketsResponse {
        tickets,
        next_page_token,
        total_size: total as i32,
    })
}
