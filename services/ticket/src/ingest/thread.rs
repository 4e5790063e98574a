//! Threading (ticket_ingest.proto, in order): an e-mail answering a message of a ticket; an
//! e-mail whose subject names a ticket number of the same requester; an external-channel
//! message of a ticket's conversation. The help center always makes a new ticket.

use sqlx::PgConnection;
use switchboard_platform::error::Error;
use switchboard_proto::ticket::v1::{Ticket, TicketChannel};
use tonic::Status;
use uuid::Uuid;

use super::validate::Checked;
use crate::{
    catalog::lookup::{Catalog, take_active},
    domain::threading::ticket_numbers,
    tickets::{messages, row, store},
};

/// Serialises deliveries of messages, given as (dedup key, Message-ID): a lock on each key and
/// one on each Message-ID, all taken by one statement in one fixed order, so two deliveries
/// (or two batches) never wait on each other crosswise.
pub async fn lock_messages<'a>(
    conn: &mut PgConnection,
    messages: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), Status> {
    let mut keys = Vec::new();
    for (dedup_key, mail_message_id) in messages {
        keys.push(format!("key:{dedup_key}"));
        if !mail_message_id.is_empty() {
            keys.push(format!("mid:{mail_message_id}"));
        }
    }
    keys.sort();
    keys.dedup();
    // A function scan yields the array in its order, and the aggregate locks row by row.
    sqlx::query(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7)))
         FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n)",
    )
    .bind(keys)
    .execute(&mut *conn)
    .await
    .map_err(Error::from)?;
    Ok(())
}

/// The most ticket numbers of one subject tried.
const MAX_NUMBERS: usize = 5;

fn same_requester(ticket: &Ticket, email: &str) -> bool {
    ticket
        .requester
        .as_ref()
        .is_some_and(|r| r.email.eq_ignore_ascii_case(email))
}

/// The ticket the message threads into, locked for the change; `None` for a new ticket.
pub async fn find(conn: &mut PgConnection, checked: &Checked) -> Result<Option<Ticket>, Status> {
    match checked.channel {
        TicketChannel::Email => {
            if let Some(id) = messages::ticket_of_mail(conn, &checked.parents).await? {
                return Ok(store::load(conn, id, true).await?);
            }
            if checked.requester.email.is_empty() {
                return Ok(None);
            }
            // Read without a lock: only the requester's own ticket is locked, so a subject
            // naming other customers' tickets holds none of them.
            for number in ticket_numbers(&checked.raw_subject)
                .into_iter()
                .take(MAX_NUMBERS)
            {
                let Some(ticket) = store::by_number(conn, number, false).await? else {
                    continue;
                };
                if same_requester(&ticket, &checked.requester.email) {
                    let id = Uuid::parse_str(&ticket.id).map_err(Error::internal)?;
                    // Locked and read again: the requester cannot change, the status may have.
                    return Ok(store::load(conn, id, true).await?);
                }
            }
            Ok(None)
        }
        TicketChannel::External => {
            let statement = format!(
                "SELECT {} FROM tickets WHERE external_channel = $1 AND external_thread_key = $2
                 AND external_thread_key <> '' ORDER BY create_time DESC LIMIT 1 FOR UPDATE",
                row::COLUMNS
            );
            let query =
                sqlx::query_as::<_, row::TicketRow>(sqlx::AssertSqlSafe(statement.as_str()))
                    .bind(&checked.external_channel)
                    .bind(&checked.external_thread_key);
            Ok(store::select(conn, query).await?.into_iter().next())
        }
        _ => Ok(None),
    }
}

/// The inquiry type a new ticket takes: the customer's choice when it is still active. A type
/// deactivated while the customer filled the form is dropped rather than the inquiry refused.
pub async fn active_inquiry_type(
    conn: &mut PgConnection,
    id: Option<Uuid>,
) -> Result<String, Status> {
    match id {
        Some(id) if take_active(conn, Catalog::InquiryTypes, id).await? => Ok(id.to_string()),
        _ => Ok(String::new()),
    }
}
