//! What tickets ask of the mail accounts: the account a reply is sent from.

use prost::Message;
use sqlx::PgConnection;
use switchboard_platform::error::{Error, Result};
use switchboard_proto::ticket::v1::MailAccount;
use uuid::Uuid;

/// The account replies on a ticket go out from: the ticket's own account when it is active,
/// else the default reply account; `None` when there is neither.
pub async fn sender(
    conn: &mut PgConnection,
    ticket_account: Option<Uuid>,
) -> Result<Option<MailAccount>> {
    let row: Option<(Vec<u8>,)> = sqlx::query_as(
        "SELECT account FROM mail_accounts
         WHERE active AND (id = $1 OR default_for_replies)
         ORDER BY (id = $1) DESC LIMIT 1",
    )
    .bind(ticket_account)
    .fetch_optional(conn)
    .await?;
    row.map(|(bytes,)| MailAccount::decode(bytes.as_slice()).map_err(Error::internal))
        .transpose()
}

/// True when `id` names an existing account (active or not): tickets may record any.
pub async fn exists(conn: &mut PgConnection, id: Uuid) -> Result<bool> {
    let row: Option<(Uuid,)> = sqlx::query_as("SELECT id FROM mail_accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}
