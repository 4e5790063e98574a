//! The handlers of `TemplateService`: admins write templates; agents read and render the
//! active ones of their groups and of every group.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    db,
    error::{Error, FieldViolations, invalid_field, quote},
    paging::Page,
    principal::PrincipalExt,
    request::{parse_uuid, uuid_field},
    request_id::{RequestId, commit_with},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    ticket::v1::*,
};
use tonic::Status;
use uuid::Uuid;

use super::{
    check::{self, FIELDS},
    lookup,
    store::{self, Filter, TemplateRow},
};
use crate::{catalog::fields, domain::template, tickets::TicketApi};

/// The list's paging (template.proto): 50 by default, 200 at most.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 200;

#[derive(Clone)]
pub struct TemplateApi {
    pool: PgPool,
    tickets: TicketApi,
}

/// The groups of an agent; `None` for admins, who see every template.
fn agent_groups(principal: &Principal) -> Result<Option<Vec<Uuid>>, Status> {
    match principal.kind() {
        PrincipalKind::Admin => Ok(None),
        PrincipalKind::Agent => Ok(Some(
            principal
                .group_ids
                .iter()
                .filter_map(|g| parse_uuid(g))
                .collect(),
        )),
        _ => Err(Status::permission_denied(
            "templates are for agents and admins",
        )),
    }
}

/// Now, as PostgreSQL stores it (microseconds), so a response shows what a read will.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn not_found(id: Uuid) -> Status {
    Status::not_found(format!("no template {id}"))
}

fn name_taken(error: Error, name: &str) -> Error {
    error.unique_violation(
        "templates_name_key",
        "template.name",
        format_args!("{} is taken by another template", quote(name)),
    )
}

