//! The `imap_mailboxes` table: the lease (one replica at a time fetches an account), the
//! durable cursor, and the fetcher's state for `GetMailboxStatus`, with the events of a run of
//! failures starting and ending.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};
use switchboard_platform::{
    db,
    error::Result,
    events::{NewEvent, publish},
};
use switchboard_proto::events::v1::{MailboxFetchFailed, MailboxRecovered};
use uuid::Uuid;

use super::cursor::Cursor;
use crate::{accounts::Account, inbound::SOURCE};

/// A row as `GetMailboxStatus` reads it.
#[derive(Debug, Clone, FromRow, Default)]
pub struct MailboxRow {
    pub lease_holder: Option<String>,
    pub lease_expires: Option<DateTime<Utc>>,
    pub uid_validity: i64,
    pub last_uid: i64,
    pub fetched_count: i64,
    pub fetching: bool,
    pub consecutive_failures: i32,
    pub last_error: String,
    pub last_error_time: Option<DateTime<Utc>>,
    pub last_fetch_time: Option<DateTime<Utc>>,
    pub last_success_time: Option<DateTime<Utc>>,
    pub next_fetch_time: Option<DateTime<Utc>>,
}

fn seconds(ttl: Duration) -> f64 {
    ttl.as_secs_f64()
}

/// Takes the account's lease for `holder` for `ttl` when nobody holds it, it expired, or
/// `holder` has it already; whether `holder` holds it now.
pub async fn acquire(pool: &PgPool, account: Uuid, holder: &str, ttl: Duration) -> Result<bool> {
    let taken: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO imap_mailboxes (mail_account_id, lease_holder, lease_expires)
         VALUES ($1, $2, now() + make_interval(secs => $3))
         ON CONFLICT (mail_account_id) DO UPDATE
             SET lease_holder = $2, lease_expires = now() + make_interval(secs => $3),
                 update_time = now()
             WHERE imap_mailboxes.lease_holder IS NULL OR imap_mailboxes.lease_holder = $2
                OR imap_mailboxes.lease_expires < now()
         RETURNING mail_account_id",
    )
    .bind(account)
    .bind(holder)
    .bind(seconds(ttl))
    .fetch_optional(pool)
    .await?;
    Ok(taken.is_some())
}

/// Extends `holder`'s lease; `false` when it lost it (expired and taken over).
pub async fn renew(pool: &PgPool, account: Uuid, holder: &str, ttl: Duration) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE imap_mailboxes SET lease_expires = now() + make_interval(secs => $3)
         WHERE mail_account_id = $1 AND lease_holder = $2",
    )
    .bind(account)
    .bind(holder)
    .bind(seconds(ttl))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease up (on shutdown, or when the account stops being fetched), so another
/// replica takes over at once instead of after the expiry.
pub async fn release(pool: &PgPool, account: Uuid, holder: &str) -> Result<()> {
    sqlx::query(
        "UPDATE imap_mailboxes SET lease_holder = NULL, lease_expires = NULL, fetching = false,
             update_time = now()
         WHERE mail_account_id = $1 AND lease_holder = $2",
    )
    .bind(account)
    .bind(holder)
    .execute(pool)
    .await?;
    Ok(())
}

/// The stored cursor (a default one before the first fetch).
pub async fn cursor(pool: &PgPool, account: Uuid) -> Result<Cursor> {
    let row: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT uid_validity, last_uid, cursor_epoch FROM imap_mailboxes
         WHERE mail_account_id = $1",
    )
    .bind(account)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .map(|(validity, last, epoch)| Cursor {
            uid_validity: u32::try_from(validity).unwrap_or_default(),
            last_uid: u32::try_from(last).unwrap_or_default(),
            epoch,
        })
        .unwrap_or_default())
}

/// Stores `cursor` after a message was taken in (`fetched` more messages), if `holder` still
/// holds the lease and no reset came in between; whether it did.
pub async fn advance(
    pool: &PgPool,
    account: Uuid,
    holder: &str,
    cursor: Cursor,
    fetched: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE imap_mailboxes SET uid_validity = $3, last_uid = $4,
             fetched_count = fetched_count + $6, update_time = now()
         WHERE mail_account_id = $1 AND lease_holder = $2 AND cursor_epoch = $5",
    )
    .bind(account)
    .bind(holder)
    .bind(i64::from(cursor.uid_validity))
    .bind(i64::from(cursor.last_uid))
    .bind(cursor.epoch)
    .bind(fetched)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An admin's new cursor (ResetMailboxCursor): a fetch under way stops advancing the old one.
