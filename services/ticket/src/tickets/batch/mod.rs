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
const FORWARD_METHOD: &str = "BatchForwardTickets";

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
    /// What the whole call needs before any row: a template the caller may not use fails the
    /// call, not every row.
    async fn prepare(&self, api: &TicketApi, principal: &Principal) -> Result<(), Status> {
        if let Self::Reply(CheckedReply {
            template_id: Some(template_id),
            ..
        }) = self
        {
            let mut conn = switchboard_platform::db::acquire(&api.pool).await?;
            if usable(&mut conn, *template_id, principal).await?.is_none() {
                return Err(invalid_field("template_id", "no such template"));
            }
        }
        Ok(())
    }

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

/// Runs `action` over `ids` for `principal`; with a `request_id` (`request_id_text`, parsed
/// for `method`) the call is idempotent as the module says.
async fn run_batch(
    api: &TicketApi,
    principal: &Principal,
    method: &'static str,
    request_id: Option<RequestId>,
    request_id_text: &str,
    ids: &[Uuid],
    action: Action<'_>,
) -> Result<Vec<RowResult>, Status> {
    let Some(request_id) = request_id else {
        action.prepare(api, principal).await?;
        return run(api, principal, None, ids, action).await;
    };
    let rows = Rows {
        method,
        request_id: Uuid::parse_str(request_id_text).expect("checked by RequestId::parse"),
    };
    if let Some(results) = claim(api, &request_id, &rows).await? {
        return Ok(results);
    }
    action.prepare(api, principal).await?;
    let results = run(api, principal, Some(&rows), ids, action).await?;
    // Both batch responses are `repeated RowResult results = 1` on the wire.
    let tx = switchboard_platform::db::begin(&api.pool).await?;
    let stored = commit_with(Some(&request_id), tx, BatchReplyTicketsResponse { results }).await?;
    Ok(stored.results)
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
    let results = run_batch(
        api,
        principal,
        REPLY_METHOD,
        request_id,
        &request.request_id,
        &ids,
        Action::Reply(&checked),
    )
    .await?;
    Ok(BatchReplyTicketsResponse { results })
}

pub async fn forward(
    api: &TicketApi,
    principal: &Principal,
    request: BatchForwardTicketsRequest,
) -> Result<BatchForwardTicketsResponse, Status> {
    principal.require_admin()?;
    let request_id = RequestId::parse(FORWARD_METHOD, &request.request_id, &request, principal)?;
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
    let results = run_batch(
        api,
        principal,
        FORWARD_METHOD,
        request_id,
        &request.request_id,
        &ids,
        Action::Forward(&checked),
    )
    .await?;
    Ok(BatchForwardTicketsResponse { results })
}
