//! `switchboard.gateway.v1.ApiKeyService` (admins only; the gateway's table says so).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use switchboard_platform::error::quote;
use switchboard_platform::{
    db,
    error::FieldViolations,
    events::{NewEvent, publish},
    paging::Page,
    principal::PrincipalExt,
    request::{PrincipalAndBody, uuid_field},
    request_id::{RequestId, commit_with},
};
use switchboard_proto::{
    events::v1::{ApiKeyCreated, ApiKeyRevoked},
    gateway::v1::{api_key_service_server::ApiKeyService, *},
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{KeyRing, new_secret, store};
use crate::{authz::SCOPES, directory::SOURCE};

#[derive(Clone)]
pub struct ApiKeyApi {
    pool: PgPool,
    keys: KeyRing,
}

impl ApiKeyApi {
    pub fn new(pool: PgPool, keys: KeyRing) -> Self {
        Self { pool, keys }
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

fn check_key(key: &ApiKey) -> Result<Option<DateTime<Utc>>, Status> {
    let mut violations = FieldViolations::new();
    violations.check(
        !valid_name(&key.display_name),
        "api_key.display_name",
        || "must be 1 to 64 characters of a-z, 0-9, '-', '_', '.'".into(),
    );
    violations.check(
        key.description.chars().count() > 500,
        "api_key.description",
        || "must be at most 500 characters".into(),
    );
    violations.check(key.scopes.is_empty(), "api_key.scopes", || {
        "must grant at least one scope".into()
    });
    for (i, scope) in key.scopes.iter().enumerate() {
        violations.check(
            !SCOPES.contains(&scope.as_str()),
            &format!("api_key.scopes[{i}]"),
            || {
                format!(
                    "unknown scope {}; valid: {}",
                    quote(scope),
                    SCOPES.join(", ")
                )
            },
        );
    }
    let expire_time = key
        .expire_time
        .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32));
    if key.expire_time.is_some() {
        violations.check(
            expire_time.is_none_or(|at| at <= Utc::now()),
            "api_key.expire_time",
            || "must be in the future".into(),
        );
    }
    violations.into_result()?;
    Ok(expire_time)
}

#[tonic::async_trait]
impl ApiKeyService for ApiKeyApi {
    async fn create_api_key(
        &self,
        request: Request<CreateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        let (by, body) = request.into_principal_and_body()?;
        let request_id = RequestId::parse("CreateApiKey", &body.request_id, &body, &by)?;
        let mut key = body.api_key.unwrap_or_default();
        key.scopes.dedup();
        let expire_time = check_key(&key)?;
        let mut tx = db::begin(&self.pool).await?;
        if let Some(id) = &request_id
            && let Some(replayed) = id.replay::<CreateApiKeyResponse>(&mut tx).await?
        {
            return Ok(Response::new(replayed));
        }
        let id = Uuid::now_v7();
        let secret = new_secret();
        let new = store::NewKey {
            id,
            display_name: &key.display_name,
            description: &key.description,
            scopes: &key.scopes,
            secret: &secret,
            expire_time,
            created_by: &by.subject,
        };
        store::insert(&mut tx, &new).await.map_err(|e| {
            e.unique_violation(
                "api_keys_display_name_key",
                "api_key.display_name",
                format_args!("{} is taken", quote(&key.display_name)),
            )
        })?;
        let row = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| Status::internal("api key vanished"))?;
        let event = NewEvent::new(
            &ApiKeyCreated {
                api_key: Some(row.to_proto()),
            },
            &id.to_string(),
            1,
        )
        .with_actor(by.actor());
        publish(&mut tx, SOURCE, event).await?;
        let response = CreateApiKeyResponse {
            api_key: Some(row.to_proto()),
            secret: String::new(),
        };
        // A retry gets the key without its secret: the secret is never stored.
        let mut response = commit_with(request_id.as_ref(), tx, response).await?;
        response.secret = secret;
        Ok(Response::new(response))
    }

    async fn get_api_key(
        &self,
        request: Request<GetApiKeyRequest>,
    ) -> Result<Response<GetApiKeyResponse>, Status> {
        let id = uuid_field("id", &request.get_ref().id)?;
        let mut conn = db::acquire(&self.pool).await?;
        let row = store::get(&mut conn, id)
            .await?
            .ok_or_else(|| Status::not_found(format!("no API key {id}")))?;
        Ok(Response::new(GetApiKeyResponse {
            api_key: Some(row.to_proto()),
        }))
    }

    async fn list_api_keys(
        &self,
        request: Request<ListApiKeysRequest>,
    ) -> Result<Response<ListApiKeysResponse>, Status> {
        let body = request.into_inner();
        let filters = [u8::from(body.show_inactive)];
        let page = Page::parse(body.page_size, &body.page_token, &filters)?;
        let after = page
            .after
            .as_deref()
            .map(|id| uuid_field("page_token", id))
            .transpose()?;
        let (mut rows, total) =
            store::list(&self.pool, body.show_inactive, after, page.fetch_limit()).await?;
        let next_page_token = page.finish(&mut rows, |row| row.id.to_string());
        Ok(Response::new(ListApiKeysResponse {
            api_keys: rows.iter().map(|row| row.to_proto()).collect(),
            next_page_token,
            total_size: total as i32,
        }))
    }

    async fn revoke_api_key(
        &self,
        request: Request<RevokeApiKeyRequest>,
    ) -> Result<Response<RevokeApiKeyResponse>, Status> {
        let (by, request) = request.into_principal_and_body()?;
        let id = uuid_field("id", &request.id)?;
        let mut tx = db::begin(&self.pool).await?;
        if store::get(&mut tx, id).await?.is_none() {
            return Err(Status::not_found(format!("no API key {id}")));
        }
        let revoked = store::revoke(&mut tx, id, &by.subject).await?;
        let row = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| Status::not_found(format!("no API key {id}")))?;
        if revoked {
            let event = NewEvent::new(
                &ApiKeyRevoked {
                    api_key: Some(row.to_proto()),
                },
                &id.to_string(),
                2,
            )
            .with_actor(by.actor());
            publish(&mut tx, SOURCE, event).await?;
        }
        db::commit(tx).await?;
        self.keys.forget_all();
        Ok(Response::new(RevokeApiKeyResponse {
            api_key: Some(row.to_proto()),
        }))
    }
}
