//! `switchboard.gateway.v1.AuthService`: the gateway's own tokens, and who the caller is.

use std::{sync::Arc, time::Duration};

use switchboard_platform::{error::invalid_field, request::PrincipalAndBody};
use switchboard_proto::gateway::v1::{auth_service_server::AuthService, *};
use tonic::{Request, Response, Status};

use crate::{
    auth::{AgentCache, Credential, agent_principal, tokens::TokenVerifier},
    directory::validate::normalize_login,
};

#[derive(Clone)]
pub struct AuthApi {
    tokens: Arc<TokenVerifier>,
    agents: AgentCache,
}

impl AuthApi {
    pub fn new(tokens: Arc<TokenVerifier>, agents: AgentCache) -> Self {
        Self { tokens, agents }
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn issue_token(
        &self,
        request: Request<IssueTokenRequest>,
    ) -> Result<Response<IssueTokenResponse>, Status> {
        let body = request.into_inner();
        let login = normalize_login(&body.agent_login)
            .ok_or_else(|| invalid_field("agent_login", "is not a valid login"))?;
        let ttl = match body.ttl {
            None => None,
            Some(ttl) if ttl.seconds > 0 && ttl.nanos >= 0 => {
                Some(Duration::from_secs(ttl.seconds as u64))
            }
            Some(_) => return Err(invalid_field("ttl", "must be positive")),
        };
        let agent = self
            .agents
            .get(&login)
            .await?
            .ok_or_else(|| Status::not_found(format!("no agent {login:?}")))?;
        if agent.disabled {
            return Err(Status::failed_precondition(format!(
                "agent {login:?} is disabled"
            )));
        }
        let (access_token, expires) = self.tokens.issue(&login, ttl);
        Ok(Response::new(IssueTokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expire_time: Some(prost_types::Timestamp::from(expires)),
            principal: Some(agent_principal(&agent)),
        }))
    }

    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let credential = request.extensions().get::<Credential>().cloned();
        let (principal, _) = request.into_principal_and_body()?;
        Ok(Response::new(WhoAmIResponse {
            principal: Some(principal),
            credential_kind: credential
                .as_ref()
                .map_or(CredentialKind::Unspecified, |c| c.kind)
                as i32,
            api_key_id: credential.map(|c| c.api_key_id).unwrap_or_default(),
        }))
    }
}
