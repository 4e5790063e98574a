//! `BusinessHoursService` (업무시간): admins write the schedules that trigger conditions
//! (`CONDITION_FIELD_BUSINESS_HOURS`) name.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;
use sqlx::{PgConnection, PgPool};
use switchboard_platform::{
    db,
    error::{Error, FieldViolations, invalid_field, quote},
    paging::Page,
    principal::PrincipalExt,
    request::{PrincipalAndBody, parse_uuid, require_admin_or_scope, uuid_field},
    request_id::{RequestId, commit_with},
};
use switchboard_proto::{
    common::v1::Principal,
    trigger::v1::{business_hours_service_server::BusinessHoursService, *},
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Schedule,
    store::{self, BusinessHoursRow, schedule_of},
    validate::{check_business_hours, check_fields, update_fields},
};

/// The scope that reads one schedule besides admins: the reporting service's, measuring times
/// in business hours.
pub const READ_SCOPE: &str = "business_hours:read";
/// The list's paging (business_hours.proto): 50 by default, 100 at most.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 100;
/// The message's field path in requests.
const FIELD: &str = "business_hours";
/// How many of the triggers using a schedule a refused delete names.
const IN_USE_SHOWN: usize = 10;

#[derive(Clone)]
pub struct BusinessHoursApi {
    pub pool: PgPool,
    /// The center's time zone. The handlers keep an empty `time_zone` empty (so the schedule
    /// follows the center's zone if it changes); the zone resolves it in [`Self::schedules`].
    pub default_zone: Tz,
}

/// Now, as PostgreSQL stores it (microseconds), so a response shows what a read will.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn not_found(id: Uuid) -> Status {
    Status::not_found(format!("no business hours {id}"))
}

fn name_taken(error: Error, name: &str) -> Error {
    error.unique_violation(
        store::NAME_UNIQUE,
        "business_hours.name",
        format_args!("{} is taken by another schedule", quote(name)),
    )
}

