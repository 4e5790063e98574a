//! `outbound_messages` and `outbound_attempts`: each outgoing mail once per ticket message,
//! claimed by one sender at a time (a lease in `next_attempt_time`), and every attempt kept.

use chrono::{DateTime, Utc};
use prost::Message;
use sqlx::{FromRow, PgConnection, PgPool};
use switchboard_platform::{error::Result as StoreResult, time::timestamp};
use switchboard_proto::{
    events::v1::TicketReplyRequested,
    inbound::v1::{OutboundMessage, OutboundState},
};
use uuid::Uuid;

/// The columns an `OutboundMessage` is made of.
pub const COLUMNS: &str = "id, ticket_id, ticket_number, ticket_message_id, kind, \
    mail_account_id, from_address, to_addresses, cc_addresses, subject, mail_message_id, \
    size_bytes, state, attempt_count, last_error, create_time, last_attempt_time, \
    next_attempt_time, send_time, version";

#[derive(Debug, Clone, FromRow)]
pub struct Row {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub ticket_number: i64,
    pub ticket_message_id: Uuid,
    pub kind: i16,
    pub mail_account_id: Option<Uuid>,
    pub from_address: String,
    pub to_addresses: Vec<String>,
    pub cc_addresses: Vec<String>,
    pub subject: String,
    pub mail_message_id: String,
    pub size_bytes: i64,
    pub state: i16,
    pub attempt_count: i32,
    pub last_error: String,
    pub create_time: DateTime<Utc>,
    pub last_attempt_time: Option<DateTime<Utc>>,
    pub next_attempt_time: Option<DateTime<Utc>>,
    pub send_time: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Row {
    pub fn message(&self) -> OutboundMessage {
        let queued = self.state == OutboundState::Queued as i16;
        OutboundMessage {
            id: self.id.to_string(),
            ticket_id: self.ticket_id.to_string(),
            ticket_number: self.ticket_number,
            ticket_message_id: self.ticket_message_id.to_string(),
            kind: i32::from(self.kind),
            mail_account_id: self
                .mail_account_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            from_address: self.from_address.clone(),
            to_addresses: self.to_addresses.clone(),
            cc_addresses: self.cc_addresses.clone(),
            subject: self.subject.clone(),
            mail_message_id: self.mail_message_id.clone(),
            size_bytes: self.size_bytes,
            state: i32::from(self.state),
            attempt_count: self.attempt_count,
            last_error: self.last_error.clone(),
            create_time: Some(timestamp(self.create_time)),
            last_attempt_time: self.last_attempt_time.map(timestamp),
            next_attempt_time: self.next_attempt_time.filter(|_| queued).map(timestamp),
            send_time: self.send_time.map(timestamp),
        }
    }
}

fn lower(addresses: &[String]) -> Vec<String> {
    addresses.iter().map(|a| a.trim().to_lowercase()).collect()
}

/// Queues `reply` (once per ticket message) to be sent now; false when it was queued before.
pub async fn queue(
    tx: &mut PgConnection,
    reply: &TicketReplyRequested,
    give_up_after: chrono::Duration,
) -> StoreResult<bool> {
    let uuid = |text: &str| Uuid::parse_str(text).ok();
    let done = sqlx::query(
        "INSERT INTO outbound_messages (id, ticket_message_id, ticket_id, ticket_number, kind,
             mail_account_id, from_address, to_addresses, cc_addresses, subject, mail_message_id,
             request, state, create_time, give_up_time, next_attempt_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, now(), now() + $13, now())
         ON CONFLICT (ticket_message_id) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(uuid(&reply.ticket_message_id).unwrap_or_default())
    .bind(uuid(&reply.ticket_id).unwrap_or_default())
    .bind(reply.ticket_number)
    .bind(reply.kind as i16)
    .bind(uuid(&reply.mail_account_id))
    .bind(&reply.from_address)
    .bind(lower(&reply.to_addresses))
    .bind(lower(&reply.cc_addresses))
    .bind(&reply.subject)
    .bind(&reply.mail_message_id)
    .bind(reply.encode_to_vec())
    .bind(give_up_after)
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A mail claimed for one attempt.
pub struct Claimed {
    pub row: Row,
    pub reply: TicketReplyRequested,
    pub give_up_time: DateTime<Utc>,
}

/// Claims up to `limit` due mails for `lease` (their attempt counted now); another sender
/// takes a mail over only when its lease ran out (a sender that died).
pub async fn claim(
    pool: &PgPool,
    limit: i64,
    lease: chrono::Duration,
) -> StoreResult<Vec<Claimed>> {
    #[derive(FromRow)]
    struct Due {
        #[sqlx(flatten)]
        row: Row,
        request: Vec<u8>,
        give_up_time: DateTime<Utc>,
    }
    let due: Vec<Due> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE outbound_messages SET next_attempt_time = now() + $2,
             attempt_count = attempt_count + 1, last_attempt_time = now()
         WHERE id IN (SELECT id FROM outbound_messages
                      WHERE state = 1 AND next_attempt_time <= now()
                      ORDER BY next_attempt_time LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING {COLUMNS}, request, give_up_time"
    )))
    .bind(limit)
    .bind(lease)
    .fetch_all(pool)
    .await?;
    Ok(due
        .into_iter()
        .filter_map(|due| {
            let reply = TicketReplyRequested::decode(due.request.as_slice()).ok()?;
            Some(Claimed {
                row: due.row,
                reply,
                give_up_time: due.give_up_time,
            })
        })
        .collect())
}

