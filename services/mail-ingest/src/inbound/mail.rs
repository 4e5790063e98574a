//! One e-mail from its raw bytes to a ticket message: stored first, screened against the
//! limits, decoded, classified, handed to the ticket service, and the result recorded with its
//! `mail.received` event. A mail over a limit, or that cannot be parsed or that the ticket
//! service refuses for its content, goes to the quarantine instead, answered as delivered.
//! Used by `SubmitRawEmail` and the quarantine's reprocessing (and by the IMAP fetcher).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use switchboard_platform::{
    db,
    events::{NewEvent, outbox::outbox_row, publish},
    time::timestamp,
};
use switchboard_proto::{
    events::v1::{MailReceived, MailSource},
    inbound::v1::SubmitRawEmailResponse,
    ticket::v1::{
        IngestAttachment, IngestTicketMessageRequest, IngestTicketMessageResponse,
        MessageAutomation, TicketChannel, TicketIngestOutcome, TicketRequester,
    },
};
use tonic::{Code, Status};
use uuid::Uuid;

use super::{
    InboundApi, SOURCE,
    raw_headers::raw_header,
    store::{self, Done, Ingested, Kind, NewInbound, State, Stored},
};
use crate::{
    accounts::Account,
    decode::{self, Decoded},
    screen::{self, EnvelopeSender, Limits},
};

/// The longest text body the ticket service takes (1 MiB); longer is cut.
const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// The longest HTML body it takes (2 MiB); longer is left out (the text remains).
const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;
/// The domain of Message-IDs made up for mail without one.
const MADE_UP_DOMAIN: &str = "switchboard.invalid";