pub async fn reset(pool: &PgPool, account: Uuid, last_uid: u32) -> Result<()> {
    sqlx::query(
        "INSERT INTO imap_mailboxes (mail_account_id, last_uid, cursor_epoch, next_fetch_time)
         VALUES ($1, $2, 1, now())
         ON CONFLICT (mail_account_id) DO UPDATE SET last_uid = $2,
             cursor_epoch = imap_mailboxes.cursor_epoch + 1, next_fetch_time = now(),
             update_time = now()",
    )
    .bind(account)
    .bind(i64::from(last_uid))
    .execute(pool)
    .await?;
    Ok(())
}

/// A fetch begins.
pub async fn fetch_started(pool: &PgPool, account: Uuid, holder: &str) -> Result<()> {
    sqlx::query(
        "UPDATE imap_mailboxes SET fetching = true, update_time = now()
         WHERE mail_account_id = $1 AND lease_holder = $2",
    )
    .bind(account)
    .bind(holder)
    .execute(pool)
    .await?;
    Ok(())
}

/// Bumps the mailbox's event version (its events' `aggregate_version`).
async fn next_event_version(tx: &mut PgConnection, account: Uuid) -> Result<i64> {
    let version = sqlx::query_scalar(
        "UPDATE imap_mailboxes SET event_version = event_version + 1
         WHERE mail_account_id = $1 RETURNING event_version",
    )
    .bind(account)
    .fetch_one(tx)
    .await?;
    Ok(version)
}

/// A fetch of `account` succeeded; the next is due in `next` (at the latest: IDLE may start it
/// earlier). After failures, `mailbox.recovered` says so.
pub async fn fetch_succeeded(pool: &PgPool, account: &Account, next: Duration) -> Result<()> {
    let mut tx = db::begin(pool).await?;
    let failed: i32 = sqlx::query_scalar(
        "SELECT consecutive_failures FROM imap_mailboxes WHERE mail_account_id = $1 FOR UPDATE",
    )
    .bind(account.id)
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_default();
    sqlx::query(
        "INSERT INTO imap_mailboxes (mail_account_id, last_fetch_time, last_success_time,
             next_fetch_time)
         VALUES ($1, now(), now(), now() + make_interval(secs => $2))
         ON CONFLICT (mail_account_id) DO UPDATE SET fetching = false, consecutive_failures = 0,
             last_error = '', last_error_time = NULL, last_fetch_time = now(),
             last_success_time = now(), next_fetch_time = now() + make_interval(secs => $2),
             update_time = now()",
    )
    .bind(account.id)
    .bind(seconds(next))
    .execute(&mut *tx)
    .await?;
    if failed > 0 {
        let version = next_event_version(&mut tx, account.id).await?;
        let recovered = MailboxRecovered {
            mail_account_id: account.id.to_string(),
            address: account.account.address.clone(),
            failed_fetches: failed,
        };
        let event = NewEvent::new(&recovered, &account.id.to_string(), version);
        publish(&mut tx, SOURCE, event).await?;
    }
    db::commit(tx).await?;
    Ok(())
}

/// A fetch of `account` failed with `error`; retried in `next`. The first of a run of
/// failures publishes `mailbox.fetch_failed`. Returns the failures in a row.
pub async fn fetch_failed(
    pool: &PgPool,
    account: &Account,
    error: &str,
    next: Duration,
) -> Result<i32> {
    let mut tx = db::begin(pool).await?;
    let failures: i32 = sqlx::query_scalar(
        "INSERT INTO imap_mailboxes (mail_account_id, consecutive_failures, last_error,
             last_error_time, last_fetch_time, next_fetch_time)
         VALUES ($1, 1, $2, now(), now(), now() + make_interval(secs => $3))
         ON CONFLICT (mail_account_id) DO UPDATE SET fetching = false,
             consecutive_failures = imap_mailboxes.consecutive_failures + 1, last_error = $2,
             last_error_time = now(), last_fetch_time = now(),
             next_fetch_time = now() + make_interval(secs => $3), update_time = now()
         RETURNING consecutive_failures",
    )
    .bind(account.id)
    .bind(error)
    .bind(seconds(next))
    .fetch_one(&mut *tx)
    .await?;
    if failures == 1 {
        let version = next_event_version(&mut tx, account.id).await?;
        let failed = MailboxFetchFailed {
            mail_account_id: account.id.to_string(),
            address: account.account.address.clone(),
            error: error.to_owned(),
        };
        let event = NewEvent::new(&failed, &account.id.to_string(), version);
        publish(&mut tx, SOURCE, event).await?;
    }
    db::commit(tx).await?;
    Ok(failures)
}

/// Marks a fetch as asked for now (FetchMailbox), for the status shown.
pub async fn fetch_requested(pool: &PgPool, account: Uuid) -> Result<()> {
    sqlx::query(
        "INSERT INTO imap_mailboxes (mail_account_id, next_fetch_time) VALUES ($1, now())
         ON CONFLICT (mail_account_id) DO UPDATE SET next_fetch_time = now(),
             update_time = now()",
    )
    .bind(account)
    .execute(pool)
    .await?;
    Ok(())
}
