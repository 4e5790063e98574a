//! The mailbox rpcs of `InboundService` (inbound_service.proto): the fetcher status of one
//! account or all (by address), a fetch now, and moving the cursor. The admin check is the
//! caller's.

use chrono::Utc;
use prost::Message;
use sqlx::PgPool;
use switchboard_platform::{
    error::{Error, invalid_field},
    paging::Page,
    request::{parse_uuid, uuid_field},
};
use switchboard_proto::{
    inbound::v1::{
        FetchMailboxRequest, FetchMailboxResponse, GetMailboxStatusRequest,
        GetMailboxStatusResponse, ListMailboxStatusesRequest, ListMailboxStatusesResponse,
        MailboxStatus, ResetMailboxCursorRequest, ResetMailboxCursorResponse,
    },
    ticket::v1::MailAccount,
};
use tonic::Status;
use uuid::Uuid;

use super::{
    status::{fetched, status},
    store::{self, MailboxRow},
    wake,
};
use crate::accounts::{self, Account};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 200;

/// The account named by `mail_account_id`, or NOT_FOUND.
async fn account(pool: &PgPool, field: &str) -> Result<Account, Status> {
    let id = uuid_field("mail_account_id", field)?;
    accounts::by_id(pool, id)
        .await?
        .ok_or_else(|| Status::not_found(format!("no mail account {id}")))
}

async fn rows(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<(Uuid, MailboxRow)>, Status> {
    #[derive(sqlx::FromRow)]
    struct Keyed {
        mail_account_id: Uuid,
        #[sqlx(flatten)]
        row: MailboxRow,
    }
    let rows: Vec<Keyed> = sqlx::query_as(
        "SELECT mail_account_id, lease_holder, lease_expires, uid_validity, last_uid,
                fetched_count, fetching, consecutive_failures, last_error, last_error_time,
                last_fetch_time, last_success_time, next_fetch_time
         FROM imap_mailboxes WHERE mail_account_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(Error::from)?;
    Ok(rows
        .into_iter()
        .map(|keyed| (keyed.mail_account_id, keyed.row))
        .collect())
}

/// The status of `account` now.
async fn status_of(pool: &PgPool, account: &Account) -> Result<MailboxStatus, Status> {
    let row = rows(pool, &[account.id]).await?.into_iter().next();
    Ok(status(
        account,
        row.as_ref().map(|(_, row)| row),
        Utc::now(),
    ))
}

pub async fn get(
    pool: &PgPool,
    request: GetMailboxStatusRequest,
) -> Result<GetMailboxStatusResponse, Status> {
    let account = account(pool, &request.mail_account_id).await?;
    Ok(GetMailboxStatusResponse {
        status: Some(status_of(pool, &account).await?),
    })
}

fn page_key(status: &MailboxStatus) -> String {
    format!("{}/{}", status.address, status.mail_account_id)
}

pub async fn list(
    pool: &PgPool,
    request: ListMailboxStatusesRequest,
) -> Result<ListMailboxStatusesResponse, Status> {
    let page = Page::of_sized(
        &request,
        |r| (&mut r.page_size, &mut r.page_token),
        DEFAULT_PAGE,
        MAX_PAGE,
    )?;
    let bad_token = || invalid_field("page_token", "not a page token of this list");
    let after = match page.after.as_deref() {
        None => None,
        Some(key) => {
            // Addresses may hold a '/', ids never do.
            let (address, id) = key.rsplit_once('/').ok_or_else(bad_token)?;
            Some((address.to_owned(), parse_uuid(id).ok_or_else(bad_token)?))
        }
    };
    let found: Vec<(Uuid, bool, Vec<u8>)> = sqlx::query_as(
        "SELECT id, active, account FROM mail_accounts
         WHERE NOT deleted AND ($1::text IS NULL OR (address, id) > ($1, $2))
         ORDER BY address, id LIMIT $3",
    )
    .bind(after.as_ref().map(|(address, _)| address.as_str()))
    .bind(after.as_ref().map(|(_, id)| *id))
    .bind(page.fetch_limit())
    .fetch_all(pool)
    .await
    .map_err(Error::from)?;
    let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM mail_accounts WHERE NOT deleted")
        .fetch_one(pool)
        .await
        .map_err(Error::from)?;
    let mut accounts = Vec::with_capacity(found.len());
    for (id, active, bytes) in found {
        let account = MailAccount::decode(bytes.as_slice())
            .map_err(|e| switchboard_platform::error::internal("a mirrored mail account", &e))?;
        accounts.push(Account {
            id,
            active,
            account,
        });
    }
    let ids: Vec<Uuid> = accounts.iter().map(|a| a.id).collect();
    let by_id: std::collections::HashMap<Uuid, MailboxRow> =
        rows(pool, &ids).await?.into_iter().collect();
    let now = Utc::now();
    let mut statuses: Vec<MailboxStatus> = accounts
        .iter()
        .map(|account| status(account, by_id.get(&account.id), now))
        .collect();
    let next_page_token = page.finish(&mut statuses, page_key);
    Ok(ListMailboxStatusesResponse {
        statuses,
        next_page_token,
        total_size: i32::try_from(total).unwrap_or(i32::MAX),
    })
}

pub async fn fetch(
    pool: &PgPool,
    request: FetchMailboxRequest,
) -> Result<FetchMailboxResponse, Status> {
    let account = account(pool, &request.mail_account_id).await?;
    if !fetched(&account) {
        return Err(Status::failed_precondition(format!(
            "the mail account {} is inactive or has no IMAP settings",
            account.account.address
        )));
    }
    store::fetch_requested(pool, account.id).await?;
    wake::notify(pool, account.id).await?;
    Ok(FetchMailboxResponse {
        status: Some(status_of(pool, &account).await?),
    })
}

pub async fn reset_cursor(
    pool: &PgPool,
    request: ResetMailboxCursorRequest,
) -> Result<ResetMailboxCursorResponse, Status> {
    let account = account(pool, &request.mail_account_id).await?;
    if account.account.imap.is_none() {
        return Err(Status::failed_precondition(format!(
            "the mail account {} has no IMAP settings",
            account.account.address
        )));
    }
    store::reset(pool, account.id, request.last_uid).await?;
    wake::notify(pool, account.id).await?;
    tracing::info!(mail_account_id = %account.id, last_uid = request.last_uid, "imap cursor reset");
    Ok(ResetMailboxCursorResponse {
        status: Some(status_of(pool, &account).await?),
    })
}
