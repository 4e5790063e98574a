//! The handlers of both lists, written once over [`CatalogMessage`]: the two tonic services
//! (`inquiry.rs`, `processing.rs`) only unpack their requests and call these.

use std::marker::PhantomData;

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    db,
    error::{Error, FieldViolations, invalid_field, quote},
    paging::Page,
    principal::PrincipalExt,
    request::{parse_uuid, uuid_field},
    request_id::{RequestId, commit_with},
};
use switchboard_proto::common::v1::{Principal, PrincipalKind};
use tonic::Status;
use uuid::Uuid;

use super::{
    entry::{self, CatalogMessage, EntryRow, FIELDS},
    lookup::Catalog,
    store::{self, After},
};

/// The scope of the help-center form, which offers the inquiry types.
pub const SUBMIT_SCOPE: &str = "inquiries:submit";

/// The list's paging (inquiry_type.proto, processing_type.proto): 100 by default, 500 at most.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 500;

/// One page of a list.
pub struct Listed<M> {
    pub entries: Vec<M>,
    pub next_page_token: String,
    pub total_size: i32,
}

pub struct CatalogApi<M> {
    pool: PgPool,
    message: PhantomData<fn() -> M>,
}

// By hand: a derive would ask `M: Clone` of the phantom.
impl<M> Clone for CatalogApi<M> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            message: PhantomData,
        }
    }
}

/// Readers: agents and admins; for inquiry types also the help-center form's API keys.
fn may_read(principal: &Principal, catalog: Catalog) -> Result<(), Status> {
    let staff = matches!(
        principal.kind(),
        PrincipalKind::Admin | PrincipalKind::Agent
    );
    if staff || (catalog == Catalog::InquiryTypes && principal.has_scope(SUBMIT_SCOPE)) {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "reading the {}s is for agents and admins",
            catalog.noun()
        )))
    }
}

fn name_taken(error: Error, catalog: Catalog, name: &str) -> Error {
    error.unique_violation(
        catalog.name_constraint(),
        &format!("{}.name", catalog.field()),
        format_args!("{} is taken by another {}", quote(name), catalog.noun()),
    )
}

async fn load(
    conn: &mut PgConnection,
    catalog: Catalog,
    id: Uuid,
    lock: bool,
) -> Result<EntryRow, Status> {
    store::get(conn, catalog, id, lock)
        .await?
        .ok_or_else(|| Status::not_found(format!("no {} {id}", catalog.noun())))
}

fn page_key(row: &EntryRow) -> String {
    format!("{}\n{}\n{}", row.position, row.name, row.id)
}

/// The entry a page token's key names; names never hold line breaks (no control characters).
fn parse_page_key(key: &str) -> Result<After, Status> {
    let bad = || invalid_field("page_token", "not a page token of this list");
    let (position, rest) = key.split_once('\n').ok_or_else(bad)?;
    let (name, id) = rest.rsplit_once('\n').ok_or_else(bad)?;
    Ok(After {
        position: position.parse().map_err(|_| bad())?,
        name: name.to_owned(),
        id: parse_uuid(id).ok_or_else(bad)?,
    })
}

