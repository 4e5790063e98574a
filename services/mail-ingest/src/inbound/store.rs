//! `inbound_messages`: every customer message as received, stored before anything else is done
//! with it, and what became of it.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    error::{Error, Result as StoreResult},
    events::outbox::OutboxRow,
};
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
pub struct NewInbound {
    pub kind: Kind,
    pub dedup_key: String,
    pub mail_account_id: Option<Uuid>,
    pub raw: Arc<[u8]>,
    pub raw_sha256: Vec<u8>,
    pub envelope_sender: Option<String>,
    pub envelope_recipients: Vec<String>,
    pub arrival: i16,
    pub receive_time: DateTime<Utc>,
    pub state: State,
    pub quarantine_reason: String,
    pub raw_subject: String,
    pub raw_from: String,
    pub mail_message_id: String,
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

/// A stored row with its key.
#[derive(sqlx::FromRow)]
struct Keyed {
    dedup_key: String,
    #[sqlx(flatten)]
    stored: Stored,
}

/// The columns of a new row, in the order [`store_many`] binds them.
const NEW_COLUMNS: &str = "id, kind, dedup_key, mail_account_id, raw, raw_sha256, envelope_sender, \
                           envelope_recipients, arrival, receive_time, state, quarantine_reason, \
                           raw_subject, raw_from, mail_message_id, automation";
const NEW_COLUMN_COUNT: usize = 16;

/// Stores `message` unless its dedup key is stored already; either way the stored row, and
/// whether it is this call's.
pub async fn store(pool: &PgPool, message: &NewInbound) -> StoreResult<(Stored, bool)> {
    let mut stored = store_many(pool, &[message]).await?;
    Ok(stored.remove(0))
}

/// Stores each of `messages` unless its dedup key is stored already (or comes earlier in
/// `messages`), in one statement: for each, the stored row and whether it is this call's.
pub async fn store_many(
    pool: &PgPool,
    messages: &[&NewInbound],
) -> StoreResult<Vec<(Stored, bool)>> {
    let tuples: Vec<String> = (0..messages.len())
        .map(|row| {
            let first = row * NEW_COLUMN_COUNT;
            let places: Vec<String> = (1..=NEW_COLUMN_COUNT)
                .map(|column| format!("${}", first + column))
                .collect();
            format!("({})", places.join(", "))
        })
        .collect();
    let mut query = sqlx::query_as::<_, Keyed>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO inbound_messages ({NEW_COLUMNS}) VALUES {}
         ON CONFLICT (dedup_key) DO NOTHING
         RETURNING dedup_key, {STORED}",
        tuples.join(", ")
    )));
    for message in messages {
        query = query
            .bind(Uuid::now_v7())
            .bind(message.kind as i16)
            .bind(&message.dedup_key)
            .bind(message.mail_account_id)
            .bind(&*message.raw)
            .bind(&message.raw_sha256)
            .bind(&message.envelope_sender)
            .bind(&message.envelope_recipients)
            .bind(message.arrival)
            .bind(message.receive_time)
            .bind(message.state as i16)
            .bind(&message.quarantine_reason)
            .bind(&message.raw_subject)
            .bind(&message.raw_from)
            .bind(&message.mail_message_id)
            .bind(message.automation);
    }
    let mut ours: HashMap<String, Stored> = query
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|k| (k.dedup_key, k.stored))
        .collect();
    let missing: Vec<&str> = messages
        .iter()
        .map(|m| m.dedup_key.as_str())
        .filter(|key| !ours.contains_key(*key))
        .collect();
    let mut theirs: HashMap<String, Stored> = HashMap::new();
    if !missing.is_empty() {
        theirs = sqlx::query_as::<_, Keyed>(sqlx::AssertSqlSafe(format!(
            "SELECT dedup_key, {STORED} FROM inbound_messages WHERE dedup_key = ANY($1)"
        )))
        .bind(&missing)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|k| (k.dedup_key, k.stored))
        .collect();
    }
    messages
        .iter()
        .map(|message| {
            // The first message of a key is the one its row was written for.
            if let Some(stored) = ours.remove(&message.dedup_key) {
                theirs.insert(message.dedup_key.clone(), stored.clone());
                return Ok((stored, true));
            }
            let stored = theirs
                .get(&message.dedup_key)
                .cloned()
                .ok_or_else(|| Error::internal("a stored message vanished"))?;
            Ok((stored, false))
        })
        .collect()
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

/// A stored message in a ticket now, and the event that says so (none for a duplicate).
pub struct Done {
    pub id: Uuid,
    pub ingested: Ingested,
    pub event: Option<OutboxRow>,
}

/// Records each of `done` in one statement (one transaction), with the events.
pub async fn record_many(pool: &PgPool, done: &[&Done]) -> StoreResult<()> {
    let (mut ids, mut outcomes, mut tickets, mut numbers, mut messages) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut event_ids, mut keys, mut envelopes, mut parents, mut states) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for done in done {
        ids.push(done.id);
        outcomes.push(done.ingested.outcome);
        tickets.push(done.ingested.ticket_id);
        numbers.push(done.ingested.ticket_number);
        messages.push(done.ingested.ticket_message_id);
        if let Some(event) = &done.event {
            event_ids.push(event.event_id);
            keys.push(event.routing_key.as_str());
            envelopes.push(event.envelope.as_slice());
            parents.push(event.traceparent.as_str());
            states.push(event.tracestate.as_str());
        }
    }
    sqlx::query(
        "WITH done AS (
             UPDATE inbound_messages m SET state = 2, outcome = u.outcome, ticket_id = u.ticket,
                 ticket_number = u.number, ticket_message_id = u.message,
                 quarantine_reason = '', update_time = now()
             FROM unnest($1::uuid[], $2::int2[], $3::uuid[], $4::int8[], $5::uuid[])
                 AS u(id, outcome, ticket, number, message)
             -- A concurrent delivery of the same mail that recorded it first keeps its outcome.
             WHERE m.id = u.id AND m.state <> 2
             RETURNING 1),
         events AS (
             INSERT INTO outbox (event_id, routing_key, envelope, traceparent, tracestate)
             SELECT * FROM unnest($6::uuid[], $7::text[], $8::bytea[], $9::text[], $10::text[])
             RETURNING 1)
         SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM events)",
    )
    .bind(ids)
    .bind(outcomes)
    .bind(tickets)
    .bind(numbers)
    .bind(messages)
    .bind(event_ids)
    .bind(keys)
    .bind(envelopes)
    .bind(parents)
    .bind(states)
    .execute(pool)
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
