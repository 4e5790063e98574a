//! The SQL of templates (table `templates`).

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use switchboard_platform::{error::Result, time::timestamp};
use switchboard_proto::ticket::v1::Template;
use uuid::Uuid;

const COLUMNS: &str = "id, name, subject, body, group_ids, active, create_time, update_time";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: Uuid,
    pub name: String,
    pub subject: String,
    pub body: String,
    pub group_ids: Vec<Uuid>,
    pub active: bool,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl TemplateRow {
    pub fn to_proto(&self) -> Template {
        Template {
            id: self.id.to_string(),
            name: self.name.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
            group_ids: self.group_ids.iter().map(Uuid::to_string).collect(),
            active: self.active,
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
        }
    }

    /// Whether an agent of `groups` may use it: an every-group template or one of theirs.
    pub fn for_groups(&self, groups: &[Uuid]) -> bool {
        self.group_ids.is_empty() || self.group_ids.iter().any(|g| groups.contains(g))
    }
}

/// Which templates a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub active_only: bool,
    /// Those usable by this group (its own and every-group templates).
    pub group: Option<Uuid>,
    /// Those usable by an agent of these groups; `None` for admins (no restriction).
    pub agent_groups: Option<Vec<Uuid>>,
}

pub async fn insert(conn: &mut PgConnection, row: &TemplateRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO templates (id, name, subject, body, group_ids, active, create_time,
           update_time)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(row.id)
    .bind(&row.name)
    .bind(&row.subject)
    .bind(&row.body)
    .bind(&row.group_ids)
    .bind(row.active)
    .bind(row.create_time)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn save(conn: &mut PgConnection, row: &TemplateRow) -> Result<()> {
    sqlx::query(
        "UPDATE templates SET name = $2, subject = $3, body = $4, group_ids = $5, active = $6,
           update_time = $7
         WHERE id = $1",
    )
    .bind(row.id)
    .bind(&row.name)
    .bind(&row.subject)
    .bind(&row.body)
    .bind(&row.group_ids)
    .bind(row.active)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// The template `id`, locked for a change when `lock` is set.
pub async fn get(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<TemplateRow>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM templates WHERE id = $1{suffix}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// True when a template was deleted.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM templates WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

const MATCHES: &str = "(active OR NOT $1)
    AND ($2::uuid IS NULL OR group_ids = '{}' OR $2 = ANY (group_ids))
    AND ($3::uuid[] IS NULL OR group_ids = '{}' OR group_ids && $3)";

/// Up to `limit` templates matching `filter` by name after `after` (name, id), and how many
/// match in all.
pub async fn list(
    pool: &PgPool,
    filter: &Filter,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<(Vec<TemplateRow>, i64)> {
    let (after_name, after_id) = after.map(|(n, i)| (Some(n), Some(i))).unwrap_or_default();
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM templates
         WHERE {MATCHES} AND ($4::text IS NULL OR (name, id) > ($4, $5))
         ORDER BY name, id LIMIT $6"
    )))
    .bind(filter.active_only)
    .bind(filter.group)
    .bind(&filter.agent_groups)
    .bind(after_name)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let (total,): (i64,) = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT count(*) FROM templates WHERE {MATCHES}"
    )))
    .bind(filter.active_only)
    .bind(filter.group)
    .bind(&filter.agent_groups)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}
