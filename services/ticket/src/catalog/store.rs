//! The SQL of both lists; the table is the catalog's (`Catalog::table`, a fixed name, never
//! caller input).

use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use switchboard_platform::error::Result;
use uuid::Uuid;

use super::{entry::EntryRow, lookup::Catalog};

const COLUMNS: &str = "id, name, description, active, position, used, create_time, update_time";

/// Where a page starts: after this entry in display order (position, name, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub position: i32,
    pub name: String,
    pub id: Uuid,
}

/// Inserts `row`; position 0 becomes one after the last entry.
pub async fn insert(conn: &mut PgConnection, catalog: Catalog, row: &EntryRow) -> Result<EntryRow> {
    let table = catalog.table();
    let inserted = sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO {table} (id, name, description, active, position, create_time, update_time)
         SELECT $1, $2, $3, $4,
                CASE WHEN $5 = 0 THEN COALESCE((SELECT max(position) FROM {table}), 0) + 1
                     ELSE $5 END,
                $6, $6
         RETURNING {COLUMNS}"
    )))
    .bind(row.id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(row.active)
    .bind(row.position)
    .bind(row.create_time)
    .fetch_one(conn)
    .await?;
    Ok(inserted)
}

/// The entry `id`, locked for a change when `lock` is set.
pub async fn get(
    conn: &mut PgConnection,
    catalog: Catalog,
    id: Uuid,
    lock: bool,
) -> Result<Option<EntryRow>> {
    let table = catalog.table();
    let suffix = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {table} WHERE id = $1{suffix}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Writes the changeable fields of `row`; position 0 becomes one after the last entry.
pub async fn save(conn: &mut PgConnection, catalog: Catalog, row: &EntryRow) -> Result<EntryRow> {
    let table = catalog.table();
    let saved = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE {table} SET name = $2, description = $3, active = $4,
           position = CASE WHEN $5 = 0
               THEN COALESCE((SELECT max(position) FROM {table} WHERE id <> $1), 0) + 1
               ELSE $5 END,
           update_time = $6
         WHERE id = $1
         RETURNING {COLUMNS}"
    )))
    .bind(row.id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(row.active)
    .bind(row.position)
    .bind(row.update_time)
    .fetch_one(conn)
    .await?;
    Ok(saved)
}

pub async fn delete(conn: &mut PgConnection, catalog: Catalog, id: Uuid) -> Result<()> {
    let table = catalog.table();
    sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE id = $1")))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Up to `limit` entries in display order after `after`, and how many match in all.
pub async fn list(
    pool: &PgPool,
    catalog: Catalog,
    active_only: bool,
    after: Option<After>,
    limit: i64,
) -> Result<(Vec<EntryRow>, i64)> {
    let table = catalog.table();
    let (position, name, id) = match after {
        Some(after) => (Some(after.position), Some(after.name), Some(after.id)),
        None => (None, None, None),
    };
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {table}
         WHERE (active OR NOT $1)
           AND ($2::integer IS NULL OR (position, name, id) > ($2, $3, $4))
         ORDER BY position, name, id
         LIMIT $5"
    )))
    .bind(active_only)
    .bind(position)
    .bind(name)
    .bind(id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE active OR NOT $1"
    )))
    .bind(active_only)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}
