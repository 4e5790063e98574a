//! A ticket as stored (table `tickets`) and as the API shows it (`Ticket`). The handlers work
//! on `Ticket`; this file is the one place that maps it to columns and back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use switchboard_platform::{
    error::{Error, Result},
    time::{instant, timestamp},
};
use switchboard_proto::ticket::v1::{Ticket, TicketRequester};
use uuid::Uuid;

use super::writes::Writes;
use crate::domain::text;

/// The columns search reads, written with every ticket from its subject and requester name
/// (normalised by [`text`]); never read back into a `Ticket`.
const SEARCH_COLUMNS: &str = "subject_norm, subject_bigrams, requester_name_norm";

/// Every column of `tickets`, in the order [`TicketRow`] reads them.
pub const COLUMNS: &str = "id, number, subject, status, group_id, group_name, assignee_login,
    assignee_name, channel, external_channel, external_thread_key, requester_name,
    requester_email, requester_phone, requester_external_id, mail_account_id, inquiry_type_id,
    processing_type_id, priority, tags, customer_fields, create_time, update_time, solve_time,
    close_time, first_reply_time, auto_close_time, linked_ticket_id, linked_ticket_number,
    resolution_reason, resolution_note, status_before_spam, last_customer_message_time,
    message_count, version";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: Uuid,
    pub number: i64,
    pub subject: String,
    pub status: i16,
    pub group_id: Option<Uuid>,
    pub group_name: String,
    pub assignee_login: Option<String>,
    pub assignee_name: String,
    pub channel: i16,
    pub external_channel: String,
    pub external_thread_key: String,
    pub requester_name: String,
    pub requester_email: String,
    pub requester_phone: String,
    pub requester_external_id: String,
    pub mail_account_id: Option<Uuid>,
    pub inquiry_type_id: Option<Uuid>,
    pub processing_type_id: Option<Uuid>,
    pub priority: i16,
    pub tags: Vec<String>,
    pub customer_fields: sqlx::types::Json<HashMap<String, String>>,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub solve_time: Option<DateTime<Utc>>,
    pub close_time: Option<DateTime<Utc>>,
    pub first_reply_time: Option<DateTime<Utc>>,
    pub auto_close_time: Option<DateTime<Utc>>,
    pub linked_ticket_id: Option<Uuid>,
    pub linked_ticket_number: i64,
    pub resolution_reason: i16,
    pub resolution_note: String,
    pub status_before_spam: i16,
    pub last_customer_message_time: Option<DateTime<Utc>>,
    pub message_count: i32,
    pub version: i64,
}

