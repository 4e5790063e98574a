//! `SubmitHelpCenterInquiry` (Help Center 문의하기): the form checked field by field, stored,
//! and made a new ticket; idempotent on `request_id` (another request under the same id is
//! ALREADY_EXISTS).

use switchboard_platform::{error::FieldViolations, events::NewEvent};
use switchboard_proto::{
    common::v1::Principal,
    events::v1::InquirySubmitted,
    inbound::v1::{SubmitHelpCenterInquiryRequest, SubmitHelpCenterInquiryResponse},
    ticket::v1::{IngestTicketMessageRequest, TicketChannel, TicketRequester},
};
use tonic::Status;
use uuid::Uuid;

use super::{
    InboundApi,
    store::{Kind, State},
    submitted::{self, Submission},
};

const MAX_FIELDS: usize = 50;
const MAX_FIELD_VALUE_CHARS: usize = 2_000;

fn field_key_ok(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub async fn submit(
    api: &InboundApi,
    principal: &Principal,
    request: SubmitHelpCenterInquiryRequest,
) -> Result<SubmitHelpCenterInquiryResponse, Status> {
    let mut violations = FieldViolations::new();
    let request_id = match request.request_id.as_str() {
        "" => Uuid::now_v7(),
        text => Uuid::parse_str(text).unwrap_or_else(|_| {
            violations.add("request_id", "must be a UUID in canonical text form");
            Uuid::nil()
        }),
    };
    submitted::text(&mut violations, "name", &request.name, 1, 200);
    let email = submitted::email(&mut violations, "email", &request.email);
    if email.is_empty() {
        violations.add("email", "is required: replies go there");
    }
    let phone = submitted::phone_number(&mut violations, "phone_number", &request.phone_number);
    if !request.inquiry_type_id.is_empty() && Uuid::parse_str(&request.inquiry_type_id).is_err() {
        violations.add("inquiry_type_id", "must be a UUID");
    }
    submitted::text(&mut violations, "subject", &request.subject, 1, 500);
    submitted::text(&mut violations, "body", &request.body, 1, 100_000);
    if request.fields.len() > MAX_FIELDS {
        violations.add("fields", format!("at most {MAX_FIELDS} entries"));
    }
    let mut keys: Vec<&String> = request.fields.keys().collect();
    keys.sort();
    for key in keys {
        if !field_key_ok(key) {
            violations.add(
                "fields",
                format!("key {key:?} must be 1 to 64 characters of [a-z0-9_]"),
            );
        } else if request.fields[key].chars().count() > MAX_FIELD_VALUE_CHARS {
            violations.add(
                format!("fields[{key}]"),
                format!("must be at most {MAX_FIELD_VALUE_CHARS} characters"),
            );
        }
    }
    let attachments = submitted::attachments(&mut violations, &request.attachments)?;
    violations.into_result()?;
    let submission = Submission::new(
        Kind::HelpCenter,
        format!("helpcenter:{request_id}"),
        &format!("{}:{}", principal.kind, principal.subject),
        &request,
    );
    let stored = submitted::store(api, &submission).await?;
    if stored.raw_sha256 != submission.hash {
        return Err(Status::already_exists(
            "request_id was used for another inquiry; use a new request_id",
        ));
    }
    if stored.state() == State::Ingested {
        let done = submitted::stored_answer(&stored);
        return Ok(SubmitHelpCenterInquiryResponse {
            ticket_id: done.ticket_id,
            ticket_number: done.ticket_number,
            duplicate: true,
        });
    }
    let ingest = IngestTicketMessageRequest {
        dedup_key: submission.dedup_key.clone(),
        channel: TicketChannel::HelpCenter as i32,
        requester: Some(TicketRequester {
            name: request.name.trim().to_owned(),
            email,
            phone_number: phone,
            ..Default::default()
        }),
        subject: request.subject.trim().to_owned(),
        body_text: request.body,
        inquiry_type_id: request.inquiry_type_id.clone(),
        customer_fields: request.fields,
        attachments,
        receive_time: Some(switchboard_platform::time::timestamp(chrono::Utc::now())),
        source_ref: stored.id.to_string(),
        ..Default::default()
    };
    let attachment_count = ingest.attachments.len() as i32;
    let submitter = principal.display_name.clone();
    let response = submitted::ingest(api, &stored, ingest, |response| {
        let event = InquirySubmitted {
            request_id: request_id.to_string(),
            submitter,
            inquiry_type_id: request.inquiry_type_id.clone(),
            attachment_count,
            ticket_id: response.ticket_id.clone(),
            ticket_number: response.ticket_number,
        };
        Some(NewEvent::new(&event, &request_id.to_string(), 1))
    })
    .await?;
    Ok(SubmitHelpCenterInquiryResponse {
        ticket_id: response.ticket_id,
        ticket_number: response.ticket_number,
        duplicate: false,
    })
}
