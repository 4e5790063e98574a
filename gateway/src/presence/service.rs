//! `switchboard.gateway.v1.PresenceService`. Agents act for themselves only; the CTI middleware
//! (`presence:write`) acts for anyone; readers (`presence:read`, admins) see everyone.

use sqlx::PgPool;
use switchboard_platform::error::quote;
use switchboard_platform::{
    db,
    error::{FieldViolations, invalid_field},
    paging::Page,
    principal::PrincipalExt,
    request::PrincipalAndBody,
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    events::v1::PresenceChangeReason,
    gateway::v1::{presence_service_server::PresenceService, *},
};
use tonic::{Request, Response, Status};

use super::PresenceStore;
use crate::directory::{
    store as directory,
    validate::{normalize_login, optional_group_id},
};

#[derive(Clone)]
pub struct PresenceApi {
    store: PresenceStore,
    pool: PgPool,
}

impl PresenceApi {
    pub fn new(store: PresenceStore, pool: PgPool) -> Self {
        Self { store, pool }
    }

    /// The login a call acts on: an agent's own (empty means themselves; another is
    /// PERMISSION_DENIED), anyone's for other callers, who must name it.
    fn target(principal: &Principal, agent_login: &str) -> Result<String, Status> {
        if principal.kind() == PrincipalKind::Agent {
            if agent_login.is_empty() || agent_login.eq_ignore_ascii_case(&principal.subject) {
                return Ok(principal.subject.clone());
            }
            return Err(Status::permission_denied(
                "agents may act on their own presence only",
            ));
        }
        if agent_login.is_empty() {
            return Err(invalid_field("agent_login", "required"));
        }
        normalize_login(agent_login)
            .ok_or_else(|| invalid_field("agent_login", "is not a valid login"))
    }

    async fn require_agent(&self, login: &str) -> Result<(), Status> {
        let mut conn = db::acquire(&self.pool).await?;
        directory::get_agent(&mut conn, login)
            .await?
            .map(|_| ())
            .ok_or_else(|| Status::not_found(format!("no agent {}", quote(login))))
    }
}

fn working_state(
    state: PresenceState,
    field: &str,
    default: Option<PresenceState>,
) -> Result<PresenceState, Status> {
    match state {
        PresenceState::Unspecified => default.ok_or_else(|| {
            invalid_field(field, "must be AVAILABLE, ON_CALL, AFTER_CALL_WORK or AWAY")
        }),
        PresenceState::Offline => Err(invalid_field(field, "OFFLINE cannot be set; call Logout")),
        state => Ok(state),
    }
}

#[tonic::async_trait]
impl PresenceService for PresenceApi {
    async fn login(
        &self,
        request: Request<LoginRequest>,
    ) -> Result<Response<LoginResponse>, Status> {
        let (principal, body) = request.into_principal_and_body()?;
        let login = Self::target(&principal, &body.agent_login)?;
        let state = working_state(body.state(), "state", Some(PresenceState::Available))?;
        if body.extension.chars().count() > 32 {
            return Err(invalid_field("extension", "must be at most 32 characters"));
        }
        let presence = self
            .store
            .login(&login, state, &body.extension, principal.actor())
            .await?;
        Ok(Response::new(LoginResponse {
            presence: Some(presence),
        }))
    }

    async fn logout(
        &self,
        request: Request<LogoutRequest>,
    ) -> Result<Response<LogoutResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let login = Self::target(&principal, &request.agent_login)?;
        self.require_agent(&login).await?;
        let presence = self
            .store
            .logout(
                &login,
                PresenceChangeReason::Logout,
                Some(principal.actor()),
            )
            .await?;
        Ok(Response::new(LogoutResponse {
            presence: Some(presence),
        }))
    }

    async fn heartbeat(
        &self,
        request: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let login = Self::target(&principal, &request.agent_login)?;
        let presence = self.store.heartbeat(&login).await?;
        Ok(Response::new(HeartbeatResponse {
            presence: Some(presence),
        }))
    }

    async fn set_state(
        &self,
        request: Request<SetStateRequest>,
    ) -> Result<Response<SetStateResponse>, Status> {
        let (principal, body) = request.into_principal_and_body()?;
        let login = Self::target(&principal, &body.agent_login)?;
        let state = working_state(body.state(), "state", None)?;
        let presence = self
            .store
            .set_state(&login, state, principal.actor())
            .await?;
        Ok(Response::new(SetStateResponse {
            presence: Some(presence),
        }))
    }

    async fn get_presence(
        &self,
        request: Request<GetPresenceRequest>,
    ) -> Result<Response<GetPresenceResponse>, Status> {
        let (principal, request) = request.into_principal_and_body()?;
        let login = Self::target(&principal, &request.agent_login)?;
        self.require_agent(&login).await?;
        let presence = self.store.get(&login).await?;
        Ok(Response::new(GetPresenceResponse {
            presence: Some(presence),
        }))
    }

    async fn list_present_agents(
        &self,
        request: Request<ListPresentAgentsRequest>,
    ) -> Result<Response<ListPresentAgentsResponse>, Status> {
        let body = request.into_inner();
        let page = Page::of(&body, |r| (&mut r.page_size, &mut r.page_token))?;
        let mut violations = FieldViolations::new();
        let group = optional_group_id(&body.group_id, &mut violations);
        for (i, state) in body.states.iter().enumerate() {
            let state = PresenceState::try_from(*state).unwrap_or(PresenceState::Unspecified);
            violations.check(
                matches!(state, PresenceState::Unspecified | PresenceState::Offline),
                &format!("states[{i}]"),
                || "must be AVAILABLE, ON_CALL, AFTER_CALL_WORK or AWAY".into(),
            );
        }
        violations.into_result()?;
        let mut present = self.store.present().await?;
        if !body.states.is_empty() {
            present.retain(|p| body.states.contains(&p.state));
        }
        if let Some(group) = group
            && !present.is_empty()
        {
            let logins: Vec<_> = present.iter().map(|p| p.agent_login.clone()).collect();
            let members: std::collections::HashSet<String> =
                directory::members_among(&self.pool, group, &logins)
                    .await?
                    .into_iter()
                    .collect();
            present.retain(|p| members.contains(&p.agent_login));
        }
        let total_size = present.len() as i32;
        let next_page_token = page.finish_sorted(&mut present, |p| p.agent_login.clone());
        Ok(Response::new(ListPresentAgentsResponse {
            presences: present,
            next_page_token,
            total_size,
        }))
    }
}
