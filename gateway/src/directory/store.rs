//! The directory's tables: plain async functions over a connection or the pool.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use switchboard_platform::error::Result;
use switchboard_proto::gateway::v1::{Agent, AgentRole, Group};
use uuid::Uuid;

/// An agent as stored (deleted agents are never returned).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRow {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub permissions: Vec<String>,
    pub disabled: bool,
    pub version: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub group_ids: Vec<Uuid>,
}

impl AgentRow {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    pub fn to_proto(&self) -> Agent {
        Agent {
            login: self.login.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            role: role_to_proto(&self.role) as i32,
            permissions: self.permissions.clone(),
            group_ids: self.group_ids.iter().map(Uuid::to_string).collect(),
            disabled: self.disabled,
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub display_name: String,
    pub description: String,
    pub version: i64,
    pub member_count: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

impl GroupRow {
    pub fn to_proto(&self) -> Group {
        Group {
            id: self.id.to_string(),
            display_name: self.display_name.clone(),
            description: self.description.clone(),
            member_count: self.member_count as i32,
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
        }
    }
}

pub use switchboard_platform::time::timestamp;

pub fn role_to_proto(role: &str) -> AgentRole {
    match role {
        "admin" => AgentRole::Admin,
        _ => AgentRole::Agent,
    }
}

pub fn role_to_sql(role: AgentRole) -> &'static str {
    match role {
        AgentRole::Admin => "admin",
        _ => "agent",
    }
}

const AGENT_COLUMNS: &str = "a.login, a.display_name, a.email, a.role, a.permissions, a.disabled,
    a.version, a.create_time, a.update_time,
    COALESCE((SELECT array_agg(g.group_id ORDER BY g.position) FROM agent_groups g
              WHERE g.login = a.login), '{}') AS group_ids";

pub async fn get_agent(conn: &mut PgConnection, login: &str) -> Result<Option<AgentRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents a WHERE a.login = $1 AND a.deleted_time IS NULL"
    )))
    .bind(login)
    .fetch_optional(conn)
    .await?)
}

/// The filters of `ListAgents`, already checked.
#[derive(Debug, Default)]
pub struct AgentFilter {
    pub group_id: Option<Uuid>,
    pub permission: Option<String>,
    pub role: Option<&'static str>,
    pub logins: Vec<String>,
    pub show_disabled: bool,
    /// Only agents sharing a group with this login (an agent listing colleagues).
    pub colleagues_of: Option<String>,
}

const AGENT_FILTER: &str = "a.deleted_time IS NULL
    AND ($1::uuid IS NULL OR EXISTS (SELECT 1 FROM agent_groups g WHERE g.login = a.login AND g.group_id = $1))
    AND ($2::text IS NULL OR $2 = ANY (a.permissions))
    AND ($3::text IS NULL OR a.role = $3)
    AND (cardinality($4::text[]) = 0 OR a.login = ANY ($4))
    AND ($5 OR NOT a.disabled)
    AND ($6::text IS NULL OR EXISTS (
        SELECT 1 FROM agent_groups mine JOIN agent_groups theirs USING (group_id)
        WHERE mine.login = $6 AND theirs.login = a.login))";

/// One page of agents after `after` (by login), and the total count.
pub async fn list_agents(
    pool: &PgPool,
    filter: &AgentFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<AgentRow>, i64)> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents a WHERE {AGENT_FILTER}
         AND ($7::text IS NULL OR a.login > $7) ORDER BY a.login LIMIT $8"
    )))
    .bind(filter.group_id)
    .bind(&filter.permission)
    .bind(filter.role)
    .bind(&filter.logins)
    .bind(filter.show_disabled)
    .bind(&filter.colleagues_of)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM agents a WHERE {AGENT_FILTER}"
    )))
    .bind(filter.group_id)
    .bind(&filter.permission)
    .bind(filter.role)
    .bind(&filter.logins)
    .bind(filter.show_disabled)
    .bind(&filter.colleagues_of)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}

/// Which of `logins` are active members of `group_id` (the presence list's group filter).
pub async fn members_among(
    pool: &PgPool,
    group_id: Uuid,
    logins: &[String],
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT a.login FROM agents a JOIN agent_groups g USING (login)
         WHERE g.group_id = $1 AND a.login = ANY ($2)
           AND NOT a.disabled AND a.deleted_time IS NULL",
    )
    .bind(group_id)
    .bind(logins)
    .fetch_all(pool)
    .await?)
}

/// Is the login taken, by a live or a deleted agent?
pub async fn login_ever_used(conn: &mut PgConnection, login: &str) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM agents WHERE login = $1)")
            .bind(login)
            .fetch_one(conn)
            .await?,
    )
}

/// The group ids among `ids` that do not exist.
pub async fn missing_groups(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT t.wanted FROM unnest($1::uuid[]) AS t(wanted)
         WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = t.wanted)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?)
}

