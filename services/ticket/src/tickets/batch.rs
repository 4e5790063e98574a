//! 티켓 일괄 처리: `BatchReplyTickets` and `BatchForwardTickets`. The request is checked as a
//! whole, then every ticket is changed on its own, in its own transaction, exactly as
//! `ReplyTicket` / `ForwardTicket` change it ([`reply_one`], [`forward_one`]); a ticket that
//! cannot be changed is a failed row, not a failed call.
//!
//! With a `request_id` the call is idempotent although its rows commit separately: the first
//! call claims the id in `request_ids` (an empty response: unfinished), each finished row is
//! stored in `batch_rows` in its change's transaction, and the full response replaces the claim
//! at the end. A retry of a finished call gets the stored response; a retry of an unfinished
//! one (the first failed or crashed midway) skips the rows already stored.

use std::collections::HashMap;

use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::{
    error::{Error, FieldViolations, invalid_field, sql_status},
    principal::PrincipalExt,
    request_id::{RequestId, commit_with},
};
use switchboard_proto::{
    common::v1::{Principal, RowResult},
    ticket::v1::{
        BatchForwardTicketsRequest, BatchForwardTicketsResponse, BatchReplyTicketsRequest,
        BatchReplyTicketsResponse,
    },
};
use tonic::{Code, Status};
use uuid::Uuid;

use super::{
    TicketApi, access,
    reply::{CheckedReply, check_reply, reply_one},
    work::{CheckedForward, check_forward, forward_one},
};
use crate::templates::lookup::usable;

pub(crate) const NOT_FOUND: &str = "NOT_FOUND";
pub(crate) const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
pub(crate) const INVALID_STATUS: &str = "INVALID_STATUS";
pub(crate) const NO_REPLY_ADDRESS: &str = "NO_REPLY_ADDRESS";

const MAX_TICKETS: usize = 100;
const REPLY_METHOD: &str = "BatchReplyTickets";

/// Why a change of one ticket failed: the status a single-ticket rpc answers, and, when the
/// failure is the ticket's own (not the service's), its batch row reason.
#[derive(Debug)]
pub(crate) struct Refusal {
    reason: Option<&'static str>,
    status: Status,
}

impl Refusal {
    pub(crate) fn row(reason: &'static str, status: Status) -> Self {
        Self {
            reason: Some(reason),
            status,
        }
    }

    /// A ticket lookup's failure: NOT_FOUND (missing or not visible) is the row's.
    pub(crate) fn lookup(status: Status) -> Self {
        match status.code() {
            Code::NotFound => Self::row(NOT_FOUND, status),
            _ => status.into(),
        }
    }

    /// The state machine refused the action (FAILED_PRECONDITION naming the status).
    pub(crate) fn invalid_status(status: Status) -> Self {
        Self::row(INVALID_STATUS, status)
    }
}

impl From<Status> for Refusal {
    fn from(status: Status) -> Self {
        Self {
            reason: None,
            status,
        }
    }
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Status::from(error).into()
    }
}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Self {
        refusal.status
    }
}

/// `ticket_ids`: 1 to 100 UUIDs without repeats (a repeat is named by its own index).
fn ticket_ids(violations: &mut FieldViolations, ids: &[String]) -> Vec<Uuid> {
    if ids.is_empty() || ids.len() > MAX_TICKETS {
        violations.add(
            "ticket_ids",
            format!("must hold 1 to {MAX_TICKETS} ids (got {})", ids.len()),
        );
        return Vec::new();
    }
    let mut seen = HashMap::new();
    let mut parsed = Vec::with_capacity(ids.len());
    for (i, text) in ids.iter().enumerate() {
        let Some(id) = violations.uuid(format!("ticket_ids[{i}]"), text) else {
            continue;
        };
        match seen.insert(id, i) {
            Some(first) => {
                seen.insert(id, first);
                violations.add(
                    format!("ticket_ids[{i}]"),
                    format!("repeats ticket_ids[{first}]"),
                );
            }
            None => parsed.push(id),
        }
    }
    parsed
}

/// The change a batch makes to each of its tickets.
enum Action<'a> {
    Reply(&'a CheckedReply),
    Forward(&'a CheckedForward),
}

impl Action<'_> {
    async fn apply(
        &self,
        api: &TicketApi,
        tx: &mut PgConnection,
        principal: &Principal,
        id: Uuid,
    ) -> Result<(), Refusal> {
        match self {
            Self::Reply(checked) => reply_one(api, tx, principal, id, checked).await.map(drop),
            Self::Forward(checked) => forward_one(api, tx, principal, id, checked).await.map(drop),
        }
    }
}

/// Where an idempotent batch stores its rows.
struct Rows {
    method: &'static str,
    request_id: Uuid,
}

impl Rows {
    /// The stored row of `ticket`, after locking it against a concurrent retry (until `tx`
    /// ends).
    async fn recorded(
        &self,
        tx: &mut PgConnection,
        ticket: Uuid,
    ) -> Result<Option<RowResult>, Status> {
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1 || $2::text || $3::text, 0))",
        )
        .bind(self.method)
        .bind(self.request_id)
        .bind(ticket)
        .execute(&mut *tx)
        .await
        .map_err(|e| sql_status("lock batch row", &e))?;
        let stored: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT result FROM batch_rows
             WHERE method = $1 AND request_id = $2 AND ticket_id = $3
               AND create_time > now() - interval '24 hours'",
        )
        .bind(self.method)
        .bind(self.request_id)
        .bind(ticket)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| sql_status("read batch row", &e))?;
        stored
            .map(|(bytes,)| RowResult::decode(bytes.as_slice()))
            .transpose()
            .map_err(|e| switchboard_platform::error::internal("decode batch row", &e))
    }

    async fn record(
        &self,
        tx: &mut PgConnection,
        ticket: Uuid,
        row: &RowResult,
    ) -> Result<(), Status> {
        sqlx::query(
            "INSERT INTO batch_rows (method, request_id, ticket_id, result) VALUES ($1, $2, $3, $4)
             ON CONFLICT (method, request_id, ticket_id) DO NOTHING",
        )
        .bind(self.method)
        .bind(self.request_id)
        .bind(ticket)
        .bind(row.encode_to_vec())
        .execute(tx)
        .await
        .map_err(|e| sql_status("store batch row", &e))?;
        Ok(())
    }
}