impl<M: CatalogMessage> CatalogApi<M> {
    const CATALOG: Catalog = M::CATALOG;

    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            message: PhantomData,
        }
    }

    /// Creates `given`, active; `request` is the whole request (its hash tells a retry from
    /// a reuse of `request_id`).
    pub async fn create(
        &self,
        principal: &Principal,
        request: &impl prost::Message,
        request_id: &str,
        given: Option<M>,
    ) -> Result<M, Status> {
        principal.require_admin()?;
        let catalog = Self::CATALOG;
        let request_id = RequestId::parse(catalog.create_method(), request_id, request, principal)?;
        let input = given.unwrap_or_default().input();
        let mut violations = FieldViolations::new();
        let checked = entry::check(catalog, &input, &FIELDS, &mut violations);
        violations.into_result()?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<M>(&mut tx).await?
        {
            return Ok(replayed);
        }
        let now = Utc::now();
        let row = EntryRow {
            id: Uuid::now_v7(),
            name: checked.name,
            description: checked.description,
            active: true,
            position: checked.position,
            used: false,
            create_time: now,
            update_time: now,
        };
        let row = store::insert(&mut tx, catalog, &row)
            .await
            .map_err(|e| name_taken(e, catalog, &row.name))?;
        commit_with(request_id.as_ref(), tx, M::from_row(&row)).await
    }

    pub async fn get(&self, principal: &Principal, id_field: &str, id: &str) -> Result<M, Status> {
        let catalog = Self::CATALOG;
        may_read(principal, catalog)?;
        let id = uuid_field(id_field, id)?;
        let mut conn = db::acquire(&self.pool).await?;
        Ok(M::from_row(&load(&mut conn, catalog, id, false).await?))
    }

    /// A page in display order; `filters` is the request with its paging fields cleared.
    pub async fn list(
        &self,
        principal: &Principal,
        active_only: bool,
        page_size: i32,
        page_token: &str,
        filters: &[u8],
    ) -> Result<Listed<M>, Status> {
        let catalog = Self::CATALOG;
        may_read(principal, catalog)?;
        let page = Page::parse_sized(page_size, page_token, filters, DEFAULT_PAGE, MAX_PAGE)?;
        let after = page.after.as_deref().map(parse_page_key).transpose()?;
        let (mut rows, total) =
            store::list(&self.pool, catalog, active_only, after, page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, page_key);
        Ok(Listed {
            entries: rows.iter().map(M::from_row).collect(),
            next_page_token,
            total_size: i32::try_from(total).unwrap_or(i32::MAX),
        })
    }

    /// Changes the fields named in `paths`; the others keep their values.
    pub async fn update(
        &self,
        principal: &Principal,
        given: Option<M>,
        paths: &[String],
    ) -> Result<M, Status> {
        principal.require_admin()?;
        let catalog = Self::CATALOG;
        let input = given.unwrap_or_default().input();
        let mut violations = FieldViolations::new();
        let id = violations.uuid(format!("{}.id", catalog.field()), &input.id);
        let fields = super::fields::mask(&mut violations, paths, &FIELDS);
        let checked = entry::check(catalog, &input, &fields, &mut violations);
        violations.into_result()?;
        let Some(id) = id else {
            return Err(Status::internal("a checked id is missing"));
        };
        let mut tx = db::begin(&self.pool).await?;
        let mut row = load(&mut tx, catalog, id, true).await?;
        for field in &fields {
            match *field {
                "name" => row.name = checked.name.clone(),
                "description" => row.description = checked.description.clone(),
                "active" => row.active = checked.active,
                "position" => row.position = checked.position,
                _ => {}
            }
        }
        row.update_time = Utc::now();
        let row = store::save(&mut tx, catalog, &row)
            .await
            .map_err(|e| name_taken(e, catalog, &row.name))?;
        db::commit(tx).await?;
        Ok(M::from_row(&row))
    }

    /// Deletes an entry no ticket ever had (`used` is set in the ticket's transaction, under
    /// the same row lock as this check).
    pub async fn delete(
        &self,
        principal: &Principal,
        id_field: &str,
        id: &str,
    ) -> Result<(), Status> {
        principal.require_admin()?;
        let catalog = Self::CATALOG;
        let id = uuid_field(id_field, id)?;
        let mut tx = db::begin(&self.pool).await?;
        let row = load(&mut tx, catalog, id, true).await?;
        if row.used {
            return Err(Status::failed_precondition(format!(
                "IN_USE: tickets have the {} {}; deactivate it instead",
                catalog.noun(),
                quote(&row.name)
            )));
        }
        store::delete(&mut tx, catalog, id).await?;
        db::commit(tx).await?;
        Ok(())
    }
}