async fn load(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<TemplateRow, Status> {
    store::get(conn, id, lock)
        .await?
        .ok_or_else(|| not_found(id))
}

impl TemplateApi {
    pub fn new(pool: PgPool, tickets: TicketApi) -> Self {
        Self { pool, tickets }
    }

    /// INVALID_ARGUMENT naming each of `group_ids` (well-formed, checked before) that names
    /// no group of the directory.
    async fn check_groups(&self, group_ids: &[String]) -> Result<(), Status> {
        let mut violations = FieldViolations::new();
        for (i, id) in group_ids.iter().enumerate() {
            if let Some(id) = parse_uuid(id)
                && self
                    .tickets
                    .directory
                    .group(&id.to_string())
                    .await?
                    .is_none()
            {
                violations.add(format!("template.group_ids[{i}]"), "no such group");
            }
        }
        violations.into_result()
    }

    pub async fn create(
        &self,
        principal: &Principal,
        request: CreateTemplateRequest,
    ) -> Result<CreateTemplateResponse, Status> {
        principal.require_admin()?;
        let request_id =
            RequestId::parse("CreateTemplate", &request.request_id, &request, principal)?;
        let given = request.template.unwrap_or_default();
        let mut violations = FieldViolations::new();
        let checked = check::check(&given, &FIELDS, &mut violations);
        violations.into_result()?;
        self.check_groups(&given.group_ids).await?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateTemplateResponse>(&mut tx).await?
        {
            return Ok(replayed);
        }
        let now = now();
        let row = TemplateRow {
            id: Uuid::now_v7(),
            name: checked.name,
            subject: checked.subject,
            body: checked.body,
            group_ids: checked.group_ids,
            // New templates are active (the proto: only `UpdateTemplate` deactivates).
            active: true,
            create_time: now,
            update_time: now,
        };
        store::insert(&mut tx, &row)
            .await
            .map_err(|e| name_taken(e, &row.name))?;
        let response = CreateTemplateResponse {
            template: Some(row.to_proto()),
        };
        commit_with(request_id.as_ref(), tx, response).await
    }

    /// Agents get only active templates they may use; any other answers as a missing one.
    pub async fn get(&self, principal: &Principal, template_id: &str) -> Result<Template, Status> {
        let groups = agent_groups(principal)?;
        let id = uuid_field("template_id", template_id)?;
        let mut conn = db::acquire(&self.pool).await?;
        let row = load(&mut conn, id, false).await?;
        match groups {
            Some(groups) if !(row.active && row.for_groups(&groups)) => Err(not_found(id)),
            _ => Ok(row.to_proto()),
        }
    }

    pub async fn list(
        &self,
        principal: &Principal,
        request: ListTemplatesRequest,
    ) -> Result<ListTemplatesResponse, Status> {
        let agent_groups = agent_groups(principal)?;
        let mut violations = FieldViolations::new();
        let group = violations.optional_uuid("group_id", &request.group_id);
        violations.into_result()?;
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
                let (name, id) = key.rsplit_once('\n').ok_or_else(bad)?;
                Some((name.to_owned(), parse_uuid(id).ok_or_else(bad)?))
            }
        };
        let filter = Filter {
            active_only: request.active_only || agent_groups.is_some(),
            group,
            agent_groups,
        };
        let (mut rows, total) = store::list(&self.pool, &filter, after, page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |r| format!("{}\n{}", r.name, r.id));
        Ok(ListTemplatesResponse {
            templates: rows.iter().map(TemplateRow::to_proto).collect(),
            next_page_token,
            total_size: i32::try_from(total).unwrap_or(i32::MAX),
        })
    }

    pub async fn update(
        &self,
        principal: &Principal,
        request: UpdateTemplateRequest,
    ) -> Result<Template, Status> {
        principal.require_admin()?;
        let given = request.template.unwrap_or_default();
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut violations = FieldViolations::new();
        let id = violations.uuid("template.id", &given.id);
        let fields = fields::mask(&mut violations, &paths, &FIELDS);
        let checked = check::check(&given, &fields, &mut violations);
        violations.into_result()?;
        if fields.contains(&"group_ids") {
            self.check_groups(&given.group_ids).await?;
        }
        let id = id.ok_or_else(|| Status::internal("a checked id is missing"))?;
        let mut tx = db::begin(&self.pool).await?;
        let mut row = load(&mut tx, id, true).await?;
        for field in &fields {
            match *field {
                "name" => row.name = checked.name.clone(),
                "subject" => row.subject = checked.subject.clone(),
                "body" => row.body = checked.body.clone(),
                "group_ids" => row.group_ids = checked.group_ids.clone(),
                "active" => row.active = checked.active,
                _ => {}
            }
        }
        row.update_time = now();
        store::save(&mut tx, &row)
            .await
            .map_err(|e| name_taken(e, &row.name))?;
        db::commit(tx).await?;
        Ok(row.to_proto())
    }

    pub async fn delete(&self, principal: &Principal, template_id: &str) -> Result<(), Status> {
        principal.require_admin()?;
        let id = uuid_field("template_id", template_id)?;
        let mut conn = db::acquire(&self.pool).await?;
        if !store::delete(&mut conn, id).await? {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Fills the template for the ticket and the caller; writes nothing. Admins may preview
    /// any template, inactive ones too; agents only those they may use in a reply.
    pub async fn render(
        &self,
        principal: &Principal,
        request: &RenderTemplateRequest,
    ) -> Result<RenderTemplateResponse, Status> {
        agent_groups(principal)?;
        let mut violations = FieldViolations::new();
        let template_id = violations.uuid("template_id", &request.template_id);
        violations.uuid("ticket_id", &request.ticket_id);
        violations.into_result()?;
        let id = template_id.ok_or_else(|| Status::internal("a checked id is missing"))?;
        let (subject, body) = {
            let mut conn = db::acquire(&self.pool).await?;
            if principal.is_admin() {
                let row = load(&mut conn, id, false).await?;
                (row.subject, row.body)
            } else {
                let usable = lookup::usable(&mut conn, id, principal)
                    .await?
                    .ok_or_else(|| not_found(id))?;
                (usable.subject, usable.body)
            }
        };
        let ticket = self
            .tickets
            .visible_ticket(principal, &request.ticket_id)
            .await?;
        let values = self.tickets.template_values(&ticket, principal);
        let subject = if subject.is_empty() {
            ticket.subject.clone()
        } else {
            template::render(&subject, &values)
        };
        Ok(RenderTemplateResponse {
            subject,
            body: template::render(&body, &values),
        })
    }
}
