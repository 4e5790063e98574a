//! Group commit of ingested messages (`switchboard_platform::group_commit`): the messages
//! waiting together are ingested in one transaction. Their locks are taken by one statement;
//! those that can only make a new ticket (no parent Message-ID, no ticket number in the subject,
//! not stored before, unique in the batch) are written together by one statement; every other
//! message is then ingested one after the other as it would be alone, seeing those rows. Under a
//! peak of new mail a message costs a share of a few statements and one commit.

use std::collections::HashMap;

use chrono::Utc;
use switchboard_platform::{
    error::{Error, Result},
    group_commit::{BatchWrite, GroupCommit},
};
use switchboard_proto::ticket::v1::{
    IngestTicketMessageRequest, IngestTicketMessageResponse, TicketChannel, TicketIngestOutcome,
};
use tracing::Instrument;

use super::{
    attach_received, create_writes, customer_actor, ingest_locked, received_message, thread,
    validate::Checked,
};
use crate::{
    attachments,
    domain::threading::ticket_numbers,
    tickets::{TicketApi, writes::Writes},
};

/// The most messages one transaction ingests.
const MAX_BATCH: usize = 64;
/// Batches written at once: one, so batches never wait on each other's locks.
const WRITERS: usize = 1;

/// A checked message waiting for its batch, with the caller's span (its trace goes on in the
/// events the message makes).
pub struct Ingest {
    pub checked: Checked,
    pub request: IngestTicketMessageRequest,
    pub span: tracing::Span,
}

pub type IngestBatches = GroupCommit<IngestWriter>;

pub struct IngestWriter(TicketApi);

pub fn ingest_batches(api: TicketApi) -> IngestBatches {
    GroupCommit::new(IngestWriter(api), WRITERS, MAX_BATCH)
}

impl BatchWrite for IngestWriter {
    type Item = Ingest;
    type Output = IngestTicketMessageResponse;

    async fn write(&self, items: &[&Ingest]) -> Result<Vec<IngestTicketMessageResponse>> {
        let api = &self.0;
        let mut tx = switchboard_platform::db::begin(&api.pool).await?;
        // One delivery at a time per message: the same key or Message-ID waits for the first.
        thread::lock_messages(
            &mut tx,
            items.iter().map(|i| {
                (
                    i.checked.dedup_key.as_str(),
                    i.checked.mail_message_id.as_str(),
                )
            }),
        )
        .await?;
        let candidates: Vec<usize> = unique_in_batch(items)
            .into_iter()
            .filter(|&i| can_only_be_new(&items[i].checked))
            .collect();
        let stored_before = stored_before(&mut tx, items, &candidates).await?;
        let new: Vec<usize> = candidates
            .into_iter()
            .zip(stored_before)
            .filter_map(|(i, stored)| (!stored).then_some(i))
            .collect();
        let mut outputs: Vec<Option<IngestTicketMessageResponse>> = vec![None; items.len()];
        for (i, response) in new
            .iter()
            .zip(create_many(&mut tx, api, items, &new).await?)
        {
            outputs[*i] = Some(response);
        }
        for (i, item) in items.iter().enumerate() {
            if outputs[i].is_none() {
                let response = ingest_locked(&mut tx, api, &item.checked, &item.request)
                    .instrument(item.span.clone())
                    .await?;
                outputs[i] = Some(response);
            }
        }
        switchboard_platform::db::commit(tx).await?;
        outputs
            .into_iter()
            .map(|o| o.ok_or_else(|| Error::internal("a message of the batch was left out")))
            .collect()
    }
}

