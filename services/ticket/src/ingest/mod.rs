//! `TicketIngestService`: customer messages (e-mail, help center, external channels) handed
//! over by mail-ingest, threaded into their ticket or made a new one, stored once however often
//! they are delivered.

mod batch;
mod thread;
mod validate;

use chrono::Utc;
use switchboard_platform::{error::Error, request::PrincipalAndBody, time::timestamp};
use switchboard_proto::{
    common::v1::{Actor, Principal},
    ticket::v1::{
        IngestTicketMessageRequest, IngestTicketMessageResponse, Ticket, TicketChangeOrigin,
        TicketChannel, TicketEventKind, TicketIngestOutcome, TicketMessage, TicketMessageKind,
        TicketStatus, ticket_ingest_service_server::TicketIngestService,
    },
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use self::validate::Checked;
use crate::{
    attachments,
    domain::workflow::{CustomerEffect, customer_effect},
    tickets::{
        Change, INGEST_SCOPE, TicketApi, access, count_message, messages, record, row, save_with,
        store, writes::Writes,
    },
};

#[derive(Clone)]
pub struct IngestApi {
    batches: batch::IngestBatches,
}

impl IngestApi {
    pub fn new(tickets: TicketApi) -> Self {
        Self {
            batches: batch::ingest_batches(tickets),
        }
    }
}

#[tonic::async_trait]
impl TicketIngestService for IngestApi {
    async fn ingest_ticket_message(
        &self,
        request: Request<IngestTicketMessageRequest>,
    ) -> Result<Response<IngestTicketMessageResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        ingest(&self.batches, &principal, request)
            .await
            .map(Response::new)
    }
}