/// Applies `action` to every ticket of `ids`, each in its own transaction, in order. A row's
/// own refusal is its failed row; any other failure ends the call with its status, the rows
/// before it staying done (and, with `rows`, stored for the retry).
async fn run(
    api: &TicketApi,
    principal: &Principal,
    rows: Option<&Rows>,
    ids: &[Uuid],
    action: Action<'_>,
) -> Result<Vec<RowResult>, Status> {
    let mut results = Vec::with_capacity(ids.len());
    for &id in ids {
        let mut tx = switchboard_platform::db::begin(&api.pool).await?;
        if let Some(rows) = rows
            && let Some(done) = rows.recorded(&mut tx, id).await?
        {
            results.push(done);
            continue;
        }
        let row = match action.apply(api, &mut tx, principal, id).await {
            Ok(()) => RowResult {
                id: id.to_string(),
                ok: true,
                ..Default::default()
            },
            Err(Refusal {
                reason: Some(reason),
                status,
            }) => {
                // Nothing of the refused change is kept; only the row, when it is stored.
                drop(tx);
                tx = switchboard_platform::db::begin(&api.pool).await?;
                RowResult {
                    id: id.to_string(),
                    ok: false,
                    reason: reason.into(),
                    message: status.message().into(),
                }
            }
            Err(refusal) => return Err(refusal.into()),
        };
        if let Some(rows) = rows {
            rows.record(&mut tx, id, &row).await?;
        }
        switchboard_platform::db::commit(tx).await?;
        results.push(row);
    }
    Ok(results)
}

/// Claims `request_id` for a batch: the stored response when the call already finished,
/// `None` (after storing the claim or finding its own unfinished one) when rows remain.
/// ALREADY_EXISTS when the id was used for another request.
async fn claim(
    api: &TicketApi,
    request_id: &RequestId,
    rows: &Rows,
) -> Result<Option<Vec<RowResult>>, Status> {
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    // Both batch responses are `repeated RowResult results = 1` on the wire.
    match request_id
        .replay::<BatchReplyTicketsResponse>(&mut tx)
        .await?
    {
        Some(stored) if !stored.results.is_empty() => return Ok(Some(stored.results)),
        Some(_) => {}
        None => {
            sqlx::query("DELETE FROM batch_rows WHERE method = $1 AND request_id = $2")
                .bind(rows.method)
                .bind(rows.request_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| sql_status("clear batch rows", &e))?;
            request_id
                .store(&mut tx, &BatchReplyTicketsResponse::default())
                .await?;
        }
    }
    switchboard_platform::db::commit(tx).await?;
    Ok(None)
}

pub async fn reply(
    api: &TicketApi,
    principal: &Principal,
    request: BatchReplyTicketsRequest,
) -> Result<BatchReplyTicketsResponse, Status> {
    access::require_staff(principal)?;
    let request_id = RequestId::parse(REPLY_METHOD, &request.request_id, &request, principal)?;
    let mut violations = FieldViolations::new();
    let ids = ticket_ids(&mut violations, &request.ticket_ids);
    let mut checked = check_reply(
        &mut violations,
        request.disposition,
        &request.template_id,
        &request.body,
        &request.body_html,
        &request.attachment_ids,
    );
    checked.batch = true;
    violations.into_result()?;
    let rows = match &request_id {
        Some(request_id) => {
            let rows = Rows {
                method: REPLY_METHOD,
                request_id: Uuid::parse_str(&request.request_id).expect("checked"),
            };
            if let Some(results) = claim(api, request_id, &rows).await? {
                return Ok(BatchReplyTicketsResponse { results });
            }
            Some(rows)
        }
        None => None,
    };
    // A template the caller may not use fails the call, not every row.
    if let Some(template_id) = checked.template_id {
        let mut conn = switchboard_platform::db::acquire(&api.pool).await?;
        if usable(&mut conn, template_id, principal).await?.is_none() {
            return Err(invalid_field("template_id", "no such template"));
        }
    }
    let results = run(api, principal, rows.as_ref(), &ids, Action::Reply(&checked)).await?;
    let response = BatchReplyTicketsResponse { results };
    match &request_id {
        Some(request_id) => {
            let tx = switchboard_platform::db::begin(&api.pool).await?;
            commit_with(Some(request_id), tx, response).await
        }
        None => Ok(response),
    }
}

pub async fn forward(
    api: &TicketApi,
    principal: &Principal,
    request: BatchForwardTicketsRequest,
) -> Result<BatchForwardTicketsResponse, Status> {
    principal.require_admin()?;
    let mut violations = FieldViolations::new();
    let ids = ticket_ids(&mut violations, &request.ticket_ids);
    let mut checked = check_forward(
        api,
        violations,
        &request.group_id,
        &request.assignee_login,
        &request.note,
    )
    .await?;
    checked.batch = true;
    let results = run(api, principal, None, &ids, Action::Forward(&checked)).await?;
    Ok(BatchForwardTicketsResponse { results })
}
