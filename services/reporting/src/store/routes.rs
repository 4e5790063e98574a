//! `ivr_routes`: the routes as their newest event described them, for people-readable exports.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;
use uuid::Uuid;

/// A route's newest known form.
#[derive(Debug, Clone)]
pub struct RouteRow {
    pub id: Uuid,
    pub version: i64,
    pub code: String,
    pub display_name: String,
    pub deleted: bool,
}

/// Keeps `route` unless a newer version is already known; an older version still fills in a
/// name the row lacks (its deletion arrived first).
pub async fn save(tx: &mut PgConnection, route: &RouteRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO ivr_routes AS r (id, version, code, display_name, deleted)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET
             code = CASE WHEN r.version < EXCLUDED.version OR r.code = ''
                 THEN EXCLUDED.code ELSE r.code END,
             display_name = CASE WHEN r.version < EXCLUDED.version OR r.display_name = ''
                 THEN EXCLUDED.display_name ELSE r.display_name END,
             deleted = CASE WHEN r.version < EXCLUDED.version
                 THEN EXCLUDED.deleted ELSE r.deleted END,
             version = greatest(r.version, EXCLUDED.version)",
    )
    .bind(route.id)
    .bind(route.version)
    .bind(&route.code)
    .bind(&route.display_name)
    .bind(route.deleted)
    .execute(tx)
    .await?;
    Ok(())
}

/// Marks route `id` deleted at `version`, keeping the name it had.
pub async fn delete(tx: &mut PgConnection, id: Uuid, version: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO ivr_routes (id, version, code, display_name, deleted)
         VALUES ($1, $2, '', '', true)
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, deleted = true
         WHERE ivr_routes.version < EXCLUDED.version",
    )
    .bind(id)
    .bind(version)
    .execute(tx)
    .await?;
    Ok(())
}

/// "name (code)" of each named route of `ids`.
pub async fn labels(pool: &PgPool, ids: &[Uuid]) -> Result<HashMap<Uuid, String>> {
    let rows: Vec<(Uuid, String, String)> =
        sqlx::query_as("SELECT id, code, display_name FROM ivr_routes WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, code, name)| match (name.is_empty(), code.is_empty()) {
                (false, false) => (id, format!("{name} ({code})")),
                (true, false) => (id, code),
                _ => (id, name),
            },
        )
        .filter(|(_, label)| !label.is_empty())
        .collect())
}
