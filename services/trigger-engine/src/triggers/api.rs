//! The handlers of `TriggerService` but `TestTriggers` (see `dry_run`): admins write the ordered
//! list of triggers. Every change raises the rules' version in its transaction.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::PgPool;
use switchboard_platform::{
    db,
    error::{Error, FieldViolations, invalid_field, quote},
    paging::Page,
    principal::PrincipalExt,
    request::{self, uuid_field},
    request_id::{RequestId, commit_with},
    text::normalise,
};
use switchboard_proto::{common::v1::Principal, trigger::v1::*};
use tonic::Status;
use uuid::Uuid;

use super::store::{self, TriggerRow};
use crate::{eval::compile_trigger, rules::announce_change};

/// The list's paging (trigger_service.proto): 100 by default, 500 at most.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 500;

/// The fields `UpdateTrigger` may change.
const UPDATABLE: [&str; 6] = [
    "name",
    "description",
    "active",
    "all_conditions",
    "any_conditions",
    "actions",
];

#[derive(Clone)]
pub struct TriggerApi {
    pub pool: PgPool,
}

/// Now, as PostgreSQL stores it (microseconds), so a response shows what a read will.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn not_found(id: Uuid) -> Status {
    Status::not_found(format!("no trigger {id}"))
}

fn name_taken(error: Error, name: &str) -> Error {
    error.unique_violation(
        "triggers_name_key_key",
        "trigger.name",
        format_args!("{} is the name of another trigger", quote(name)),
    )
}

/// `trigger` checked as a whole (field paths under "trigger"): its stored form (name trimmed),
/// its name as compared for uniqueness, and the schedules it names.
fn check(trigger: &Trigger) -> Result<(Trigger, String, Vec<String>), Status> {
    let mut violations = FieldViolations::new();
    let compiled = compile_trigger(trigger, "trigger", &mut violations);
    violations.into_result()?;
    let compiled = compiled.ok_or_else(|| Status::internal("a checked trigger did not compile"))?;
    let definition = Trigger {
        name: trigger.name.trim().to_owned(),
        description: trigger.description.trim().to_owned(),
        ..trigger.clone()
    };
    let key = normalise(&definition.name);
    Ok((definition, key, compiled.business_hours_ids()))
}

impl TriggerApi {
    pub async fn create(
        &self,
        principal: &Principal,
        request: CreateTriggerRequest,
    ) -> Result<CreateTriggerResponse, Status> {
        principal.require_admin()?;
        let request_id =
            RequestId::parse("CreateTrigger", &request.request_id, &request, principal)?;
        let given = request.trigger.unwrap_or_default();
        if given.position < 0 {
            return Err(invalid_field(
                "trigger.position",
                "must be 0 (last) or a position from 1",
            ));
        }
        let (definition, key, schedules) = check(&given)?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateTriggerResponse>(&mut tx).await?
        {
            return Ok(replayed);
        }
        store::lock_order(&mut tx).await?;
        let count = i32::try_from(store::count(&mut tx).await?).unwrap_or(i32::MAX);
        let position = match given.position {
            0 => count + 1,
            k if k <= count + 1 => k,
            k => {
                return Err(invalid_field(
                    "trigger.position",
                    format!(
                        "{k} is beyond the end: there are {count} triggers, so at most {}",
                        count + 1
                    ),
                ));
            }
        };
        store::shift(&mut tx, position, 1).await?;
        let now = now();
        let row = TriggerRow {
            id: Uuid::now_v7(),
            active: given.active,
            position,
            definition,
            create_time: now,
            update_time: now,
        };
        store::insert(&mut tx, &row, &key, &schedules)
            .await
            .map_err(|e| name_taken(e, &row.definition.name))?;
        announce_change(&mut tx).await.map_err(Error::from)?;
        let response = CreateTriggerResponse {
            trigger: Some(row.to_proto()),
        };
        commit_with(request_id.as_ref(), tx, response).await
    }

    pub async fn get(&self, principal: &Principal, trigger_id: &str) -> Result<Trigger, Status> {
        principal.require_admin()?;
        let id = uuid_field("trigger_id", trigger_id)?;
        let mut conn = db::acquire(&self.pool).await?;
        let row = store::get(&mut conn, id, false)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok(row.to_proto())
    }

    pub async fn list(
        &self,
        principal: &Principal,
        request: ListTriggersRequest,
    ) -> Result<ListTriggersResponse, Status> {
        principal.require_admin()?;
        let page = Page::of_sized(
            &request,
            |r| (&mut r.page_size, &mut r.page_token),
            DEFAULT_PAGE,
            MAX_PAGE,
        )?;
        let after = match page.after.as_deref() {
            None => 0,
            Some(key) => key
                .parse::<i32>()
                .map_err(|_| invalid_field("page_token", "not a page token of this list"))?,
        };
        let mut conn = db::acquire(&self.pool).await?;
        let (mut rows, total) =
            store::list(&mut conn, request.active_only, after, page.fetch_limit()).await?;
        // Positions are zero-padded so that the token's text order is the list's order.
        let next_page_token = page.finish(&mut rows, |r| format!("{:010}", r.position));
        Ok(ListTriggersResponse {
            triggers: rows.iter().map(TriggerRow::to_proto).collect(),
            next_page_token,
            total_size: i32::try_from(total).unwrap_or(i32::MAX),
        })
    }

