//! The quarantine: mail kept as received because it was over a limit, could not be parsed, or
//! the ticket service refused its content; listed for admins and processed again on request.

use sqlx::FromRow;
use switchboard_platform::{
    error::{Error, FieldViolations},
    paging::Page,
    request::uuid_field,
    time::timestamp,
};
use switchboard_proto::{
    events::v1::MailSource,
    inbound::v1::{
        ListQuarantinedMessagesRequest, ListQuarantinedMessagesResponse, QuarantinedMessage,
        ReprocessQuarantinedMessageRequest, ReprocessQuarantinedMessageResponse,
    },
};
use tonic::Status;
use uuid::Uuid;

use super::{InboundApi, mail::RawMail};
use crate::{accounts, screen::EnvelopeSender};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 200;

#[derive(FromRow)]
struct Row {
    id: Uuid,
    mail_account_id: Option<Uuid>,
    quarantine_reason: String,
    size_bytes: i32,
    receive_time: chrono::DateTime<chrono::Utc>,
    raw_subject: String,
    raw_from: String,
}

impl Row {
    fn message(self) -> QuarantinedMessage {
        QuarantinedMessage {
            id: self.id.to_string(),
            mail_account_id: self
                .mail_account_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            reason: self.quarantine_reason,
            size_bytes: i64::from(self.size_bytes),
            receive_time: Some(timestamp(self.receive_time)),
            raw_subject: self.raw_subject,
            raw_from: self.raw_from,
        }
    }
}

pub async fn list(
    api: &InboundApi,
    request: ListQuarantinedMessagesRequest,
) -> Result<ListQuarantinedMessagesResponse, Status> {
    let mut violations = FieldViolations::new();
    let account = violations.optional_uuid("mail_account_id", &request.mail_account_id);
    violations.into_result()?;
    let page = Page::of_sized(
        &request,
        |r| (&mut r.page_size, &mut r.page_token),
        DEFAULT_PAGE,
        MAX_PAGE,
    )?;
    let after = crate::newest_first::after(&page)?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, mail_account_id, quarantine_reason, octet_length(raw) AS size_bytes,
                receive_time, raw_subject, raw_from
         FROM inbound_messages
         WHERE state = 3 AND ($1::uuid IS NULL OR mail_account_id = $1)
           AND ($2::timestamptz IS NULL OR (receive_time, id) < ($2, $3))
         ORDER BY receive_time DESC, id DESC LIMIT $4",
    )
    .bind(account)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(page.fetch_limit())
    .fetch_all(&api.pool)
    .await
    .map_err(Error::from)?;
    let (total,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM inbound_messages
         WHERE state = 3 AND ($1::uuid IS NULL OR mail_account_id = $1)",
    )
    .bind(account)
    .fetch_one(&api.pool)
    .await
    .map_err(Error::from)?;
    let mut messages: Vec<QuarantinedMessage> = rows.into_iter().map(Row::message).collect();
    let next_page_token = page.finish(&mut messages, |m| {
        crate::newest_first::key(&m.receive_time, &m.id)
    });
    Ok(ListQuarantinedMessagesResponse {
        quarantined_messages: messages,
        next_page_token,
        total_size: total as i32,
    })
}

pub async fn reprocess(
    api: &InboundApi,
    request: ReprocessQuarantinedMessageRequest,
) -> Result<ReprocessQuarantinedMessageResponse, Status> {
    let id = uuid_field("id", &request.id)?;
    type Quarantined = (
        Vec<u8>,
        Option<Uuid>,
        Option<String>,
        Vec<String>,
        chrono::DateTime<chrono::Utc>,
        i16,
    );
    let row: Option<Quarantined> = sqlx::query_as(
        "SELECT raw, mail_account_id, envelope_sender, envelope_recipients, receive_time, arrival
         FROM inbound_messages WHERE id = $1 AND state = 3 AND kind = 1",
    )
    .bind(id)
    .fetch_optional(&api.pool)
    .await
    .map_err(Error::from)?;
    let Some((raw, account_id, sender, recipients, receive_time, arrival)) = row else {
        return Err(Status::not_found("no such quarantined mail"));
    };
    let account = match account_id {
        Some(account_id) => accounts::by_id(&api.pool, account_id).await?,
        None => None,
    };
    let account = match account {
        Some(account) if account.active => account,
        _ => {
            return Err(Status::failed_precondition(
                "the mail's receiving account is gone or inactive",
            ));
        }
    };
    let envelope_sender = match sender.as_deref() {
        None => EnvelopeSender::Absent,
        Some("") => EnvelopeSender::Null,
        Some(address) => EnvelopeSender::Address(address.to_owned()),
    };
    let mail = RawMail {
        raw: raw.into(),
        account,
        envelope_sender,
        envelope_recipients: recipients,
        receive_time,
        source: MailSource::try_from(i32::from(arrival)).unwrap_or(MailSource::Mta),
    };
    // Stored again under its Message-ID (the quarantined row stays, as the record of it).
    let result = super::mail::submit(api, mail, None).await?;
    if !result.quarantined {
        sqlx::query(
            "UPDATE inbound_messages SET quarantine_reason = 'reprocessed: ' || quarantine_reason,
                 state = 2, update_time = now() WHERE id = $1",
        )
        .bind(id)
        .execute(&api.pool)
        .await
        .map_err(Error::from)?;
    }
    Ok(ReprocessQuarantinedMessageResponse {
        result: Some(result),
    })
}
