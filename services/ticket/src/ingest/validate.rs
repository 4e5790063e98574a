//! An ingested message checked field by field (ticket_ingest.proto), normalised for storing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use switchboard_platform::{error::FieldViolations, time::instant};
use switchboard_proto::ticket::v1::{
    IngestTicketMessageRequest, MessageAutomation, TicketChannel, TicketRequester,
};
use tonic::Status;
use uuid::Uuid;

use super::is_customer_channel;
use crate::domain::fields;

const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;
const MAX_ATTACHMENTS: usize = 50;

#[derive(Debug, Clone)]
pub struct Checked {
    pub dedup_key: String,
    pub channel: TicketChannel,
    pub mail_account_id: Option<Uuid>,
    pub external_channel: String,
    pub external_thread_key: String,
    pub requester: TicketRequester,
    /// The subject as a new ticket takes it ("(no subject)" when empty).
    pub subject: String,
    /// The subject as the message shows it (cut, maybe empty).
    pub raw_subject: String,
    pub mail_message_id: String,
    /// In-Reply-To then References, oldest first: the last one named is the likeliest parent.
    pub parents: Vec<String>,
    pub inquiry_type_id: Option<Uuid>,
    pub customer_fields: HashMap<String, String>,
    pub receive_time: DateTime<Utc>,
}

fn is_channel_name(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

pub fn check(request: &IngestTicketMessageRequest) -> Result<Checked, Status> {
    let mut violations = FieldViolations::new();
    let dedup_chars = request.dedup_key.chars().count();
    if dedup_chars == 0 || dedup_chars > 500 {
        violations.add("dedup_key", "must be 1 to 500 characters");
    }
    let channel = TicketChannel::try_from(request.channel)
        .ok()
        .filter(|c| is_customer_channel(*c))
        .unwrap_or_else(|| {
            violations.add(
                "channel",
                "must be TICKET_CHANNEL_EMAIL, TICKET_CHANNEL_HELP_CENTER or TICKET_CHANNEL_EXTERNAL",
            );
            TicketChannel::Unspecified
        });
    let mail_account_id = if channel == TicketChannel::Email {
        violations.uuid("mail_account_id", &request.mail_account_id)
    } else {
        violations.optional_uuid("mail_account_id", &request.mail_account_id)
    };
    let external = channel == TicketChannel::External;
    if external {
        if !is_channel_name(&request.external_channel) {
            violations.add(
                "external_channel",
                "must be 1 to 32 characters of [a-z0-9_-]",
            );
        }
        let key = request.external_thread_key.chars().count();
        if key == 0 || key > 200 {
            violations.add("external_thread_key", "must be 1 to 200 characters");
        }
        violations.max_chars("external_message_id", &request.external_message_id, 200);
    } else {
        for (field, value) in [
            ("external_channel", &request.external_channel),
            ("external_thread_key", &request.external_thread_key),
            ("external_message_id", &request.external_message_id),
        ] {
            if !value.is_empty() {
                violations.add(field, "is only for TICKET_CHANNEL_EXTERNAL");
            }
        }
    }
    let requester = fields::requester(
        &mut violations,
        "requester",
        request.requester.as_ref(),
        false,
    );
    if request.body_text.len() > MAX_BODY_BYTES {
        violations.add(
            "body_text",
            "must be at most 1 MiB (cut it and set body_truncated)",
        );
    }
    if request.body_html.len() > MAX_HTML_BYTES {
        violations.add("body_html", "must be at most 2 MiB");
    }
    // RFC 5322 caps a line at 998 octets; the index on Message-IDs needs the bound in bytes.
    if request.mail_message_id.len() > 998 {
        violations.add("mail_message_id", "must be at most 998 bytes");
    }
    if request.in_reply_to.len() + request.references.len() > 100 {
        violations.add(
            "references",
            "must name at most 100 messages with in_reply_to",
        );
    }
    if MessageAutomation::try_from(request.automation).is_err() {
        violations.add("automation", "is not a MessageAutomation");
    }
    let inquiry_type_id = violations.optional_uuid("inquiry_type_id", &request.inquiry_type_id);
    fields::customer_fields(&mut violations, "customer_fields", &request.customer_fields);
    if request.attachments.len() > MAX_ATTACHMENTS {
        violations.add(
            "attachments",
            format!("must hold at most {MAX_ATTACHMENTS} files"),
        );
    }
    violations.max_chars("source_ref", &request.source_ref, 200);
    let receive_time = match request.receive_time.as_ref().and_then(instant) {
        Some(time) if time <= Utc::now() + chrono::Duration::minutes(5) => time,
        Some(_) => {
            violations.add("receive_time", "must not be in the future");
            Utc::now()
        }
        None => {
            violations.add("receive_time", "is required");
            Utc::now()
        }
    };
    violations.into_result()?;
    let raw_subject: String = request.subject.trim().chars().take(500).collect();
    let mut parents: Vec<String> = request.references.clone();
    parents.extend(request.in_reply_to.iter().cloned());
    parents.retain(|id| !id.is_empty() && id.len() <= 998);
    Ok(Checked {
        dedup_key: request.dedup_key.clone(),
        channel,
        mail_account_id,
        external_channel: request.external_channel.clone(),
        external_thread_key: request.external_thread_key.clone(),
        requester,
        subject: fields::received_subject(&request.subject),
        raw_subject,
        mail_message_id: request.mail_message_id.clone(),
        parents,
        inquiry_type_id,
        customer_fields: request.customer_fields.clone(),
        receive_time,
    })
}