pub async fn insert_agent(
    conn: &mut PgConnection,
    agent: &Agent,
    group_ids: &[Uuid],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO agents (login, display_name, email, role, permissions, disabled)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&agent.login)
    .bind(agent.display_name.trim())
    .bind(&agent.email)
    .bind(role_to_sql(agent.role()))
    .bind(&agent.permissions)
    .bind(agent.disabled)
    .execute(&mut *conn)
    .await?;
    set_groups(conn, &agent.login, group_ids).await
}

pub async fn set_groups(conn: &mut PgConnection, login: &str, group_ids: &[Uuid]) -> Result<()> {
    sqlx::query("DELETE FROM agent_groups WHERE login = $1")
        .bind(login)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO agent_groups (login, group_id, position)
         SELECT $1, id, position::int FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, position)",
    )
    .bind(login)
    .bind(group_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the changed fields of `agent` (its other fields are ignored) and bumps the version.
pub async fn update_agent(conn: &mut PgConnection, agent: &Agent, fields: &[&str]) -> Result<()> {
    let has = |f: &str| fields.contains(&f);
    sqlx::query(
        "UPDATE agents SET
            display_name = CASE WHEN $2 THEN $3 ELSE display_name END,
            email = CASE WHEN $4 THEN $5 ELSE email END,
            role = CASE WHEN $6 THEN $7 ELSE role END,
            permissions = CASE WHEN $8 THEN $9 ELSE permissions END,
            disabled = CASE WHEN $10 THEN $11 ELSE disabled END,
            version = version + 1, update_time = now()
         WHERE login = $1",
    )
    .bind(&agent.login)
    .bind(has("display_name"))
    .bind(agent.display_name.trim())
    .bind(has("email"))
    .bind(&agent.email)
    .bind(has("role"))
    .bind(role_to_sql(agent.role()))
    .bind(has("permissions"))
    .bind(&agent.permissions)
    .bind(has("disabled"))
    .bind(agent.disabled)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_agent_deleted(conn: &mut PgConnection, login: &str) -> Result<()> {
    sqlx::query("DELETE FROM agent_groups WHERE login = $1")
        .bind(login)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE agents SET deleted_time = now(), disabled = true, version = version + 1 WHERE login = $1",
    )
    .bind(login)
    .execute(conn)
    .await?;
    Ok(())
}

/// The logins of active admins, locked until the transaction ends (so two changes cannot each
/// remove a different last admin).
pub async fn lock_active_admins(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT login FROM agents WHERE role = 'admin' AND NOT disabled AND deleted_time IS NULL
         ORDER BY login FOR UPDATE",
    )
    .fetch_all(conn)
    .await?)
}

/// Locks one live agent row for a change.
pub async fn lock_agent(conn: &mut PgConnection, login: &str) -> Result<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT login FROM agents WHERE login = $1 AND deleted_time IS NULL FOR UPDATE",
    )
    .bind(login)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

const GROUP_COLUMNS: &str = "g.id, g.display_name, g.description, g.version, g.create_time,
    g.update_time, (SELECT count(*) FROM agent_groups m WHERE m.group_id = g.id) AS member_count";

pub async fn get_group(conn: &mut PgConnection, id: Uuid) -> Result<Option<GroupRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {GROUP_COLUMNS} FROM groups g WHERE g.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// One page of groups ordered by (display name, id) after the given key, and the total count.
pub async fn list_groups(
    pool: &PgPool,
    after: Option<(String, Uuid)>,
    limit: i64,
) -> Result<(Vec<GroupRow>, i64)> {
    let (after_name, after_id) = after.unzip();
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {GROUP_COLUMNS} FROM groups g
         WHERE $1::text IS NULL OR (g.display_name, g.id) > ($1, $2)
         ORDER BY g.display_name, g.id LIMIT $3"
    )))
    .bind(after_name)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM groups")
        .fetch_one(pool)
        .await?;
    Ok((rows, total))
}

pub async fn insert_group(conn: &mut PgConnection, id: Uuid, group: &Group) -> Result<()> {
    sqlx::query("INSERT INTO groups (id, display_name, description) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(group.display_name.trim())
        .bind(&group.description)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn update_group(
    conn: &mut PgConnection,
    id: Uuid,
    group: &Group,
    fields: &[&str],
) -> Result<bool> {
    let has = |f: &str| fields.contains(&f);
    let updated = sqlx::query(
        "UPDATE groups SET
            display_name = CASE WHEN $2 THEN $3 ELSE display_name END,
            description = CASE WHEN $4 THEN $5 ELSE description END,
            version = version + 1, update_time = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(has("display_name"))
    .bind(group.display_name.trim())
    .bind(has("description"))
    .bind(&group.description)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Deletes a group without members; `Ok(false)` when it has members.
pub async fn delete_group(conn: &mut PgConnection, id: Uuid) -> Result<bool> {
    sqlx::query("SELECT id FROM groups WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM agent_groups WHERE group_id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    if members > 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM groups WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(true)
}