/// What an attempt came to.
pub enum Outcome<'a> {
    Sent { response: &'a str, size: i64 },
    Retry { error: &'a str, at: DateTime<Utc> },
    Failed { error: &'a str },
}

/// Records attempt `row.attempt_count` and the mail's new state; the row after it.
pub async fn record(tx: &mut PgConnection, row: &Row, outcome: &Outcome<'_>) -> StoreResult<Row> {
    let (ok, response) = match outcome {
        Outcome::Sent { response, .. } => (true, *response),
        Outcome::Retry { error, .. } | Outcome::Failed { error } => (false, *error),
    };
    sqlx::query(
        "INSERT INTO outbound_attempts (outbound_id, attempt, attempt_time, ok, response)
         VALUES ($1, $2, now(), $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(row.id)
    .bind(row.attempt_count)
    .bind(ok)
    .bind(response)
    .execute(&mut *tx)
    .await?;
    let update = match outcome {
        Outcome::Sent { size, .. } => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE outbound_messages SET state = 2, send_time = now(), last_error = '',
                 next_attempt_time = NULL, size_bytes = $2, version = version + 1
             WHERE id = $1 RETURNING {COLUMNS}"
        )))
        .bind(row.id)
        .bind(*size),
        Outcome::Retry { error, at } => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE outbound_messages SET last_error = $2, next_attempt_time = $3
             WHERE id = $1 RETURNING {COLUMNS}"
        )))
        .bind(row.id)
        .bind(*error)
        .bind(*at),
        Outcome::Failed { error } => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE outbound_messages SET state = 3, last_error = $2, next_attempt_time = NULL,
                 version = version + 1
             WHERE id = $1 RETURNING {COLUMNS}"
        )))
        .bind(row.id)
        .bind(*error),
    };
    Ok(update.fetch_one(tx).await?)
}

/// One mail by id.
pub async fn get(pool: &PgPool, id: Uuid) -> StoreResult<Option<Row>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outbound_messages WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// Queues a failed mail again, due now, with a new retry period; `None` unless it was failed.
pub async fn requeue(
    pool: &PgPool,
    id: Uuid,
    give_up_after: chrono::Duration,
) -> StoreResult<Option<Row>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE outbound_messages SET state = 1, next_attempt_time = now(),
             give_up_time = now() + $2, version = version + 1
         WHERE id = $1 AND state = 3 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(give_up_after)
    .fetch_optional(pool)
    .await?)
}

/// How many automatic mails (notifications) went to any of `addresses` in the last hour.
pub async fn recent_notifications(pool: &PgPool, addresses: &[String]) -> StoreResult<i64> {
    let lower: Vec<String> = addresses.iter().map(|a| a.to_lowercase()).collect();
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM outbound_messages
         WHERE kind = 4 AND to_addresses && $1 AND state = 2
           AND send_time > now() - interval '1 hour'",
    )
    .bind(&lower)
    .fetch_one(pool)
    .await?)
}

/// Marks the mail whose Message-ID is `mail_message_id` failed by a bounce; the row when it
/// was queued or sent (a bounce of a mail already failed changes nothing).
pub async fn bounced(
    tx: &mut PgConnection,
    mail_message_id: &str,
    error: &str,
) -> StoreResult<Option<Row>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE outbound_messages SET state = 3, last_error = $2, next_attempt_time = NULL,
             version = version + 1
         WHERE mail_message_id = $1 AND state IN (1, 2) RETURNING {COLUMNS}"
    )))
    .bind(mail_message_id)
    .bind(error)
    .fetch_optional(tx)
    .await?)
}

/// Whether the mail with this Message-ID (without angle brackets) came in automated (an
/// auto-reply, a bounce, list mail): such mail gets no automatic answer.
pub async fn answers_automated_mail(pool: &PgPool, mail_message_id: &str) -> StoreResult<bool> {
    if mail_message_id.is_empty() {
        return Ok(false);
    }
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM inbound_messages
                        WHERE mail_message_id = $1 AND kind = 1 AND automation > 1)",
    )
    .bind(mail_message_id)
    .fetch_one(pool)
    .await?)
}
