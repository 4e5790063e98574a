//! Public replies (해결 / 보류) and internal comments (코멘트): the message is stored with the
//! ticket's change and, for a reply, announced for sending (`ticket_message.reply_requested`)
//! in the same transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use switchboard_platform::{
    error::{FieldViolations, invalid_field},
    events::NewEvent,
    principal::PrincipalExt,
    request_id::{RequestId, commit_with},
    time::timestamp,
};
use switchboard_proto::{
    common::v1::{Actor, Principal},
    events::v1::{TicketReplyDelivery, TicketReplyRequested},
    ticket::v1::{
        AddCommentRequest, AddCommentResponse, DeliveryState, ReplyDisposition, ReplyTicketRequest,
        ReplyTicketResponse, Ticket, TicketChangeOrigin, TicketChannel, TicketEventKind,
        TicketMessage, TicketMessageKind,
    },
};
use tonic::Status;
use uuid::Uuid;

use super::{
    Change, TicketApi, access,
    batch::{NO_REPLY_ADDRESS, PERMISSION_DENIED, Refusal},
    count_message, lock_visible, messages, save_with,
    work::lock_for,
    writes::Writes,
};
use crate::{
    attachments::{self, Prepared},
    catalog::lookup::{Catalog, take_active},
    domain::{fields, template, workflow::Action},
    mail_accounts::lookup::sender,
    templates::lookup::usable,
};

const MAX_BODY: usize = 100_000;
const MAX_HTML_BYTES: usize = 1024 * 1024;
const MAX_CC: usize = 10;

/// A message an agent (or a trigger) writes, before it is composed for its ticket.
#[derive(Default)]
pub struct Outgoing {
    pub kind: TicketMessageKind,
    pub body: String,
    pub body_html: String,
    pub cc: Vec<String>,
    pub disposition: ReplyDisposition,
    pub template_id: String,
    pub attachments: Vec<Prepared>,
    /// The e-mail addresses it goes to; empty means the requester (by e-mail, or through the
    /// ticket's external channel).
    pub to: Vec<String>,
    /// The subject, to be tagged with the ticket's number; empty means the ticket's, answered
    /// ("Re: …").
    pub subject: String,
}

/// A message composed for its ticket, and what asks for it to be sent.
pub struct Composed {
    pub message: TicketMessage,
    pub send: Option<TicketReplyRequested>,
    attachments: Vec<Prepared>,
}

/// A body of 1 to 100,000 characters (emptiness is checked by the caller, which may have a
/// template instead).
pub fn validate_body(violations: &mut FieldViolations, field: &str, body: &str) {
    if body.chars().count() > MAX_BODY {
        violations.add(field, format!("must be at most {MAX_BODY} characters"));
    }
}

/// INVALID_ARGUMENT naming `template_id` when the template filled in is longer than a body may
/// be (the values can make it longer than the template).
pub fn rendered_within_bounds(body: &str) -> Result<(), Status> {
    if body.chars().nth(MAX_BODY).is_some() {
        return Err(invalid_field(
            "template_id",
            format!("renders to more than {MAX_BODY} characters"),
        ));
    }
    Ok(())
}

/// INVALID_ARGUMENT naming `{ticket}.inquiry_type_id` or `{ticket}.processing_type_id` (the
/// request's ticket field) unless the types named are active (and marks them used).
pub async fn check_types(
    conn: &mut PgConnection,
    ticket: &str,
    inquiry_type: Option<Uuid>,
    processing_type: Option<Uuid>,
) -> Result<(), Status> {
    if let Some(id) = inquiry_type
        && !take_active(conn, Catalog::InquiryTypes, id).await?
    {
        return Err(invalid_field(
            &format!("{ticket}.inquiry_type_id"),
            "no such active inquiry type",
        ));
    }
    if let Some(id) = processing_type
        && !take_active(conn, Catalog::ProcessingTypes, id).await?
    {
        return Err(invalid_field(
            &format!("{ticket}.processing_type_id"),
            "no such active processing type",
        ));
    }
    Ok(())
}

