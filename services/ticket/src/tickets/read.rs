//! The reads of one ticket: the ticket, its conversation, its history (이벤트 탭) and the
//! requester's other tickets (문의내역).

use switchboard_platform::{
    error::Error, paging::Page, principal::PrincipalExt, request::uuid_field,
};
use switchboard_proto::{
    common::v1::Principal,
    ticket::v1::{
        GetTicketRequest, GetTicketResponse, ListRequesterTicketsRequest,
        ListRequesterTicketsResponse, ListTicketEventsRequest, ListTicketEventsResponse,
        ListTicketMessagesRequest, ListTicketMessagesResponse, Ticket, TicketMessageKind,
    },
};
use tonic::Status;
use uuid::Uuid;

use super::{TicketApi, access, history, messages, not_found, row, store};

/// The ticket `id` if `principal` may read it; NOT_FOUND otherwise.
async fn readable(api: &TicketApi, principal: &Principal, id: Uuid) -> Result<Ticket, Status> {
    let mut conn = api.pool.acquire().await.map_err(Error::from)?;
    match store::load(&mut conn, id, false).await? {
        Some(ticket) if access::may_read(principal, &ticket) => Ok(ticket),
        _ => Err(not_found()),
    }
}

pub async fn get(
    api: &TicketApi,
    principal: &Principal,
    request: &GetTicketRequest,
) -> Result<GetTicketResponse, Status> {
    access::require_reader(principal)?;
    let id = uuid_field("ticket_id", &request.ticket_id)?;
    Ok(GetTicketResponse {
        ticket: Some(readable(api, principal, id).await?),
    })
}

/// A page position carried in a token: the last row's `seq`.
fn after_seq(page: &Page) -> Result<i64, Status> {
    match &page.after {
        None => Ok(0),
        Some(text) => text.parse().map_err(|_| {
            switchboard_platform::error::invalid_field(
                "page_token",
                "not a page token of this list",
            )
        }),
    }
}

pub async fn messages(
    api: &TicketApi,
    principal: &Principal,
    request: ListTicketMessagesRequest,
) -> Result<ListTicketMessagesResponse, Status> {
    access::require_reader(principal)?;
    let id = uuid_field("ticket_id", &request.ticket_id)?;
    let mut kinds = Vec::new();
    for (i, kind) in request.kinds.iter().enumerate() {
        match TicketMessageKind::try_from(*kind) {
            Ok(TicketMessageKind::Unspecified) | Err(_) => {
                return Err(switchboard_platform::error::invalid_field(
                    &format!("kinds[{i}]"),
                    "must be a TicketMessageKind",
                ));
            }
            Ok(kind) => kinds.push(kind as i16),
        }
    }
    let page = Page::of_sized(&request, |r| (&mut r.page_size, &mut r.page_token), 50, 200)?;
    readable(api, principal, id).await?;
    let mut conn = api.pool.acquire().await.map_err(Error::from)?;
    let (mut rows, total) =
        messages::page(&mut conn, id, &kinds, after_seq(&page)?, page.fetch_limit()).await?;
    let next_page_token = page.finish(&mut rows, |(seq, _)| seq.to_string());
    Ok(ListTicketMessagesResponse {
        messages: rows.into_iter().map(|(_, m)| m).collect(),
        next_page_token,
        total_size: total as i32,
    })
}

pub async fn events(
    api: &TicketApi,
    principal: &Principal,
    request: ListTicketEventsRequest,
) -> Result<ListTicketEventsResponse, Status> {
    access::require_reader(principal)?;
    let id = uuid_field("ticket_id", &request.ticket_id)?;
    let page = Page::of_sized(
        &request,
        |r| (&mut r.page_size, &mut r.page_token),
        100,
        500,
    )?;
    readable(api, principal, id).await?;
    let mut conn = api.pool.acquire().await.map_err(Error::from)?;
    let (mut rows, total) =
        history::page(&mut conn, id, after_seq(&page)?, page.fetch_limit()).await?;
    let next_page_token = page.finish(&mut rows, |(seq, _)| seq.to_string());
    Ok(ListTicketEventsResponse {
        events: rows.into_iter().map(|(_, e)| e).collect(),
        next_page_token,
        total_size: total as i32,
    })
}

