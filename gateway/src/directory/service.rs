//! `switchboard.gateway.v1.DirectoryService`: admins change agents and groups; agents read
//! themselves, their colleagues and the groups; services with `directory:read` read everything.
//! Every change is published through the outbox in the same transaction.

use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::quote;
use switchboard_platform::{
    db,
    error::{Error, FieldViolations, invalid_field},
    events::{NewEvent, publish},
    paging::Page,
    principal::PrincipalExt,
    request::{PrincipalAndBody, uuid_field},
    request_id::{RequestId, commit_with},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    events::{
        Event,
        v1::{AgentChanged, AgentDeleted, GroupChanged, GroupDeleted, PresenceChangeReason},
    },
    gateway::v1::{directory_service_server::DirectoryService, *},
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    store::{self, AgentFilter, AgentRow},
    validate::{self, AGENT_FIELDS, GROUP_FIELDS},
};
use crate::{auth::AgentCache, presence::PresenceStore};

/// The `source` of the events the gateway writes.
pub const SOURCE: &str = "gateway";

#[derive(Clone)]
pub struct DirectoryApi {
    pool: PgPool,
    agents: AgentCache,
    presence: PresenceStore,
}

impl DirectoryApi {
    pub fn new(pool: PgPool, agents: AgentCache, presence: PresenceStore) -> Self {
        Self {
            pool,
            agents,
            presence,
        }
    }

    /// After a change to `agent` commits: forget cached copies, and end the CTI session of an
    /// agent who can no longer work.
    async fn after_agent_change(&self, login: &str, active: bool) {
        self.agents.forget(login);
        if !active {
            self.presence
                .end_session(login, PresenceChangeReason::AgentDisabled)
                .await;
        }
    }
}

fn login_field(login: &str, field: &str) -> Result<String, Status> {
    validate::normalize_login(login).ok_or_else(|| {
        invalid_field(
            field,
            "must be 1 to 64 characters of a-z, 0-9, '.', '_', '-', '@'",
        )
    })
}

