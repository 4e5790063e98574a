//! The history of a ticket (이벤트 탭, table `ticket_history`): one encoded `TicketEvent` per
//! change, oldest first.

use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::error::{Error, Result};
use switchboard_proto::ticket::v1::TicketEvent;
use uuid::Uuid;

use super::writes::Writes;

pub fn append(writes: &mut Writes, ticket: Uuid, entry: &TicketEvent) -> Result<()> {
    let id = Uuid::parse_str(&entry.id).map_err(Error::internal)?;
    writes.add(
        "INSERT INTO ticket_history (id, ticket_id, entry) VALUES ($1, $2, $3)",
        |b| {
            b.bind(id).bind(ticket).bind(entry.encode_to_vec());
        },
    )
}

/// Appends `entries` in their order, in one statement: the statements of one [`Writes`] run in
/// no set order.
pub fn append_all(writes: &mut Writes, ticket: Uuid, entries: &[TicketEvent]) -> Result<()> {
    let ids = entries
        .iter()
        .map(|entry| Uuid::parse_str(&entry.id).map_err(Error::internal))
        .collect::<Result<Vec<_>>>()?;
    let encoded: Vec<Vec<u8>> = entries.iter().map(Message::encode_to_vec).collect();
    writes.add(
        "INSERT INTO ticket_history (id, ticket_id, entry)
         SELECT id, $2, entry FROM unnest($1::uuid[], $3::bytea[]) WITH ORDINALITY AS e (id, entry, n)
         ORDER BY n",
        |b| {
            b.bind(ids).bind(ticket).bind(encoded);
        },
    )
}

/// Up to `limit` entries after position `after` (0 for the first page), with their positions,
/// and the number of entries in all.
pub async fn page(
    conn: &mut PgConnection,
    ticket: Uuid,
    after: i64,
    limit: i64,
) -> Result<(Vec<(i64, TicketEvent)>, i64)> {
    let rows: Vec<(i64, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT seq, entry, (SELECT count(*) FROM ticket_history WHERE ticket_id = $1)
         FROM ticket_history WHERE ticket_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(ticket)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let total = match rows.first() {
        Some((_, _, total)) => *total,
        None => {
            let (n,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM ticket_history WHERE ticket_id = $1")
                    .bind(ticket)
                    .fetch_one(conn)
                    .await?;
            n
        }
    };
    let entries = rows
        .into_iter()
        .map(|(seq, bytes, _)| {
            TicketEvent::decode(bytes.as_slice())
                .map(|entry| (seq, entry))
                .map_err(Error::internal)
        })
        .collect::<Result<_>>()?;
    Ok((entries, total))
}