/// A received mail, as submitted.
pub struct RawMail {
    pub raw: Arc<[u8]>,
    pub account: Account,
    pub envelope_sender: EnvelopeSender,
    pub envelope_recipients: Vec<String>,
    pub receive_time: DateTime<Utc>,
    pub source: MailSource,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` cut to at most `max` bytes at a character boundary; whether it was cut.
fn cut(text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

/// The ticket service's request for a decoded mail.
fn ingest_request(
    mail: &RawMail,
    decoded: Decoded,
    message_id: &str,
    dedup_key: &str,
    automation: MessageAutomation,
    inbound_id: Uuid,
) -> Result<IngestTicketMessageRequest, String> {
    let from = decoded.from.clone().unwrap_or_default();
    let address = match (&from.address, &mail.envelope_sender) {
        (given, _) if !given.is_empty() => given.clone(),
        (_, EnvelopeSender::Address(sender)) => sender.clone(),
        _ => return Err("the mail names no sender address (From)".into()),
    };
    let (body_text, body_truncated) = cut(decoded.text, MAX_TEXT_BYTES);
    let body_html = decoded
        .html
        .filter(|html| html.len() <= MAX_HTML_BYTES)
        .unwrap_or_default();
    Ok(IngestTicketMessageRequest {
        dedup_key: dedup_key.to_owned(),
        channel: TicketChannel::Email as i32,
        mail_account_id: mail.account.id.to_string(),
        requester: Some(TicketRequester {
            name: from.name,
            email: address,
            ..Default::default()
        }),
        subject: decoded.subject,
        body_text,
        body_html,
        body_truncated,
        to_addresses: decoded.to,
        cc_addresses: decoded.cc,
        mail_message_id: message_id.to_owned(),
        in_reply_to: decoded.in_reply_to,
        references: decoded.references,
        automation: automation as i32,
        attachments: decoded
            .attachments
            .into_iter()
            .map(|a| IngestAttachment {
                file_name: a.file_name,
                content_type: a.content_type,
                content: a.content,
                content_id: a.content_id,
            })
            .collect(),
        receive_time: Some(timestamp(mail.receive_time)),
        source_ref: inbound_id.to_string(),
        ..Default::default()
    })
}

/// The answer for a stored row.
fn answer(stored: &Stored) -> SubmitRawEmailResponse {
    let text = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    SubmitRawEmailResponse {
        outcome: stored.outcome.into(),
        ticket_id: text(stored.ticket_id),
        ticket_number: stored.ticket_number.unwrap_or_default(),
        ticket_message_id: text(stored.ticket_message_id),
        inbound_message_id: stored.id.to_string(),
        automation: stored.automation.into(),
        mail_message_id: stored.mail_message_id.clone(),
        quarantined: stored.state() == State::Quarantined,
        quarantine_reason: stored.quarantine_reason.clone(),
    }
}

fn envelope_sender(sender: &EnvelopeSender) -> Option<&str> {
    match sender {
        EnvelopeSender::Absent => None,
        EnvelopeSender::Null => Some(""),
        EnvelopeSender::Address(address) => Some(address),
    }
}

/// Stores `mail` in the quarantine for `reason` (once per content), and answers so.
async fn quarantine(
    api: &InboundApi,
    mail: &RawMail,
    sha: &[u8],
    reason: &str,
) -> Result<SubmitRawEmailResponse, Status> {
    let dedup_key = format!("mail:{}:sha256:{}", mail.account.id, hex(sha));
    let row = new_row(mail, dedup_key, sha, State::Quarantined, reason, "", 0);
    let (stored, _) = api.batches.store(row).await?;
    tracing::warn!(inbound_message_id = %stored.id, reason, "mail quarantined");
    Ok(answer(&stored))
}

fn new_row(
    mail: &RawMail,
    dedup_key: String,
    sha: &[u8],
    state: State,
    reason: &str,
    message_id: &str,
    automation: i16,
) -> NewInbound {
    NewInbound {
        kind: Kind::Mail,
        dedup_key,
        mail_account_id: Some(mail.account.id),
        raw: Arc::clone(&mail.raw),
        raw_sha256: sha.to_vec(),
        envelope_sender: envelope_sender(&mail.envelope_sender).map(str::to_owned),
        envelope_recipients: mail.envelope_recipients.clone(),
        arrival: mail.source as i16,
        receive_time: mail.receive_time,
        state,
        quarantine_reason: reason.to_owned(),
        raw_subject: raw_header(&mail.raw, "Subject"),
        raw_from: raw_header(&mail.raw, "From"),
        mail_message_id: message_id.to_owned(),
        automation,
    }
}

/// What a mail says: decoded, its automation, and for a bounce the Message-ID it reports on.
type Read = (Decoded, MessageAutomation, Option<String>);

/// Mails up to this size are read on the runtime's thread: a few tens of microseconds, less
/// than handing them to another thread costs.
const READ_INLINE_BYTES: usize = 64 * 1024;

/// The mail screened against `limits`, parsed, classified and decoded; a larger mail off the
/// async runtime (a 30 MiB mail is seconds of work). A parser that panics on some input
/// quarantines that mail instead of failing the call. The reason when it cannot be read.
async fn read(mail: &RawMail, limits: Option<Limits>) -> Result<Read, String> {
    let raw = Arc::clone(&mail.raw);
    let sender = mail.envelope_sender.clone();
    let work = move || {
        if let Some(limits) = &limits {
            screen::check(&raw, limits).map_err(|over| over.to_string())?;
        }
        let message = decode::parse(&raw).map_err(|undecodable| undecodable.0)?;
        let automation = screen::automation(&message, &sender);
        let bounced = (automation == MessageAutomation::DeliveryStatus)
            .then(|| screen::bounced_message_id(&message))
            .flatten();
        Ok((decode::decode(&message), automation, bounced))
    };
    let failed = |error: &dyn std::fmt::Debug| {
        tracing::error!(?error, "decoding a mail failed");
        Err("the mail could not be decoded (the parser failed on it)".into())
    };
    if mail.raw.len() <= READ_INLINE_BYTES {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|panic| failed(&panic));
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(read) => read,
        Err(error) => failed(&error),
    }
}

/// Takes one mail in, as the module says. `limits` is `None` when an admin reprocesses a
/// quarantined mail.
pub async fn submit(
    api: &InboundApi,
    mail: RawMail,
    limits: Option<&Limits>,
) -> Result<SubmitRawEmailResponse, Status> {
    let sha = Sha256::digest(&mail.raw).to_vec();
    let (decoded, automation, bounced) = match read(&mail, limits.copied()).await {
        Ok(read) => read,
        Err(reason) => return quarantine(api, &mail, &sha, &reason).await,
    };
    let message_id = match &decoded.message_id {
        Some(id) if !id.is_empty() => id.clone(),
        _ => format!("{}@{MADE_UP_DOMAIN}", hex(&sha)),
    };
    let dedup_key = format!("mail:{}:{message_id}", mail.account.id);
    let row = new_row(
        &mail,
        dedup_key.clone(),
        &sha,
        State::Received,
        "",
        &message_id,
        automation as i16,
    );
    let (stored, _) = api.batches.store(row).await?;
    match stored.state() {
        State::Ingested => {
            let mut repeat = answer(&stored);
            repeat.outcome = TicketIngestOutcome::Duplicate as i32;
            return Ok(repeat);
        }
        // Refused before for its content: an admin's reprocessing (no limits) tries again.
        State::Quarantined if limits.is_some() => return Ok(answer(&stored)),
        State::Quarantined | State::Received => {}
    }
    let attachment_count = decoded.attachments.len() as i32;
    let from = decoded.from.clone().unwrap_or_default();
    let subject = decoded.subject.clone();
    let request = match ingest_request(
        &mail,
        decoded,
        &message_id,
        &dedup_key,
        automation,
        stored.id,
    ) {
        Ok(request) => request,
        Err(reason) => return requarantine(api, &stored, &reason).await,
    };
    let response = match api.tickets.ingest(request).await {
        Ok(response) => response,
        // The mail's own content the ticket service cannot take: kept for an admin, never
        // retried in a loop.
        Err(status)
            if matches!(
                status.code(),
                Code::InvalidArgument | Code::ResourceExhausted
            ) =>
        {
            let reason = format!("the ticket service refused it: {}", status.message());
            return requarantine(api, &stored, &reason).await;
        }
        Err(status) => return Err(status),
    };
    let received = MailReceived {
        inbound_message_id: stored.id.to_string(),
        source: mail.source as i32,
        mail_account_id: mail.account.id.to_string(),
        mail_message_id: message_id.clone(),
        from_address: from.address,
        from_name: from.name,
        subject,
        size_bytes: mail.raw.len() as i64,
        attachment_count,
        automation: automation as i32,
        outcome: response.outcome,
        ticket_id: response.ticket_id.clone(),
        ticket_number: response.ticket_number,
        ticket_message_id: response.message_id.clone(),
    };
    record(api, &stored, &response, received, bounced.as_deref()).await
}

/// A stored row sent to the quarantine after all.
async fn requarantine(
    api: &InboundApi,
    stored: &Stored,
    reason: &str,
) -> Result<SubmitRawEmailResponse, Status> {
    store::mark_quarantined(&api.pool, stored.id, reason).await?;
    tracing::warn!(inbound_message_id = %stored.id, reason, "mail quarantined");
    let mut now = stored.clone();
    now.state = State::Quarantined as i16;
    now.quarantine_reason = reason.to_owned();
    Ok(answer(&now))
}

/// Records the ticket message `response` names for `stored`, with its event (none for a
/// duplicate, which the ticket service already had), and the bounce it reports, if any.
async fn record(
    api: &InboundApi,
    stored: &Stored,
    response: &IngestTicketMessageResponse,
    received: MailReceived,
    bounced: Option<&str>,
) -> Result<SubmitRawEmailResponse, Status> {
    let done = ingested(response)?;
    let event = (response.outcome != TicketIngestOutcome::Duplicate as i32)
        .then(|| NewEvent::new(&received, &stored.id.to_string(), 1));
    let Some(bounced) = bounced else {
        let event = event.map(|event| outbox_row(SOURCE, event));
        let now = answered(stored, &done);
        api.batches
            .record(Done {
                id: stored.id,
                ingested: done,
                event,
            })
            .await?;
        return Ok(now);
    };
    let mut tx = db::begin(&api.pool).await?;
    store::mark_ingested(&mut tx, stored.id, &done).await?;
    // A bounce of our own mail fails that mail (and its ticket message); the report itself is
    // kept in the conversation, marked automated.
    crate::outbound::bounce(&mut tx, bounced, &received.subject).await?;
    if let Some(event) = event {
        publish(&mut tx, SOURCE, event).await?;
    }
    db::commit(tx).await?;
    Ok(answered(stored, &done))
}

/// The answer for `stored` once it is `done`.
fn answered(stored: &Stored, done: &Ingested) -> SubmitRawEmailResponse {
    let mut now = stored.clone();
    now.state = State::Ingested as i16;
    now.outcome = done.outcome;
    now.ticket_id = Some(done.ticket_id);
    now.ticket_number = Some(done.ticket_number);
    now.ticket_message_id = Some(done.ticket_message_id);
    answer(&now)
}

/// The ids of the ticket service's answer.
pub fn ingested(response: &IngestTicketMessageResponse) -> Result<Ingested, Status> {
    let id = |text: &str| {
        Uuid::parse_str(text).map_err(|_| {
            switchboard_platform::error::internal("ticket service answer", &"an id is no UUID")
        })
    };
    Ok(Ingested {
        outcome: response.outcome as i16,
        ticket_id: id(&response.ticket_id)?,
        ticket_number: response.ticket_number,
        ticket_message_id: id(&response.message_id)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("환불".into(), 4), ("환".into(), true));
        assert_eq!(cut("환불".into(), 6), ("환불".into(), false));
    }
}
