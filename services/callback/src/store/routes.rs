//! IVR routes.

use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;
use uuid::Uuid;

use super::RouteRow;

const SELECT: &str = "SELECT id, code, display_name, description, repeat_request_policy, disabled,
    version, create_time, update_time FROM ivr_routes";

pub async fn insert(conn: &mut PgConnection, route: &RouteRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO ivr_routes (id, code, display_name, description, repeat_request_policy,
           disabled, version, create_time, update_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(route.id)
    .bind(&route.code)
    .bind(&route.display_name)
    .bind(&route.description)
    .bind(route.repeat_request_policy)
    .bind(route.disabled)
    .bind(route.version)
    .bind(route.create_time)
    .bind(route.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn save(conn: &mut PgConnection, route: &RouteRow) -> Result<()> {
    sqlx::query(
        "UPDATE ivr_routes SET code = $2, display_name = $3, description = $4,
           repeat_request_policy = $5, disabled = $6, version = $7, update_time = $8
         WHERE id = $1",
    )
    .bind(route.id)
    .bind(&route.code)
    .bind(&route.display_name)
    .bind(&route.description)
    .bind(route.repeat_request_policy)
    .bind(route.disabled)
    .bind(route.version)
    .bind(route.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// The route, locked for a change when `lock` is set.
pub async fn get(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<RouteRow>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE id = $1{suffix}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn by_code(pool: &PgPool, code: &str) -> Result<Option<RouteRow>> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE code = $1")))
            .bind(code)
            .fetch_optional(pool)
            .await?,
    )
}

/// A page of routes ordered by display name, then id, after `after` (name, id); and the total.
pub async fn list(
    pool: &PgPool,
    exclude_disabled: bool,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<(Vec<RouteRow>, i64)> {
    let (after_name, after_id) = after.map(|(n, i)| (Some(n), Some(i))).unwrap_or_default();
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE (NOT $1 OR NOT disabled)
           AND ($2::text IS NULL OR (display_name, id) > ($2, $3))
         ORDER BY display_name, id LIMIT $4"
    )))
    .bind(exclude_disabled)
    .bind(after_name)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let (total,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM ivr_routes WHERE (NOT $1 OR NOT disabled)")
            .bind(exclude_disabled)
            .fetch_one(pool)
            .await?;
    Ok((rows, total))
}

pub async fn has_callbacks(conn: &mut PgConnection, id: Uuid) -> Result<bool> {
    let (found,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM callbacks WHERE ivr_route_id = $1)")
            .bind(id)
            .fetch_one(conn)
            .await?;
    Ok(found)
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM ivr_routes WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