    pub async fn update(
        &self,
        principal: &Principal,
        request: UpdateTriggerRequest,
    ) -> Result<Trigger, Status> {
        principal.require_admin()?;
        let given = request.trigger.unwrap_or_default();
        let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut violations = FieldViolations::new();
        let id = violations.uuid("trigger.id", &given.id);
        if paths.iter().any(|p| p == "position") {
            violations.add(
                "update_mask",
                "\"position\" cannot be updated; use ReorderTriggers",
            );
        }
        let others: Vec<String> = paths.iter().filter(|p| *p != "position").cloned().collect();
        let fields = if others.is_empty() && !paths.is_empty() {
            Vec::new()
        } else {
            request::mask(&mut violations, &others, &UPDATABLE)
        };
        violations.into_result()?;
        let id = id.ok_or_else(|| Status::internal("a checked id is missing"))?;
        let mut tx = db::begin(&self.pool).await?;
        let mut row = store::get(&mut tx, id, true)
            .await?
            .ok_or_else(|| not_found(id))?;
        let mut merged = row.to_proto();
        for field in &fields {
            match *field {
                "name" => merged.name = given.name.clone(),
                "description" => merged.description = given.description.clone(),
                "active" => merged.active = given.active,
                "all_conditions" => merged.all_conditions = given.all_conditions.clone(),
                "any_conditions" => merged.any_conditions = given.any_conditions.clone(),
                "actions" => merged.actions = given.actions.clone(),
                _ => {}
            }
        }
        let (definition, key, schedules) = check(&merged)?;
        row.active = merged.active;
        row.definition = definition;
        row.update_time = now();
        store::save(&mut tx, &row, &key, &schedules)
            .await
            .map_err(|e| name_taken(e, &row.definition.name))?;
        announce_change(&mut tx).await.map_err(Error::from)?;
        db::commit(tx).await?;
        Ok(row.to_proto())
    }

    pub async fn delete(&self, principal: &Principal, trigger_id: &str) -> Result<(), Status> {
        principal.require_admin()?;
        let id = uuid_field("trigger_id", trigger_id)?;
        let mut tx = db::begin(&self.pool).await?;
        store::lock_order(&mut tx).await?;
        let position = store::delete(&mut tx, id)
            .await?
            .ok_or_else(|| not_found(id))?;
        store::shift(&mut tx, position + 1, -1).await?;
        announce_change(&mut tx).await.map_err(Error::from)?;
        db::commit(tx).await?;
        Ok(())
    }

    pub async fn reorder(
        &self,
        principal: &Principal,
        request: ReorderTriggersRequest,
    ) -> Result<Vec<Trigger>, Status> {
        principal.require_admin()?;
        let mut violations = FieldViolations::new();
        if request.trigger_ids.is_empty() {
            violations.add("trigger_ids", "name every trigger, in the new order");
        }
        let mut ids = Vec::with_capacity(request.trigger_ids.len());
        for (i, text) in request.trigger_ids.iter().enumerate() {
            if let Some(id) = violations.uuid(format!("trigger_ids[{i}]"), text) {
                if ids.contains(&id) {
                    violations.add(format!("trigger_ids[{i}]"), format!("{id} is named twice"));
                }
                ids.push(id);
            }
        }
        violations.into_result()?;
        let mut tx = db::begin(&self.pool).await?;
        store::lock_order(&mut tx).await?;
        let current = store::all(&mut tx).await?;
        let missing: Vec<String> = current
            .iter()
            .filter(|row| !ids.contains(&row.id))
            .map(|row| row.id.to_string())
            .collect();
        let unknown: Vec<String> = ids
            .iter()
            .filter(|id| !current.iter().any(|row| row.id == **id))
            .map(Uuid::to_string)
            .collect();
        if !missing.is_empty() || !unknown.is_empty() {
            return Err(Status::failed_precondition(format!(
                "trigger_ids must be exactly the current triggers (missing: [{}]; unknown: [{}])",
                missing.join(", "),
                unknown.join(", ")
            )));
        }
        store::set_positions(&mut tx, &ids, now()).await?;
        announce_change(&mut tx).await.map_err(Error::from)?;
        let rows = store::all(&mut tx).await?;
        db::commit(tx).await?;
        Ok(rows.iter().map(TriggerRow::to_proto).collect())
    }
}
