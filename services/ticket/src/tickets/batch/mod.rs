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

use sqlx::PgConnection;
use switchboard_platform::{
    error::{FieldViolations, invalid_field},
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
use tonic::Status;
use uuid::Uuid;

use super::{
    TicketApi, access,
    reply::{CheckedReply, check_reply, reply_one},
    work::{CheckedForward, check_forward, forward_one},
};
use crate::templates::lookup::usable;

mod refusal;
mod rows;

pub(crate) use self::refusal::{NO_REPLY_ADDRESS, PERMISSION_DENIED, Refusal};
use self::rows::{Rows, claim};

const MAX_TICKETS: usize = 100;
const REPLY_METHOD: &str = "BatchReplyTickets";

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
        let mut row = RowResult {
            id: id.to_string(),
            ok: true,
            ..Default::default()
        };
        match action.apply(api, &mut tx, principal, id).await {
            Ok(()) => {}
            Err(Refusal {
                reason: Some(reason),
                status,
            }) => {
                // Nothing of the refused change is kept, only the row (when rows are stored).
                drop(tx);
                row.ok = false;
                row.reason = reason.into();
                row.message = status.message().into();
                if rows.is_none() {
                    results.push(row);
                    continue;
                }
                tx = switchboard_platform::db::begin(&api.pool).await?;
            }
            Err(refusal) => return Err(refusal.into()),
        }
        if let Some(rows) = rows {
            rows.record(&mut tx, id, &row).await?;
        }
        switchboard_platform::db::commit(tx).await?;
        results.push(row);
    }
    Ok(results)
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
