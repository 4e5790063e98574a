//! The conversation of a ticket (table `messages`): each message its encoded `TicketMessage`,
//! written once; only the delivery state is reported later, in its own columns.

use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::{
    error::{Error, Result},
    time::instant,
};
use switchboard_proto::ticket::v1::{DeliveryState, TicketMessage};
use uuid::Uuid;

use super::writes::Writes;

/// Stores `message` of `ticket`. `dedup_key` is the ingest's idempotency key of a customer
/// message. A unique violation on `messages_by_dedup_key` or `messages_by_mail_message_id`
/// means the message is stored already.
pub fn insert(
    writes: &mut Writes,
    ticket: Uuid,
    message: &TicketMessage,
    dedup_key: Option<&str>,
) -> Result<()> {
    let id = Uuid::parse_str(&message.id).map_err(Error::internal)?;
    let created = message.create_time.as_ref().and_then(instant);
    let mail_message_id =
        (!message.mail_message_id.is_empty()).then(|| message.mail_message_id.clone());
    writes.add(
        "INSERT INTO messages (id, ticket_id, kind, create_time, dedup_key, mail_message_id,
                               delivery_state, message)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        |b| {
            b.bind(id)
                .bind(ticket)
                .bind(message.kind as i16)
                .bind(created)
                .bind(dedup_key.map(str::to_owned))
                .bind(mail_message_id)
                .bind(message.delivery_state as i16)
                .bind(message.encode_to_vec());
        },
    )
}

fn decode(bytes: &[u8], state: i16, error: String) -> Result<TicketMessage> {
    let mut message = TicketMessage::decode(bytes).map_err(Error::internal)?;
    if state != DeliveryState::Unspecified as i16 {
        message.delivery_state = state.into();
        message.delivery_error = error;
    }
    Ok(message)
}

/// Up to `limit` messages of `ticket` after position `after`, of `kinds` (all when empty), with
/// their positions, and the number of such messages in all.
pub async fn page(
    conn: &mut PgConnection,
    ticket: Uuid,
    kinds: &[i16],
    after: i64,
    limit: i64,
) -> Result<(Vec<(i64, TicketMessage)>, i64)> {
    let rows: Vec<(i64, Vec<u8>, i16, String)> = sqlx::query_as(
        "SELECT seq, message, delivery_state, delivery_error FROM messages
         WHERE ticket_id = $1 AND seq > $2 AND (cardinality($3::smallint[]) = 0 OR kind = ANY($3))
         ORDER BY seq LIMIT $4",
    )
    .bind(ticket)
    .bind(after)
    .bind(kinds)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let (total,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM messages
         WHERE ticket_id = $1 AND (cardinality($2::smallint[]) = 0 OR kind = ANY($2))",
    )
    .bind(ticket)
    .bind(kinds)
    .fetch_one(conn)
    .await?;
    let messages = rows
        .into_iter()
        .map(|(seq, bytes, state, error)| decode(&bytes, state, error).map(|m| (seq, m)))
        .collect::<Result<_>>()?;
    Ok((messages, total))
}

/// The stored message with this id, and its ticket.
pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<(Uuid, TicketMessage)>> {
    let row: Option<(Uuid, Vec<u8>, i16, String)> = sqlx::query_as(
        "SELECT ticket_id, message, delivery_state, delivery_error FROM messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|(ticket, bytes, state, error)| decode(&bytes, state, error).map(|m| (ticket, m)))
        .transpose()
}

/// The message stored under this ingest key or with this Message-ID (a customer message that
/// came in twice), and its ticket.
pub async fn received(
    conn: &mut PgConnection,
    dedup_key: &str,
    mail_message_id: &str,
) -> Result<Option<(Uuid, TicketMessage)>> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM messages WHERE dedup_key = $1
         UNION ALL SELECT id FROM messages WHERE mail_message_id = $2 AND $2 <> '' LIMIT 1",
    )
    .bind(dedup_key)
    .bind(mail_message_id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some((id,)) => get(conn, id).await,
        None => Ok(None),
    }
}

/// The ticket holding a message with any of these Message-IDs (the latest named first).
pub async fn ticket_of_mail(
    conn: &mut PgConnection,
    message_ids: &[String],
) -> Result<Option<Uuid>> {
    if message_ids.is_empty() {
        return Ok(None);
    }
    let row: Option<(Uuid,)> = sqlx::query_as(
        "SELECT m.ticket_id FROM unnest($1::text[]) WITH ORDINALITY AS r(id, n)
         JOIN messages m ON m.mail_message_id = r.id ORDER BY r.n DESC LIMIT 1",
    )
    .bind(message_ids)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// The Message-IDs of the ticket's e-mail, oldest first (for a reply's References), and the
/// latest customer mail's (its In-Reply-To).
pub async fn mail_thread(conn: &mut PgConnection, ticket: Uuid) -> Result<(Vec<String>, String)> {
    let rows: Vec<(String, i16)> = sqlx::query_as(
        "SELECT mail_message_id, kind FROM messages
         WHERE ticket_id = $1 AND mail_message_id IS NOT NULL ORDER BY seq",
    )
    .bind(ticket)
    .fetch_all(conn)
    .await?;
    let latest_customer = rows
        .iter()
        .rev()
        .find(|(_, kind)| {
            *kind == switchboard_proto::ticket::v1::TicketMessageKind::Customer as i16
        })
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    Ok((
        rows.into_iter().map(|(id, _)| id).collect(),
        latest_customer,
    ))
}

/// Records a delivery report on an outgoing message; returns its ticket and the message, or
/// `None` when there is no such message. The ticket's version does not change.
pub async fn report_delivery(
    conn: &mut PgConnection,
    id: Uuid,
    state: DeliveryState,
    error: &str,
) -> Result<Option<(Uuid, TicketMessage)>> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "UPDATE messages SET delivery_state = $2, delivery_error = $3
         WHERE id = $1 AND kind IN (2, 4) RETURNING ticket_id",
    )
    .bind(id)
    .bind(state as i16)
    .bind(error)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(_) => get(conn, id).await,
        None => Ok(None),
    }
}
