//! The handlers of `MailAccountService`. Every write takes the table's lock, keeps the
//! default-account rule (`defaults.rs`) and announces each account it changes on the bus
//! (`mail_account.changed` / `.deleted`, complete with secret references, for mail-ingest)
//! in its own transaction.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    db,
    error::{Error, FieldViolations, invalid_field, quote},
    events::{NewEvent, publish},
    paging::Page,
    principal::PrincipalExt,
    request::{parse_uuid, uuid_field},
    request_id::{RequestId, commit_with},
    time::timestamp,
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    events::v1::{MailAccountChanged, MailAccountDeleted},
    ticket::v1::*,
};
use tonic::Status;
use uuid::Uuid;

use super::{
    check, defaults,
    merge::{self, FIELDS},
    store::{self, Stored},
    view,
};
use crate::{catalog::fields, tickets::SOURCE};

/// The list's paging (mail_account.proto): 50 by default, 200 at most.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 200;

#[derive(Clone)]
pub struct MailAccountApi {
    pool: PgPool,
}

fn not_found(id: Uuid) -> Status {
    Status::not_found(format!("no mail account {id}"))
}

fn address_taken(error: Error, address: &str) -> Error {
    error.unique_violation(
        "mail_accounts_by_address",
        "mail_account.address",
        format_args!("{} is the address of another account", quote(address)),
    )
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<Stored, Status> {
    store::get(conn, id).await?.ok_or_else(|| not_found(id))
}

async fn publish_changed(
    conn: &mut PgConnection,
    stored: &Stored,
    created: bool,
    by: &Principal,
) -> Result<(), Status> {
    let payload = MailAccountChanged {
        mail_account: Some(stored.account.clone()),
        created,
    };
    let event =
        NewEvent::new(&payload, &stored.id.to_string(), stored.version).with_actor(by.actor());
    publish(conn, SOURCE, event).await
}

/// Clears the default on every account but `id` (before `id` takes it: the unique index is
/// checked per statement), announcing each.
async fn clear_other_defaults(
    conn: &mut PgConnection,
    id: Uuid,
    by: &Principal,
) -> Result<(), Status> {
    for mut other in store::other_defaults(conn, id).await? {
        other.account.default_for_replies = false;
        other.account.update_time = Some(timestamp(Utc::now()));
        other.version += 1;
        store::save(conn, &other).await?;
        publish_changed(conn, &other, false, by).await?;
    }
    Ok(())
}

impl MailAccountApi {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn create(
        &self,
        principal: &Principal,
        request: CreateMailAccountRequest,
    ) -> Result<CreateMailAccountResponse, Status> {
        principal.require_admin()?;
        let request_id = RequestId::parse(
            "CreateMailAccount",
            &request.request_id,
            &request,
            principal,
        )?;
        let given = request.mail_account.unwrap_or_default();
        let mut violations = FieldViolations::new();
        let mut account = check::check(&given, &mut violations);
        violations.into_result()?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateMailAccountResponse>(&mut tx).await?
        {
            return Ok(replayed);
        }
        store::lock(&mut tx).await?;
        let id = Uuid::now_v7();
        let others = store::others(&mut tx, id).await?;
        // New accounts are active (the proto), whatever `active` says.
        let flags = defaults::settle(false, true, Some(given.default_for_replies), others)
            .map_err(Status::failed_precondition)?;
        let now = Some(timestamp(Utc::now()));
        account.id = id.to_string();
        account.active = flags.active;
        account.default_for_replies = flags.default;
        account.create_time = now;
        account.update_time = now;
        if flags.default {
            clear_other_defaults(&mut tx, id, principal).await?;
        }
        let stored = Stored {
            id,
            version: 1,
            account,
        };
        store::insert(&mut tx, &stored)
            .await
            .map_err(|e| address_taken(e, &stored.account.address))?;
        publish_changed(&mut tx, &stored, true, principal).await?;
        let response = CreateMailAccountResponse {
            mail_account: Some(view::redacted(&stored.account)),
        };
        commit_with(request_id.as_ref(), tx, response).await
    }

    pub async fn get(&self, principal: &Principal, id: &str) -> Result<MailAccount, Status> {
        principal.require_admin()?;
        let id = uuid_field("mail_account_id", id)?;
        let mut conn = db::acquire(&self.pool).await?;
        Ok(view::redacted(&load(&mut conn, id).await?.account))
    }

    pub async fn list(
        &self,
        principal: &Principal,
        request: ListMailAccountsRequest,
    ) -> Result<ListMailAccountsResponse, Status> {
        let show: fn(&MailAccount) -> MailAccount = match principal.kind() {
            PrincipalKind::Admin => view::redacted,
            PrincipalKind::Agent => view::for_agents,
            _ => {
                return Err(Status::permission_denied(
                    "mail accounts are for agents and admins",
                ));
            }
        };
        let page = Page::of_sized(
            &request,
            |r| (&mut r.page_size, &mut r.page_token),
            DEFAULT_PAGE,
            MAX_PAGE,
        )?;
        let after = match page.after.as_deref() {
            None => None,
            Some(key) => {
                let bad = || invalid_field("page_token", "not a page token of this list");
                let (address, id) = key.rsplit_once('\n').ok_or_else(bad)?;
                Some((address.to_owned(), parse_uuid(id).ok_or_else(bad)?))
            }
        };
        let (mut rows, total) =
            store::list(&self.pool, request.active_only, after, page.fetch_limit()).await?;
        let next_page_token =
            page.finish(&mut rows, |(key, stored)| format!("{key}\n{}", stored.id));
        Ok(ListMailAccountsResponse {
            mail_accounts: rows
                .iter()
                .map(|(_, stored)| show(&stored.account))
                .collect(),
            next_page_token,
            total_size: i32::try_from(total).unwrap_or(i32::MAX),
        })
    }

    pub async fn update(
        &self,
        principal: &Principal,
        request: UpdateMailAccountRequest,
    ) -> Result<MailAccount, Status> {
        principal.require_admin()?;
        let given = request.mail_account.unwrap_or_default();
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut violations = FieldViolations::new();
        let id = violations.uuid("mail_account.id", &given.id);
        let fields = fields::mask(&mut violations, &paths, &FIELDS);
        violations.into_result()?;
        let id = id.ok_or_else(|| Status::internal("a checked id is missing"))?;
        let mut tx = db::begin(&self.pool).await?;
        store::lock(&mut tx).await?;
        let stored = load(&mut tx, id).await?;
        // The changes on the stored account are checked whole, before anything is written.
        let merged = merge::merge(&stored.account, &given, &fields);
        let mut violations = FieldViolations::new();
        if merge::imap_fields_without_host(&merged, &fields) {
            violations.add(
                "mail_account.imap.host",
                "is required to change IMAP settings (set imap to none to remove IMAP)",
            );
        }
        let mut account = check::check(&merged, &mut violations);
        violations.into_result()?;
        let active = if fields.contains(&"active") {
            given.active
        } else {
            stored.account.active
        };
        let asked_default = fields
            .contains(&"default_for_replies")
            .then_some(given.default_for_replies);
        let others = store::others(&mut tx, id).await?;
        let flags = defaults::settle(
            stored.account.default_for_replies,
            active,
            asked_default,
            others,
        )
        .map_err(Status::failed_precondition)?;
        account.active = flags.active;
        account.default_for_replies = flags.default;
        account.update_time = Some(timestamp(Utc::now()));
        if flags.default {
            clear_other_defaults(&mut tx, id, principal).await?;
        }
        let updated = Stored {
            id,
            version: stored.version + 1,
            account,
        };
        store::save(&mut tx, &updated)
            .await
            .map_err(|e| address_taken(e, &updated.account.address))?;
        publish_changed(&mut tx, &updated, false, principal).await?;
        db::commit(tx).await?;
        Ok(view::redacted(&updated.account))
    }

    pub async fn delete(&self, principal: &Principal, id: &str) -> Result<(), Status> {
        principal.require_admin()?;
        let id = uuid_field("mail_account_id", id)?;
        let mut tx = db::begin(&self.pool).await?;
        store::lock(&mut tx).await?;
        let stored = load(&mut tx, id).await?;
        if stored.account.default_for_replies {
            return Err(Status::failed_precondition(
                "the default reply account cannot be deleted; make another account the default \
                 first, or deactivate it when it is the last active one",
            ));
        }
        store::delete(&mut tx, id).await?;
        let payload = MailAccountDeleted {
            mail_account_id: id.to_string(),
            address: stored.account.address.clone(),
        };
        let event = NewEvent::new(&payload, &id.to_string(), stored.version + 1)
            .with_actor(principal.actor());
        publish(&mut tx, SOURCE, event).await?;
        db::commit(tx).await?;
        Ok(())
    }
}