fn text_id(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

fn time(at: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(timestamp)
}

impl From<TicketRow> for Ticket {
    fn from(row: TicketRow) -> Self {
        Ticket {
            id: row.id.to_string(),
            number: row.number,
            subject: row.subject,
            status: row.status.into(),
            group_id: text_id(row.group_id),
            group_display_name: row.group_name,
            assignee_login: row.assignee_login.unwrap_or_default(),
            assignee_display_name: row.assignee_name,
            channel: row.channel.into(),
            external_channel: row.external_channel,
            external_thread_key: row.external_thread_key,
            requester: Some(TicketRequester {
                name: row.requester_name,
                email: row.requester_email,
                phone_number: row.requester_phone,
                external_user_id: row.requester_external_id,
            }),
            mail_account_id: text_id(row.mail_account_id),
            inquiry_type_id: text_id(row.inquiry_type_id),
            processing_type_id: text_id(row.processing_type_id),
            priority: row.priority.into(),
            tags: row.tags,
            customer_fields: row.customer_fields.0,
            create_time: Some(timestamp(row.create_time)),
            update_time: Some(timestamp(row.update_time)),
            solve_time: time(row.solve_time),
            close_time: time(row.close_time),
            first_reply_time: time(row.first_reply_time),
            auto_close_time: time(row.auto_close_time),
            linked_ticket_id: text_id(row.linked_ticket_id),
            linked_ticket_number: row.linked_ticket_number,
            resolution_reason: row.resolution_reason.into(),
            resolution_note: row.resolution_note,
            status_before_spam: row.status_before_spam.into(),
            last_customer_message_time: time(row.last_customer_message_time),
            message_count: row.message_count,
            version: row.version,
        }
    }
}

/// A stored id of the API's text form (the service wrote it: empty means none).
fn id_column(text: &str) -> Result<Option<Uuid>> {
    if text.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(text).map(Some).map_err(Error::internal)
}

fn time_column(at: &Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.as_ref().and_then(instant)
}

fn optional_text(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Adds the write of `ticket` to `writes`, as its first statement: an insert of a new ticket,
/// or with `expected_version` the replacement of the stored row of that version ([`Writes::execute`]
/// answers 0 when the stored version is another).
pub fn write_into(
    writes: &mut Writes,
    ticket: &Ticket,
    expected_version: Option<i64>,
) -> Result<()> {
    let statement = match expected_version {
        None => format!(
            "INSERT INTO tickets ({COLUMNS}, {SEARCH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6,
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
             $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38)"
        ),
        Some(_) => "UPDATE tickets SET subject = $3, status = $4, group_id = $5,
             group_name = $6, assignee_login = $7, assignee_name = $8, channel = $9,
             external_channel = $10, external_thread_key = $11, requester_name = $12,
             requester_email = $13, requester_phone = $14, requester_external_id = $15,
             mail_account_id = $16, inquiry_type_id = $17, processing_type_id = $18,
             priority = $19, tags = $20, customer_fields = $21, update_time = $23,
             solve_time = $24, close_time = $25, first_reply_time = $26, auto_close_time = $27,
             linked_ticket_id = $28, linked_ticket_number = $29, resolution_reason = $30,
             resolution_note = $31, status_before_spam = $32,
             last_customer_message_time = $33, message_count = $34, version = $35,
             subject_norm = $36, subject_bigrams = $37, requester_name_norm = $38
             WHERE id = $1 AND number = $2 AND version = $39 AND create_time = $22"
            .to_owned(),
    };
    let requester = ticket.requester.clone().unwrap_or_default();
    let id = Uuid::parse_str(&ticket.id).map_err(Error::internal)?;
    let (group, account) = (
        id_column(&ticket.group_id)?,
        id_column(&ticket.mail_account_id)?,
    );
    let inquiry = id_column(&ticket.inquiry_type_id)?;
    let processing = id_column(&ticket.processing_type_id)?;
    let linked = id_column(&ticket.linked_ticket_id)?;
    let subject_norm = text::normalise(&ticket.subject);
    let subject_bigrams = text::bigrams(&subject_norm);
    writes.add(&statement, |b| {
        b.bind(id)
            .bind(ticket.number)
            .bind(ticket.subject.clone())
            .bind(ticket.status as i16)
            .bind(group)
            .bind(ticket.group_display_name.clone())
            .bind(optional_text(&ticket.assignee_login).map(str::to_owned))
            .bind(ticket.assignee_display_name.clone())
            .bind(ticket.channel as i16)
            .bind(ticket.external_channel.clone())
            .bind(ticket.external_thread_key.clone())
            .bind(requester.name.clone())
            .bind(requester.email.clone())
            .bind(requester.phone_number.clone())
            .bind(requester.external_user_id.clone())
            .bind(account)
            .bind(inquiry)
            .bind(processing)
            .bind(ticket.priority as i16)
            .bind(ticket.tags.clone())
            .bind(sqlx::types::Json(ticket.customer_fields.clone()))
            .bind(time_column(&ticket.create_time))
            .bind(time_column(&ticket.update_time))
            .bind(time_column(&ticket.solve_time))
            .bind(time_column(&ticket.close_time))
            .bind(time_column(&ticket.first_reply_time))
            .bind(time_column(&ticket.auto_close_time))
            .bind(linked)
            .bind(ticket.linked_ticket_number)
            .bind(ticket.resolution_reason as i16)
            .bind(ticket.resolution_note.clone())
            .bind(ticket.status_before_spam as i16)
            .bind(time_column(&ticket.last_customer_message_time))
            .bind(ticket.message_count)
            .bind(ticket.version)
            .bind(subject_norm)
            .bind(subject_bigrams)
            .bind(text::normalise(&requester.name));
        if let Some(version) = expected_version {
            b.bind(version);
        }
    })
}