/// The message `outgoing` on `ticket` by `author`: for a public reply or a notification its
/// sender, recipients, subject and Message-ID, and the request to send it; FAILED_PRECONDITION
/// when it has no address to go to or no mail account can send it.
pub async fn compose(
    conn: &mut PgConnection,
    ticket: &Ticket,
    author: &Actor,
    outgoing: Outgoing,
    now: DateTime<Utc>,
) -> Result<Composed, Status> {
    let id = Uuid::now_v7();
    let mut message = TicketMessage {
        id: id.to_string(),
        ticket_id: ticket.id.clone(),
        kind: outgoing.kind as i32,
        author: Some(author.clone()),
        body_text: outgoing.body,
        body_html: outgoing.body_html,
        attachments: outgoing
            .attachments
            .iter()
            .map(|p| p.attachment.clone())
            .collect(),
        create_time: Some(timestamp(now)),
        channel: ticket.channel,
        disposition: outgoing.disposition as i32,
        template_id: outgoing.template_id,
        ..Default::default()
    };
    let sent = matches!(
        outgoing.kind,
        TicketMessageKind::PublicReply | TicketMessageKind::Notification
    );
    if !sent {
        return Ok(Composed {
            message,
            send: None,
            attachments: outgoing.attachments,
        });
    }
    message.delivery_state = DeliveryState::Queued as i32;
    let requester = ticket.requester.clone().unwrap_or_default();
    let ticket_uuid = Uuid::parse_str(&ticket.id).map_err(|_| Status::internal("ticket id"))?;
    let mut send = TicketReplyRequested {
        ticket_id: ticket.id.clone(),
        ticket_number: ticket.number,
        ticket_message_id: message.id.clone(),
        kind: outgoing.kind as i32,
        body_text: message.body_text.clone(),
        body_html: message.body_html.clone(),
        attachments: message.attachments.clone(),
        ..Default::default()
    };
    let to = match outgoing.to.as_slice() {
        [] if requester.email.is_empty() => Vec::new(),
        [] => vec![requester.email.clone()],
        fixed => fixed.to_vec(),
    };
    if !to.is_empty() {
        let account_id = Uuid::parse_str(&ticket.mail_account_id).ok();
        let Some(account) = sender(conn, account_id).await? else {
            return Err(Status::failed_precondition(
                "no active mail account can send the reply; create one (MailAccountService)",
            ));
        };
        let (references, in_reply_to) = messages::mail_thread(conn, ticket_uuid).await?;
        let domain = account
            .address
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d);
        message.channel = TicketChannel::Email as i32;
        message.sender_name = account.display_name.clone();
        message.sender_address = account.address.clone();
        message.to_addresses = to;
        message.cc_addresses = outgoing.cc;
        message.subject = if outgoing.subject.is_empty() {
            reply_subject(ticket, !in_reply_to.is_empty())
        } else {
            numbered(&outgoing.subject, ticket.number)
        };
        message.mail_message_id = format!("{id}.{}@{}", ticket.number, domain.to_lowercase());
        send.delivery = TicketReplyDelivery::Email as i32;
        send.mail_account_id = account.id.clone();
        send.from_address = account.address;
        send.from_name = account.display_name;
        send.to_addresses = message.to_addresses.clone();
        send.cc_addresses = message.cc_addresses.clone();
        send.subject = message.subject.clone();
        send.mail_message_id = message.mail_message_id.clone();
        send.in_reply_to = in_reply_to;
        send.references = references;
    } else if ticket.channel() == TicketChannel::External && !ticket.external_thread_key.is_empty()
    {
        send.delivery = TicketReplyDelivery::ExternalChannel as i32;
        send.subject = if outgoing.subject.is_empty() {
            ticket.subject.clone()
        } else {
            outgoing.subject
        };
        send.external_channel = ticket.external_channel.clone();
        send.external_thread_key = ticket.external_thread_key.clone();
        send.external_user_id = requester.external_user_id.clone();
        message.sender_name = author.display_name.clone();
    } else {
        return Err(Status::failed_precondition(
            "the requester has no e-mail address or channel to reply to",
        ));
    }
    Ok(Composed {
        message,
        send: Some(send),
        attachments: outgoing.attachments,
    })
}

/// "환불 문의 [#1042]": the ticket's number, which threads the customer's answer back, once.
fn numbered(subject: &str, number: i64) -> String {
    let tag = format!("[#{number}]");
    if subject.contains(&tag) {
        subject.to_owned()
    } else {
        format!("{subject} {tag}")
    }
}

/// "Re: 환불 문의 [#1042]" (without "Re: " when no customer mail is answered).
fn reply_subject(ticket: &Ticket, answers_mail: bool) -> String {
    let base = numbered(&ticket.subject, ticket.number);
    if answers_mail {
        format!("Re: {base}")
    } else {
        base
    }
}

/// Adds the composed message of `ticket` to `writes` (after the ticket's row) and, for a
/// reply, the request to send it.
pub fn message_writes(
    writes: &mut Writes,
    ticket: Uuid,
    composed: &Composed,
) -> switchboard_platform::error::Result<()> {
    messages::insert(writes, ticket, &composed.message, None)?;
    if let Some(send) = &composed.send {
        writes.event(NewEvent::new(send, &composed.message.id, 1))?;
    }
    Ok(())
}

