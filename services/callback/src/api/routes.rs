//! `IvrRouteService`: admins manage the IVR routes (IVR 경로) the IVR pushes callbacks through.

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::quote;
use switchboard_platform::{
    db,
    error::{Error, FieldViolations, invalid_field},
    events::{NewEvent, publish},
    paging::Page,
    principal::PrincipalExt,
    request::{parse_uuid, uuid_field},
    request_id::{RequestId, commit_with},
};
use switchboard_proto::{
    callback::v1::*,
    common::v1::{Principal, PrincipalKind},
    events::v1::{IvrRouteChanged, IvrRouteDeleted},
};
use tonic::Status;
use uuid::Uuid;

use super::{
    access::{READ_SCOPE, sight},
    announce::SOURCE,
};
use crate::store::{RouteRow, routes};

const FIELDS: [&str; 5] = [
    "code",
    "display_name",
    "description",
    "repeat_request_policy",
    "disabled",
];

#[derive(Clone)]
pub struct RouteApi {
    pool: PgPool,
}

impl RouteApi {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// Checks the fields of `route` named in `fields`; returns the policy to store.
fn check(route: &IvrRoute, fields: &[&str], violations: &mut FieldViolations) -> i16 {
    let has = |field: &str| fields.contains(&field);
    if has("code") {
        let code = &route.code;
        violations.check(
            code.is_empty()
                || code.len() > 64
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')),
            "ivr_route.code",
            || "must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '-', '.'".into(),
        );
    }
    if has("display_name") {
        let name = route.display_name.trim();
        violations.check(
            name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control),
            "ivr_route.display_name",
            || "must be 1 to 100 characters without control characters".into(),
        );
    }
    if has("description") {
        violations.check(
            route.description.chars().count() > 1_000,
            "ivr_route.description",
            || "at most 1,000 characters".into(),
        );
    }
    match RepeatRequestPolicy::try_from(route.repeat_request_policy) {
        Ok(RepeatRequestPolicy::Unspecified) => RepeatRequestPolicy::Attach as i16,
        Ok(policy) => policy as i16,
        Err(_) => {
            if has("repeat_request_policy") {
                violations.add("ivr_route.repeat_request_policy", "unknown policy");
            }
            RepeatRequestPolicy::Attach as i16
        }
    }
}

fn code_taken(error: Error, code: &str) -> Error {
    error.unique_violation(
        "ivr_routes_code_key",
        "ivr_route.code",
        format_args!("{} is used by another route", quote(code)),
    )
}

async fn publish_changed(
    conn: &mut PgConnection,
    route: &RouteRow,
    by: &Principal,
) -> Result<(), Status> {
    let payload = IvrRouteChanged {
        ivr_route: Some(route.to_proto()),
    };
    let event =
        NewEvent::new(&payload, &route.id.to_string(), route.version).with_actor(by.actor());
    publish(conn, SOURCE, event).await
}

/// Agents with the phone permission and services with `callbacks:read` may read routes.
fn may_read(principal: &Principal) -> Result<(), Status> {
    if principal.kind() == PrincipalKind::Service && !principal.has_scope(READ_SCOPE) {
        return Err(Status::permission_denied(format!(
            "reading IVR routes needs the {READ_SCOPE} scope"
        )));
    }
    sight(principal).map(|_| ())
}

