//! `ListOutboundMessages`, `GetOutboundMessage`, `RetryOutboundMessage`: outgoing mail with its
//! delivery state, for admins.

use sqlx::PgPool;
use switchboard_platform::{
    error::{Error, FieldViolations},
    paging::Page,
    request::uuid_field,
    time::instant,
};
use switchboard_proto::inbound::v1::{
    GetOutboundMessageRequest, GetOutboundMessageResponse, ListOutboundMessagesRequest,
    ListOutboundMessagesResponse, OutboundMessage, OutboundState, RetryOutboundMessageRequest,
    RetryOutboundMessageResponse,
};
use tonic::Status;

use super::store::{self, COLUMNS, Row};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 200;

pub async fn list(
    pool: &PgPool,
    request: ListOutboundMessagesRequest,
) -> Result<ListOutboundMessagesResponse, Status> {
    let mut violations = FieldViolations::new();
    let mut states = Vec::new();
    for (i, state) in request.states.iter().enumerate() {
        match OutboundState::try_from(*state) {
            Ok(OutboundState::Unspecified) | Err(_) => {
                violations.add(format!("states[{i}]"), "is not an OutboundState");
            }
            Ok(state) => states.push(state as i16),
        }
    }
    let ticket = violations.optional_uuid("ticket_id", &request.ticket_id);
    let account = violations.optional_uuid("mail_account_id", &request.mail_account_id);
    let mut time = |field: &str, at: &Option<prost_types::Timestamp>| match at {
        None => None,
        Some(at) => {
            let parsed = instant(at);
            if parsed.is_none() {
                violations.add(field, "is not a valid time stamp");
            }
            parsed
        }
    };
    let start = time("create_start_time", &request.create_start_time);
    let end = time("create_end_time", &request.create_end_time);
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        violations.add("create_end_time", "must be after create_start_time");
    }
    violations.into_result()?;
    let page = Page::of_sized(
        &request,
        |r| (&mut r.page_size, &mut r.page_token),
        DEFAULT_PAGE,
        MAX_PAGE,
    )?;
    let after = crate::newest_first::after(&page)?;
    let filter = "(cardinality($1::int2[]) = 0 OR state = ANY($1))
         AND ($2::uuid IS NULL OR ticket_id = $2) AND ($3::uuid IS NULL OR mail_account_id = $3)
         AND ($4::timestamptz IS NULL OR create_time >= $4)
         AND ($5::timestamptz IS NULL OR create_time < $5)";
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outbound_messages WHERE {filter}
           AND ($6::timestamptz IS NULL OR (create_time, id) < ($6, $7))
         ORDER BY create_time DESC, id DESC LIMIT $8"
    )))
    .bind(&states)
    .bind(ticket)
    .bind(account)
    .bind(start)
    .bind(end)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(page.fetch_limit())
    .fetch_all(pool)
    .await
    .map_err(Error::from)?;
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM outbound_messages WHERE {filter}"
    )))
    .bind(&states)
    .bind(ticket)
    .bind(account)
    .bind(start)
    .bind(end)
    .fetch_one(pool)
    .await
    .map_err(Error::from)?;
    let mut messages: Vec<OutboundMessage> = rows.iter().map(Row::message).collect();
    let next_page_token = page.finish(&mut messages, |m| {
        crate::newest_first::key(&m.create_time, &m.id)
    });
    Ok(ListOutboundMessagesResponse {
        outbound_messages: messages,
        next_page_token,
        total_size: total as i32,
    })
}

pub async fn get(
    pool: &PgPool,
    request: GetOutboundMessageRequest,
) -> Result<GetOutboundMessageResponse, Status> {
    let id = uuid_field("outbound_message_id", &request.outbound_message_id)?;
    let row = store::get(pool, id)
        .await?
        .ok_or_else(|| Status::not_found("no such outgoing mail"))?;
    Ok(GetOutboundMessageResponse {
        outbound_message: Some(row.message()),
    })
}

pub async fn retry(
    pool: &PgPool,
    request: RetryOutboundMessageRequest,
    give_up_after: chrono::Duration,
) -> Result<RetryOutboundMessageResponse, Status> {
    let id = uuid_field("outbound_message_id", &request.outbound_message_id)?;
    match store::requeue(pool, id, give_up_after).await? {
        Some(row) => Ok(RetryOutboundMessageResponse {
            outbound_message: Some(row.message()),
        }),
        None => match store::get(pool, id).await? {
            None => Err(Status::not_found("no such outgoing mail")),
            Some(row) => Err(Status::failed_precondition(format!(
                "only a failed mail can be queued again; this one is {:?}",
                OutboundState::try_from(i32::from(row.state)).unwrap_or_default()
            ))),
        },
    }
}
