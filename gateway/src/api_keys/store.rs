//! The `api_keys` table.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;
use switchboard_proto::{
    common::v1::Actor,
    gateway::v1::{ApiKey, ApiKeyState},
};
use uuid::Uuid;

use crate::directory::store::timestamp;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub display_name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub key_prefix: String,
    pub expire_time: Option<DateTime<Utc>>,
    pub create_time: DateTime<Utc>,
    pub created_by: String,
    pub revoke_time: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub last_used_time: Option<DateTime<Utc>>,
}

impl ApiKeyRow {
    pub fn state(&self, now: DateTime<Utc>) -> ApiKeyState {
        if self.revoke_time.is_some() {
            ApiKeyState::Revoked
        } else if self.expire_time.is_some_and(|at| at <= now) {
            ApiKeyState::Expired
        } else {
            ApiKeyState::Active
        }
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.state(now) == ApiKeyState::Active
    }

    pub fn to_proto(&self) -> ApiKey {
        let actor = |subject: &str| Actor {
            subject: subject.to_owned(),
            kind: "admin".into(),
            display_name: String::new(),
        };
        ApiKey {
            id: self.id.to_string(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            scopes: self.scopes.clone(),
            key_prefix: self.key_prefix.clone(),
            state: self.state(Utc::now()) as i32,
            expire_time: self.expire_time.map(timestamp),
            create_time: Some(timestamp(self.create_time)),
            created_by: Some(actor(&self.created_by)),
            revoke_time: self.revoke_time.map(timestamp),
            revoked_by: self.revoked_by.as_deref().map(actor),
            last_used_time: self.last_used_time.map(timestamp),
        }
    }
}

const COLUMNS: &str = "id, display_name, description, scopes, key_prefix, expire_time, create_time,
    created_by, revoke_time, revoked_by, last_used_time";

pub async fn find_by_hash(pool: &PgPool, hash: &[u8]) -> Result<Option<ApiKeyRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE secret_hash = $1"
    )))
    .bind(hash)
    .fetch_optional(pool)
    .await?)
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<ApiKeyRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// One page, newest first (ids are UUIDv7, so by id descending) after the given id, and the
/// total count.
pub async fn list(
    pool: &PgPool,
    show_inactive: bool,
    after: Option<Uuid>,
    limit: i64,
) -> Result<(Vec<ApiKeyRow>, i64)> {
    const ACTIVE: &str =
        "($1 OR (revoke_time IS NULL AND (expire_time IS NULL OR expire_time > now())))";
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE {ACTIVE} AND ($2::uuid IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    )))
    .bind(show_inactive)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM api_keys WHERE {ACTIVE}"
    )))
    .bind(show_inactive)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}

pub struct NewKey<'a> {
    pub id: Uuid,
    pub display_name: &'a str,
    pub description: &'a str,
    pub scopes: &'a [String],
    pub secret: &'a str,
    pub expire_time: Option<DateTime<Utc>>,
    pub created_by: &'a str,
}

pub async fn insert(conn: &mut PgConnection, key: &NewKey<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, display_name, description, scopes, key_prefix, secret_hash,
                               expire_time, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(key.id)
    .bind(key.display_name)
    .bind(key.description)
    .bind(key.scopes)
    .bind(&key.secret[..8])
    .bind(super::hash_secret(key.secret))
    .bind(key.expire_time)
    .bind(key.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes an active key; `Ok(false)` when it was revoked already.
pub async fn revoke(conn: &mut PgConnection, id: Uuid, by: &str) -> Result<bool> {
    let revoked = sqlx::query(
        "UPDATE api_keys SET revoke_time = now(), revoked_by = $2
         WHERE id = $1 AND revoke_time IS NULL",
    )
    .bind(id)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(revoked.rows_affected() == 1)
}

pub async fn touch(pool: &PgPool, id: Uuid) -> Result<()> {
    sqlx::query("UPDATE api_keys SET last_used_time = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