pub async fn requester_tickets(
    api: &TicketApi,
    principal: &Principal,
    request: ListRequesterTicketsRequest,
) -> Result<ListRequesterTicketsResponse, Status> {
    access::require_staff(principal)?;
    let id = uuid_field("ticket_id", &request.ticket_id)?;
    let page = Page::of_sized(&request, |r| (&mut r.page_size, &mut r.page_token), 20, 100)?;
    let ticket = api.visible_ticket(principal, &request.ticket_id).await?;
    let requester = ticket.requester.clone().unwrap_or_default();
    // The requester: by e-mail (case-insensitively), else phone, else the external user id on
    // the same channel.
    let (matcher, key, channel) = if !requester.email.is_empty() {
        (
            "lower(requester_email) = lower($1) AND requester_email <> ''",
            requester.email,
            String::new(),
        )
    } else if !requester.phone_number.is_empty() {
        (
            "requester_phone = $1 AND requester_phone <> ''",
            requester.phone_number,
            String::new(),
        )
    } else if !requester.external_user_id.is_empty() {
        (
            "requester_external_id = $1 AND requester_external_id <> '' AND external_channel = $2",
            requester.external_user_id,
            ticket.external_channel.clone(),
        )
    } else {
        return Ok(ListRequesterTicketsResponse::default());
    };
    // Newest first; the key is (create time in microseconds, number), both descending.
    let (after_time, after_number) = match &page.after {
        None => (i64::MAX, i64::MAX),
        Some(text) => text
            .split_once('/')
            .and_then(|(t, n)| Some((t.parse().ok()?, n.parse().ok()?)))
            .ok_or_else(|| {
                switchboard_platform::error::invalid_field(
                    "page_token",
                    "not a page token of this list",
                )
            })?,
    };
    let visible = "($4 OR group_id IS NULL OR group_id = ANY($5) OR assignee_login = $6)";
    let groups: Vec<Uuid> = principal
        .group_ids
        .iter()
        .filter_map(|g| Uuid::parse_str(g).ok())
        .collect();
    let condition = format!("{matcher} AND id <> $3 AND {visible}");
    let statement = format!(
        "SELECT {} FROM tickets WHERE {condition}
         AND (floor(extract(epoch FROM create_time) * 1000000)::bigint, number) < ($7, $8)
         ORDER BY create_time DESC, number DESC LIMIT $9",
        row::COLUMNS
    );
    let mut conn = api.pool.acquire().await.map_err(Error::from)?;
    let query = sqlx::query_as::<_, row::TicketRow>(sqlx::AssertSqlSafe(statement.as_str()))
        .bind(&key)
        .bind(&channel)
        .bind(id)
        .bind(principal.is_admin())
        .bind(&groups)
        .bind(&principal.subject)
        .bind(after_time)
        .bind(after_number)
        .bind(page.fetch_limit());
    let mut tickets = store::select(&mut conn, query).await?;
    let count_statement = format!("SELECT count(*) FROM tickets WHERE {condition}");
    let (total,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(count_statement.as_str()))
        .bind(&key)
        .bind(&channel)
        .bind(id)
        .bind(principal.is_admin())
        .bind(&groups)
        .bind(&principal.subject)
        .fetch_one(&mut *conn)
        .await
        .map_err(Error::from)?;
    let next_page_token = page.finish(&mut tickets, |t| {
        let micros = t
            .create_time
            .map(|ts| ts.seconds * 1_000_000 + i64::from(ts.nanos) / 1_000)
            .unwrap_or_default();
        format!("{micros}/{}", t.number)
    });
    Ok(ListRequesterTicketsResponse {
        tickets,
        next_page_token,
        total_size: total as i32,
    })
}
