//! The gateway's admission: who is calling (bearer token, API key or a Switchboard service's
//! signed principal), may they call this method, are they within their limits — then the
//! caller's identity metadata is replaced by the principal the gateway signs.

use std::{sync::Arc, time::Duration};

use futures_util::future::BoxFuture;
use switchboard_platform::error::quote;
use switchboard_platform::{
    grpc::{Admission, AdmissionGuard},
    principal::{PRINCIPAL_METADATA_KEY, PrincipalKey, signed_principal},
};
use switchboard_proto::{
    common::v1::{Principal, PrincipalKind},
    gateway::v1::CredentialKind,
};
use tonic::{Code, Status, metadata::MetadataValue};
use tonic_types::{ErrorDetails, StatusExt};

use super::{
    AgentCache, ConcurrencyLimit, Credential, RateLimiter, agent_principal, tokens::TokenVerifier,
};
use crate::{
    api_keys::{KeyRing, SECRET_PREFIX, key_principal},
    authz,
    routing::{API_KEY_HEADER, strip_identity},
};

pub struct GatewayAdmission {
    pub tokens: Arc<TokenVerifier>,
    pub keys: KeyRing,
    pub agents: AgentCache,
    pub mesh_key: PrincipalKey,
    pub principal_lifetime: Duration,
    pub rate: RateLimiter,
    pub concurrency: ConcurrencyLimit,
}

impl GatewayAdmission {
    /// The principal and credential of the caller, from what they sent.
    async fn authenticate(
        &self,
        bearer: Option<String>,
        mesh: Option<Vec<u8>>,
    ) -> Result<(Principal, Credential), Status> {
        let credential = |kind| Credential {
            kind,
            api_key_id: String::new(),
        };
        if let Some(secret) = bearer.as_deref().filter(|b| b.starts_with(SECRET_PREFIX)) {
            let key = self
                .keys
                .find(secret)
                .await
                .map_err(|e| unavailable("read API keys", &e))?
                .ok_or_else(|| {
                    Status::unauthenticated("the API key is unknown, revoked or expired")
                })?;
            let api_key_id = key.id.to_string();
            return Ok((
                key_principal(&key),
                Credential {
                    kind: CredentialKind::ApiKey,
                    api_key_id,
                },
            ));
        }
        if let Some(token) = bearer {
            let subject = self
                .tokens
                .verify(&token)
                .await
                .map_err(|e| Status::unauthenticated(e.to_string()))?;
            let login = subject.login.to_lowercase();
            let agent = self
                .agents
                .get(&login)
                .await
                .map_err(|e| unavailable("read the directory", &e))?
                .ok_or_else(|| {
                    Status::unauthenticated(format!(
                        "{} is not an agent of the directory",
                        quote(&login)
                    ))
                })?;
            if agent.disabled {
                return Err(Status::unauthenticated(format!(
                    "agent {} is disabled",
                    quote(&login)
                )));
            }
            let kind = if subject.local {
                CredentialKind::LocalToken
            } else {
                CredentialKind::IdpToken
            };
            return Ok((agent_principal(&agent), credential(kind)));
        }
        // A Switchboard service calling the gateway's own services signs its principal with the
        // mesh key; only service principals are taken this way.
        if let Some(signed) = mesh
            && let Ok(principal) = self.mesh_key.verify(&signed)
            && principal.kind() == PrincipalKind::Service
        {
            return Ok((principal, credential(CredentialKind::Service)));
        }
        Err(Status::unauthenticated(
            "credentials required: send `authorization: Bearer <token or API key>`",
        ))
    }
}

fn unavailable(operation: &str, error: &dyn std::fmt::Display) -> Status {
    tracing::error!(operation, %error, "cannot authenticate");
    Status::unavailable("authentication is unavailable; retry")
}

/// The credential a caller sent: `authorization: Bearer <token or API key>`,
/// `authorization: ApiKey <secret>` or `x-api-key: <secret>`.
fn credential(headers: &http::HeaderMap) -> Result<Option<String>, Status> {
    let malformed = || {
        Status::unauthenticated(
            "the authorization header must be `Bearer <credential>` or `ApiKey <secret>`",
        )
    };
    let value = match (
        headers.get(http::header::AUTHORIZATION),
        headers.get(API_KEY_HEADER),
    ) {
        (Some(value), _) => {
            let value = value.to_str().map_err(|_| malformed())?;
            ["Bearer ", "bearer ", "ApiKey "]
                .iter()
                .find_map(|scheme| value.strip_prefix(scheme))
                .ok_or_else(malformed)?
                .trim()
                .to_owned()
        }
        (None, Some(value)) => value.to_str().map_err(|_| malformed())?.trim().to_owned(),
        (None, None) => return Ok(None),
    };
    if value.is_empty() {
        return Err(malformed());
    }
    Ok(Some(value))
}

fn rate_limited(wait: Duration) -> Status {
    let mut details = ErrorDetails::new();
    details.set_retry_info(Some(wait));
    Status::with_error_details(
        Code::ResourceExhausted,
        format!(
            "rate limit exceeded; retry in {} ms",
            wait.as_millis().max(1)
        ),
        details,
    )
}

impl Admission for GatewayAdmission {
    fn admit<'a>(
        &'a self,
        parts: &'a mut http::request::Parts,
    ) -> BoxFuture<'a, Result<Option<AdmissionGuard>, Status>> {
        Box::pin(async move {
            let permit = self.concurrency.try_acquire().ok_or_else(|| {
                Status::unavailable("the gateway is at its concurrency limit; retry")
            })?;
            let bearer = credential(&parts.headers)?;
            let mesh = signed_principal(&parts.headers);
            strip_identity(&mut parts.headers);
            let (mut principal, credential) = self.authenticate(bearer, mesh).await?;
            let path = parts.uri.path().to_owned();
            if let Err(denied) = authz::authorize(&path, &principal) {
                tracing::info!(subject = %principal.subject, path = %quote(&path), %denied, "call denied");
                return Err(Status::permission_denied(denied.to_string()));
            }
            self.rate.take(&principal.subject).map_err(rate_limited)?;
            principal.expire_time = None;
            let signed = self.mesh_key.sign(principal, self.principal_lifetime);
            let value = MetadataValue::from_bytes(&signed);
            let mut metadata = tonic::metadata::MetadataMap::new();
            metadata.insert_bin(PRINCIPAL_METADATA_KEY, value);
            parts.headers.extend(metadata.into_headers());
            parts.extensions.insert(credential);
            Ok(Some(Box::new(permit) as AdmissionGuard))
        })
    }
}
