//! The receiving accounts, mirrored from the ticket service's `mail_account.changed` /
//! `.deleted` events (mail-ingest never reads the ticket service's tables): which account a
//! mail is for (by id, or by an envelope recipient's address), and whether it is active.

use prost::Message;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    error::Result as StoreResult,
    events::{EventHandler, HandlerError},
};
use switchboard_proto::{
    events::{
        Event,
        v1::{EventEnvelope, MailAccountChanged, MailAccountDeleted},
    },
    ticket::v1::MailAccount,
};
use uuid::Uuid;

mod recent;

pub use recent::RecentAccounts;

/// The queue of account announcements.
pub const QUEUE: &str = "mail-ingest.mail-accounts";
/// The events the queue binds.
pub const BINDINGS: [&str; 2] = [
    MailAccountChanged::EVENT_TYPE,
    MailAccountDeleted::EVENT_TYPE,
];

/// Folds account announcements into `mail_accounts`, newest version wins.
pub struct AccountMirror;

impl EventHandler for AccountMirror {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), HandlerError> {
        let version = event.aggregate_version;
        match event.event_type.as_str() {
            MailAccountChanged::EVENT_TYPE => {
                let changed: MailAccountChanged =
                    event.unpack().map_err(|e| HandlerError(e.to_string()))?;
                let account = changed
                    .mail_account
                    .ok_or_else(|| HandlerError("an account change without its account".into()))?;
                let id = Uuid::parse_str(&account.id)
                    .map_err(|_| HandlerError("an account change without an account id".into()))?;
                sqlx::query(
                    "INSERT INTO mail_accounts (id, address, active, account, version)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (id) DO UPDATE SET address = $2, active = $3, account = $4,
                         version = $5, deleted = false, update_time = now()
                     WHERE mail_accounts.version < $5",
                )
                .bind(id)
                .bind(account.address.to_lowercase())
                .bind(account.active)
                .bind(account.encode_to_vec())
                .bind(version)
                .execute(tx)
                .await
                .map_err(HandlerError::transient)?;
            }
            MailAccountDeleted::EVENT_TYPE => {
                let deleted: MailAccountDeleted =
                    event.unpack().map_err(|e| HandlerError(e.to_string()))?;
                let id = Uuid::parse_str(&deleted.mail_account_id)
                    .map_err(|_| HandlerError("an account deletion without an id".into()))?;
                sqlx::query(
                    "INSERT INTO mail_accounts (id, address, active, deleted, account, version)
                     VALUES ($1, $2, false, true, '', $3)
                     ON CONFLICT (id) DO UPDATE SET active = false, deleted = true,
                         version = $3, update_time = now()
                     WHERE mail_accounts.version < $3",
                )
                .bind(id)
                .bind(deleted.address.to_lowercase())
                .bind(version)
                .execute(tx)
                .await
                .map_err(HandlerError::transient)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A receiving account as mail-ingest knows it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub active: bool,
    pub account: MailAccount,
}

fn account(row: (Uuid, bool, Vec<u8>)) -> StoreResult<Account> {
    let (id, active, bytes) = row;
    let account = MailAccount::decode(bytes.as_slice())
        .map_err(|e| switchboard_platform::error::Error::internal(e))?;
    Ok(Account {
        id,
        active,
        account,
    })
}

/// The account with this id; `None` when there is none (or it was deleted).
pub async fn by_id(pool: &PgPool, id: Uuid) -> StoreResult<Option<Account>> {
    let row: Option<(Uuid, bool, Vec<u8>)> = sqlx::query_as(
        "SELECT id, active, account FROM mail_accounts WHERE id = $1 AND NOT deleted",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(account).transpose()
}

/// The first account (in the order of `addresses`) whose address is one of `addresses`
/// (compared case-insensitively).
pub async fn by_address(pool: &PgPool, addresses: &[String]) -> StoreResult<Option<Account>> {
    let lower: Vec<String> = addresses.iter().map(|a| a.trim().to_lowercase()).collect();
    let row: Option<(Uuid, bool, Vec<u8>)> = sqlx::query_as(
        "SELECT a.id, a.active, a.account FROM mail_accounts a
         JOIN unnest($1::text[]) WITH ORDINALITY AS given(address, position)
           ON given.address = a.address
         WHERE NOT a.deleted ORDER BY given.position LIMIT 1",
    )
    .bind(&lower)
    .fetch_optional(pool)
    .await?;
    row.map(account).transpose()
}
