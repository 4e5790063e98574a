//! The callback search of docs/product.md §2.3 as SQL: one WHERE clause shared by the list, its count,
//! the assignment summary, the export, and assigning or cancelling by search.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use sqlx::{Arguments, PgConnection, PgPool, error::BoxDynError, postgres::PgArguments};
use switchboard_platform::error::Result;
use switchboard_proto::callback::v1::CallbackState;
use uuid::Uuid;

use super::{CallbackRow, callbacks::SELECT};

/// A validated search; `None` and empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Request time at or after.
    pub from: Option<DateTime<Utc>>,
    /// Request time before.
    pub until: Option<DateTime<Utc>>,
    pub route_ids: Vec<Uuid>,
    pub states: Vec<i16>,
    /// E.164 number that must match exactly.
    pub phone_exact: Option<String>,
    /// Digits that must occur in the national or the E.164 number.
    pub phone_digits: Option<String>,
    pub distributor_group_id: Option<String>,
    pub distributor_login: Option<String>,
    pub assignee_group_id: Option<String>,
    pub assignee_login: Option<String>,
}

/// `$1`…`$10` are the fields of [`Search`], in order.
const WHERE: &str = "($1::timestamptz IS NULL OR c.request_time >= $1)
  AND ($2::timestamptz IS NULL OR c.request_time < $2)
  AND (cardinality($3::uuid[]) = 0 OR c.ivr_route_id = ANY($3))
  AND (cardinality($4::int2[]) = 0 OR c.state = ANY($4))
  AND ($5::text IS NULL OR c.phone_number = $5)
  AND ($6::text IS NULL OR strpos(c.phone_national, $6) > 0 OR strpos(c.phone_number, $6) > 0)
  AND ($7::text IS NULL OR c.distributor_group_id = $7)
  AND ($8::text IS NULL OR c.distributor_login = $8)
  AND ($9::text IS NULL OR c.assignee_group_id = $9)
  AND ($10::text IS NULL OR c.assignee_login = $10)";

/// The list's order; ties are broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

impl Order {
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            Order::NewestFirst => ("<", "DESC"),
            Order::OldestFirst => (">", "ASC"),
        }
    }
}

fn arguments(search: &Search) -> Result<PgArguments, BoxDynError> {
    let mut args = PgArguments::default();
    args.add(search.from)?;
    args.add(search.until)?;
    args.add(search.route_ids.clone())?;
    args.add(search.states.clone())?;
    args.add(search.phone_exact.clone())?;
    args.add(search.phone_digits.clone())?;
    args.add(search.distributor_group_id.clone())?;
    args.add(search.distributor_login.clone())?;
    args.add(search.assignee_group_id.clone())?;
    args.add(search.assignee_login.clone())?;
    Ok(args)
}

/// A page of matching callbacks after `after` (request time, id) in `order`.
pub async fn page(
    pool: &PgPool,
    search: &Search,
    order: Order,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<CallbackRow>> {
    let (compare, direction) = order.sql();
    let sql = format!(
        "{SELECT} WHERE {WHERE}
           AND ($11::timestamptz IS NULL OR (c.request_time, c.id) {compare} ($11, $12))
         ORDER BY c.request_time {direction}, c.id {direction} LIMIT $13"
    );
    let args = arguments(search)
        .and_then(|mut args| {
            args.add(after.map(|(time, _)| time))?;
            args.add(after.map(|(_, id)| id))?;
            args.add(limit)?;
            Ok(args)
        })
        .map_err(sqlx::Error::Encode)?;
    Ok(sqlx::query_as_with(sqlx::AssertSqlSafe(sql), args)
        .fetch_all(pool)
        .await?)
}

/// How many callbacks match.
pub async fn count(pool: &PgPool, search: &Search) -> Result<i64> {
    let sql = format!("SELECT count(*) FROM callbacks c WHERE {WHERE}");
    let args = arguments(search).map_err(sqlx::Error::Encode)?;
    Ok(sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), args)
        .fetch_one(pool)
        .await?)
}

/// (total, assigned: UNPROCESSED or COMPLETED) of the matching callbacks.
pub async fn summary(pool: &PgPool, search: &Search) -> Result<(i64, i64)> {
    let sql = format!(
        "SELECT count(*), count(*) FILTER (WHERE c.state = ANY($11)) FROM callbacks c
         WHERE {WHERE}"
    );
    let assigned = [
        CallbackState::Unprocessed as i16,
        CallbackState::Completed as i16,
    ];
    let args = arguments(search)
        .and_then(|mut args| {
            args.add(assigned.as_slice())?;
            Ok(args)
        })
        .map_err(sqlx::Error::Encode)?;
    Ok(sqlx::query_as_with(sqlx::AssertSqlSafe(sql), args)
        .fetch_one(pool)
        .await?)
}

fn in_states(search: &Search, states: &[i16]) -> Result<PgArguments> {
    let args = arguments(search).and_then(|mut args| {
        args.add(states)?;
        Ok(args)
    });
    Ok(args.map_err(sqlx::Error::Encode)?)
}

/// How many matching callbacks are in one of `states` (those an action by search may change).
pub async fn count_in(conn: &mut PgConnection, search: &Search, states: &[i16]) -> Result<i64> {
    let sql = format!("SELECT count(*) FROM callbacks c WHERE {WHERE} AND c.state = ANY($11)");
    Ok(
        sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), in_states(search, states)?)
            .fetch_one(conn)
            .await?,
    )
}

/// Locks the matching callbacks in one of `states`, in id order as [`super::callbacks::lock`]
/// does, at most `limit` of them. A row changed meanwhile is checked again once locked, so
/// every row returned still matches.
pub async fn lock_in(
    conn: &mut PgConnection,
    search: &Search,
    states: &[i16],
    limit: i64,
) -> Result<Vec<CallbackRow>> {
    let sql = format!(
        "{SELECT} WHERE {WHERE} AND c.state = ANY($11) ORDER BY c.id LIMIT $12 FOR UPDATE OF c"
    );
    let mut args = in_states(search, states)?;
    args.add(limit).map_err(sqlx::Error::Encode)?;
    Ok(sqlx::query_as_with(sqlx::AssertSqlSafe(sql), args)
        .fetch_all(conn)
        .await?)
}

/// Every matching callback in `order`, streamed as PostgreSQL sends them (for the export).
pub fn all<'a>(
    pool: &'a PgPool,
    search: &Search,
    order: Order,
) -> BoxStream<'a, sqlx::Result<CallbackRow>> {
    let (_, direction) = order.sql();
    let sql =
        format!("{SELECT} WHERE {WHERE} ORDER BY c.request_time {direction}, c.id {direction}");
    match arguments(search) {
        Ok(args) => sqlx::query_as_with(sqlx::AssertSqlSafe(sql), args).fetch(pool),
        Err(error) => Box::pin(futures_util::stream::once(async {
            Err(sqlx::Error::Encode(error))
        })),
    }
}
