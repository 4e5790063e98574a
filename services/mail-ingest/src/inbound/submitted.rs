//! What help-center inquiries and channel messages share: their checked attachments and
//! contact details, and the path of a submission (stored as received, handed to the ticket
//! service, recorded with its event), safe to retry at any point.

use chrono::Utc;
use prost::Message;
use sha2::{Digest, Sha256};
use switchboard_platform::{
    db,
    error::FieldViolations,
    events::{NewEvent, publish},
    phone,
};
use switchboard_proto::{
    inbound::v1::InboundAttachment,
    ticket::v1::{IngestAttachment, IngestTicketMessageRequest, IngestTicketMessageResponse},
};
use tonic::Status;

use super::{
    InboundApi, SOURCE, mail,
    store::{self, Ingested, Kind, NewInbound, State, Stored},
};

const MAX_FILES: usize = 10;
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
const MAX_FILES_BYTES: usize = 20 * 1024 * 1024;
const MAX_FILE_NAME_CHARS: usize = 255;

/// The attachments checked: names named by index when bad; RESOURCE_EXHAUSTED over the
/// limits (10 files, 10 MiB each, 20 MiB together).
pub fn attachments(
    violations: &mut FieldViolations,
    given: &[InboundAttachment],
) -> Result<Vec<IngestAttachment>, Status> {
    if given.len() > MAX_FILES {
        return Err(Status::resource_exhausted(format!(
            "attachments: {} files, at most {MAX_FILES}",
            given.len()
        )));
    }
    let total: usize = given.iter().map(|a| a.content.len()).sum();
    if total > MAX_FILES_BYTES {
        return Err(Status::resource_exhausted(format!(
            "attachments: {total} bytes together, at most {MAX_FILES_BYTES}"
        )));
    }
    let mut kept = Vec::with_capacity(given.len());
    for (i, file) in given.iter().enumerate() {
        let name = file.file_name.trim();
        let length = name.chars().count();
        if length == 0
            || length > MAX_FILE_NAME_CHARS
            || name
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            violations.add(
                format!("attachments[{i}].file_name"),
                "must be 1 to 255 characters without path separators or control characters",
            );
        }
        if file.content.is_empty() {
            violations.add(format!("attachments[{i}].content"), "must not be empty");
        }
        if file.content.len() > MAX_FILE_BYTES {
            return Err(Status::resource_exhausted(format!(
                "attachments[{i}].content: {} bytes, at most {MAX_FILE_BYTES}",
                file.content.len()
            )));
        }
        kept.push(IngestAttachment {
            file_name: name.to_owned(),
            content_type: file.content_type.trim().to_owned(),
            content: file.content.clone(),
            content_id: String::new(),
        });
    }
    Ok(kept)
}

/// An optional e-mail address, checked: `local@domain`, at most 320 characters, no spaces.
pub fn email(violations: &mut FieldViolations, field: &str, text: &str) -> String {
    let text = text.trim();
    let valid = text.chars().count() <= 320
        && !text.chars().any(|c| c.is_control() || c.is_whitespace())
        && text
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !text.is_empty() && !valid {
        violations.add(field, "must be an e-mail address such as kim@example.com");
    }
    text.to_owned()
}

/// An optional phone number, normalised to E.164 (numbers without a country code are read as
/// Korean).
pub fn phone_number(violations: &mut FieldViolations, field: &str, text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    match phone::normalize(text, phonenumber::country::Id::KR) {
        Some(number) => number.e164,
        None => {
            violations.add(field, "is not a valid phone number");
            String::new()
        }
    }
}

/// Text of `min` to `max` characters (trimmed), named `field` when not.
pub fn text(violations: &mut FieldViolations, field: &str, text: &str, min: usize, max: usize) {
    let length = text.trim().chars().count();
    if length < min || length > max {
        let what = if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be {min} to {max} characters")
        };
        violations.add(field, what);
    }
}

/// A submission to store and hand over.
pub struct Submission {
    pub kind: Kind,
    pub dedup_key: String,
    /// The request (and, where the key is a client's `request_id`, its caller) hashed: another
    /// request under the same key is told apart.
    pub hash: Vec<u8>,
    pub raw: Vec<u8>,
}

impl Submission {
    pub fn new(kind: Kind, dedup_key: String, caller: &str, request: &impl Message) -> Self {
        let raw = request.encode_to_vec();
        let hash = Sha256::new()
            .chain_update(caller.as_bytes())
            .chain_update([0])
            .chain_update(&raw)
            .finalize()
            .to_vec();
        Self {
            kind,
            dedup_key,
            hash,
            raw,
        }
    }
}

/// The submission stored (or found stored under its key).
pub async fn store(api: &InboundApi, submission: &Submission) -> Result<Stored, Status> {
    let row = NewInbound {
        kind: submission.kind,
        dedup_key: submission.dedup_key.clone(),
        mail_account_id: None,
        raw: submission.raw.as_slice().into(),
        raw_sha256: submission.hash.clone(),
        envelope_sender: None,
        envelope_recipients: Vec::new(),
        arrival: 0,
        receive_time: Utc::now(),
        state: State::Received,
        quarantine_reason: String::new(),
        raw_subject: String::new(),
        raw_from: String::new(),
        mail_message_id: String::new(),
        automation: 0,
    };
    Ok(store::store(&api.pool, &row).await?.0)
}

/// Hands `request` to the ticket service and records the result for `stored` with `event`
/// (made from the answer), in one transaction.
pub async fn ingest(
    api: &InboundApi,
    stored: &Stored,
    request: IngestTicketMessageRequest,
    event: impl FnOnce(&IngestTicketMessageResponse) -> Option<NewEvent>,
) -> Result<IngestTicketMessageResponse, Status> {
    let response = api.tickets.ingest(request).await?;
    let done: Ingested = mail::ingested(&response)?;
    let mut tx = db::begin(&api.pool).await?;
    store::mark_ingested(&mut tx, stored.id, &done).await?;
    if let Some(event) = event(&response) {
        publish(&mut tx, SOURCE, event).await?;
    }
    db::commit(tx).await?;
    Ok(response)
}

/// The answer of an already ingested submission, from its row.
pub fn stored_answer(stored: &Stored) -> IngestTicketMessageResponse {
    let text = |id: Option<uuid::Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    IngestTicketMessageResponse {
        outcome: stored.outcome.into(),
        ticket_id: text(stored.ticket_id),
        ticket_number: stored.ticket_number.unwrap_or_default(),
        message_id: text(stored.ticket_message_id),
        ..Default::default()
    }
}