/// Records the composed message's attachments, once the message is written.
pub async fn attach_files(
    conn: &mut PgConnection,
    ticket: Uuid,
    composed: &Composed,
) -> Result<(), Status> {
    let message_id = Uuid::parse_str(&composed.message.id).map_err(|_| Status::internal("id"))?;
    attachments::attach(conn, ticket, message_id, &composed.attachments).await
}

fn validate_cc(violations: &mut FieldViolations, cc: &[String]) -> Vec<String> {
    if cc.len() > MAX_CC {
        violations.add(
            "cc_addresses",
            format!("must hold at most {MAX_CC} addresses"),
        );
    }
    fields::emails(violations, "cc_addresses", cc)
}

/// A reply's fields, checked: what [`reply_one`] writes on each ticket.
pub(crate) struct CheckedReply {
    pub disposition: ReplyDisposition,
    pub template_id: Option<Uuid>,
    pub body: String,
    pub body_html: String,
    pub cc: Vec<String>,
    pub attachment_ids: Vec<String>,
    /// Part of `BatchReplyTickets` (the change event says so).
    pub batch: bool,
}

/// The fields a reply has, alone or in a batch, checked into `violations`.
pub(crate) fn check_reply(
    violations: &mut FieldViolations,
    disposition: i32,
    template_id: &str,
    body: &str,
    body_html: &str,
    attachment_ids: &[String],
) -> CheckedReply {
    let disposition = match ReplyDisposition::try_from(disposition) {
        Ok(d @ (ReplyDisposition::Solve | ReplyDisposition::Hold)) => d,
        _ => {
            violations.add(
                "disposition",
                "must be REPLY_DISPOSITION_SOLVE or REPLY_DISPOSITION_HOLD",
            );
            ReplyDisposition::Unspecified
        }
    };
    let template_id = violations.optional_uuid("template_id", template_id);
    if body.is_empty() && template_id.is_none() {
        violations.add("body", "is required without a template_id");
    }
    validate_body(violations, "body", body);
    if body_html.len() > MAX_HTML_BYTES {
        violations.add("body_html", "must be at most 1 MiB");
    }
    if attachment_ids.len() > 20 {
        violations.add("attachment_ids", "must hold at most 20 ids");
    }
    CheckedReply {
        disposition,
        template_id,
        body: body.to_owned(),
        body_html: body_html.to_owned(),
        cc: Vec::new(),
        attachment_ids: attachment_ids.to_vec(),
        batch: false,
    }
}

pub async fn reply(
    api: &TicketApi,
    principal: &Principal,
    request: ReplyTicketRequest,
) -> Result<ReplyTicketResponse, Status> {
    access::require_staff(principal)?;
    let request_id = RequestId::parse("ReplyTicket", &request.request_id, &request, principal)?;
    let mut violations = FieldViolations::new();
    let ticket_id = violations.uuid("ticket_id", &request.ticket_id);
    let mut checked = check_reply(
        &mut violations,
        request.disposition,
        &request.template_id,
        &request.body,
        &request.body_html,
        &request.attachment_ids,
    );
    checked.cc = validate_cc(&mut violations, &request.cc_addresses);
    violations.into_result()?;
    let ticket_id = ticket_id.expect("checked");

    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    if let Some(request_id) = &request_id
        && let Some(response) = request_id.replay::<ReplyTicketResponse>(&mut tx).await?
    {
        return Ok(response);
    }
    let response = reply_one(api, &mut tx, principal, ticket_id, &checked).await?;
    commit_with(request_id.as_ref(), tx, response).await
}

