//! The SQL of mail accounts (table `mail_accounts`): each row is the encoded `MailAccount`,
//! secret references included, with the columns that are looked up beside it.

use prost::Message;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::{Error, Result};
use switchboard_proto::ticket::v1::MailAccount;
use uuid::Uuid;

use super::defaults::Others;

/// An account as stored: its id, the version its events carry, and the account.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: Uuid,
    pub version: i64,
    pub account: MailAccount,
}

fn decode(id: Uuid, version: i64, bytes: &[u8]) -> Result<Stored> {
    Ok(Stored {
        id,
        version,
        account: MailAccount::decode(bytes).map_err(Error::internal)?,
    })
}

/// Serializes the writes of accounts (the default-account rule reads all of them); readers
/// are not blocked.
pub async fn lock(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("LOCK TABLE mail_accounts IN SHARE ROW EXCLUSIVE MODE")
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert(conn: &mut PgConnection, stored: &Stored) -> Result<()> {
    let account = &stored.account;
    sqlx::query(
        "INSERT INTO mail_accounts (id, address, active, default_for_replies, version, account)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(stored.id)
    .bind(&account.address)
    .bind(account.active)
    .bind(account.default_for_replies)
    .bind(stored.version)
    .bind(account.encode_to_vec())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn save(conn: &mut PgConnection, stored: &Stored) -> Result<()> {
    let account = &stored.account;
    sqlx::query(
        "UPDATE mail_accounts SET address = $2, active = $3, default_for_replies = $4,
           version = $5, account = $6
         WHERE id = $1",
    )
    .bind(stored.id)
    .bind(&account.address)
    .bind(account.active)
    .bind(account.default_for_replies)
    .bind(stored.version)
    .bind(account.encode_to_vec())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<Stored>> {
    let row: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT version, account FROM mail_accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.map(|(version, bytes)| decode(id, version, &bytes))
        .transpose()
}

/// The accounts other than `id` as the default-account rule needs them.
pub async fn others(conn: &mut PgConnection, id: Uuid) -> Result<Others> {
    let (any_active, active_default): (bool, bool) = sqlx::query_as(
        "SELECT COALESCE(bool_or(active), false),
                COALESCE(bool_or(active AND default_for_replies), false)
         FROM mail_accounts WHERE id <> $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(Others {
        any_active,
        active_default,
    })
}

/// The other accounts that are the default (at most one, by the unique index).
pub async fn other_defaults(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Stored>> {
    let rows: Vec<(Uuid, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT id, version, account FROM mail_accounts
         WHERE default_for_replies AND id <> $1",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|(id, version, bytes)| decode(*id, *version, bytes))
        .collect()
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM mail_accounts WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Up to `limit` accounts by address (case-insensitively, then id) after `after`, each with
/// its sort key (PostgreSQL's `lower(address)`, for the page token), and how many match in
/// all.
pub async fn list(
    pool: &PgPool,
    active_only: bool,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<(Vec<(String, Stored)>, i64)> {
    let (after_address, after_id) = after.map(|(a, i)| (Some(a), Some(i))).unwrap_or_default();
    let rows: Vec<(Uuid, i64, Vec<u8>, String)> = sqlx::query_as(
        "SELECT id, version, account, lower(address) FROM mail_accounts
         WHERE (active OR NOT $1)
           AND ($2::text IS NULL OR (lower(address), id) > ($2, $3))
         ORDER BY lower(address), id LIMIT $4",
    )
    .bind(active_only)
    .bind(after_address)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let (total,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM mail_accounts WHERE active OR NOT $1")
            .bind(active_only)
            .fetch_one(pool)
            .await?;
    let accounts = rows
        .iter()
        .map(|(id, version, bytes, key)| Ok((key.clone(), decode(*id, *version, bytes)?)))
        .collect::<Result<_>>()?;
    Ok((accounts, total))
}
