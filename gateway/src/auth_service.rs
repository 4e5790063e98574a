//! `switchboard.gateway.v1.AuthService`: the gateway's own tokens, and who the caller is.

use std::{sync::Arc, time::Duration};

use switchboard_platform::error::quote;
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

/// The shortest lifetime `IssueToken` grants (auth.proto).
const MIN_TTL: Duration = Duration::from_secs(60);

impl AuthApi {
    /// A requested lifetime within 1 minute to the configured maximum, else `INVALID_ARGUMENT`
    /// naming `ttl` (never silently capped).
    fn ttl(&self, ttl: prost_types::Duration) -> Result<Duration, Status> {
        let max = self.tokens.max_ttl();
        let requested = u64::try_from(ttl.seconds)
            .ok()
            .zip(u32::try_from(ttl.nanos).ok())
            .filter(|(_, nanos)| *nanos < 1_000_000_000)
            .map(|(seconds, nanos)| Duration::new(seconds, nanos));
        match requested {
            Some(ttl) if (MIN_TTL..=max).contains(&ttl) => Ok(ttl),
            _ => Err(invalid_field(
                "ttl",
                format!(
                    "must be from 1 minute to {} seconds (the configured maximum)",
                    max.as_secs()
                ),
            )),
        }
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
            Some(ttl) => Some(self.ttl(ttl)?),
        };
        let agent = self
            .agents
            .get(&login)
            .await?
            .ok_or_else(|| Status::not_found(format!("no agent {}", quote(&login))))?;
        if agent.disabled {
            return Err(Status::failed_precondition(format!(
                "agent {} is disabled",
                quote(&login)
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
