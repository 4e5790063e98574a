//! `SubmitChannelMessage` (외부채널: KakaoTalk, LINE, ...): a chat message checked, stored and
//! added to its thread's ticket (or a new one); idempotent on `(channel, channel_message_id)`.

use switchboard_platform::{error::FieldViolations, events::NewEvent};
use switchboard_proto::{
    events::v1::ChannelMessageReceived,
    inbound::v1::{SubmitChannelMessageRequest, SubmitChannelMessageResponse},
    ticket::v1::{
        IngestTicketMessageRequest, IngestTicketMessageResponse, TicketChannel,
        TicketIngestOutcome, TicketRequester,
    },
};
use tonic::Status;

use super::{
    InboundApi,
    store::{Kind, State},
    submitted::{self, Submission},
};

/// A new ticket's subject from the start of the text, in characters.
const SUBJECT_FROM_TEXT_CHARS: usize = 80;

fn channel_name_ok(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// The subject of a new ticket: the given one, else the text's first line (80 characters at
/// most), else "[<channel>] <sender name>".
fn subject(request: &SubmitChannelMessageRequest) -> String {
    if !request.subject.trim().is_empty() {
        return request.subject.trim().to_owned();
    }
    let first_line = request.text.trim().lines().next().unwrap_or_default();
    if !first_line.trim().is_empty() {
        return first_line
            .trim()
            .chars()
            .take(SUBJECT_FROM_TEXT_CHARS)
            .collect();
    }
    let name = request
        .sender
        .as_ref()
        .map(|s| s.name.trim())
        .unwrap_or_default();
    format!("[{}] {name}", request.channel).trim().to_owned()
}

fn answer(response: IngestTicketMessageResponse) -> SubmitChannelMessageResponse {
    SubmitChannelMessageResponse {
        outcome: response.outcome,
        ticket_id: response.ticket_id,
        ticket_number: response.ticket_number,
        ticket_message_id: response.message_id,
    }
}

pub async fn submit(
    api: &InboundApi,
    request: SubmitChannelMessageRequest,
) -> Result<SubmitChannelMessageResponse, Status> {
    let mut violations = FieldViolations::new();
    if !channel_name_ok(&request.channel) {
        violations.add(
            "channel",
            "must be 1 to 32 characters of [a-z0-9_-], such as kakaotalk",
        );
    }
    submitted::text(&mut violations, "thread_key", &request.thread_key, 1, 200);
    submitted::text(
        &mut violations,
        "channel_message_id",
        &request.channel_message_id,
        1,
        200,
    );
    let sender = request.sender.clone().unwrap_or_default();
    submitted::text(
        &mut violations,
        "sender.external_user_id",
        &sender.external_user_id,
        1,
        200,
    );
    submitted::text(&mut violations, "sender.name", &sender.name, 0, 200);
    let email = submitted::email(&mut violations, "sender.email", &sender.email);
    let phone =
        submitted::phone_number(&mut violations, "sender.phone_number", &sender.phone_number);
    submitted::text(&mut violations, "text", &request.text, 0, 100_000);
    submitted::text(&mut violations, "subject", &request.subject, 0, 500);
    if request.text.trim().is_empty() && request.attachments.is_empty() {
        violations.add("text", "is required unless there are attachments");
    }
    let attachments = submitted::attachments(&mut violations, &request.attachments)?;
    violations.into_result()?;
    let key = format!("{}:{}", request.channel, request.channel_message_id.trim());
    let submission = Submission::new(Kind::Channel, format!("channel:{key}"), "", &request);
    let stored = submitted::store(api, &submission).await?;
    if stored.state() == State::Ingested {
        let mut repeat = answer(submitted::stored_answer(&stored));
        repeat.outcome = TicketIngestOutcome::Duplicate as i32;
        return Ok(repeat);
    }
    let ingest = IngestTicketMessageRequest {
        dedup_key: submission.dedup_key.clone(),
        channel: TicketChannel::External as i32,
        external_channel: request.channel.clone(),
        external_thread_key: request.thread_key.trim().to_owned(),
        external_message_id: request.channel_message_id.trim().to_owned(),
        requester: Some(TicketRequester {
            name: sender.name.trim().to_owned(),
            email,
            phone_number: phone,
            external_user_id: sender.external_user_id.trim().to_owned(),
        }),
        subject: subject(&request),
        body_text: request.text.clone(),
        attachments,
        receive_time: Some(switchboard_platform::time::timestamp(chrono::Utc::now())),
        source_ref: stored.id.to_string(),
        ..Default::default()
    };
    let attachment_count = ingest.attachments.len() as i32;
    let response = submitted::ingest(api, &stored, ingest, |response| {
        let event = ChannelMessageReceived {
            channel: request.channel.clone(),
            thread_key: request.thread_key.trim().to_owned(),
            channel_message_id: request.channel_message_id.trim().to_owned(),
            attachment_count,
            outcome: response.outcome,
            ticket_id: response.ticket_id.clone(),
            ticket_number: response.ticket_number,
            ticket_message_id: response.message_id.clone(),
        };
        (response.outcome != TicketIngestOutcome::Duplicate as i32)
            .then(|| NewEvent::new(&event, &key, 1))
    })
    .await?;
    Ok(answer(response))
}