/// The customer as the actor of the changes their message makes.
fn customer_actor(checked: &Checked) -> Actor {
    let requester = &checked.requester;
    let subject = [
        &requester.email,
        &requester.phone_number,
        &requester.external_user_id,
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .cloned()
    .unwrap_or_default();
    Actor {
        subject,
        kind: "customer".into(),
        display_name: requester.name.clone(),
    }
}

/// Checks the message and ingests it in the next batch (`batch`).
pub async fn ingest(
    batches: &batch::IngestBatches,
    principal: &Principal,
    request: IngestTicketMessageRequest,
) -> Result<IngestTicketMessageResponse, Status> {
    access::require_scope(principal, INGEST_SCOPE)?;
    let checked = validate::check(&request)?;
    let item = batch::Ingest {
        checked,
        request,
        span: tracing::Span::current(),
    };
    Ok(batches.write(item).await?.output)
}

/// The customer's message as the ticket's message, before its ticket is known.
fn received_message(
    checked: &Checked,
    request: &IngestTicketMessageRequest,
    prepared: &[attachments::Prepared],
) -> TicketMessage {
    TicketMessage {
        id: Uuid::now_v7().to_string(),
        kind: TicketMessageKind::Customer as i32,
        sender_name: checked.requester.name.clone(),
        sender_address: if checked.requester.email.is_empty() {
            checked.requester.external_user_id.clone()
        } else {
            checked.requester.email.clone()
        },
        to_addresses: request.to_addresses.clone(),
        cc_addresses: request.cc_addresses.clone(),
        subject: checked.raw_subject.clone(),
        body_text: request.body_text.clone(),
        body_html: request.body_html.clone(),
        body_truncated: request.body_truncated,
        attachments: prepared.iter().map(|p| p.attachment.clone()).collect(),
        create_time: Some(timestamp(checked.receive_time)),
        channel: checked.channel as i32,
        mail_message_id: checked.mail_message_id.clone(),
        external_message_id: request.external_message_id.clone(),
        automation: request.automation,
        ..Default::default()
    }
}

/// Ingests one checked message in `tx`, whose locks on the message's keys are held
/// (`thread::lock_messages`): a duplicate, threaded into its ticket, or a new ticket.
async fn ingest_locked(
    tx: &mut sqlx::PgConnection,
    api: &TicketApi,
    checked: &Checked,
    request: &IngestTicketMessageRequest,
) -> Result<IngestTicketMessageResponse, Status> {
    if let Some((ticket_id, message)) =
        messages::received(tx, &checked.dedup_key, &checked.mail_message_id).await?
    {
        let ticket = store::load(tx, ticket_id, false)
            .await?
            .ok_or_else(|| Status::internal("a stored message without its ticket"))?;
        return Ok(IngestTicketMessageResponse {
            outcome: TicketIngestOutcome::Duplicate as i32,
            ticket_id: ticket.id,
            ticket_number: ticket.number,
            message_id: message.id,
            linked_ticket_id: ticket.linked_ticket_id,
        });
    }
    if let Some(account) = checked.mail_account_id
        && !crate::mail_accounts::lookup::exists(tx, account).await?
    {
        return Err(switchboard_platform::error::invalid_field(
            "mail_account_id",
            "no such mail account",
        ));
    }
    let threaded = thread::find(tx, checked).await?;
    let prepared =
        attachments::prepare_ingested(tx, &request.attachments, api.limits.attachment_max_bytes)
            .await?;
    let now = Utc::now();
    let message = received_message(checked, request, &prepared);
    let message_id = message.id.clone();
    let actor = customer_actor(checked);
    let (outcome, ticket, linked) = match threaded {
        Some(before) => match customer_effect(before.status(), !before.assignee_login.is_empty()) {
            CustomerEffect::Added(status) => {
                let mut message = message.clone();
                message.ticket_id = before.id.clone();
                let mut after = before.clone();
                after.status = status as i32;
                if status != before.status() {
                    after.resolution_reason = 0;
                    after.resolution_note.clear();
                }
                count_message(&mut after, &message);
                let change = Change::new(
                    TicketEventKind::MessageReceived,
                    TicketChangeOrigin::Customer,
                    actor,
                )
                .with_message(message.clone());
                let dedup_key = &checked.dedup_key;
                let after = save_with(tx, &api.limits, &before, after, change, now, |w| {
                    received_writes(w, &before, &message, dedup_key)
                })
                .await?;
                attach_received(tx, &after, &message, &prepared).await?;
                (TicketIngestOutcome::Threaded, after, String::new())
            }
            CustomerEffect::FollowUp => {
                let ticket = create(
                    tx,
                    checked,
                    message,
                    Some(&before),
                    actor.clone(),
                    &prepared,
                    now,
                )
                .await?;
                let change = Change::new(
                    TicketEventKind::FollowUpCreated,
                    TicketChangeOrigin::Customer,
                    actor,
                )
                .related_to(ticket.id.clone());
                crate::tickets::note_only(tx, &before, change).await?;
                (
                    TicketIngestOutcome::FollowUpCreated,
                    ticket,
                    before.id.clone(),
                )
            }
        },
        None => {
            let ticket = create(tx, checked, message, None, actor, &prepared, now).await?;
            (TicketIngestOutcome::Created, ticket, String::new())
        }
    };
    Ok(IngestTicketMessageResponse {
        outcome: outcome as i32,
        ticket_id: ticket.id,
        ticket_number: ticket.number,
        message_id,
        linked_ticket_id: linked,
    })
}

/// Adds the received `message` of `ticket` (stored under `dedup_key`) to `writes`.
fn received_writes(
    writes: &mut Writes,
    ticket: &Ticket,
    message: &TicketMessage,
    dedup_key: &str,
) -> switchboard_platform::error::Result<()> {
    let ticket_id = Uuid::parse_str(&ticket.id).map_err(Error::internal)?;
    messages::insert(writes, ticket_id, message, Some(dedup_key))
}

/// Records the received message's attachments, once the message is written.
async fn attach_received(
    conn: &mut sqlx::PgConnection,
    ticket: &Ticket,
    message: &TicketMessage,
    prepared: &[attachments::Prepared],
) -> Result<(), Status> {
    let ticket_id = Uuid::parse_str(&ticket.id).map_err(Error::internal)?;
    let message_id = Uuid::parse_str(&message.id).map_err(Error::internal)?;
    attachments::attach(conn, ticket_id, message_id, prepared).await
}

/// A new ticket holding the customer's first `message`; a follow-up of `closed` when given.
#[allow(clippy::too_many_arguments)]
async fn create(
    conn: &mut sqlx::PgConnection,
    checked: &Checked,
    message: TicketMessage,
    closed: Option<&Ticket>,
    actor: Actor,
    prepared: &[attachments::Prepared],
    now: chrono::DateTime<Utc>,
) -> Result<Ticket, Status> {
    let number = store::next_number(conn).await?;
    let inquiry_type_id = thread::active_inquiry_type(conn, checked.inquiry_type_id).await?;
    let mut writes = Writes::new();
    let (ticket, stored) = create_writes(
        &mut writes,
        checked,
        message,
        closed,
        actor,
        (number, inquiry_type_id),
        now,
    )?;
    writes.execute(&mut *conn).await?;
    attach_received(conn, &ticket, &stored, prepared).await?;
    Ok(ticket)
}

/// Adds to `writes` a new ticket numbered `number` holding the customer's first `message`
/// (a follow-up of `closed` when given): the ticket and the message as stored.
fn create_writes(
    writes: &mut Writes,
    checked: &Checked,
    mut message: TicketMessage,
    closed: Option<&Ticket>,
    actor: Actor,
    (number, inquiry_type_id): (i64, String),
    now: chrono::DateTime<Utc>,
) -> switchboard_platform::error::Result<(Ticket, TicketMessage)> {
    let id = Uuid::now_v7();
    let mut ticket = Ticket {
        id: id.to_string(),
        number,
        subject: checked.subject.clone(),
        status: TicketStatus::Unassigned as i32,
        channel: checked.channel as i32,
        external_channel: checked.external_channel.clone(),
        external_thread_key: checked.external_thread_key.clone(),
        requester: Some(checked.requester.clone()),
        mail_account_id: checked
            .mail_account_id
            .map(|a| a.to_string())
            .unwrap_or_default(),
        inquiry_type_id,
        priority: switchboard_proto::ticket::v1::TicketPriority::Normal as i32,
        customer_fields: checked.customer_fields.clone(),
        create_time: Some(timestamp(now)),
        update_time: Some(timestamp(now)),
        linked_ticket_id: closed.map(|c| c.id.clone()).unwrap_or_default(),
        linked_ticket_number: closed.map_or(0, |c| c.number),
        version: 1,
        ..Default::default()
    };
    message.ticket_id = ticket.id.clone();
    count_message(&mut ticket, &message);
    row::write_into(writes, &ticket, None)?;
    received_writes(writes, &ticket, &message, &checked.dedup_key)?;
    let stored = message.clone();
    let mut change = Change::new(
        TicketEventKind::Created,
        TicketChangeOrigin::Customer,
        actor,
    )
    .with_message(message);
    if let Some(closed) = closed {
        change = change.related_to(closed.id.clone());
    }
    record(writes, None, &ticket, change)?;
    Ok((ticket, stored))
}

/// The channels customer messages come in by.
pub fn is_customer_channel(channel: TicketChannel) -> bool {
    matches!(
        channel,
        TicketChannel::Email | TicketChannel::HelpCenter | TicketChannel::External
    )
}