/// FAILED_PRECONDITION "IN_USE" naming (the first few of) the triggers whose conditions name
/// the schedule, so the admin knows what to change first.
fn in_use(triggers: &[String]) -> Status {
    let mut named = triggers
        .iter()
        .take(IN_USE_SHOWN)
        .map(|name| quote(name).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if triggers.len() > IN_USE_SHOWN {
        named += &format!(" and {} more", triggers.len() - IN_USE_SHOWN);
    }
    let noun = if triggers.len() == 1 {
        "trigger"
    } else {
        "triggers"
    };
    Status::failed_precondition(format!(
        "IN_USE: the conditions of {noun} {named} use this schedule; remove it from them first"
    ))
}

async fn load(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<BusinessHoursRow, Status> {
    store::get(conn, id, lock)
        .await?
        .ok_or_else(|| not_found(id))
}

impl BusinessHoursApi {
    /// Every schedule by id, resolved in the center's zone, for the evaluation cache.
    pub async fn schedules(&self) -> sqlx::Result<HashMap<String, Schedule>> {
        store::load_all(&self.pool, self.default_zone).await
    }

    async fn create(
        &self,
        principal: &Principal,
        request: CreateBusinessHoursRequest,
    ) -> Result<CreateBusinessHoursResponse, Status> {
        principal.require_admin()?;
        let request_id = RequestId::parse(
            "CreateBusinessHours",
            &request.request_id,
            &request,
            principal,
        )?;
        let given = request.business_hours.unwrap_or_default();
        let mut violations = FieldViolations::new();
        check_business_hours(&given, FIELD, &mut violations);
        violations.into_result()?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateBusinessHoursResponse>(&mut tx).await?
        {
            return Ok(replayed);
        }
        let now = now();
        let row = BusinessHoursRow {
            id: Uuid::now_v7(),
            name: given.name.trim().to_owned(),
            schedule: schedule_of(&given),
            create_time: now,
            update_time: now,
        };
        store::insert(&mut tx, &row)
            .await
            .map_err(|e| name_taken(e, &row.name))?;
        let response = CreateBusinessHoursResponse {
            business_hours: Some(row.to_proto()),
        };
        commit_with(request_id.as_ref(), tx, response).await
    }

    async fn get(&self, principal: &Principal, id: &str) -> Result<BusinessHours, Status> {
        require_admin_or_scope(principal, READ_SCOPE)?;
        let id = uuid_field("business_hours_id", id)?;
        let mut conn = db::acquire(&self.pool).await?;
        Ok(load(&mut conn, id, false).await?.to_proto())
    }

    async fn list(
        &self,
        principal: &Principal,
        request: ListBusinessHoursRequest,
    ) -> Result<ListBusinessHoursResponse, Status> {
        principal.require_admin()?;
        let page = Page::of_sized(
            &request,
            |r| (&mut r.page_size, &mut r.page_token),
            DEFAULT_PAGE,
            MAX_PAGE,
        )?;
        // The key is name, newline, id: names are one line (validate.rs), so the last newline
        // ends the name.
        let after = match page.after.as_deref() {
            None => None,
            Some(key) => {
                let bad = || invalid_field("page_token", "not a page token of this list");
                let (name, id) = key.rsplit_once('\n').ok_or_else(bad)?;
                Some((name.to_owned(), parse_uuid(id).ok_or_else(bad)?))
            }
        };
        let (mut rows, total) = store::list(&self.pool, after, page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |r| format!("{}\n{}", r.name, r.id));
        Ok(ListBusinessHoursResponse {
            business_hours: rows.iter().map(BusinessHoursRow::to_proto).collect(),
            next_page_token,
            total_size: i32::try_from(total).unwrap_or(i32::MAX),
        })
    }

    async fn update(
        &self,
        principal: &Principal,
        request: UpdateBusinessHoursRequest,
    ) -> Result<BusinessHours, Status> {
        principal.require_admin()?;
        let given = request.business_hours.unwrap_or_default();
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut violations = FieldViolations::new();
        let id = violations.uuid("business_hours.id", &given.id);
        let fields = update_fields(&paths, &mut violations);
        check_fields(&given, FIELD, &fields, &mut violations);
        violations.into_result()?;
        let id = id.ok_or_else(|| Status::internal("a checked id is missing"))?;
        let mut tx = db::begin(&self.pool).await?;
        let mut row = load(&mut tx, id, true).await?;
        for field in fields {
            match field {
                "name" => row.name = given.name.trim().to_owned(),
                "time_zone" => row.schedule.time_zone = given.time_zone.clone(),
                "weekly_intervals" => {
                    row.schedule.weekly_intervals = given.weekly_intervals.clone()
                }
                "holidays" => row.schedule.holidays = given.holidays.clone(),
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

    /// Deletes a schedule no trigger names. The row lock orders this with a concurrent update
    /// of the schedule; a trigger saved meanwhile that names it simply stops matching
    /// (trigger_service.proto: references are checked for form only).
    async fn delete(&self, principal: &Principal, id: &str) -> Result<(), Status> {
        principal.require_admin()?;
        let id = uuid_field("business_hours_id", id)?;
        let mut tx = db::begin(&self.pool).await?;
        load(&mut tx, id, true).await?;
        let triggers = store::triggers_using(&mut tx, id).await?;
        if !triggers.is_empty() {
            return Err(in_use(&triggers));
        }
        store::delete(&mut tx, id).await?;
        db::commit(tx).await?;
        Ok(())
    }
}

#[tonic::async_trait]
impl BusinessHoursService for BusinessHoursApi {
    async fn create_business_hours(
        &self,
        request: Request<CreateBusinessHoursRequest>,
    ) -> Result<Response<CreateBusinessHoursResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.create(&principal, request).await.map(Response::new)
    }

    async fn get_business_hours(
        &self,
        request: Request<GetBusinessHoursRequest>,
    ) -> Result<Response<GetBusinessHoursResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let business_hours = self.get(&principal, &request.business_hours_id).await?;
        Ok(Response::new(GetBusinessHoursResponse {
            business_hours: Some(business_hours),
        }))
    }

    async fn list_business_hours(
        &self,
        request: Request<ListBusinessHoursRequest>,
    ) -> Result<Response<ListBusinessHoursResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.list(&principal, request).await.map(Response::new)
    }

    async fn update_business_hours(
        &self,
        request: Request<UpdateBusinessHoursRequest>,
    ) -> Result<Response<UpdateBusinessHoursResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let business_hours = self.update(&principal, request).await?;
        Ok(Response::new(UpdateBusinessHoursResponse {
            business_hours: Some(business_hours),
        }))
    }

    async fn delete_business_hours(
        &self,
        request: Request<DeleteBusinessHoursRequest>,
    ) -> Result<Response<DeleteBusinessHoursResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        self.delete(&principal, &request.business_hours_id).await?;
        Ok(Response::new(DeleteBusinessHoursResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn a_refused_delete_names_the_triggers_in_use_and_counts_the_rest() {
        let one = in_use(&["야간 자동응답".to_owned()]);
        assert_eq!(one.code(), Code::FailedPrecondition);
        assert!(one.message().starts_with("IN_USE"), "{}", one.message());
        assert!(one.message().contains("trigger \"야간 자동응답\" use"));
        let many: Vec<String> = (1..=12).map(|i| format!("trigger {i}")).collect();
        let status = in_use(&many);
        assert!(status.message().contains("\"trigger 10\" and 2 more"));
        assert!(!status.message().contains("\"trigger 11\""));
    }
}
