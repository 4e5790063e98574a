//! `inbound_messages`: every customer message as received, stored before anything else is done
//! with it, and what became of it.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result as StoreResult;
use uuid::Uuid;

/// What kind of message a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mail = 1,
    HelpCenter = 2,
    Channel = 3,
}

/// Where a stored message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Stored, not yet in a ticket (the ticket service could not be reached, or a crash).
    Received = 1,
    Ingested = 2,
    Quarantined = 3,
}

impl State {
    fn of(value: i16) -> Self {
        match value {
            2 => Self::Ingested,
            3 => Self::Quarantined,
            _ => Self::Received,
        }
    }
}

/// A message to store.
pub struct NewInbound<'a> {
    pub kind: Kind,
    pub dedup_key: &'a str,
    pub mail_account_id: Option<Uuid>,
    pub raw: &'a [u8],
    pub raw_sha256: &'a [u8],
    pub envelope_sender: Option<&'a str>,
    pub envelope_recipients: &'a [String],
    pub arrival: i16,
    pub receive_time: DateTime<Utc>,
    pub state: State,
    pub quarantine_reason: &'a str,
    pub raw_subject: String,
    pub raw_from: String,
    pub mail_message_id: &'a str,
    pub automation: i16,
}

/// A stored message, as far as a repeat of its submission needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: Uuid,
    pub state: i16,
    pub raw_sha256: Vec<u8>,
    pub quarantine_reason: String,
    pub mail_message_id: String,
    pub automation: i16,
    pub outcome: i16,
    pub ticket_id: Option<Uuid>,
    pub ticket_number: Option<i64>,
    pub ticket_message_id: Option<Uuid>,
}

impl Stored {
    pub fn state(&self) -> State {
        State::of(self.state)
    }
}

const STORED: &str = "id, state, raw_sha256, quarantine_reason, mail_message_id, automation, \
                      outcome, ticket_id, ticket_number, ticket_message_id";

/// Stores `message` unless its dedup key is stored already; either way the stored row, and
/// whether it is this call's.
pub async fn store(pool: &PgPool, message: &NewInbound<'_>) -> StoreResult<(Stored, bool)> {
    let inserted: Option<Stored> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO inbound_messages (id, kind, dedup_key, mail_account_id, raw, raw_sha256,
             envelope_sender, envelope_recipients, arrival, receive_time, state,
             quarantine_reason, raw_subject, raw_from, mail_message_id, automation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (dedup_key) DO NOTHING
         RETURNING {STORED}"
    )))
    .bind(Uuid::now_v7())
    .bind(message.kind as i16)
    .bind(message.dedup_key)
    .bind(message.mail_account_id)
    .bind(message.raw)
    .bind(message.raw_sha256)
    .bind(message.envelope_sender)
    .bind(message.envelope_recipients)
    .bind(message.arrival)
    .bind(message.receive_time)
    .bind(message.state as i16)
    .bind(message.quarantine_reason)
    .bind(&message.raw_subject)
    .bind(&message.raw_from)
    .bind(message.mail_message_id)
    .bind(message.automation)
    .fetch_optional(pool)
    .await?;
    if let Some(stored) = inserted {
        return Ok((stored, true));
    }
    let stored: Stored = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {STORED} FROM inbound_messages WHERE dedup_key = $1"
    )))
    .bind(message.dedup_key)
    .fetch_one(pool)
    .await?;
    Ok((stored, false))
}

/// The ticket message a stored message became.
pub struct Ingested {
    pub outcome: i16,
    pub ticket_id: Uuid,
    pub ticket_number: i64,
    pub ticket_message_id: Uuid,
}

/// Records that `id` is in a ticket now (in the caller's transaction, with its event).
pub async fn mark_ingested(tx: &mut PgConnection, id: Uuid, done: &Ingested) -> StoreResult<()> {
    sqlx::query(
        "UPDATE inbound_messages SET state = 2, outcome = $2, ticket_id = $3, ticket_number = $4,
             ticket_message_id = $5, quarantine_reason = '', update_time = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(done.outcome)
    .bind(done.ticket_id)
    .bind(done.ticket_number)
    .bind(done.ticket_message_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Records that `id` is quarantined for `reason`.
pub async fn mark_quarantined(pool: &PgPool, id: Uuid, reason: &str) -> StoreResult<()> {
    sqlx::query(
        "UPDATE inbound_messages SET state = 3, quarantine_reason = $2, update_time = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}
