//! Waking an account's fetcher on whichever replica holds its lease: a PostgreSQL
//! notification every replica listens for (FetchMailbox and ResetMailboxCursor may land on any
//! replica). A lost notification only delays the fetch to the next poll.

use sqlx::{PgPool, postgres::PgListener};
use switchboard_platform::error::Result;
use uuid::Uuid;

/// The notification channel (database-wide; the payload is the account's id, so schemas
/// sharing a database never act on each other's accounts).
pub const CHANNEL: &str = "switchboard_mail_ingest_imap_wake";

/// Asks the fetcher of `account` to fetch now.
pub async fn notify(pool: &PgPool, account: Uuid) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(account.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// A listener on the channel.
pub async fn listen(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