fn group_uuids(agent: &Agent) -> Vec<Uuid> {
    agent
        .group_ids
        .iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

async fn check_groups_exist(conn: &mut PgConnection, agent: &Agent) -> Result<(), Status> {
    let missing = store::missing_groups(conn, &group_uuids(agent)).await?;
    let mut violations = FieldViolations::new();
    for (i, id) in agent.group_ids.iter().enumerate() {
        if missing.iter().any(|m| m.to_string() == *id) {
            violations.add(format!("agent.group_ids[{i}]"), "no such group");
        }
    }
    violations.into_result()
}

async fn load_group(conn: &mut PgConnection, id: Uuid) -> Result<store::GroupRow, Status> {
    store::get_group(conn, id)
        .await?
        .ok_or_else(|| Status::not_found(format!("no group {id}")))
}

async fn load_agent(conn: &mut PgConnection, login: &str) -> Result<AgentRow, Status> {
    store::get_agent(conn, login)
        .await?
        .ok_or_else(|| Status::not_found(format!("no agent {}", quote(login))))
}

async fn publish_agent(
    conn: &mut PgConnection,
    row: &AgentRow,
    created: bool,
    by: &Principal,
) -> Result<(), Status> {
    let payload = AgentChanged {
        agent: Some(row.to_proto()),
        created,
    };
    let event = NewEvent::new(&payload, &row.login, row.version).with_actor(by.actor());
    publish(conn, SOURCE, event).await
}

async fn publish_group(
    conn: &mut PgConnection,
    id: Uuid,
    version: i64,
    payload: &impl Event,
    by: &Principal,
) -> Result<(), Status> {
    let event = NewEvent::new(payload, &id.to_string(), version).with_actor(by.actor());
    publish(conn, SOURCE, event).await
}

/// Announces a group's state after a create or an update.
async fn publish_group_changed(
    conn: &mut PgConnection,
    row: &store::GroupRow,
    created: bool,
    by: &Principal,
) -> Result<(), Status> {
    let payload = GroupChanged {
        group: Some(row.to_proto()),
        created,
    };
    publish_group(conn, row.id, row.version, &payload, by).await
}

/// Refuses a change that would leave no active admin (`login` would stop being one).
async fn keep_an_admin(conn: &mut PgConnection, login: &str) -> Result<(), Status> {
    let admins = store::lock_active_admins(conn).await?;
    if admins.iter().all(|admin| admin == login) && admins.iter().any(|a| a == login) {
        return Err(Status::failed_precondition(format!(
            "{login} is the last active admin; make another admin first"
        )));
    }
    Ok(())
}

#[tonic::async_trait]
impl DirectoryService for DirectoryApi {
    async fn create_agent(
        &self,
        request: Request<CreateAgentRequest>,
    ) -> Result<Response<CreateAgentResponse>, Status> {
        let (by, body) = request.into_principal_and_body()?;
        let request_id = RequestId::parse("CreateAgent", &body.request_id, &body, &by)?;
        let mut agent = body.agent.unwrap_or_default();
        let mut violations = FieldViolations::new();
        match validate::normalize_login(&agent.login) {
            Some(login) => agent.login = login,
            None => {
                violations.add(
                    "agent.login",
                    "must be 1 to 64 characters of a-z, 0-9, '.', '_', '-', '@'",
                );
            }
        }
        validate::check_agent(&agent, AGENT_FIELDS, &mut violations);
        violations.into_result()?;

        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateAgentResponse>(&mut tx).await?
        {
            return Ok(Response::new(replayed));
        }
        check_groups_exist(&mut tx, &agent).await?;
        if store::login_ever_used(&mut tx, &agent.login).await? {
            return Err(Status::already_exists(format!(
                "agent.login {} is taken or was used before",
                quote(&agent.login)
            )));
        }
        store::insert_agent(&mut tx, &agent, &group_uuids(&agent))
            .await
            .map_err(|e| {
                e.unique_violation(
                    "agents_pkey",
                    "agent.login",
                    format_args!("{} is taken", quote(&agent.login)),
                )
            })?;
        let row = load_agent(&mut tx, &agent.login).await?;
        publish_agent(&mut tx, &row, true, &by).await?;
        let response = CreateAgentResponse {
            agent: Some(row.to_proto()),
        };
        Ok(Response::new(
            commit_with(request_id.as_ref(), tx, response).await?,
        ))
    }

    async fn get_agent(
        &self,
        request: Request<GetAgentRequest>,
    ) -> Result<Response<GetAgentResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let login = login_field(&request.login, "login")?;
        if principal.kind() == PrincipalKind::Agent && principal.subject != login {
            return Err(Status::permission_denied(
                "agents may read only their own record",
            ));
        }
        let mut conn = db::acquire(&self.pool).await?;
        let row = load_agent(&mut conn, &login).await?;
        Ok(Response::new(GetAgentResponse {
            agent: Some(row.to_proto()),
        }))
    }

    async fn list_agents(
        &self,
        request: Request<ListAgentsRequest>,
    ) -> Result<Response<ListAgentsResponse>, Status> {
        let (principal, body) = request.into_principal_and_body()?;
        let page = Page::of(&body, |r| (&mut r.page_size, &mut r.page_token))?;
        let mut violations = FieldViolations::new();
        let group_id = validate::optional_group_id(&body.group_id, &mut violations);
        violations.check(body.logins.len() > 1_000, "logins", || {
            "at most 1,000".into()
        });
        violations.into_result()?;
        let mut filter = AgentFilter {
            group_id,
            permission: (!body.permission.is_empty()).then(|| body.permission.clone()),
            role: match body.role() {
                AgentRole::Unspecified => None,
                role => Some(store::role_to_sql(role)),
            },
            logins: body.logins.iter().map(|l| l.to_lowercase()).collect(),
            show_disabled: body.show_disabled,
            colleagues_of: None,
        };
        if principal.kind() == PrincipalKind::Agent {
            // Agents see active colleagues only, whatever they asked for.
            filter.colleagues_of = Some(principal.subject.clone());
            filter.show_disabled = false;
        }
        let (mut rows, total) = store::list_agents(
            &self.pool,
            &filter,
            page.after.as_deref(),
            page.fetch_limit(),
        )
        .await?;
        let next_page_token = page.finish(&mut rows, |row| row.login.clone());
        Ok(Response::new(ListAgentsResponse {
            agents: rows.iter().map(AgentRow::to_proto).collect(),
            next_page_token,
            total_size: total as i32,
        }))
    }

    async fn update_agent(
        &self,
        request: Request<UpdateAgentRequest>,
    ) -> Result<Response<UpdateAgentResponse>, Status> {
        let (by, body) = request.into_principal_and_body()?;
        let mut agent = body.agent.unwrap_or_default();
        let paths = body.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut violations = FieldViolations::new();
        if paths.iter().any(|p| p == "login") {
            violations.add("update_mask", "login cannot be changed");
        }
        let fields = validate::mask_fields(
            &paths
                .into_iter()
                .filter(|p| p != "login")
                .collect::<Vec<_>>(),
            AGENT_FIELDS,
            &mut violations,
        );
        match validate::normalize_login(&agent.login) {
            Some(login) => agent.login = login,
            None => {
                violations.add("agent.login", "must name the agent to change");
            }
        }
        validate::check_agent(&agent, &fields, &mut violations);
        violations.into_result()?;

        let mut tx = db::begin(&self.pool).await?;
        store::lock_agent(&mut tx, &agent.login).await?;
        let before = load_agent(&mut tx, &agent.login).await?;
        if fields.contains(&"group_ids") {
            check_groups_exist(&mut tx, &agent).await?;
        }
        let stays_admin = |row: &AgentRow| {
            let admin = if fields.contains(&"role") {
                agent.role() == AgentRole::Admin
            } else {
                row.is_admin()
            };
            let disabled = if fields.contains(&"disabled") {
                agent.disabled
            } else {
                row.disabled
            };
            admin && !disabled
        };
        if before.is_admin() && !before.disabled && !stays_admin(&before) {
            keep_an_admin(&mut tx, &agent.login).await?;
        }
        store::update_agent(&mut tx, &agent, &fields).await?;
        if fields.contains(&"group_ids") {
            store::set_groups(&mut tx, &agent.login, &group_uuids(&agent)).await?;
        }
        let after = load_agent(&mut tx, &agent.login).await?;
        publish_agent(&mut tx, &after, false, &by).await?;
        db::commit(tx).await?;
        self.after_agent_change(&after.login, !after.disabled).await;
        Ok(Response::new(UpdateAgentResponse {
            agent: Some(after.to_proto()),
        }))
    }

    async fn delete_agent(
        &self,
        request: Request<DeleteAgentRequest>,
    ) -> Result<Response<DeleteAgentResponse>, Status> {
        let (by, request) = request.into_principal_and_body()?;
        let login = login_field(&request.login, "login")?;
        let mut tx = db::begin(&self.pool).await?;
        store::lock_agent(&mut tx, &login).await?;
        let row = load_agent(&mut tx, &login).await?;
        if row.is_admin() && !row.disabled {
            keep_an_admin(&mut tx, &login).await?;
        }
        store::mark_agent_deleted(&mut tx, &login).await?;
        let event = NewEvent::new(
            &AgentDeleted {
                agent_login: login.clone(),
            },
            &login,
            row.version + 1,
        )
        .with_actor(by.actor());
        publish(&mut tx, SOURCE, event).await?;
        db::commit(tx).await?;
        self.after_agent_change(&login, false).await;
        Ok(Response::new(DeleteAgentResponse {}))
    }

    async fn create_group(
        &self,
        request: Request<CreateGroupRequest>,
    ) -> Result<Response<CreateGroupResponse>, Status> {
        let (by, body) = request.into_principal_and_body()?;
        let request_id = RequestId::parse("CreateGroup", &body.request_id, &body, &by)?;
        let group = body.group.unwrap_or_default();
        let mut violations = FieldViolations::new();
        validate::check_group(&group, GROUP_FIELDS, &mut violations);
        violations.into_result()?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateGroupResponse>(&mut tx).await?
        {
            return Ok(Response::new(replayed));
        }
        let id = Uuid::now_v7();
        store::insert_group(&mut tx, id, &group)
            .await
            .map_err(name_taken)?;
        let row = load_group(&mut tx, id).await?;
        publish_group_changed(&mut tx, &row, true, &by).await?;
        let response = CreateGroupResponse {
            group: Some(row.to_proto()),
        };
        Ok(Response::new(
            commit_with(request_id.as_ref(), tx, response).await?,
        ))
    }

    async fn get_group(
        &self,
        request: Request<GetGroupRequest>,
    ) -> Result<Response<GetGroupResponse>, Status> {
        let id = uuid_field("id", &request.get_ref().id)?;
        let mut conn = db::acquire(&self.pool).await?;
        let row = load_group(&mut conn, id).await?;
        Ok(Response::new(GetGroupResponse {
            group: Some(row.to_proto()),
        }))
    }

    async fn list_groups(
        &self,
        request: Request<ListGroupsRequest>,
    ) -> Result<Response<ListGroupsResponse>, Status> {
        let body = request.into_inner();
        let page = Page::parse(body.page_size, &body.page_token, b"groups")?;
        let after = match &page.after {
            None => None,
            Some(key) => {
                let (id, name) = key
                    .split_once(' ')
                    .ok_or_else(|| invalid_field("page_token", "not a page token of this list"))?;
                Some((name.to_owned(), uuid_field("page_token", id)?))
            }
        };
        let (mut rows, total) = store::list_groups(&self.pool, after, page.fetch_limit()).await?;
        let next_page_token =
            page.finish(&mut rows, |row| format!("{} {}", row.id, row.display_name));
        Ok(Response::new(ListGroupsResponse {
            groups: rows.iter().map(|row| row.to_proto()).collect(),
            next_page_token,
            total_size: total as i32,
        }))
    }

    async fn update_group(
        &self,
        request: Request<UpdateGroupRequest>,
    ) -> Result<Response<UpdateGroupResponse>, Status> {
        let (by, body) = request.into_principal_and_body()?;
        let group = body.group.unwrap_or_default();
        let paths = body.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut violations = FieldViolations::new();
        let fields = validate::mask_fields(&paths, GROUP_FIELDS, &mut violations);
        validate::check_group(&group, &fields, &mut violations);
        let id = violations.uuid("group.id", &group.id);
        violations.into_result()?;
        let id = id.unwrap_or_default();
        let mut tx = db::begin(&self.pool).await?;
        if !store::update_group(&mut tx, id, &group, &fields)
            .await
            .map_err(name_taken)?
        {
            return Err(Status::not_found(format!("no group {id}")));
        }
        let row = load_group(&mut tx, id).await?;
        publish_group_changed(&mut tx, &row, false, &by).await?;
        db::commit(tx).await?;
        Ok(Response::new(UpdateGroupResponse {
            group: Some(row.to_proto()),
        }))
    }

    async fn delete_group(
        &self,
        request: Request<DeleteGroupRequest>,
    ) -> Result<Response<DeleteGroupResponse>, Status> {
        let (by, request) = request.into_principal_and_body()?;
        let id = uuid_field("id", &request.id)?;
        let mut tx = db::begin(&self.pool).await?;
        let row = load_group(&mut tx, id).await?;
        if !store::delete_group(&mut tx, id).await? {
            return Err(Status::failed_precondition(
                "agents still belong to the group; move them first",
            ));
        }
        publish_group(
            &mut tx,
            id,
            row.version + 1,
            &GroupDeleted {
                group_id: id.to_string(),
            },
            &by,
        )
        .await?;
        db::commit(tx).await?;
        Ok(Response::new(DeleteGroupResponse {}))
    }
}

fn name_taken(error: Error) -> Error {
    error.unique_violation(
        "groups_display_name_key",
        "group.display_name",
        "is taken by another group",
    )
}