/// The checked reply on the ticket `ticket_id` in `tx`: its message, change, history entry,
/// events and request to send, as `ReplyTicket` makes them. A refusal says its batch row
/// reason.
pub(crate) async fn reply_one(
    api: &TicketApi,
    tx: &mut PgConnection,
    principal: &Principal,
    ticket_id: Uuid,
    checked: &CheckedReply,
) -> Result<ReplyTicketResponse, Refusal> {
    let action = Action::Reply(checked.disposition);
    let (before, status) = lock_for(tx, principal, ticket_id, action).await?;
    if !principal.is_admin() && !access::is_assignee(principal, &before) {
        return Err(Refusal::row(
            PERMISSION_DENIED,
            Status::permission_denied("only the ticket's assignee or an admin may reply"),
        ));
    }
    let (body, template_id) = match checked.template_id {
        Some(id) => {
            let template = usable(tx, id, principal)
                .await?
                .ok_or_else(|| invalid_field("template_id", "no such template"))?;
            let body = if checked.body.is_empty() {
                template::render(&template.body, &api.template_values(&before, principal))
            } else {
                checked.body.clone()
            };
            (body, template.id.to_string())
        }
        None => (checked.body.clone(), String::new()),
    };
    rendered_within_bounds(&body)?;
    let prepared = attachments::prepare_uploads(
        tx,
        &principal.subject,
        &checked.attachment_ids,
        "attachment_ids",
    )
    .await?;
    let now = Utc::now();
    let outgoing = Outgoing {
        kind: TicketMessageKind::PublicReply,
        body,
        body_html: checked.body_html.clone(),
        cc: checked.cc.clone(),
        disposition: checked.disposition,
        template_id,
        attachments: prepared,
        ..Default::default()
    };
    // compose refuses only for want of an address or an account to send from.
    let composed = compose(tx, &before, &principal.actor(), outgoing, now)
        .await
        .map_err(|status| match status.code() {
            tonic::Code::FailedPrecondition => Refusal::row(NO_REPLY_ADDRESS, status),
            _ => Refusal::from(status),
        })?;
    let mut after = before.clone();
    after.status = status as i32;
    let first_reply = count_message(&mut after, &composed.message);
    let mut change = Change::new(
        TicketEventKind::Replied,
        TicketChangeOrigin::User,
        principal.actor(),
    )
    .with_message(composed.message.clone());
    change.first_reply = first_reply;
    change.batch = checked.batch;
    let after = save_with(tx, &api.limits, &before, after, change, now, |writes| {
        message_writes(writes, ticket_id, &composed)
    })
    .await?;
    attach_files(tx, ticket_id, &composed).await?;
    Ok(ReplyTicketResponse {
        ticket: Some(after),
        message: Some(composed.message),
    })
}

pub async fn comment(
    api: &TicketApi,
    principal: &Principal,
    request: AddCommentRequest,
) -> Result<AddCommentResponse, Status> {
    access::require_staff(principal)?;
    let request_id = RequestId::parse("AddComment", &request.request_id, &request, principal)?;
    let mut violations = FieldViolations::new();
    let ticket_id = violations.uuid("ticket_id", &request.ticket_id);
    if request.body.trim().is_empty() {
        violations.add("body", "must not be empty");
    }
    validate_body(&mut violations, "body", &request.body);
    if request.attachment_ids.len() > 20 {
        violations.add("attachment_ids", "must hold at most 20 ids");
    }
    violations.into_result()?;
    let ticket_id = ticket_id.expect("checked");
    let mut tx = switchboard_platform::db::begin(&api.pool).await?;
    if let Some(request_id) = &request_id
        && let Some(response) = request_id.replay::<AddCommentResponse>(&mut tx).await?
    {
        return Ok(response);
    }
    let before = lock_visible(&mut tx, principal, ticket_id).await?;
    let prepared = attachments::prepare_uploads(
        &mut tx,
        &principal.subject,
        &request.attachment_ids,
        "attachment_ids",
    )
    .await?;
    let now = Utc::now();
    let composed = internal_comment(
        &mut tx,
        &before,
        principal,
        request.body.clone(),
        prepared,
        now,
    )
    .await?;
    let mut after = before.clone();
    count_message(&mut after, &composed.message);
    let change = Change::new(
        TicketEventKind::Commented,
        TicketChangeOrigin::User,
        principal.actor(),
    )
    .with_message(composed.message.clone());
    let after = save_with(
        &mut tx,
        &api.limits,
        &before,
        after,
        change,
        now,
        |writes| message_writes(writes, ticket_id, &composed),
    )
    .await?;
    attach_files(&mut tx, ticket_id, &composed).await?;
    let response = AddCommentResponse {
        ticket: Some(after),
        message: Some(composed.message),
    };
    commit_with(request_id.as_ref(), tx, response).await
}

/// An internal comment by `principal` on `ticket` (also a forward's note).
pub async fn internal_comment(
    conn: &mut PgConnection,
    ticket: &Ticket,
    principal: &Principal,
    body: String,
    attachments: Vec<Prepared>,
    now: DateTime<Utc>,
) -> Result<Composed, Status> {
    let outgoing = Outgoing {
        kind: TicketMessageKind::InternalComment,
        body,
        body_html: String::new(),
        cc: Vec::new(),
        disposition: ReplyDisposition::Unspecified,
        template_id: String::new(),
        attachments,
        ..Default::default()
    };
    compose(conn, ticket, &principal.actor(), outgoing, now).await
}