async fn load(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<RouteRow, Status> {
    routes::get(conn, id, lock)
        .await?
        .ok_or_else(|| Status::not_found(format!("no IVR route {id}")))
}

impl RouteApi {
    pub async fn create(
        &self,
        principal: &Principal,
        request: CreateIvrRouteRequest,
    ) -> Result<CreateIvrRouteResponse, Status> {
        principal.require_admin()?;
        let request_id =
            RequestId::parse("CreateIvrRoute", &request.request_id, &request, principal)?;
        let route = request.ivr_route.clone().unwrap_or_default();
        let mut violations = FieldViolations::new();
        let policy = check(&route, &FIELDS, &mut violations);
        violations.into_result()?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateIvrRouteResponse>(&mut tx).await?
        {
            return Ok(replayed);
        }
        let now = Utc::now();
        let row = RouteRow {
            id: Uuid::now_v7(),
            code: route.code.clone(),
            display_name: route.display_name.trim().to_owned(),
            description: route.description.clone(),
            repeat_request_policy: policy,
            disabled: route.disabled,
            version: 1,
            create_time: now,
            update_time: now,
        };
        routes::insert(&mut tx, &row)
            .await
            .map_err(|e| code_taken(e, &row.code))?;
        publish_changed(&mut tx, &row, principal).await?;
        let response = CreateIvrRouteResponse {
            ivr_route: Some(row.to_proto()),
        };
        commit_with(request_id.as_ref(), tx, response).await
    }

    pub async fn get(
        &self,
        principal: &Principal,
        request: &GetIvrRouteRequest,
    ) -> Result<GetIvrRouteResponse, Status> {
        may_read(principal)?;
        let id = uuid_field("id", &request.id)?;
        let mut conn = db::acquire(&self.pool).await?;
        let row = load(&mut conn, id, false).await?;
        Ok(GetIvrRouteResponse {
            ivr_route: Some(row.to_proto()),
        })
    }

    pub async fn list(
        &self,
        principal: &Principal,
        request: ListIvrRoutesRequest,
    ) -> Result<ListIvrRoutesResponse, Status> {
        may_read(principal)?;
        let page = Page::of(&request, |r| (&mut r.page_size, &mut r.page_token))?;
        let after = match page.after.as_deref() {
            None => None,
            Some(key) => {
                let bad = || invalid_field("page_token", "not a page token of this list");
                let (name, id) = key.rsplit_once('\n').ok_or_else(bad)?;
                Some((name.to_owned(), parse_uuid(id).ok_or_else(bad)?))
            }
        };
        let (mut rows, total) = routes::list(
            &self.pool,
            request.exclude_disabled,
            after,
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |r| format!("{}\n{}", r.display_name, r.id));
        Ok(ListIvrRoutesResponse {
            ivr_routes: rows.iter().map(RouteRow::to_proto).collect(),
            next_page_token,
            total_size: total as i32,
        })
    }

    pub async fn update(
        &self,
        principal: &Principal,
        request: UpdateIvrRouteRequest,
    ) -> Result<UpdateIvrRouteResponse, Status> {
        principal.require_admin()?;
        let route = request.ivr_route.unwrap_or_default();
        let id = uuid_field("ivr_route.id", &route.id)?;
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut violations = FieldViolations::new();
        if paths.is_empty() {
            violations.add("update_mask", "name the fields to change");
        }
        let mut fields: Vec<&str> = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            match path.as_str() {
                "*" => fields.extend(FIELDS),
                path => match FIELDS.iter().find(|f| **f == path) {
                    Some(field) => fields.push(field),
                    None => {
                        violations.add(
                            format!("update_mask.paths[{i}]"),
                            format!("{} is not a field that can be changed", quote(path)),
                        );
                    }
                },
            }
        }
        let policy = check(&route, &fields, &mut violations);
        violations.into_result()?;
        let mut tx = db::begin(&self.pool).await?;
        let mut row = load(&mut tx, id, true).await?;
        for field in &fields {
            match *field {
                "code" => row.code = route.code.clone(),
                "display_name" => row.display_name = route.display_name.trim().to_owned(),
                "description" => row.description = route.description.clone(),
                "repeat_request_policy" => row.repeat_request_policy = policy,
                "disabled" => row.disabled = route.disabled,
                _ => {}
            }
        }
        row.version += 1;
        row.update_time = Utc::now();
        routes::save(&mut tx, &row)
            .await
            .map_err(|e| code_taken(e, &row.code))?;
        publish_changed(&mut tx, &row, principal).await?;
        db::commit(tx).await?;
        Ok(UpdateIvrRouteResponse {
            ivr_route: Some(row.to_proto()),
        })
    }

    pub async fn delete(
        &self,
        principal: &Principal,
        request: &DeleteIvrRouteRequest,
    ) -> Result<DeleteIvrRouteResponse, Status> {
        principal.require_admin()?;
        let id = uuid_field("id", &request.id)?;
        let mut tx = db::begin(&self.pool).await?;
        let row = load(&mut tx, id, true).await?;
        if routes::has_callbacks(&mut tx, id).await? {
            return Err(Status::failed_precondition(format!(
                "the IVR route {:?} has callbacks; disable it instead",
                row.code
            )));
        }
        routes::delete(&mut tx, id).await?;
        let event = NewEvent::new(
            &IvrRouteDeleted {
                ivr_route_id: id.to_string(),
            },
            &id.to_string(),
            row.version + 1,
        )
        .with_actor(principal.actor());
        publish(&mut tx, SOURCE, event).await?;
        db::commit(tx).await?;
        Ok(DeleteIvrRouteResponse {})
    }
}