/// The positions of the messages whose dedup key and Message-ID no other message of the batch
/// has.
fn unique_in_batch(items: &[&Ingest]) -> Vec<usize> {
    let mut seen: HashMap<(bool, &str), usize> = HashMap::new();
    for item in items {
        *seen.entry((true, &item.checked.dedup_key)).or_default() += 1;
        if !item.checked.mail_message_id.is_empty() {
            *seen
                .entry((false, &item.checked.mail_message_id))
                .or_default() += 1;
        }
    }
    (0..items.len())
        .filter(|&i| {
            let checked = &items[i].checked;
            seen[&(true, checked.dedup_key.as_str())] == 1
                && (checked.mail_message_id.is_empty()
                    || seen[&(false, checked.mail_message_id.as_str())] == 1)
        })
        .collect()
}

/// Whether nothing but a new ticket can come of the message unless it was stored before: the
/// threading rules (`thread::find`) find no ticket for it, and it chose no inquiry type.
fn can_only_be_new(checked: &Checked) -> bool {
    checked.inquiry_type_id.is_none()
        && match checked.channel {
            TicketChannel::Email => {
                checked.parents.is_empty()
                    && (checked.requester.email.is_empty()
                        || ticket_numbers(&checked.raw_subject).is_empty())
            }
            TicketChannel::HelpCenter => true,
            _ => false,
        }
}

/// For each of the `candidates`, whether it needs the one-by-one path after all: its key or
/// Message-ID is stored already (a duplicate), or its mail account is unknown (an error).
async fn stored_before(
    tx: &mut sqlx::PgConnection,
    items: &[&Ingest],
    candidates: &[usize],
) -> Result<Vec<bool>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let (mut keys, mut message_ids, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for &i in candidates {
        let checked = &items[i].checked;
        keys.push(checked.dedup_key.as_str());
        message_ids.push(checked.mail_message_id.as_str());
        accounts.push(checked.mail_account_id);
    }
    let rows: Vec<bool> = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM messages m WHERE m.dedup_key = u.k)
             OR (u.mid <> '' AND EXISTS (SELECT 1 FROM messages m WHERE m.mail_message_id = u.mid))
             OR (u.account IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM mail_accounts a WHERE a.id = u.account))
         FROM unnest($1::text[], $2::text[], $3::uuid[]) WITH ORDINALITY AS u(k, mid, account, n)
         ORDER BY u.n",
    )
    .bind(keys)
    .bind(message_ids)
    .bind(accounts)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows)
}

/// New tickets for the messages at `positions`, written by one statement.
async fn create_many(
    tx: &mut sqlx::PgConnection,
    api: &TicketApi,
    items: &[&Ingest],
    positions: &[usize],
) -> Result<Vec<IngestTicketMessageResponse>> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<i64> =
        sqlx::query_scalar("SELECT nextval('ticket_numbers') FROM generate_series(1, $1)")
            .bind(positions.len() as i32)
            .fetch_all(&mut *tx)
            .await?;
    let now = Utc::now();
    let mut writes = Writes::new();
    let mut created = Vec::with_capacity(positions.len());
    for (&i, number) in positions.iter().zip(numbers) {
        let Ingest {
            checked,
            request,
            span,
        } = items[i];
        let prepared = attachments::prepare_ingested(
            tx,
            &request.attachments,
            api.limits.attachment_max_bytes,
        )
        .await?;
        let message = received_message(checked, request, &prepared);
        let actor = customer_actor(checked);
        // In the caller's span: the event's trace context is the caller's.
        let (ticket, stored) = span.in_scope(|| {
            create_writes(
                &mut writes,
                checked,
                message,
                None,
                actor,
                (number, String::new()),
                now,
            )
        })?;
        created.push((ticket, stored, prepared));
    }
    writes.execute(&mut *tx).await?;
    let mut responses = Vec::with_capacity(created.len());
    for (ticket, message, prepared) in created {
        attach_received(tx, &ticket, &message, &prepared).await?;
        responses.push(IngestTicketMessageResponse {
            outcome: TicketIngestOutcome::Created as i32,
            ticket_id: ticket.id,
            ticket_number: ticket.number,
            message_id: message.id,
            linked_ticket_id: String::new(),
        });
    }
    Ok(responses)
}
